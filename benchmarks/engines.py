"""The Glue job's two engines on the same input, timed: DuckDB on the driver vs Spark.

    python -m benchmarks.engines [--sizes gen_10k gen_100k] [--cores 2]

Both go through the job's own code (glue_io's DuckDB read, dedup_core on each
engine, results back to DuckDB for writing); only S3 is left out. Spark runs in
local mode with ``--cores`` threads, checkpoints in a temporary folder. Prints
one line per engine and size: records, clusters, seconds (dedup, and read to
result), and the Glue cost per run (see README "Which engine").
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.datasets import TPCDS_SETTINGS, generated
from glue_jobs.config import load_config
from glue_jobs.dedup import load_csv
from glue_jobs.dedup_core import DuckDBEngine, SparkEngine, deduplicate
from glue_jobs.glue_io import from_spark, to_spark


def glue_cost(seconds: float, workers: int = 2, worker_type: str = "G.1X") -> float:
    """USD of one STANDARD run that takes ``seconds`` (billed per second, 1-minute minimum)."""
    from workshop import prices

    billed = max(seconds, prices.GLUE_JOB_MINIMUM_MINUTES * 60)
    return billed / 3600 * workers * prices.DPU_PER_WORKER[worker_type] * prices.GLUE_DPU_HOUR_STANDARD


def run_duckdb(path: Path, cfg) -> tuple[int, int, float]:
    t0 = time.perf_counter()
    duck = DuckDBEngine()
    table = load_csv(duck, path, cfg)
    res = deduplicate(duck, cfg, table, source=str(path))
    # the results are views: made into tables here, as Spark's are pulled back into DuckDB below
    duck.create("m", f"SELECT * FROM {res.matches_table}")
    duck.create("s", f"SELECT * FROM {res.survivors_table}")
    return res.records_in, res.clusters, time.perf_counter() - t0


def run_spark(spark, path: Path, cfg) -> tuple[int, int, float]:
    t0 = time.perf_counter()
    duck = DuckDBEngine()
    table = load_csv(duck, path, cfg)
    to_spark(spark, duck, table, "input_raw_spark")
    res = deduplicate(SparkEngine(spark), cfg, "input_raw_spark", source=str(path))
    from_spark(spark, duck, res.matches_table, "m")
    from_spark(spark, duck, res.survivors_table, "s")
    return res.records_in, res.clusters, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["gen_10k", "gen_100k"])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    a = ap.parse_args(argv)
    cfg = load_config(TPCDS_SETTINGS)
    spark = None
    if "spark" in a.engines:
        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master(f"local[{a.cores}]").config("spark.ui.enabled", "false")
                 .config("spark.sql.shuffle.partitions", str(4 * a.cores)).config("spark.driver.memory", "4g")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="bench-ckpt-"))
    for size in a.sizes:
        path, _ = generated(size)
        mb = path.stat().st_size / 1e6
        for engine in a.engines:
            n, clusters, secs = run_duckdb(path, cfg) if engine == "duckdb" else run_spark(spark, path, cfg)
            print(f"{size:10s} {mb:7.1f} MB {engine:6s} records {n:>8,} clusters {clusters:>8,} {secs:7.1f} s "
                  f"Glue 2 x G.1X: {2 * secs / 3600:.4f} DPU-h, ${glue_cost(secs):.4f}/run", flush=True)
    import os

    from workshop import prices

    print(f"prices as of {prices.PRICES_AS_OF} ({prices.PRICES_REGIONS}); load average while measuring: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores (a shared machine)")


if __name__ == "__main__":
    main()
