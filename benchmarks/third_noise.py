"""Noise events of the third customer generator (rates in benchmarks/third_generator.py, NOISE).

Each event changes one copy of a person the way a customer file does: the
issue's patterns (nickname, swapped names with a typo, new e-mail, login
changed or added, a birth-date part missing or off by one, country missing) and
others (keyboard typos, transposed, dropped or doubled letters, accents, case
and spaces, a double surname shortened, the same user at another provider, a
mistyped provider, day and month swapped, a middle initial in the first name,
a woman's surname changed).
An event is drawn only where it applies (no accent to strip, no day <= 12 to
swap...), never twice on one copy.
"""
from __future__ import annotations

import itertools
import random

import pandas as pd

from benchmarks import third_generator as g
from benchmarks import third_people as tp

NAMES = ("c_first_name", "c_last_name")


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and v != v) and v is not pd.NA


class Noise:
    def __init__(self, rnd: random.Random, used_mail: set, used_login: set, surnames: dict):
        self.rnd, self.used_mail, self.used_login = rnd, used_mail, used_login
        self.surnames = {lo: (list(names), list(itertools.accumulate(p))) for lo, (names, p) in surnames.items()}
        self.kinds, self.weights = list(g.NOISE), list(g.NOISE.values())

    def apply(self, r: dict, k: int) -> list[str]:
        done: list[str] = []
        while len(done) < k:
            ok = [(kind, w) for kind, w in zip(self.kinds, self.weights)
                  if kind not in done and self.applies(kind, r)]
            kind = self.rnd.choices([o[0] for o in ok], [o[1] for o in ok])[0]
            getattr(self, kind)(r)
            done.append(kind)
        return done

    def applies(self, kind: str, r: dict) -> bool:
        first, last = r["c_first_name"], r["c_last_name"]
        if kind == "nickname":
            return first in tp.NICKNAMES or first in g.NICK_OF
        if kind == "accents_stripped_or_added":
            return any(g.ascii_fold(x) != x or x in tp.ACCENTED for x in (first, last))
        if kind == "surname_shortened":
            return " " in last.strip() or "-" in last
        if kind in ("email_other_provider", "email_typo"):
            return _present(r["c_email_address"])
        if kind == "birth_part_missing":
            return sum(_present(r[c]) for c in g.BIRTH) >= 2
        if kind == "birth_part_off_by_one":
            return any(_present(r[c]) for c in g.BIRTH)
        if kind == "country_missing":
            return _present(r["c_birth_country"])
        if kind == "day_month_swapped":
            d, m = r["c_birth_day"], r["c_birth_month"]
            return _present(d) and _present(m) and d <= 12 and d != m
        if kind == "married_name":
            return bool(r["female"])
        if kind in ("keyboard_typo", "transposed_letters", "dropped_or_doubled_letter"):
            return any(len(x) >= 4 for x in (first, last))
        return True

    # -- the patterns
    def nickname(self, r):
        f = r["c_first_name"]
        r["c_first_name"] = self.rnd.choice(tp.NICKNAMES[f] if f in tp.NICKNAMES else g.NICK_OF[f])

    def swapped_with_typo(self, r):
        f, la = r["c_first_name"], r["c_last_name"]
        if self.rnd.random() < 0.5:
            r["c_first_name"], r["c_last_name"] = self._typo(la), f
        else:
            r["c_first_name"], r["c_last_name"] = la, self._typo(f)

    def email_replaced(self, r):
        """a new address: another provider of the person's country, often another user-name style"""
        old = r["c_email_address"]
        domains = [d for d in tp.PROVIDERS[r["locale"]] if d != "*" and not (old and old.endswith("@" + d))]
        style = self.rnd.choices(list(g.EMAIL_STYLES), list(g.EMAIL_STYLES.values()))[0]
        style = "first.lastNN" if style == "first" else style  # a big provider's: see _contacts
        user = g._user(style, r["c_first_name"], r["c_last_name"], r["c_birth_year"], self.rnd)
        r["c_email_address"] = g._unique(f"{user}@{self.rnd.choice(domains)}", self.used_mail, g.mailbox, self.rnd)

    def login_changed_or_added(self, r):
        style = self.rnd.choices(list(g.LOGIN_STYLES), list(g.LOGIN_STYLES.values()))[0]
        new = g._user(style, r["c_first_name"], r["c_last_name"], r["c_birth_year"], self.rnd)
        if _present(r["c_login"]) and new.lower() == r["c_login"].lower():
            new += str(self.rnd.randint(1, 99))
        r["c_login"] = g._unique(new, self.used_login, str.lower, self.rnd)

    def birth_part_missing(self, r):
        r[self.rnd.choice([c for c in g.BIRTH if _present(r[c])])] = pd.NA

    def birth_part_off_by_one(self, r):
        c = self.rnd.choice([c for c in g.BIRTH if _present(r[c])])
        v, top = int(r[c]), {"c_birth_day": 28, "c_birth_month": 12, "c_birth_year": 2008}[c]
        r[c] = v + 1 if v == 1 or (v < top and self.rnd.random() < 0.5) else v - 1

    def country_missing(self, r):
        r["c_birth_country"] = None

    # -- other realistic noise
    def _name(self, r, min_len=4):
        cols = [c for c in NAMES if len(r[c]) >= min_len]
        return self.rnd.choice(cols)

    def _typo(self, s: str) -> str:
        return self.rnd.choice((_keyboard, _transpose, _drop_or_double))(s, self.rnd) if len(s) >= 2 else s

    def keyboard_typo(self, r):
        c = self._name(r)
        r[c] = _keyboard(r[c], self.rnd)

    def transposed_letters(self, r):
        c = self._name(r)
        r[c] = _transpose(r[c], self.rnd)

    def dropped_or_doubled_letter(self, r):
        c = self._name(r)
        r[c] = _drop_or_double(r[c], self.rnd)

    def accents_stripped_or_added(self, r):
        for c in self.rnd.sample(NAMES, 2):
            v = r[c]
            if g.ascii_fold(v) != v:
                r[c] = g.ascii_fold(v)
                return
            if v in tp.ACCENTED:
                r[c] = tp.ACCENTED[v]
                return

    def case_and_whitespace(self, r):
        how = self.rnd.choice(("upper", "lower", "spaces", "first upper"))
        if how == "upper":
            r["c_first_name"], r["c_last_name"] = r["c_first_name"].upper(), r["c_last_name"].upper()
        elif how == "lower":
            r["c_first_name"], r["c_last_name"] = r["c_first_name"].lower(), r["c_last_name"].lower()
        elif how == "spaces":
            c = self.rnd.choice(NAMES)
            v = r[c]
            r[c] = v.replace(" ", "  ", 1) if " " in v and self.rnd.random() < 0.5 \
                else self.rnd.choice((" {}", "{} ", "  {}  ")).format(v)
        else:
            r["c_first_name"] = r["c_first_name"].upper()

    def surname_shortened(self, r):
        la = r["c_last_name"].strip()
        particle = max((p for p in tp.PARTICLES if la.lower().startswith(p)), key=len, default=None)
        rest = la[len(particle):] if particle else la
        if particle and " " not in rest and "-" not in rest and self.rnd.random() < 0.5:  # van der Meer
            r["c_last_name"] = rest if self.rnd.random() < 0.6 else (particle + rest).replace(" ", "").capitalize()
            return
        parts = [x for x in la.replace("-", " ").split(" ") if x]
        words = [x for x in parts if x.lower() + " " not in tp.PARTICLES] or parts
        r["c_last_name"] = words[-1] if self.rnd.random() < 0.6 else words[0]

    def email_other_provider(self, r):
        user, _, domain = r["c_email_address"].partition("@")
        domains = [d for d in tp.PROVIDERS[r["locale"]] if d not in ("*", domain.lower())]
        self.rnd.shuffle(domains)
        free = [d for d in domains if g.mailbox(f"{user}@{d}") not in self.used_mail]  # the same user, if free there
        r["c_email_address"] = g._unique(f"{user}@{(free or domains)[0]}", self.used_mail, g.mailbox, self.rnd)

    def email_typo(self, r):
        for _ in range(10):  # a typo that reaches nobody's mailbox (Gmail ignores a dropped dot)
            user, _, domain = r["c_email_address"].partition("@")
            if domain.lower() in tp.PROVIDER_TYPOS and self.rnd.random() < 0.6:
                domain = self.rnd.choice(tp.PROVIDER_TYPOS[domain.lower()])
            elif len(user) >= 4:
                user = self._typo(user)
            else:
                domain = _transpose(domain.split(".")[0], self.rnd) + domain[domain.index("."):]
            if g.mailbox(f"{user}@{domain}") not in self.used_mail:
                break
        r["c_email_address"] = g._unique(f"{user}@{domain}", self.used_mail, g.mailbox, self.rnd)

    def day_month_swapped(self, r):
        r["c_birth_day"], r["c_birth_month"] = r["c_birth_month"], r["c_birth_day"]

    def married_name(self, r):
        names, cum = self.surnames[r["locale"]]
        new = r["c_last_name"]
        while new == r["c_last_name"]:
            new = self.rnd.choices(names, cum_weights=cum)[0]
            new = tp.feminine(new) if r["locale"] == "pl_PL" else new
        r["c_last_name"] = new

    def middle_initial_glued(self, r):
        initial = self.rnd.choice("ABCDEFGHJKLMNPRSTW")
        r["c_first_name"] = r["c_first_name"].rstrip() + self.rnd.choice((f" {initial}.", f" {initial}", f"{initial}."))


def _inner(s: str, rnd: random.Random) -> int:
    """a position after the first letter (people rarely get the first one wrong)"""
    return rnd.randrange(1, len(s))


def _keyboard(s: str, rnd: random.Random) -> str:
    spots = [i for i in range(1, len(s)) if s[i].lower() in tp.KEYBOARD]
    if not spots:
        return _drop_or_double(s, rnd)
    i = rnd.choice(spots)
    ch = rnd.choice(tp.KEYBOARD[s[i].lower()])
    return s[:i] + (ch.upper() if s[i].isupper() else ch) + s[i + 1:]


def _transpose(s: str, rnd: random.Random) -> str:
    spots = [i for i in range(1, len(s) - 1) if s[i] != s[i + 1]]
    if not spots:
        return _drop_or_double(s, rnd)
    i = rnd.choice(spots)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def _drop_or_double(s: str, rnd: random.Random) -> str:
    i = _inner(s, rnd)
    return s[:i] + s[i + 1:] if rnd.random() < 0.5 and len(s) > 3 else s[:i] + s[i] + s[i:]
