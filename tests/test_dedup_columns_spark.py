"""Input columns of any name are safe on both engines (issue 10): the same file with columns named
like the job's own SQL aliases, SQL words, quotes, backticks, dots and spaces goes through the
pipeline's SQL (standardise, matches, survivors) on DuckDB and on Spark (Glue 5.0's 3.5) with
every record and value kept and the same survivors.

On Spark the model step is replaced by DuckDB's clusters (a view of the same unique_id ->
cluster_id pairs): Splink on Spark is compared with DuckDB in test_dedup_spark.py; what this
test checks is the job's own SQL around it, in seconds instead of minutes."""
from __future__ import annotations

import pytest

from glue_jobs.config import load_config
from glue_jobs.dedup import load_csv
from glue_jobs.engines import DuckDBEngine, SparkEngine
from glue_jobs.pipeline import deduplicate
from tests.dedup_fixtures import SETTINGS, partition, read_csv_exact

AWKWARD = ["rn", "n", "select", "sized", 'say "hi"', "back`tick", "a.b", "two words", "__dedup_rank", "__dedup_best", "cluster_id"]


@pytest.fixture(scope="module")
def awkward_csv(tmp_path_factory):
    import csv

    from tests.dedup_fixtures import SAMPLE

    header, rows = read_csv_exact(SAMPLE)
    path = tmp_path_factory.mktemp("cols") / "awkward.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(AWKWARD[:5] + header + AWKWARD[5:])
        for i, r in enumerate(rows):  # values that would change a survivor's rank if they leaked in
            w.writerow([str(i % 2), "1", "x", "", "v"] + r + [str(i), "", "z", "1", "9", "c"])
    return path


def test_awkward_column_names_give_the_same_result_on_duckdb_and_spark(awkward_csv, tmp_path, monkeypatch):
    from pyspark.sql import SparkSession

    import glue_jobs.pipeline as pipeline
    from glue_jobs.model import ModelReport

    cfg = load_config(SETTINGS)
    duck = DuckDBEngine()
    res = deduplicate(duck, cfg, load_csv(duck, awkward_csv, cfg))
    header, rows = read_csv_exact(awkward_csv)
    got = duck.con.execute(f"SELECT * FROM {res.matches_table}").fetchall()
    assert [d[0] for d in duck.con.execute(f"SELECT * FROM {res.matches_table} LIMIT 0").description] == \
        header + ["match_id", "match_confidence"]
    assert sorted(tuple("" if v is None else v for v in r[:-2]) for r in got) == sorted(map(tuple, rows))
    duck_clusters = {r[header.index("c_customer_id")]: r[-2] for r in got}
    duck_survivors = {r[header.index("c_customer_id")] for r in
                      duck.con.execute(f"SELECT * FROM {res.survivors_table}").fetchall()}

    spark = (SparkSession.builder.master("local[2]").appName("dedup-columns")
             .config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false")
             .config("spark.driver.memory", "2g").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))
    try:
        df = (spark.read.option("header", True).option("inferSchema", False).option("quote", '"')
              .option("escape", '"').csv(str(awkward_csv)))
        assert df.columns == header
        df.createOrReplaceTempView("input_raw")
        pairs = spark.createDataFrame(sorted(duck_clusters.items()), "unique_id string, cluster_id string")
        pairs.createOrReplaceTempView("duckdb_cluster_ids")

        def duckdb_clusters(engine, cfg, std_table, n, **kwargs):  # run_splink's table, DuckDB's clusters
            engine.view("duckdb_clusters", f"SELECT s.__dedup_rid, s.unique_id, d.cluster_id FROM {std_table} s "
                                           "JOIN duckdb_cluster_ids d ON d.unique_id = s.unique_id")
            return "duckdb_clusters", ModelReport()

        monkeypatch.setattr(pipeline, "run_splink", duckdb_clusters)
        sres = deduplicate(SparkEngine(spark), cfg, "input_raw", source=str(awkward_csv))
        matches = spark.table(sres.matches_table)
        assert matches.columns == header + ["match_id", "match_confidence"]
        spark_clusters = {r["c_customer_id"]: r["match_id"] for r in matches.collect()}
        assert sorted(tuple("" if v is None else v for v in r[:-2]) for r in matches.collect()) == \
            sorted(map(tuple, rows))
        survivors = spark.table(sres.survivors_table)
        assert survivors.columns == header
        assert sres.clusters == res.clusters
        spark_survivors = {r["c_customer_id"] for r in survivors.collect()}
    finally:
        spark.stop()
    assert partition(spark_clusters) == partition(duck_clusters)
    assert spark_survivors == duck_survivors
    assert res.duplicates_removed > 20
