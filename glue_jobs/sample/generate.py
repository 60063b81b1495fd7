"""Generate a TPC-DS-like customer file with known duplicates, and its truth.

    python -m glue_jobs.sample.generate --entities 500 --out customers.csv           # the development noise
    python -m glue_jobs.sample.generate --noise lab --out glue_jobs/sample/customers.csv  # the bundled sample

Noise profiles (``--noise``): ``rich`` (the default, what the benchmarks
generate) and ``lab``, the noise of 2026-11-27 that made the bundled sample
``glue_jobs/sample/customers.csv`` (535 records of 500 people, 35 duplicates)
and its truth: with the defaults (500 entities, dup rate 0.06, seed 42) it
rewrites both byte for byte (``tests/test_sample_reproduces.py``). ``lab`` has no
nicknames, no day/month parts off by one, no logins added or changed, and a
second e-mail address at another provider in 4 % of copies instead of 7 %; every
other kind of noise below is the same, drawn in the same order.

Each *entity* (a person) gets one clean record in TPC-DS ``customer`` shape.
About ``dup_rate`` of the entities get one or more extra records, each a noisy
copy: a new customer id, a nickname for the first name (the ``nicknames``
package's list), typos in names, swapped first/last names, case and whitespace
changes, dots / ``+tags`` / case in e-mail user names, missing fields, day/month
swaps and parts off by one in the birth date, a different e-mail, a login
changed or added where the first record had none.

What makes it hard at scale is built in on purpose: names follow a skewed
distribution (many James Smiths in a big file), e-mail user names and logins are
derived from names, and identifiers are unique per person, so two different
James Smiths get ``james.smith@gmail.com`` / ``james.smith1@gmail.com`` and
``jsmith`` / ``jsmith1``.

The truth file maps every ``c_customer_id`` to its ``entity_id``.
"""
from __future__ import annotations

import argparse
import string
from pathlib import Path

import numpy as np
import pandas as pd

NOISE_PROFILES = ("rich", "lab")

FIRST_NAMES = """James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth
David Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy
Daniel Lisa Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul
Emily Andrew Donna Joshua Michelle Kenneth Dorothy Kevin Carol Brian Amanda George Melissa
Edward Deborah Ronald Stephanie Timothy Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia
Jacob Kathleen Gary Amy Nicholas Shirley Eric Angela Jonathan Helen Stephen Anna Larry
Brenda Justin Pamela Scott Nicole Brandon Emma Benjamin Samantha Samuel Katherine Gregory
Christine Frank Debra Alexander Rachel Raymond Catherine Patrick Carolyn Jack Janet Dennis
Ruth Jerry Maria Tyler Heather Aaron Diane Jose Virginia Adam Julie Henry Joyce Nathan
Victoria Douglas Olivia Zachary Kelly Peter Christina Kyle Lauren Walter Joan Ethan Evelyn
Jeremy Judith Harold Megan Keith Cheryl Christian Andrea Roger Hannah Noah Martha Gerald
Jacqueline Carl Frances Terry Gloria Sean Ann Austin Teresa Arthur Kathryn Lawrence Sara
Jesse Janice Dylan Jean Bryan Alice Joe Madison Jordan Doris Billy Abigail Bruce Julia
Albert Judy Willie Grace Gabriel Denise Logan Amber Alan Marilyn Juan Beverly Wayne Danielle
Roy Theresa Ralph Sophia Randy Marie Eugene Diana Vincent Brittany Russell Natalie Elijah
Isabella Louis Charlotte Bobby Rose Philip Alexis Johnny Kayla Javier Mauricio Latisha
Corey Deanna Tomas Yolanda Esteban Ines Dwayne Rosalind""".split()

