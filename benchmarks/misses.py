"""The pairs the job got wrong on a development set, for a person to read.

    python -m benchmarks.misses gen_10k [--show 30]   # or indep_100k, third_100k ...

Missed pairs (same entity, different match_id) and false pairs (different
entity, same match_id), with the compared columns side by side. Use it on
development sets only: reading a held-out set's errors is tuning on it.
"""
from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path

import pandas as pd

from benchmarks import datasets
from glue_jobs.dedup import run

SHOW = ["c_first_name", "c_last_name", "c_birth_day", "c_birth_month", "c_birth_year", "c_birth_country",
        "c_login", "c_email_address"]


def wrong_pairs(name: str) -> tuple[pd.DataFrame, list, list]:
    if name in datasets.HELD_OUT:
        raise SystemExit(f"{name} is a held-out set: its errors are not for reading")
    path, truth = datasets.generated(name)
    with tempfile.TemporaryDirectory() as out:
        run(path, Path(out), datasets.TPCDS_SETTINGS, quiet=True)
        m = pd.read_csv(Path(out) / "matches" / f"{path.stem}.csv", dtype=str, keep_default_na=False)
    d = m.merge(pd.read_csv(truth, dtype=str), on="c_customer_id").set_index("c_customer_id")
    missed = [p for _, g in d.groupby("entity_id") if g.match_id.nunique() > 1
              for p in itertools.combinations(g.index, 2) if d.match_id[p[0]] != d.match_id[p[1]]]
    false = [p for _, g in d.groupby("match_id") if g.entity_id.nunique() > 1
             for p in itertools.combinations(g.index, 2) if d.entity_id[p[0]] != d.entity_id[p[1]]]
    return d, missed, false


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--show", type=int, default=30)
    a = ap.parse_args(argv)
    d, missed, false = wrong_pairs(a.name)
    for label, pairs in (("missed", missed), ("false", false)):
        print(f"== {len(pairs)} {label} pairs")
        for x, y in pairs[: a.show]:
            print("  " + " | ".join(f"{d.at[x, c]!s:>14}" for c in SHOW))
            print("  " + " | ".join(f"{d.at[y, c]!s:>14}" for c in SHOW) + "\n")


if __name__ == "__main__":
    main()
