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


def read_csv_exact(path: Path, delimiter: str = ",") -> tuple[list[str], list[list[str]]]:
    """Header (trimmed, as the job reads it) and records of a CSV, as exact strings (no type guessing)."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
    return [h.strip() for h in rows[0]], rows[1:]


def _read_output(path: Path) -> tuple[list[str], list[list[str]]]:
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        return list(df.columns), [["" if v is None or v is pd.NA else str(v) for v in row]
                                  for row in df.astype(object).itertuples(index=False)]
    return read_csv_exact(path)


def assert_no_customer_lost(input_csv: Path, output: Path, id_column: str = "c_customer_id",
                            delimiter: str = ",", fmt: str = "csv", name: str | None = None) -> dict[str, str]:
    """A finished run lost no customer and invented none.

    - ``matches/``: every input record exactly once, every value as it came in,
      each with a non-empty ``match_id`` and a ``match_confidence`` in [0, 1];
    - ``deduplicated/``: the input's columns, exactly one record per ``match_id``
      (its cluster's survivor, unchanged), and nothing else.

    Returns id -> match_id.
    """
    name = name or input_csv.stem
    header, records = read_csv_exact(input_csv, delimiter)
    by_id = {r[header.index(id_column)]: r for r in records}
    assert len(by_id) == len(records), "the input's ids are not unique: not a valid run"

    m_header, m_rows = _read_output(output / "matches" / f"{name}.{fmt}")
    assert m_header == header + ["match_id", "match_confidence"], (m_header, header)
    assert len(m_rows) == len(records), f"{len(records)} records in, {len(m_rows)} in matches/"
    match_of: dict[str, str] = {}
    width = len(header)
    for row in m_rows:
        rid, mid, conf = row[header.index(id_column)], row[width], row[width + 1]
        assert rid in by_id and rid not in match_of, f"record {rid!r} missing from the input or twice in matches/"
        assert row[:width] == by_id[rid], f"record {rid!r} changed: {row[:width]} != {by_id[rid]}"
        assert mid != "", f"record {rid!r} has no match_id"
        assert 0.0 <= float(conf) <= 1.0, f"record {rid!r}: match_confidence {conf!r} not in [0, 1]"
        match_of[rid] = mid
    assert set(match_of) == set(by_id)

    s_header, s_rows = _read_output(output / "deduplicated" / f"{name}.{fmt}")
    assert s_header == header, (s_header, header)
    survivors_of: dict[str, list[str]] = {}
    for row in s_rows:
        rid = row[header.index(id_column)]
        assert rid in by_id and row == by_id[rid], f"survivor {rid!r} is not an input record as it came in"
        survivors_of.setdefault(match_of[rid], []).append(rid)
    assert set(survivors_of) == set(match_of.values()), "a match_id has no survivor"
    twice = {m: ids for m, ids in survivors_of.items() if len(ids) > 1}
    assert not twice, f"match_id(s) with more than one survivor: {twice}"
    return match_of


def read_output(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(matches, deduplicated) a local run published under ``out``, all strings."""
    def one(folder):
        files = sorted((out / folder).glob("*.csv"))
        assert len(files) == 1, f"{out / folder}: {files}"
        return pd.read_csv(files[0], dtype=str, keep_default_na=False)
    return one("matches"), one("deduplicated")


def assert_published_complete(out: Path, input_ids: set[str], id_column: str = "c_customer_id") -> pd.DataFrame:
    """What ``out`` publishes holds every record of ``input_ids`` (of every run) exactly once in
    matches/, exactly one survivor per match_id, confidences in [0, 1]; returns matches."""
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