LAST_NAMES = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez
Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright
Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell
Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart
Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly
Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza
Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell
Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher
Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace
Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford
Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas
Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon
Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson
Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols
Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce
Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong
Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston
Matthews Pena Richards Contreras Willis Carpenter Lawrence Sandoval""".split()

COUNTRIES = """UNITED STATES|CANADA|MEXICO|BRAZIL|ARGENTINA|CHILE|PERU|COLOMBIA|VENEZUELA|
ECUADOR|UNITED KINGDOM|IRELAND|FRANCE|GERMANY|SPAIN|PORTUGAL|ITALY|NETHERLANDS|BELGIUM|
SWITZERLAND|AUSTRIA|SWEDEN|NORWAY|DENMARK|FINLAND|ICELAND|POLAND|CZECH REPUBLIC|HUNGARY|
ROMANIA|BULGARIA|GREECE|TURKEY|RUSSIAN FEDERATION|UKRAINE|EGYPT|MOROCCO|ALGERIA|TUNISIA|
NIGERIA|GHANA|KENYA|ETHIOPIA|SOUTH AFRICA|ZIMBABWE|INDIA|PAKISTAN|BANGLADESH|SRI LANKA|
NEPAL|CHINA|JAPAN|KOREA, REPUBLIC OF|VIET NAM|THAILAND|MALAYSIA|SINGAPORE|INDONESIA|
PHILIPPINES|AUSTRALIA|NEW ZEALAND|FIJI|PAPUA NEW GUINEA|SAMOA|TONGA|JAMAICA|CUBA|HAITI|
BAHAMAS|BARBADOS|GUATEMALA|HONDURAS|NICARAGUA|COSTA RICA|PANAMA|URUGUAY|PARAGUAY|BOLIVIA|
ISRAEL|JORDAN|LEBANON|SAUDI ARABIA|IRAN|IRAQ|AFGHANISTAN|KAZAKHSTAN|MONGOLIA|LUXEMBOURG|
MALTA|CYPRUS|ESTONIA|LATVIA|LITHUANIA|BELARUS|MOLDOVA|GEORGIA|ARMENIA|AZERBAIJAN""".replace(
    "\n", ""
).split("|")

PROVIDERS = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com",
             "comcast.net", "msn.com", "live.com", "att.net"]
SALUTATIONS = ["Mr.", "Mrs.", "Ms.", "Dr.", "Miss", "Sir"]
COLUMNS = ["c_customer_sk", "c_customer_id", "c_current_cdemo_sk", "c_current_hdemo_sk",
           "c_current_addr_sk", "c_first_shipto_date_sk", "c_first_sales_date_sk",
           "c_salutation", "c_first_name", "c_last_name", "c_preferred_cust_flag",
           "c_birth_day", "c_birth_month", "c_birth_year", "c_birth_country", "c_login",
           "c_email_address", "c_last_review_date_sk"]


def _zipf_weights(n: int, offset: float) -> np.ndarray:
    w = 1.0 / (np.arange(1, n + 1) + offset)
    return w / w.sum()


def _rare_surnames(rng: np.random.Generator, n: int) -> list[str]:
    syl = ["ka", "lo", "ver", "an", "sch", "mi", "tor", "ell", "qu", "ard", "bel", "ro", "ny",
           "wic", "zel", "har", "tin", "gos", "pel", "dra", "um", "vik", "sen", "ow"]
    idx = rng.integers(0, len(syl), size=(n, 3))
    return ["".join(syl[j] for j in row).capitalize() for row in idx]


def _customer_id(sk: np.ndarray) -> list[str]:
    # TPC-DS style 16-character business key, unique per sk
    letters = np.array(list("ABCDEFGHIJKLMNOP"))
    out = []
    for v in sk:
        digits = []
        x = int(v)
        for _ in range(8):
            digits.append(letters[x & 15])
            x >>= 4
        out.append("AAAAAAAA" + "".join(digits))
    return out


def _uniquify(base: pd.Series) -> pd.Series:
    """Identifiers are unique per person: a taken one gets a number (jsmith, jsmith1, ...)."""
    n = base.groupby(base).cumcount()
    return base.where(n == 0, base + n.astype(str))


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s
    i = int(rng.integers(1, len(s) - 1))
    kind = rng.integers(0, 4)
    c = string.ascii_lowercase[int(rng.integers(0, 26))]
    if kind == 0:
        return s[:i] + c + s[i + 1:]          # substitution
    if kind == 1:
        return s[:i] + s[i + 1:]              # deletion
    if kind == 2:
        return s[:i] + c + s[i:]              # insertion
    return s[:i - 1] + s[i] + s[i - 1] + s[i + 1:]  # transposition


def _recase(rng: np.random.Generator, s: str) -> str:
    r = rng.random()
    if r < 0.4:
        return s.upper()
    if r < 0.8:
        return s.lower()
    return "  " + s + " "


def generate(n_entities: int, dup_rate: float = 0.06, seed: int = 42,
             noise: str = "rich") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (customers, truth): the customer table and c_customer_id -> entity_id.

    ``noise``: ``rich`` or ``lab`` (the bundled sample's; see the module docstring).
    """
    if noise not in NOISE_PROFILES:
        raise ValueError(f"noise must be one of {NOISE_PROFILES}, got {noise!r}")
    rng = np.random.default_rng(seed)
    n = n_entities
    first = np.array(FIRST_NAMES)[rng.choice(len(FIRST_NAMES), n, p=_zipf_weights(len(FIRST_NAMES), 10))]
    last_common = np.array(LAST_NAMES)[rng.choice(len(LAST_NAMES), n, p=_zipf_weights(len(LAST_NAMES), 20))]
    rare = rng.random(n) < 0.25
    last = last_common.astype(object)
    if rare.any():
        last[rare] = _rare_surnames(rng, int(rare.sum()))
    year = rng.integers(1924, 1993, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    country = np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)]

    fl = pd.Series(first).str.lower()
    ll = pd.Series(last).str.lower()
    pattern = rng.choice(5, n, p=[0.5, 0.15, 0.1, 0.15, 0.1])
    user = np.where(pattern == 0, fl + "." + ll,
           np.where(pattern == 1, fl + ll,
           np.where(pattern == 2, fl + "_" + ll,
           np.where(pattern == 3, fl.str[0] + ll, fl + "." + ll + pd.Series(year % 100).astype(str)))))
    providers = np.array(PROVIDERS)[rng.choice(len(PROVIDERS), n, p=_zipf_weights(len(PROVIDERS), 1))]
    company = rng.random(n) < 0.3
    letters = np.array(list(string.ascii_lowercase))
    comp_dom = ["".join(row) + tld for row, tld in zip(
        letters[rng.integers(0, 26, (n, 8))], rng.choice([".com", ".org", ".net", ".edu"], n))]
    domain = np.where(company, comp_dom, providers)
    # TPC-DS capitalises the user part ("Javier.Lewis@..."); keep that look for half
    # an address belongs to one person; Gmail ignores dots, so a.b@ and ab@ are one mailbox
    addr = pd.Series(user) + "@" + pd.Series(domain)
    mailbox = addr.where(pd.Series(domain) != "gmail.com", addr.str.replace(".", "", regex=False))
    n_taken = mailbox.groupby(mailbox).cumcount()
    email_user = addr.where(n_taken == 0, pd.Series(user) + n_taken.astype(str) + "@" + pd.Series(domain))
    email = email_user.where(rng.random(n) < 0.5, email_user.str.title().str.replace(
        r"@(.*)$", lambda m: "@" + m.group(1).lower(), regex=True))
    login = _uniquify(fl.str[0] + ll)

    base = pd.DataFrame({
        "entity_id": np.arange(n),
        "c_salutation": np.array(SALUTATIONS)[rng.integers(0, len(SALUTATIONS), n)],
        "c_first_name": first, "c_last_name": last,
        "c_preferred_cust_flag": rng.choice(["Y", "N"], n),
        "c_birth_day": day.astype(object), "c_birth_month": month.astype(object),
        "c_birth_year": year.astype(object), "c_birth_country": country,
        "c_login": login.to_numpy(), "c_email_address": email.to_numpy(),
    })
    base["_login"] = base["c_login"]  # a copy may give the login the first record left empty
    # TPC-DS leaves ~3% of each optional field empty
    for col in ["c_first_name", "c_last_name", "c_birth_day", "c_birth_month", "c_birth_year",
                "c_birth_country", "c_email_address", "c_login", "c_salutation"]:
        base.loc[rng.random(n) < 0.03, col] = None

    # duplicates: a few entities get 2-3 extra copies
    n_dup_entities = int(round(n * dup_rate))
    dup_of = rng.choice(n, n_dup_entities, replace=False)
    extra = rng.choice([1, 2, 3], n_dup_entities, p=[0.85, 0.12, 0.03])
    src = np.repeat(dup_of, extra)
    dups = base.iloc[src].copy()
    recs = dups.to_dict("records")
    taken = set(login)  # logins are unique per account
    for r in recs:
        _perturb(rng, r, taken, rich=noise == "rich")
    dups = pd.DataFrame(recs, columns=base.columns)

    allrows = pd.concat([base, dups], ignore_index=True)
    allrows = allrows.sample(frac=1.0, random_state=int(rng.integers(0, 2**31))).reset_index(drop=True)
    m = len(allrows)
    sks = rng.permutation(np.arange(1, m + 1))
    allrows.insert(0, "c_customer_sk", sks)
    allrows.insert(1, "c_customer_id", _customer_id(sks))
    allrows["c_current_cdemo_sk"] = rng.integers(1, 1_920_800, m)
    allrows["c_current_hdemo_sk"] = rng.integers(1, 7_200, m)
    allrows["c_current_addr_sk"] = rng.integers(1, 50_000, m)
    allrows["c_first_sales_date_sk"] = rng.integers(2_449_000, 2_452_650, m)
    allrows["c_first_shipto_date_sk"] = allrows["c_first_sales_date_sk"] + rng.integers(0, 30, m)
    allrows["c_last_review_date_sk"] = rng.integers(2_452_000, 2_452_650, m)
    for col in ["c_birth_day", "c_birth_month", "c_birth_year"]:
        allrows[col] = pd.to_numeric(allrows[col]).astype("Int64")  # no "19.0" from NaN floats
    truth = allrows[["c_customer_id", "entity_id"]].copy()
    return allrows[COLUMNS], truth


