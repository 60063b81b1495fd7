"""The same core on PySpark local mode (Glue 5.0's Spark 3.5) gives the same clusters as DuckDB."""
from __future__ import annotations

import pandas as pd
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
    from glue_jobs.standardise import create_lookup_tables, standardise_sql

    df, _ = cases_frame(background_entities=50)
    # a middle initial in the first-name field, dropped by a whole-string regex on both engines
    df.loc[:4, "c_first_name"] = ["Elisabeth P.", "Jason S", "JasonS.", "J.", "Łukasz W."]
    # both branches of the regex guards (a "+tag", a spreadsheet's "7.0"): the same on both engines
    df.loc[5:6, "c_email_address"] = ["Ann.Lee+news@x.com", "a+b+c@y.org"]
    df.loc[5:6, "c_birth_day"] = ["7.0", "7.5"]
    duck = DuckDBEngine()
    duck.con.register("cases_df", df)
    duck.con.execute("CREATE TABLE input_raw AS SELECT * FROM cases_df")
    create_lookup_tables(duck, cfg)
    d = duck.con.execute(standardise_sql(duck, cfg, "input_raw") + " ORDER BY unique_id").df()
    spark.createDataFrame(df.astype(object).where(df.notna(), None)).createOrReplaceTempView("cases_raw")
    engine = SparkEngine(spark)
    create_lookup_tables(engine, cfg)
    s = spark.sql(standardise_sql(engine, cfg, "cases_raw") + " ORDER BY unique_id").toPandas()
    assert list(d.columns) == list(s.columns)
    d, s = d.astype(object).where(d.notna(), None), s.astype(object).where(s.notna(), None)
    assert d.to_dict("records") == s.to_dict("records")
    assert sorted(s.set_index("unique_id").loc[list(df.c_customer_id[:5]), "first_name"]) == [
        "elisabeth", "j", "jason", "jason", "łukasz"]
    guarded = d.set_index("unique_id").loc[list(df.c_customer_id[5:7])]
    assert list(guarded.email) == ["ann.lee@x.com", "a@y.org"] and list(guarded.dob_d.isna()) == [False, True]
    row = d.set_index("unique_id").loc["ZZZZAAAA00000004"]
    assert (row.email, row.first_name, row.dob) == ("obrandtmeyer@gmail.com", "brandtmeyer", "1982-11-02")


# letters with engine-specific case rules (final sigma, dotted I, title-case digraphs), digits of
# other scripts, every kind of space and line break, combining marks, symbols and emoji
HOSTILE = (list("aZéÉßİıΣσ ñÑ.+@-_'0123456789") + ["\t", "\n", "\x0b", "\x0c", "\r", "\u00a0", "\u2003",
           "\u2028", "\u0085", "\u0301", "\u0345", "😀", "Ⅻ", "٣", "ﬁ", "ǅ", "ǈ", "ẞ", "Ꭰ", "Ა", "Ж", "中",
           "ﬓ", "K", "Ω", "ϴ"])


def _hostile_frame(n: int, seed: int) -> pd.DataFrame:
    import random

    from tests.dedup_fixtures import COLUMNS

    rng = random.Random(seed)

    def text(k: int) -> str:
        return "".join(rng.choice(HOSTILE) for _ in range(rng.randint(0, k)))

    rows = []
    for i in range(n):
        row = {c: text(12) for c in COLUMNS}
        row["c_customer_id"] = f"ID{i:08d}"
        row["c_email_address"] = text(8) + rng.choice(["@", "@@", ""]) + text(8)
        for part in ("c_birth_day", "c_birth_month", "c_birth_year"):
            row[part] = rng.choice([text(4), str(rng.randint(0, 40)), f" {rng.randint(1, 31)}.0 ", "\t7\n", "\x0b7"])
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS).astype(object)


