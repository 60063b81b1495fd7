"""The same core on PySpark local mode (Glue 5.0's Spark 3.5) gives the same clusters as DuckDB."""
from __future__ import annotations

import pyspark
import pytest

from glue_jobs.config import load_config
from glue_jobs.dedup import load_csv
from glue_jobs.engines import DuckDBEngine, SparkEngine
from glue_jobs.pipeline import deduplicate
from tests.dedup_fixtures import SAMPLE, SETTINGS, cases_frame, partition


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (SparkSession.builder.master("local[2]").appName("dedup-tests")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.default.parallelism", "4")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.warehouse.dir", str(warehouse))
               .config("spark.driver.memory", "2g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("checkpoints")))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def cfg():
    return load_config(SETTINGS)


def _duckdb_clusters(cfg):
    engine = DuckDBEngine()
    table = load_csv(engine, SAMPLE, cfg)
    res = deduplicate(engine, cfg, table)
    rows = engine.con.execute(f"SELECT c_customer_id, match_id FROM {res.matches_table}").fetchall()
    res.survivors = {r[0] for r in engine.con.execute(f"SELECT c_customer_id FROM {res.survivors_table}").fetchall()}
    return res, dict(rows)


def test_spark_is_glue_5_line():
    assert pyspark.__version__.startswith("3.5.")


def test_spark_and_duckdb_give_the_same_clusters(spark, cfg):
    duck_res, duck = _duckdb_clusters(cfg)
    df = spark.read.option("header", True).option("inferSchema", False).csv(str(SAMPLE))
    df.createOrReplaceTempView("input_raw")
    res = deduplicate(SparkEngine(spark), cfg, "input_raw", source=str(SAMPLE))
    got = {r["c_customer_id"]: r["match_id"] for r in spark.table(res.matches_table).collect()}
    assert len(got) == res.records_in == duck_res.records_in
    assert res.duplicates_removed == duck_res.duplicates_removed > 20
    assert partition(got) == partition(duck)
    survivors = {r["c_customer_id"] for r in spark.table(res.survivors_table).collect()}
    duck_engine_survivors = duck_res.survivors
    assert survivors == duck_engine_survivors


def test_spark_standardisation_matches_duckdb(spark, cfg):
    """Regex escaping and casts differ between the dialects: compare row by row."""
    from glue_jobs.standardise import standardise_sql

    df, _ = cases_frame(background_entities=50)
    duck = DuckDBEngine()
    duck.con.register("cases_df", df)
    duck.con.execute("CREATE TABLE input_raw AS SELECT * FROM cases_df")
    d = duck.con.execute(standardise_sql(duck, cfg, "input_raw") + " ORDER BY unique_id").df()
    spark.createDataFrame(df.astype(object).where(df.notna(), None)).createOrReplaceTempView("cases_raw")
    s = spark.sql(standardise_sql(SparkEngine(spark), cfg, "cases_raw") + " ORDER BY unique_id").toPandas()
    assert list(d.columns) == list(s.columns)
    d, s = d.astype(object).where(d.notna(), None), s.astype(object).where(s.notna(), None)
    assert d.to_dict("records") == s.to_dict("records")
    row = d.set_index("unique_id").loc["ZZZZAAAA00000004"]
    assert (row.email, row.first_name, row.dob) == ("obrandtmeyer@gmail.com", "brandtmeyer", "1982-11-02")


def test_spark_read_keeps_quoted_line_breaks(spark, cfg, tmp_path):
    from glue_jobs.glue_entry import csv_reader, load_checked

    p = tmp_path / "nl.csv"
    p.write_text('c_customer_id,c_street_name\n1,"12 High St\nFlat 3"\n2,Main St\n')
    rows = load_checked(csv_reader(spark, cfg).csv(str(p)), str(p)).collect()
    assert [(r.c_customer_id, r.c_street_name) for r in rows] == [("1", "12 High St\nFlat 3"), ("2", "Main St")]


def test_spark_read_of_an_uneven_row_is_an_input_error(spark, cfg, tmp_path):
    from glue_jobs.glue_entry import csv_reader, load_checked
    from glue_jobs.validation import InputError

    p = tmp_path / "ragged.csv"
    p.write_text("c_customer_id,c_street_name\n1,x\n2,y,extra\n")
    with pytest.raises(InputError, match=r"ragged.csv: malformed CSV \(Malformed CSV record: 2,y,extra\)"):
        load_checked(csv_reader(spark, cfg).csv(str(p)), str(p))


def test_checkpointed_input_is_read_once(spark, cfg, tmp_path):
    """The job reads its input once: an object replaced mid-run must not change what later steps see."""
    from glue_jobs.glue_entry import csv_reader, load_checked

    p = tmp_path / "in.csv"
    p.write_text("c_customer_id,c_last_name\n1,a\n2,b\n")
    df = load_checked(csv_reader(spark, cfg).csv(str(p)), str(p), checkpoint=True)
    p.write_text("c_customer_id,c_last_name\n1,a\n2,b\n3,c\n4,d\n")
    assert df.count() == 2 and sorted(r.c_customer_id for r in df.collect()) == ["1", "2"]


def test_written_csv_keeps_leading_and_trailing_spaces(spark, tmp_path):
    from glue_jobs.glue_entry import write_staged

    df = spark.createDataFrame([("1", "  Smith ", "x")], "c_customer_id string, c_last_name string, c_login string")
    write_staged(df, str(tmp_path / "out"), "csv")
    (part,) = (tmp_path / "out").glob("part-*.csv")
    assert part.read_text().splitlines()[1] == "1,  Smith ,x"


def test_standardise_with_ansi_mode_on(spark, cfg):
    """A birth day of 'x' is NULL, not a cast error, even with spark.sql.ansi.enabled."""
    from glue_jobs.standardise import standardise_sql

    df, _ = cases_frame(background_entities=5)
    df.loc[0, "c_birth_day"] = "x"
    spark.createDataFrame(df.astype(object).where(df.notna(), None)).createOrReplaceTempView("ansi_raw")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        rows = spark.sql(standardise_sql(SparkEngine(spark), cfg, "ansi_raw")).collect()
    finally:
        spark.conf.set("spark.sql.ansi.enabled", "false")
    got = {r.unique_id: r.dob for r in rows}
    assert got[df.c_customer_id[0]] is None and len(got) == len(df)
