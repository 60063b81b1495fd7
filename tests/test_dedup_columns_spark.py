"""Input columns of any name are safe on both engines (issue 10): the same file with columns named
like the job's own SQL aliases, SQL words, quotes, backticks, dots and spaces gives the same
clusters on DuckDB and on Spark (Glue 5.0's 3.5), and every record comes out with its values."""
from __future__ import annotations

import pytest

from glue_jobs.config import load_config
from glue_jobs.dedup import load_csv
from glue_jobs.engines import DuckDBEngine, SparkEngine
from glue_jobs.pipeline import deduplicate
from tests.dedup_fixtures import SETTINGS, partition, read_csv_exact

AWKWARD = ["rn", "n", "select", "sized", 'say "hi"', "back`tick", "a.b", "two words", "__dedup_rank", "cluster_id"]


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
            w.writerow([str(i % 2), "1", "x", "", "v"] + r + [str(i), "", "z", "1", "c"])
    return path


def test_awkward_column_names_give_the_same_result_on_duckdb_and_spark(awkward_csv, tmp_path):
    from pyspark.sql import SparkSession

    cfg = load_config(SETTINGS)
    duck = DuckDBEngine()
    res = deduplicate(duck, cfg, load_csv(duck, awkward_csv, cfg))
    header, rows = read_csv_exact(awkward_csv)
    got = duck.con.execute(f"SELECT * FROM {res.matches_table}").fetchall()
    assert [d[0] for d in duck.con.execute(f"SELECT * FROM {res.matches_table} LIMIT 0").description] == \
        header + ["match_id"]
    assert sorted(tuple("" if v is None else v for v in r[:-1]) for r in got) == sorted(map(tuple, rows))
    duck_clusters = {r[header.index("c_customer_id")]: r[-1] for r in got}

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
        sres = deduplicate(SparkEngine(spark), cfg, "input_raw", source=str(awkward_csv))
        matches = spark.table(sres.matches_table)
        assert matches.columns == header + ["match_id"]
        spark_clusters = {r["c_customer_id"]: r["match_id"] for r in matches.collect()}
        survivors = spark.table(sres.survivors_table)
        assert survivors.columns == header
        assert survivors.count() == sres.clusters == res.clusters
    finally:
        spark.stop()
    assert partition(spark_clusters) == partition(duck_clusters)
    assert res.duplicates_removed > 20