def test_any_text_is_standardised_the_same_on_both_engines(spark, cfg):
    """The same upload gives the same standardised records on DuckDB (the driver) and
    Spark (the cluster), whatever its text: case rules, spaces, line breaks and regular
    expressions differ between the engines unless written out (``standardise.WS``,
    ``ANY``, ``END``, ``lower``, ``Engine.strip``). 1,500 random records of hostile
    text; each difference this test found once is one of them."""
    from glue_jobs.standardise import create_lookup_tables, standardise_sql

    df = _hostile_frame(1500, seed=20261130)
    duck = DuckDBEngine()
    duck.con.register("hostile_df", df)
    duck.con.execute("CREATE TABLE hostile_raw AS SELECT * FROM hostile_df")
    create_lookup_tables(duck, cfg)
    d = duck.con.execute(standardise_sql(duck, cfg, "hostile_raw") + " ORDER BY unique_id").df()
    spark.createDataFrame(df).createOrReplaceTempView("hostile_raw")
    engine = SparkEngine(spark)
    create_lookup_tables(engine, cfg)
    s = spark.sql(standardise_sql(engine, cfg, "hostile_raw") + " ORDER BY unique_id").toPandas()
    d, s = d.astype(object).where(d.notna(), None), s.astype(object).where(s.notna(), None)
    differ = {c: [(df.at[i, "c_customer_id"], d.at[i, c], s.at[i, c]) for i in range(len(d)) if d.at[i, c] != s.at[i, c]]
              for c in d.columns}
    assert {c: v[:3] for c, v in differ.items() if v} == {}


def test_composed_and_decomposed_text_standardise_the_same_on_spark(spark, cfg):
    """``Engine.nfc`` on Spark (a Python UDF: Spark SQL has no normalisation): the hostile
    records and their decomposed (NFD) copies standardise alike, and as on DuckDB."""
    import unicodedata

    from glue_jobs.standardise import create_lookup_tables, standardise_sql

    df = _hostile_frame(300, seed=20261201)
    for c in df.columns:  # accented letters the hostile alphabet lacks
        df[c] = [v if c == "c_customer_id" or i % 3 else v + "Zoë Čech Åsa" for i, v in enumerate(df[c])]
    nfd = df.map(lambda v: unicodedata.normalize("NFD", v))
    nfd["c_customer_id"] = df["c_customer_id"] + "-nfd"
    both = pd.concat([df, nfd], ignore_index=True)
    engine = SparkEngine(spark)
    spark.createDataFrame(both).createOrReplaceTempView("nfc_raw")
    create_lookup_tables(engine, cfg)
    s = spark.sql(standardise_sql(engine, cfg, "nfc_raw")).toPandas()
    s = s.astype(object).where(s.notna(), None).set_index("unique_id")
    composed, decomposed = s.loc[list(df.c_customer_id)], s.loc[list(nfd.c_customer_id)]
    assert composed.to_dict("records") == decomposed.to_dict("records")
    duck = DuckDBEngine()
    duck.con.register("nfc_df", both)
    duck.con.execute("CREATE TABLE nfc_raw AS SELECT * FROM nfc_df")
    create_lookup_tables(duck, cfg)
    d = duck.con.execute(standardise_sql(duck, cfg, "nfc_raw")).df()
    d = d.astype(object).where(d.notna(), None).set_index("unique_id")
    assert d.loc[s.index].to_dict("records") == s.to_dict("records")


INTEGER_TEXTS = ["7", " 07 ", "+7", "-7", "\t7\n", "7.5", "7.0", "7.", ".5", "1e1", "0x10", "1_000", "7,5",
                 "\u0663", "2147483647", "2147483648", "", " ", "x", None]


def test_try_cast_int_reads_the_same_integers_on_both_engines(spark):
    """A birth-date part of "7.5" or "1e1" is no day: NULL on both engines (DuckDB's own
    TRY_CAST read "7.5" as 8, where Spark's gives NULL)."""
    duck, sp = DuckDBEngine(), SparkEngine(spark)
    spark.createDataFrame([(i, v) for i, v in enumerate(INTEGER_TEXTS)], "i int, v string").createOrReplaceTempView("ints")
    got_spark = {r.i: r.n for r in spark.sql(f"SELECT i, {sp.try_cast_int('v')} AS n FROM ints").collect()}
    got_duck = {i: duck.con.execute(f"SELECT {duck.try_cast_int('v')} FROM (SELECT ?::VARCHAR AS v)", [v]).fetchone()[0]
                for i, v in enumerate(INTEGER_TEXTS)}
    assert got_duck == got_spark
    assert [got_duck[INTEGER_TEXTS.index(v)] for v in ("7", " 07 ", "+7", "7.5", "1e1", "0x10")] == [7, 7, 7, None, None, None]


def test_standardise_with_ansi_mode_on(spark, cfg):
    """A birth day of 'x' is NULL, not a cast error, even with spark.sql.ansi.enabled."""
    from glue_jobs.standardise import create_lookup_tables, standardise_sql

    df, _ = cases_frame(background_entities=5)
    df.loc[0, "c_birth_day"] = "x"
    spark.createDataFrame(df.astype(object).where(df.notna(), None)).createOrReplaceTempView("ansi_raw")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        engine = SparkEngine(spark)
        create_lookup_tables(engine, cfg)
        rows = spark.sql(standardise_sql(engine, cfg, "ansi_raw")).collect()
    finally:
        spark.conf.set("spark.sql.ansi.enabled", "false")
    got = {r.unique_id: r.dob for r in rows}
    assert got[df.c_customer_id[0]] is None and len(got) == len(df)