def _nicknamer():
    from nicknames import NickNamer  # the job's list (glue_jobs/model.py): this is the development set

    global _NICKNAMER
    if _NICKNAMER is None:
        _NICKNAMER = NickNamer()
    return _NICKNAMER


_NICKNAMER = None


def _perturb(rng: np.random.Generator, r: dict, taken: set, rich: bool = True) -> None:
    """Turn a clean record into a plausible re-registration of the same person.

    ``rich=False``: the ``lab`` profile, which draws none of the random numbers of the noise it lacks.
    """
    fn, ln = r["c_first_name"], r["c_last_name"]
    if rich and fn and rng.random() < 0.08:
        nicks = sorted(_nicknamer().nicknames_of(fn))
        if nicks:
            fn = nicks[int(rng.integers(0, len(nicks)))].capitalize()
    if fn and ln and rng.random() < 0.08:
        fn, ln = ln, fn
    if fn and rng.random() < 0.2:
        fn = _typo(rng, fn)
    if ln and rng.random() < 0.2:
        ln = _typo(rng, ln)
    if fn and rng.random() < 0.15:
        fn = _recase(rng, fn)
    if ln and rng.random() < 0.15:
        ln = _recase(rng, ln)
    if rng.random() < 0.05:
        fn = None
    if rng.random() < 0.05:
        ln = None
    r["c_first_name"], r["c_last_name"] = fn, ln

    e = r["c_email_address"]
    if e:
        user, _, dom = e.partition("@")
        x = rng.random()
        if x < 0.15:
            user = user.replace(".", "")
        elif x < 0.22:
            user = user + "+shop"
        elif x < 0.25:
            user = _typo(rng, user.lower())
        if rng.random() < 0.3:
            user = user.upper() if rng.random() < 0.5 else user.lower()
        e = f"{user}@{dom}"
        x = rng.random()
        if x < 0.06:
            e = None
        elif x < (0.13 if rich else 0.10):  # a second address at another provider
            e = f"{(r['c_first_name'] or 'x').lower()}{int(rng.integers(1, 99))}@{PROVIDERS[int(rng.integers(0, len(PROVIDERS)))]}"
    r["c_email_address"] = e

    if r["c_birth_day"] is not None and r["c_birth_month"] is not None and rng.random() < 0.05:
        if int(r["c_birth_day"]) <= 12:
            r["c_birth_day"], r["c_birth_month"] = r["c_birth_month"], r["c_birth_day"]
    if r["c_birth_year"] is not None and rng.random() < 0.05:
        r["c_birth_year"] = int(r["c_birth_year"]) + int(rng.choice([-1, 1, -10, 10]))
    for col, top, p in (("c_birth_day", 28, 0.04), ("c_birth_month", 12, 0.02)) if rich else ():
        if r[col] is not None and rng.random() < p:  # off by one
            v = int(r[col]) + int(rng.choice([-1, 1]))
            r[col] = v if 1 <= v <= top else int(r[col]) - 1
    for col in ["c_birth_day", "c_birth_month", "c_birth_year", "c_birth_country", "c_login"]:
        if rng.random() < 0.06:
            r[col] = None
    x = rng.random() if rich else 1.0
    if r["c_login"] is None and r["_login"] and x < 0.5:
        r["c_login"] = r["_login"]  # added on the new account
    elif r["c_login"] and x < 0.05:  # changed, to one nobody has
        login = r["c_login"] + str(int(rng.integers(1, 99)))
        if login not in taken:
            r["c_login"] = login
            taken.add(login)
    if r["c_login"] and rng.random() < 0.2:
        r["c_login"] = r["c_login"].upper()
    if rng.random() < 0.3:
        r["c_salutation"] = SALUTATIONS[int(rng.integers(0, len(SALUTATIONS)))]
    r["c_preferred_cust_flag"] = "Y" if rng.random() < 0.5 else "N"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=500)
    ap.add_argument("--dup-rate", type=float, default=0.06)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--noise", choices=NOISE_PROFILES, default="rich",
                    help="rich (default) or lab: the noise that made the bundled sample (with the other defaults)")
    ap.add_argument("--out", type=Path, required=True, help="customer CSV to write")
    ap.add_argument("--truth", type=Path, help="truth CSV (default: <out>_truth.csv)")
    a = ap.parse_args(argv)
    customers, truth = generate(a.entities, a.dup_rate, a.seed, noise=a.noise)
    truth_path = a.truth or a.out.with_name(a.out.stem + "_truth.csv")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    customers.to_csv(a.out, index=False)
    truth.to_csv(truth_path, index=False)
    print(f"{len(customers)} records of {truth.entity_id.nunique()} people -> {a.out} (truth {truth_path})")


if __name__ == "__main__":
    main()
