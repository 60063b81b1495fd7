"""A bare Splink run with the job's settings on the same file: the speed baseline.

    python -m benchmarks.bare_splink INPUT.csv [--settings FILE]

Only what Splink needs: read the CSV into DuckDB, derive the columns the
settings compare, train (same calls), predict, cluster. No input checks, no
survivors, no output files.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from glue_jobs.config import load_config
from glue_jobs.dedup import DEFAULT_SETTINGS
from glue_jobs.engines import DuckDBEngine
from glue_jobs.model import run_splink
from glue_jobs.pipeline import STD_TABLE
from glue_jobs.standardise import create_standardised


def main(argv=None) -> float:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    # the job's settings, not from benchmarks.datasets: it imports pandas, which bare Splink
    # does not need and whose import (0.6 s) the baseline would count
    ap.add_argument("--settings", type=Path, default=DEFAULT_SETTINGS)
    a = ap.parse_args(argv)
    t = time.perf_counter()
    cfg = load_config(a.settings)
    engine = DuckDBEngine()
    lit = str(a.input).replace("'", "''")
    engine.con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{lit}', header = true, all_varchar = true)")
    n = engine.scalar("SELECT count(*) FROM raw")
    create_standardised(engine, cfg, "raw", STD_TABLE)
    clusters, _ = run_splink(engine, cfg, STD_TABLE, n)
    k = engine.scalar(f"SELECT count(DISTINCT cluster_id) FROM {clusters}")
    secs = time.perf_counter() - t
    print(f"bare splink: {n} records -> {k} clusters in {secs:.1f} s")
    return secs


if __name__ == "__main__":
    main()