def test_spark_blocked_pairs_equal_duckdbs(spark, cfg):
    """The job's own blocking (64-bit keys: ``xxhash64`` on Spark, ``hash`` on
    DuckDB; row numbers in no order) finds on Spark the pairs, and the first rule
    of each, that it finds on DuckDB (where they equal Splink's own:
    tests/test_dedup_blocking.py)."""
    from glue_jobs.blocking import blocked_pairs_sql, blocking_keys_sql
    from glue_jobs.pipeline import STD_TABLE
    from glue_jobs.standardise import RID, create_standardised

    df, _ = cases_frame(background_entities=2_000)
    duck = DuckDBEngine()
    duck.con.register("cases_df", df)
    duck.con.execute("CREATE TABLE input_raw AS SELECT * FROM cases_df")
    create_standardised(duck, cfg, "input_raw", STD_TABLE)
    # each engine numbers the records its own way (RID): pairs compared by the records' ids
    by_ids = (f"SELECT p.match_key, l.unique_id, r.unique_id FROM ({{}}) p JOIN {STD_TABLE} l "
              f"ON l.{RID} = p.join_key_l JOIN {STD_TABLE} r ON r.{RID} = p.join_key_r")
    pair = lambda row: (row[0], frozenset(row[1:]))  # noqa: E731
    duck.create("keyed", blocking_keys_sql(duck, cfg, STD_TABLE))
    want = {pair(r) for r in duck.rows(by_ids.format(blocked_pairs_sql(cfg, "keyed")))}
    spark.createDataFrame(df.astype(object).where(df.notna(), None)).createOrReplaceTempView("cases_raw")
    engine = SparkEngine(spark)
    create_standardised(engine, cfg, "cases_raw", STD_TABLE)
    engine.create("keyed", blocking_keys_sql(engine, cfg, STD_TABLE))
    got = {pair(r) for r in engine.rows(by_ids.format(blocked_pairs_sql(cfg, "keyed")))}
    assert len(want) > 100 and got == want


def test_uniform_hash_is_a_share_in_0_1_on_both_engines(spark):
    """``Engine.uniform`` keeps about ``share`` of the records below ``share`` on either
    engine (the u samples, ``glue_jobs.u_estimate``): Spark's xxhash64 is signed, DuckDB's
    hash unsigned; a wrong range keeps none or all."""
    duck, sp = DuckDBEngine(), SparkEngine(spark)
    n = 20_000
    sql = lambda e: (f"SELECT min(h), max(h), avg(CASE WHEN h < 0.25 THEN 1 ELSE 0 END) FROM "  # noqa: E731
                     f"(SELECT {e.uniform(['id', '3'])} AS h FROM range({n}) t(id)) x")
    for lo, hi, quarter in (duck.row(sql(duck)), tuple(sp.row(sql(sp)))):
        assert 0 <= lo < 0.001 and 0.999 < hi < 1
        assert float(quarter) == pytest.approx(0.25, abs=0.015)


def test_sampled_u_on_spark_is_near_the_exact_u(spark):
    """``glue_jobs.u_estimate`` with both samples smaller than the table, on Spark: its SQL
    (the hash threshold, the key-pair table, the stratum's joins) runs there, and its
    estimate of the common levels is near the exact u (every pair, here on DuckDB)."""
    import random

    from tests.test_u_estimate import _ours, _pool_rows, _table, _u

    rows = _pool_rows(random.Random(5), 2000)
    duck = DuckDBEngine(threads=2)
    n = _table(duck, rows)
    exact = _u(_ours(duck, n, random_pairs=1e9, stratum_pairs=1e9))
    frame = duck.con.execute("SELECT * FROM t").df()
    spark.createDataFrame(frame).createOrReplaceTempView("t")
    sp = SparkEngine(spark)
    sampled = _u(_ours(sp, n, random_pairs=n * (n - 1) / 2 / 20, stratum_pairs=20_000))
    kept = sp.scalar("SELECT count(*) FROM __dedup_u_random")
    assert 300 < kept < 600, kept  # about sqrt(1/20) of 2,000
    for level in (("name", "last"), ("name", "first"), ("name", "else"), ("a", "equal"), ("a", "else")):
        assert sampled[level] == pytest.approx(exact[level], rel=0.25), (level, sampled[level], exact[level])
