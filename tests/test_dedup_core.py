"""The dedup core on DuckDB: known duplicates cluster, look-alikes don't, survivors follow the rule."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.metrics import pairwise_scores
from glue_jobs.config import load_config
from glue_jobs.dedup import run
from glue_jobs.engines import DuckDBEngine
from glue_jobs.pipeline import deduplicate
from glue_jobs.sample.generate import generate
from tests.dedup_fixtures import (
    SAMPLE,
    SAMPLE_TRUTH,
    SETTINGS,
    assert_no_customer_lost,
    cases_frame,
    partition,
    sha256,
)


@pytest.fixture(scope="module")
def cfg():
    return load_config(SETTINGS)


@pytest.fixture(scope="module")
def cases_result(cfg):
    df, expected = cases_frame()
    engine = DuckDBEngine()
    engine.con.register("cases_df", df)
    engine.con.execute("CREATE TABLE input_raw AS SELECT * FROM cases_df")
    res = deduplicate(engine, cfg, "input_raw")
    matches = engine.con.execute(f"SELECT * FROM {res.matches_table}").df()
    survivors = engine.con.execute(f"SELECT * FROM {res.survivors_table}").df()
    return res, matches, survivors, expected


def test_hand_made_duplicates_get_the_expected_clusters(cases_result):
    _, matches, _, expected = cases_result
    got = matches.set_index("c_customer_id").match_id
    # every case record's cluster, restricted to case records, must equal the expected partition
    got_cases = {cid: got[cid] for cid in expected}
    assert partition(got_cases) == partition(expected)
    # and no case record was pulled into a background cluster
    for cid in expected:
        members = set(got[got == got[cid]].index)
        assert members <= set(expected), (cid, members)


def test_background_duplicates_are_found(cases_result):
    res, matches, _, _ = cases_result
    _, truth = generate(400, 0.06, 7)  # the background cases_frame() used
    m = matches.merge(truth, on="c_customer_id")
    s = pairwise_scores(m.match_id, m.entity_id)
    assert s.true_pairs > 10
    assert s.precision >= 0.95 and s.recall >= 0.9, s


def test_every_record_kept_once_with_match_id(cases_result):
    res, matches, survivors, _ = cases_result
    assert len(matches) == res.records_in
    assert matches.c_customer_id.is_unique and matches.match_id.notna().all()
    assert len(survivors) == matches.match_id.nunique() == res.clusters
    assert "match_id" not in survivors.columns


def test_survivor_is_most_complete_then_lowest_id(cases_result):
    _, matches, survivors, _ = cases_result
    kept = set(survivors.c_customer_id)
    # cluster C: 06 lacks the e-mail, 07 lacks the birth date, 05 is complete
    assert {"ZZZZAAAA00000005"} == kept & {"ZZZZAAAA00000005", "ZZZZAAAA00000006", "ZZZZAAAA00000007"}
    # cluster A: both complete -> the lower id
    assert {"ZZZZAAAA00000001"} == kept & {"ZZZZAAAA00000001", "ZZZZAAAA00000002"}
    # survivors carry the input's values untouched (no standardisation leaks out)
    row = survivors.set_index("c_customer_id").loc["ZZZZAAAA00000001"]
    assert row.c_email_address == "zq.mail@example.org" and row.c_first_name == "Zebulon"


def test_bundled_sample_matches_its_truth(tmp_path):
    before = sha256(SAMPLE)
    res = run(SAMPLE, tmp_path, SETTINGS, quiet=True)
    assert sha256(SAMPLE) == before
    assert_no_customer_lost(SAMPLE, tmp_path)
    matches = pd.read_csv(tmp_path / "matches" / "customers.csv", dtype=str)
    dedup = pd.read_csv(tmp_path / "deduplicated" / "customers.csv", dtype=str)
    truth = pd.read_csv(SAMPLE_TRUTH, dtype=str)
    m = matches.merge(truth, on="c_customer_id")
    s = pairwise_scores(m.match_id, m.entity_id)
    assert s.f1 >= 0.97, s
    assert len(dedup) == res.clusters and len(matches) == res.records_in == len(truth)
    assert list(dedup.columns) == list(pd.read_csv(SAMPLE, nrows=0).columns)
    assert not (tmp_path / "_staging").exists()


def test_parquet_output(tmp_path):
    run(SAMPLE, tmp_path, SETTINGS, fmt="parquet", quiet=True)
    assert_no_customer_lost(SAMPLE, tmp_path, fmt="parquet")
    got = pd.read_parquet(tmp_path / "deduplicated" / "customers.parquet")
    assert got.c_customer_id.is_unique and len(got) > 400


def test_rerun_replaces_published_output(tmp_path):
    (tmp_path / "deduplicated").mkdir()
    (tmp_path / "deduplicated" / "stale.csv").write_text("old\n")
    run(SAMPLE, tmp_path, SETTINGS, quiet=True)
    assert_no_customer_lost(SAMPLE, tmp_path)
    assert sorted(p.name for p in (tmp_path / "deduplicated").iterdir()) == ["customers.csv"]


def test_clean_file_gives_all_singletons(tmp_path):
    """No duplicates: no pair agrees on a prior rule, so the prior estimate is 0
    (a match weight of -inf); the job must return every record once, on its own."""
    clean, _ = generate(2000, dup_rate=0, seed=3)
    path = tmp_path / "clean.csv"
    clean.to_csv(path, index=False)
    res = run(path, tmp_path / "out", SETTINGS, quiet=True)
    assert_no_customer_lost(path, tmp_path / "out")
    matches = pd.read_csv(tmp_path / "out" / "matches" / "clean.csv", dtype=str)
    dedup = pd.read_csv(tmp_path / "out" / "deduplicated" / "clean.csv", dtype=str)
    assert res.records_in == res.clusters == len(matches) == len(dedup) == len(clean)
    assert matches.match_id.is_unique and set(dedup.c_customer_id) == set(clean.c_customer_id)
    assert any("Splink not run" in w for w in res.model.warnings)


def test_small_file_runs(tmp_path):
    """50 records: no pair shares a birth date, so EM on dob has no pairs. The job
    still runs, and a duplicate sharing its e-mail is still found."""
    head = pd.read_csv(SAMPLE, dtype=str).head(50)
    head.to_csv(tmp_path / "small.csv", index=False)
    res = run(tmp_path / "small.csv", tmp_path / "o1", SETTINGS, quiet=True)
    assert_no_customer_lost(tmp_path / "small.csv", tmp_path / "o1")
    assert res.records_in == res.clusters == 50
    dup = head.iloc[[0]].copy()
    dup["c_customer_id"] = "ZZZZ0000DUP00001"
    dup[["c_birth_day", "c_birth_month", "c_birth_year"]] = None
    pd.concat([head, dup]).to_csv(tmp_path / "small_dup.csv", index=False)
    res = run(tmp_path / "small_dup.csv", tmp_path / "o2", SETTINGS, quiet=True)
    assert_no_customer_lost(tmp_path / "small_dup.csv", tmp_path / "o2")
    assert (res.records_in, res.clusters) == (51, 50)
    assert any("EM session on ('dob',) skipped" in w for w in res.model.warnings)
    matches = pd.read_csv(tmp_path / "o2" / "matches" / "small_dup.csv", dtype=str).set_index("c_customer_id")
    assert matches.match_id["ZZZZ0000DUP00001"] == matches.match_id[head.c_customer_id[0]]


def test_job_on_its_own_output_finds_nothing_more(tmp_path):
    run(SAMPLE, tmp_path / "first", SETTINGS, quiet=True)
    again = tmp_path / "first" / "deduplicated" / "customers.csv"
    res = run(again, tmp_path / "second", SETTINGS, quiet=True)
    assert_no_customer_lost(again, tmp_path / "second")
    assert res.records_in == res.clusters == len(pd.read_csv(again, dtype=str))
    assert res.duplicates_removed == 0


# ----------------------------------------------------------------- the survivor rule, against an oracle

_VALUES = st.sampled_from([None, "", " ", "\u00a0", "\u3000 ", "x", " y ", "0", "é"])
_IDS = st.sampled_from(["1", "2", "9", "10", "100", "a", "A", "b", "Z", "é", "01", " 1"])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(_IDS, st.sampled_from(["m1", "m2", "m3", "m4"]), st.lists(_VALUES, min_size=3, max_size=3)),
                min_size=1, max_size=25, unique_by=lambda r: r[0]))
def test_losers_are_every_record_but_the_most_complete_then_lowest_id_of_each_cluster(records):
    """``losers_sql`` against the rule written in Python: per match_id, the record with the
    most non-blank columns (blank: empty or only space separators) wins, ties to the lowest
    id in string order ("10" < "9"); every other record of the cluster is a loser."""
    from types import SimpleNamespace

    from glue_jobs.engines import SPACES
    from glue_jobs.pipeline import losers_sql

    engine = DuckDBEngine()
    engine.create_from_rows("t", ["id", "mid", "a", "b", "c"], [(i, m, *v) for i, m, v in records])
    sql = losers_sql(engine, SimpleNamespace(id_column="id"), ["id", "a", "b", "c"], "t", "mid")
    got = {r[0] for r in engine.rows(sql)}

    def filled(rec):
        return sum(1 for v in (rec[0], *rec[2]) if v is not None and v.strip(SPACES) != "")
    expected = set()
    for m in {r[1] for r in records}:
        members = [r for r in records if r[1] == m]
        best = min(members, key=lambda r: (-filled(r), r[0]))
        expected |= {r[0] for r in members if r is not best}
    assert got == expected
