"""Shared helpers for the dedup tests (tests/test_dedup_*.py)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from glue_jobs.sample.generate import COLUMNS, generate

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "glue_jobs" / "sample" / "customers.csv"
SAMPLE_TRUTH = REPO / "glue_jobs" / "sample" / "customers_truth.csv"
SETTINGS = REPO / "glue_jobs" / "settings" / "tpcds_customer.json"


def _rec(cid, first, last, email, day, month, year, country, login):
    r = dict.fromkeys(COLUMNS)
    r.update(c_customer_id=cid, c_customer_sk=cid[-4:], c_first_name=first, c_last_name=last,
             c_email_address=email, c_birth_day=day, c_birth_month=month, c_birth_year=year,
             c_birth_country=country, c_login=login, c_salutation="Mr.", c_preferred_cust_flag="N")
    return r


# Hand-made cases -> the cluster each belongs to. Names are chosen to not occur
# in the generated background population.
CASES = [
    # typo in the last name, e-mail in another case
    (_rec("ZZZZAAAA00000001", "Zebulon", "Quartermaine", "zq.mail@example.org", "14", "3", "1970", "FRANCE", "zquarter"), "A"),
    (_rec("ZZZZAAAA00000002", "Zebulon", "Quartermayne", "ZQ.Mail@Example.ORG", "14", "3", "1970", "FRANCE", "zquarter"), "A"),
    # swapped first/last name, Gmail address without its dot
    (_rec("ZZZZAAAA00000003", "Ottoline", "Brandtmeyer", "o.brandtmeyer@gmail.com", "2", "11", "1982", "CANADA", "obrandtm"), "B"),
    (_rec("ZZZZAAAA00000004", "Brandtmeyer", "Ottoline", "obrandtmeyer@gmail.com", "2", "11", "1982", "CANADA", "obrandtm"), "B"),
    # case/whitespace, missing e-mail; a +tag and a missing birth date
    (_rec("ZZZZAAAA00000005", "Percival", "Okonkwo", "percy.okonkwo@yahoo.com", "21", "7", "1955", "NIGERIA", "pokonkwo"), "C"),
    (_rec("ZZZZAAAA00000006", " percival ", "OKONKWO", None, "21", "7", "1955", "NIGERIA", "POKONKWO"), "C"),
    (_rec("ZZZZAAAA00000007", "Percival", "Okonkwo", "Percy.Okonkwo+news@yahoo.com", None, None, None, "NIGERIA", "pokonkwo"), "C"),
    # same name, look-alike e-mail and login, other birth date and country: two people
    (_rec("ZZZZAAAA00000008", "Hieronymus", "Blackwood", "hieronymus.blackwood@gmail.com", "1", "1", "1980", "IRELAND", "hblackwood"), "D"),
    (_rec("ZZZZAAAA00000009", "Hieronymus", "Blackwood", "hieronymus.blackwood1@gmail.com", "30", "6", "1975", "CHILE", "hblackwood1"), "E"),
    # a singleton
    (_rec("ZZZZAAAA00000010", "Anastasia", "Wellingborough", "a.w@example.net", "9", "9", "1999", "GREECE", "awell"), "F"),
]


def cases_frame(background_entities: int = 400, seed: int = 7) -> tuple[pd.DataFrame, dict[str, str]]:
    """A generated population (with its own duplicates) plus the hand-made CASES.

    Returns the frame (all strings) and case id -> expected cluster label.
    """
    bg, _ = generate(background_entities, dup_rate=0.06, seed=seed)
    cases = pd.DataFrame([r for r, _ in CASES], columns=COLUMNS)
    df = pd.concat([bg, cases], ignore_index=True)
    df = df.astype("string")
    return df, {r["c_customer_id"]: label for r, label in CASES}


def partition(labels: dict[str, str]) -> set[frozenset[str]]:
    """Group ids by label: a clustering independent of the label values."""
    groups: dict[str, set[str]] = {}
    for k, v in labels.items():
        groups.setdefault(v, set()).add(k)
    return {frozenset(g) for g in groups.values()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_output(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(matches, deduplicated) a local run published under ``out``, all strings."""
    def one(folder):
        files = sorted((out / folder).glob("*.csv"))
        assert len(files) == 1, f"{out / folder}: {files}"
        return pd.read_csv(files[0], dtype=str, keep_default_na=False)
    return one("matches"), one("deduplicated")


def assert_no_customer_lost(out: Path, input_ids: set[str], id_column: str = "c_customer_id") -> pd.DataFrame:
    """Every input record in matches/ exactly once, exactly one survivor per match_id; returns matches."""
    matches, survivors = read_output(out)
    ids = matches[id_column]
    assert ids.is_unique, f"records repeated in matches/: {ids[ids.duplicated()].tolist()[:5]}"
    assert set(ids) == input_ids, (f"lost: {sorted(input_ids - set(ids))[:5]}, "
                                   f"unexpected: {sorted(set(ids) - input_ids)[:5]}")
    survivor_mid = matches.set_index(id_column).loc[survivors[id_column], "match_id"]
    assert survivor_mid.is_unique, "two survivors share a match_id"
    assert set(survivor_mid) == set(matches["match_id"]), "a match_id without a survivor"
    conf = matches["match_confidence"].astype(float)
    assert conf.between(0.0, 1.0).all() and conf.notna().all()
    return matches


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256): a byte-for-byte picture."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}
