"""An independent customer generator, the held-out judge: its own people, its own noise.

    python -m benchmarks.heldout_generator --entities 1000 --seed 5 --out /tmp/h.csv

Written apart from ``glue_jobs/sample/generate.py`` (the development generator
the job was tuned on) and sharing no code, list or rate with it, so that a
model fitted to one generator's habits is caught on the other:

- people: first and last names drawn with Faker's weighted name tables
  (US census frequencies for en_US; en_GB, es_MX, de_DE and fr_FR locales for
  a fifth of the people, accents kept), birth dates on a real calendar
  (day 29-31 included), a home country that mostly follows the locale;
- e-mail: seven user-name patterns, a tenth of them handles unrelated to the
  name (``bluefox77``), other providers than the development set's; logins for
  about 60 % of the people, some equal to the e-mail user name;
- duplicates: 8 % of the people, 1-3 extra records, each with one to three
  *events* drawn from the patterns real customer files have (nickname, swapped
  names with a typo, a new e-mail, a changed or new login, a birth-date part
  missing or off by one, country missing, a typo), plus case and spacing;
  the nickname table is this file's own (``NICKNAMES``), not the job's list;
- look-alikes that are *not* duplicates: twins (same last name, birth date and
  country), juniors (same full name and country, a generation apart) and
  couples sharing a family e-mail address.

The truth maps every ``c_customer_id`` to its ``entity_id``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["c_customer_sk", "c_customer_id", "c_current_cdemo_sk", "c_current_hdemo_sk",
           "c_current_addr_sk", "c_first_shipto_date_sk", "c_first_sales_date_sk",
           "c_salutation", "c_first_name", "c_last_name", "c_preferred_cust_flag",
           "c_birth_day", "c_birth_month", "c_birth_year", "c_birth_country", "c_login",
           "c_email_address", "c_last_review_date_sk"]

# formal name -> nicknames a customer may give instead; hand-written for this judge
NICKNAMES = {
    "William": ["Bill", "Will", "Billy", "Liam"], "Robert": ["Bob", "Rob", "Bobby", "Robbie"],
    "Richard": ["Rick", "Dick", "Rich", "Ricky"], "James": ["Jim", "Jimmy", "Jamie"],
    "John": ["Jack", "Johnny"], "Joseph": ["Joe", "Joey"], "Thomas": ["Tom", "Tommy"],
    "Charles": ["Charlie", "Chuck"], "Christopher": ["Chris", "Topher"], "Daniel": ["Dan", "Danny"],
    "Matthew": ["Matt"], "Anthony": ["Tony"], "Michael": ["Mike", "Mikey"], "David": ["Dave", "Davey"],
    "Steven": ["Steve"], "Stephen": ["Steve"], "Edward": ["Ed", "Eddie", "Ted", "Ned"],
    "Timothy": ["Tim", "Timmy"], "Kenneth": ["Ken", "Kenny"], "Benjamin": ["Ben", "Benny"],
    "Nicholas": ["Nick", "Nicky"], "Jonathan": ["Jon"], "Samuel": ["Sam", "Sammy"],
    "Alexander": ["Alex", "Xander"], "Andrew": ["Andy", "Drew"], "Gregory": ["Greg"],
    "Patrick": ["Pat", "Paddy"], "Raymond": ["Ray"], "Lawrence": ["Larry"], "Gerald": ["Jerry"],
    "Jeffrey": ["Jeff"], "Ronald": ["Ron", "Ronnie"], "Donald": ["Don", "Donnie"],
    "Frederick": ["Fred", "Freddie"], "Zachary": ["Zach", "Zack"], "Joshua": ["Josh"],
    "Elizabeth": ["Liz", "Beth", "Betty", "Lizzie", "Eliza"], "Kimberly": ["Kim"],
    "Katherine": ["Kate", "Kathy", "Katie"], "Catherine": ["Cathy", "Cate"], "Margaret": ["Maggie", "Peggy", "Meg"],
    "Jennifer": ["Jen", "Jenny"], "Jessica": ["Jess", "Jessie"], "Patricia": ["Pat", "Patty", "Trish"],
    "Susan": ["Sue", "Susie"], "Deborah": ["Debbie", "Deb"], "Rebecca": ["Becky", "Becca"],
    "Victoria": ["Vicky", "Tori"], "Christina": ["Tina", "Chris"], "Samantha": ["Sam", "Sammy"],
    "Alexandra": ["Alex", "Sandra"], "Abigail": ["Abby"], "Pamela": ["Pam"], "Cynthia": ["Cindy"],
    "Barbara": ["Barb", "Babs"], "Dorothy": ["Dot", "Dottie"], "Judith": ["Judy"], "Theresa": ["Terri", "Tess"],
    "Jacqueline": ["Jackie"], "Stephanie": ["Steph"], "Melissa": ["Mel", "Missy"], "Amanda": ["Mandy"],
    "Francisco": ["Paco", "Pancho"], "José": ["Pepe"], "Guillermo": ["Memo"], "Alejandro": ["Alex"],
    "Wolfgang": ["Wolf"], "Johannes": ["Hannes", "Jo"], "Friedrich": ["Fritz"],
}
PROVIDERS = {"gmail.com": 30, "yahoo.com": 10, "hotmail.com": 8, "outlook.com": 8, "icloud.com": 6,
             "protonmail.com": 3, "gmx.de": 3, "web.de": 2, "orange.fr": 2, "yahoo.co.uk": 2,
             "mail.com": 2, "aol.com": 3, "live.com": 2, "fastmail.com": 1}
LOCALES = {"en_US": (0.80, "UNITED STATES"), "en_GB": (0.07, "UNITED KINGDOM"), "es_MX": (0.06, "MEXICO"),
           "de_DE": (0.04, "GERMANY"), "fr_FR": (0.03, "FRANCE")}
ELSEWHERE = ["CANADA", "IRELAND", "INDIA", "PHILIPPINES", "CHINA", "VIET NAM", "BRAZIL", "ITALY", "SPAIN",
             "POLAND", "JAPAN", "KOREA, REPUBLIC OF", "NIGERIA", "JAMAICA", "CUBA", "EL SALVADOR", "PERU",
             "AUSTRALIA", "SOUTH AFRICA", "PAKISTAN", "GUATEMALA", "COLOMBIA", "PORTUGAL", "GREECE"]
ADJ = "blue red quiet lucky happy brave swift silver golden wild sunny misty dark cool".split()
NOUN = "fox wolf hawk river stone tiger panda comet falcon maple cedar otter raven".split()
KEYS = "qwertyuiop asdfghjkl zxcvbnm".split()
EVENTS = {"nickname": 0.16, "swap_typo": 0.08, "new_email": 0.12, "login": 0.10, "dob": 0.14,
          "no_country": 0.08, "typo": 0.22, "drop_email": 0.05, "plain": 0.05}


def _weighted(table) -> tuple[list[str], np.ndarray]:
    if isinstance(table, dict):
        names, w = list(table), np.array(list(table.values()), dtype=float)
    else:
        names = list(dict.fromkeys(table))
        w = 1.0 / np.sqrt(np.arange(1, len(names) + 1))  # unweighted tables: a gentle skew
    return names, w / w.sum()


def _people_tables():
    import importlib

    out = {}
    for loc in LOCALES:
        p = importlib.import_module(f"faker.providers.person.{loc}").Provider
        firsts = _weighted({**dict(_pairs(p.first_names_male)), **dict(_pairs(p.first_names_female))})
        out[loc] = (firsts, _weighted(p.last_names))
    return out


def _pairs(table):
    return table.items() if isinstance(table, dict) else ((n, 1.0) for n in table)


def _near_key(rng, ch: str) -> str:
    for row in KEYS:
        i = row.find(ch.lower())
        if i >= 0:
            j = i + (1 if (rng.random() < 0.5 and i + 1 < len(row)) or i == 0 else -1)
            return row[j] if ch.islower() else row[j].upper()
    return ch


def typo(rng, s: str) -> str:
    """A keyboard slip: neighbouring key, doubled or dropped letter (never the first letter)."""
    if not s or len(s) < 4:
        return s
    i = int(rng.integers(1, len(s)))
    k = rng.random()
    if k < 0.45:
        return s[:i] + _near_key(rng, s[i]) + s[i + 1:]
    if k < 0.7:
        return s[:i] + s[i] + s[i:]
    return s[:i] + s[i + 1:]


def _handle(rng) -> str:
    return f"{ADJ[rng.integers(len(ADJ))]}{NOUN[rng.integers(len(NOUN))]}{rng.integers(1, 999)}"


def _user(rng, first: str, last: str, year: int) -> str:
    f, l = _ascii(first).lower(), _ascii(last).lower().replace(" ", "")  # noqa: E741
    k = rng.choice(7, p=[0.25, 0.15, 0.12, 0.12, 0.12, 0.14, 0.10])
    return [f"{f}.{l}", f"{f}{l}", f"{f[0]}.{l}", f"{l}.{f}", f"{f}{year % 100:02d}", f"{f}_{l}{year}",
            _handle(rng)][k]


def _ascii(s: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def _people(rng, n: int) -> list[dict]:
    tables = _people_tables()
    locs = list(LOCALES)
    loc_of = rng.choice(len(locs), n, p=[LOCALES[k][0] for k in locs])
    providers, pw = _weighted(PROVIDERS)
    years = np.clip(rng.normal(1972, 14, n).astype(int), 1930, 2006)
    start = np.datetime64("1930-01-01")
    taken_mail: set[str] = set()
    taken_login: set[str] = set()
    firsts, lasts = np.empty(n, dtype=object), np.empty(n, dtype=object)
    for j, loc in enumerate(locs):
        (fn, fw), (ln, lw) = tables[loc]
        at = loc_of == j
        firsts[at] = np.array(fn, dtype=object)[rng.choice(len(fn), int(at.sum()), p=fw)]
        lasts[at] = np.array(ln, dtype=object)[rng.choice(len(ln), int(at.sum()), p=lw)]
    people = []
    for i in range(n):
        loc, first, last = locs[loc_of[i]], firsts[i], lasts[i]
        year = int(years[i])
        day = start + np.timedelta64(int((year - 1930) * 365.25 + rng.integers(0, 365)), "D")
        y, m, d = (int(x) for x in str(day).split("-"))
        home = LOCALES[loc][1] if rng.random() < 0.85 else ELSEWHERE[rng.integers(len(ELSEWHERE))]
        people.append(_identity(rng, first, last, y, m, d, home, providers, pw, taken_mail, taken_login))
    return people


def _identity(rng, first, last, y, m, d, home, providers, pw, taken_mail, taken_login) -> dict:
    user = _user(rng, first, last, y)
    domain = providers[rng.choice(len(providers), p=pw)] if rng.random() < 0.85 else \
        _ascii(last).lower().replace(" ", "") + rng.choice(["-family.net", "law.com", "corp.com"])
    email = f"{user}@{domain}"
    k = 1
    while _mailbox(email) in taken_mail:
        k += 1
        email = f"{user}{k}@{domain}"
    taken_mail.add(_mailbox(email))
    login = None
    if rng.random() < 0.6:
        login = email.split("@")[0] if rng.random() < 0.3 else f"{_ascii(first).lower()}{_ascii(last)[:1].lower()}"
        base, k = login, 1
        while login in taken_login:
            k += 1
            login = f"{base}{k}"
        taken_login.add(login)
    return {"first": first, "last": last, "y": y, "m": m, "d": d, "country": home, "email": email,
            "login": login, "providers": (providers, pw), "taken": (taken_mail, taken_login)}


def _mailbox(email: str) -> str:
    """The mailbox an address reaches: Gmail ignores dots and case."""
    user, _, domain = email.lower().partition("@")
    return (user.replace(".", "") if domain == "gmail.com" else user) + "@" + domain


def _record(p: dict, entity: int) -> dict:
    return {"entity_id": entity, "c_first_name": p["first"], "c_last_name": p["last"],
            "c_birth_day": p["d"], "c_birth_month": p["m"], "c_birth_year": p["y"],
            "c_birth_country": p["country"], "c_login": p["login"], "c_email_address": p["email"]}


def _event(rng, r: dict, p: dict, event: str) -> None:
    if event == "nickname":
        nicks = NICKNAMES.get(p["first"])
        if nicks:
            r["c_first_name"] = nicks[rng.integers(len(nicks))]
        else:
            r["c_first_name"] = typo(rng, r["c_first_name"] or "")
    elif event == "swap_typo":
        f, l = r["c_first_name"], r["c_last_name"]  # noqa: E741
        if rng.random() < 0.5:
            f = typo(rng, f or "")
        else:
            l = typo(rng, l or "")  # noqa: E741
        r["c_first_name"], r["c_last_name"] = l, f
    elif event == "new_email":
        providers, pw = p["providers"]
        taken_mail, _ = p["taken"]
        user = _user(rng, p["first"], p["last"], p["y"])
        email = f"{user}{rng.integers(1, 9999)}@{providers[rng.choice(len(providers), p=pw)]}"
        r["c_email_address"] = email if _mailbox(email) not in taken_mail else None
        taken_mail.add(_mailbox(email))
    elif event == "login":  # logins are unique per account: a new one is one nobody has
        _, taken_login = p["taken"]
        if r["c_login"] is None:  # a login added on the new account
            login = f"{_ascii(p['first']).lower()}.{_ascii(p['last']).lower()}{rng.integers(10, 99)}"
        else:
            login = r["c_login"] + str(rng.integers(1, 99)) if rng.random() < 0.7 else None
        if login not in taken_login:
            r["c_login"] = login
            taken_login.add(login)
    elif event == "dob":
        part = ["c_birth_day", "c_birth_month", "c_birth_year"][rng.choice(3, p=[0.45, 0.25, 0.3])]
        if r[part] is None:
            return
        if rng.random() < 0.5:
            r[part] = None
        else:
            lim = {"c_birth_day": 28, "c_birth_month": 12, "c_birth_year": 2006}[part]
            v = r[part] + (1 if rng.random() < 0.5 else -1)
            r[part] = v if 1 <= v <= lim else r[part] - 1
    elif event == "no_country":
        r["c_birth_country"] = None
    elif event == "typo":
        col = "c_first_name" if rng.random() < 0.4 else "c_last_name"
        r[col] = typo(rng, r[col] or "") or None
    elif event == "drop_email":
        r["c_email_address"] = None


def _surface(rng, r: dict) -> None:
    """Case and spacing, as different systems write the same value."""
    for col in ("c_first_name", "c_last_name"):
        if r[col] and rng.random() < 0.1:
            r[col] = r[col].upper() if rng.random() < 0.6 else f" {r[col].lower()}"
    if r["c_email_address"] and rng.random() < 0.1:
        r["c_email_address"] = r["c_email_address"].upper()


def generate(n_entities: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, truth) for about ``n_entities`` people (look-alike relatives included)."""
    rng = np.random.default_rng(seed)
    people = _people(rng, n_entities)
    # look-alikes: new people built from existing ones
    for i in rng.choice(len(people), int(0.02 * n_entities), replace=False):
        p, kind = people[i], rng.random()
        providers, pw = p["providers"]
        taken_mail, taken_login = p["taken"]
        fn_pool = [q["first"] for q in people[:200] if q["first"] != p["first"]]
        if kind < 0.4:  # twin
            q = _identity(rng, fn_pool[rng.integers(len(fn_pool))], p["last"], p["y"], p["m"], p["d"],
                          p["country"], providers, pw, taken_mail, taken_login)
        elif kind < 0.7:  # junior
            q = _identity(rng, p["first"], p["last"], min(p["y"] + int(rng.integers(22, 36)), 2006),
                          int(rng.integers(1, 13)), int(rng.integers(1, 29)), p["country"], providers, pw,
                          taken_mail, taken_login)
        else:  # spouse sharing the family address
            q = _identity(rng, fn_pool[rng.integers(len(fn_pool))], p["last"], p["y"] + int(rng.integers(-5, 6)),
                          int(rng.integers(1, 13)), int(rng.integers(1, 29)), p["country"], providers, pw,
                          taken_mail, taken_login)
            q["email"] = p["email"]
        people.append(q)
    n = len(people)
    rows = [_record(p, e) for e, p in enumerate(people)]
    for r in rows:  # what a customer left empty on the first form
        for col, rate in (("c_email_address", 0.04), ("c_birth_country", 0.05), ("c_birth_day", 0.02),
                          ("c_first_name", 0.01)):
            if rng.random() < rate:
                r[col] = None
    dup_of = rng.choice(n, int(0.08 * n), replace=False)
    copies = rng.choice([1, 2, 3], len(dup_of), p=[0.78, 0.16, 0.06])
    names, weights = list(EVENTS), np.array(list(EVENTS.values()))
    for e, k in zip(dup_of, copies):
        for _ in range(k):
            r = dict(rows[e])
            for ev in rng.choice(names, rng.choice([1, 2, 3], p=[0.55, 0.35, 0.10]), replace=False,
                                 p=weights / weights.sum()):
                _event(rng, r, people[e], ev)
            _surface(rng, r)
            rows.append(r)
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)
    m = len(df)
    df["c_customer_sk"] = rng.permutation(m) + 1
    df["c_customer_id"] = [f"HX{v:014d}" for v in rng.permutation(10**7)[:m] * 7 + 3]
    df["c_salutation"] = rng.choice(["Mr.", "Ms.", "Mrs.", "Dr.", ""], m)
    df["c_preferred_cust_flag"] = rng.choice(["Y", "N", ""], m)
    for col in ("c_current_cdemo_sk", "c_current_hdemo_sk", "c_current_addr_sk",
                "c_first_sales_date_sk", "c_first_shipto_date_sk", "c_last_review_date_sk"):
        df[col] = rng.integers(1, 2_000_000, m)
    for col in ("c_birth_day", "c_birth_month", "c_birth_year"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    return df[COLUMNS], df[["c_customer_id", "entity_id"]].copy()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    customers, truth = generate(a.entities, a.seed)
    customers.to_csv(a.out, index=False)
    truth.to_csv(a.out.with_name(a.out.stem + "_truth.csv"), index=False)
    print(f"{len(customers)} records of {truth.entity_id.nunique()} people -> {a.out}")


if __name__ == "__main__":
    main()
