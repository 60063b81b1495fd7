"""The job's faster ways to the model's own results: its blocked pairs are Splink's,
its length-guarded distances are the plain ones, and a model saved before the
guard still loads."""
from __future__ import annotations

import json
import re

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from glue_jobs.blocking import blocked_pairs_sql, blocking_keys_sql
from glue_jobs.config import load_config
from glue_jobs.engines import DuckDBEngine
from glue_jobs.model import length_guarded, splink_settings
from glue_jobs.model_store import ModelError, fit_to_settings
from glue_jobs.pipeline import STD_TABLE
from glue_jobs.standardise import create_standardised
from tests.dedup_fixtures import REPO, cases_frame

TPCDS = REPO / "glue_jobs" / "settings" / "tpcds_customer.json"
FEBRL = REPO / "benchmarks" / "settings" / "febrl.json"


def _std_engine(frame, cfg) -> DuckDBEngine:
    engine = DuckDBEngine(threads=1)
    engine.con.register("raw_df", frame)
    engine.con.execute("CREATE TABLE raw AS SELECT * FROM raw_df")
    create_standardised(engine, cfg, "raw", STD_TABLE)
    return engine


def _splink_blocked_pairs(engine: DuckDBEngine, cfg) -> set[tuple[str, str, str]]:
    from splink import Linker

    linker = Linker(engine.splink_api().register(STD_TABLE), splink_settings(cfg), log_level=None)
    pairs = linker.inference.compute_blocked_pairs_for_predict()
    return set(engine.rows(f"SELECT match_key, join_key_l, join_key_r FROM {pairs.physical_name}"))


def _frame(data: str):
    if data == "cases":
        return cases_frame(background_entities=2_000)[0]
    if data == "independent generator":
        from benchmarks.heldout_generator import generate as indep

        return indep(2_000, seed=5)[0].astype("string")
    from benchmarks.third_generator import generate as third

    return third(2_000, seed=5)[0].astype("string")


@pytest.mark.parametrize("data", ["cases", "independent generator", "third generator"])
def test_blocked_pairs_are_splinks_own(data):
    """The same pairs, each with the same rule (``match_key``: the first rule that
    finds it), as Splink's blocking on the settings' rules. The hand-made cases
    hold pairs that several rules find (twins, namesakes, swapped names)."""
    cfg = load_config(TPCDS)
    engine = _std_engine(_frame(data), cfg)
    engine.create("keyed", blocking_keys_sql(engine, cfg, STD_TABLE))
    ours = set(engine.rows(blocked_pairs_sql(cfg, "keyed")))
    theirs = _splink_blocked_pairs(engine, cfg)
    assert len(theirs) > 100
    assert {k for k, _, _ in theirs} != {"0"}, "only one rule fired: the check would not see a wrong match_key"
    assert ours == theirs


def test_blocked_pairs_repeat_no_pair_and_never_pair_a_record_with_itself():
    cfg = load_config(TPCDS)
    engine = _std_engine(cases_frame(background_entities=300)[0], cfg)
    engine.create("keyed", blocking_keys_sql(engine, cfg, STD_TABLE))
    engine.create("bp", blocked_pairs_sql(cfg, "keyed"))
    total, distinct, selfish = engine.row(
        "SELECT count(*), count(DISTINCT (join_key_l, join_key_r)), count(*) FILTER (join_key_l >= join_key_r) FROM bp")
    assert total == distinct and selfish == 0


_TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from("abcé Ωß-1"), max_size=7),
                  st.text(max_size=4))


@settings(max_examples=150, deadline=None)
@given(a=_TEXT, b=_TEXT, c=_TEXT, k=st.integers(0, 3))
@example(a="é", b="e", c=None, k=1)  # two bytes against one: a distance of one character
@example(a="abc", b=None, c="abcd", k=1)
def test_length_guard_never_changes_a_level(a, b, c, k):
    """Every condition shape the comparisons use, guarded and plain, gives the same
    truth value on DuckDB (NULLs included: a level is chosen only on true)."""
    conditions = [f"levenshtein(x_l, x_r) <= {k}",
                  f"x_l = y_r AND levenshtein(x_r, y_l) <= {k}",
                  f"(x_l = x_r AND levenshtein(y_l, y_r) <= 1) OR (y_l = y_r AND levenshtein(x_l, x_r) <= {k})",
                  "levenshtein(x_l, x_r) <= 2 AND levenshtein(y_l, y_r) <= 2",
                  f"coalesce(levenshtein(x_l, y_r), 9) > {k}"]
    con = duckdb.connect()
    row = "SELECT CAST(? AS VARCHAR) AS x_l, CAST(? AS VARCHAR) AS x_r, CAST(? AS VARCHAR) AS y_l, " \
          "CAST(? AS VARCHAR) AS y_r"
    for cond in conditions:
        plain, guarded = con.execute(f"SELECT ({cond}), ({length_guarded(cond)}) FROM ({row})",
                                     [a, b, c, a]).fetchone()
        assert plain == guarded, (cond, a, b, c)


_GUARD = re.compile(r"\(abs\(length\((\w+)\) - length\((\w+)\)\) <= (\d+) AND (levenshtein\(\1, \2\) <= \3)\)")


def test_every_distance_in_the_settings_is_guarded_once():
    for path in (TPCDS, FEBRL):
        for comp in splink_settings(load_config(path))["comparisons"]:
            for lvl in comp["comparison_levels"]:
                sql = lvl["sql_condition"]
                assert length_guarded(sql) == sql, "guarding twice changes the text: a saved model would not fit"
                assert not re.search(r"levenshtein\(\w+, \w+\) <=", _GUARD.sub("", sql)), f"unguarded: {sql}"


def _unguard(sql: str) -> str:
    return _GUARD.sub(r"\4", sql)


def test_a_model_saved_before_the_guard_still_fits():
    """A model saved by an earlier job (plain ``levenshtein(a, b) <= k``; the e-mail's
    "one typo, same digits" with the digits tested last) compares the same levels:
    it is used, not refused with 'use --retrain', and scored with today's SQL."""
    import copy

    settings_ = splink_settings(load_config(TPCDS))
    old = copy.deepcopy(settings_)
    for comp in old["comparisons"]:
        for i, lvl in enumerate(comp["comparison_levels"]):
            lvl["sql_condition"] = _unguard(lvl["sql_condition"])
            lvl["m_probability"] = 0.5 / (i + 1)  # the model's own numbers are kept
            if lvl["label_for_charts"] == "one typo, same digits":
                digits, typo = lvl["sql_condition"].split(" AND ", 1)
                lvl["sql_condition"] = f"{typo} AND {digits}"
    assert "levenshtein(email_l, email_r) <= 1 AND email_digits_l = email_digits_r" in json.dumps(old["comparisons"])
    fitted = fit_to_settings(old, settings_, "old.json")
    for fc, oc, sc in zip(fitted["comparisons"], old["comparisons"], settings_["comparisons"], strict=True):
        for fl, ol, sl in zip(fc["comparison_levels"], oc["comparison_levels"], sc["comparison_levels"], strict=True):
            assert fl == {**ol, "sql_condition": sl["sql_condition"]}
    changed = copy.deepcopy(old)
    changed["comparisons"][0]["comparison_levels"][3]["sql_condition"] = "levenshtein(first_name_l, first_name_r) <= 3"
    with pytest.raises(ModelError, match="other levels"):
        fit_to_settings(changed, settings_, "changed.json")


# ------------------------------------------- blocked pairs found while the model trains

def test_pairs_found_meanwhile_are_the_pairs_found_in_turn():
    """``start_blocking`` on a cursor in a thread: the same table as creating it in turn,
    while the main connection goes on working."""
    from glue_jobs.model import BLOCKED_PAIRS_TABLE, start_blocking

    cfg = load_config(TPCDS)
    engine = _std_engine(_frame("cases"), cfg)
    engine.con.execute("SET threads = 2")
    background = start_blocking(engine, cfg, STD_TABLE)
    busy = engine.scalar(f"SELECT count(*) FROM {STD_TABLE} a, {STD_TABLE} b WHERE a.unique_id < b.unique_id")
    background.wait()
    meanwhile = set(engine.rows(f"SELECT * FROM {BLOCKED_PAIRS_TABLE}"))
    engine.create("keyed", blocking_keys_sql(engine, cfg, STD_TABLE))
    assert busy > 0 and len(meanwhile) > 100
    assert meanwhile == set(engine.rows(blocked_pairs_sql(cfg, "keyed")))


def test_work_meanwhile_hands_its_error_to_wait():
    engine = DuckDBEngine(threads=1)
    background = engine.create_meanwhile([("a", "SELECT 1 AS x"), ("b", "SELECT * FROM no_such_table")])
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        background.wait()
    assert engine.scalar("SELECT x FROM a") == 1  # the steps before the failing one stand
    background.stop()  # after wait: nothing left to stop


def test_stopping_work_meanwhile_interrupts_it():
    """A failed or interrupted run stops the blocking it started: ``stop`` interrupts
    the query (one that would run for hours) and the table is never created."""
    import threading

    engine = DuckDBEngine(threads=1)
    background = engine.create_meanwhile([("forever", "SELECT sum(hash(i)) AS s FROM range(10000000000000) t(i)")])
    stopper = threading.Thread(target=background.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "stop() did not interrupt the running query"
    assert engine.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'forever'") == 0


def test_registered_pairs_are_scored_as_splink_scores_its_own(monkeypatch):
    """``register_blocked_pairs``: the job's pairs get the scores Splink gives the pairs
    it finds itself, and without Splink's source pruning (copies of the records, for
    nothing: the spy fails the test if Splink takes that path)."""
    import splink.internals.linker_components.inference as inference

    from glue_jobs.model import BLOCKED_PAIRS_TABLE, load_linker, register_blocked_pairs, start_blocking
    from glue_jobs.training import train_linker

    cfg = load_config(TPCDS)
    engine = _std_engine(_frame("third generator"), cfg)
    linker, _ = train_linker(engine, cfg, STD_TABLE, engine.scalar(f"SELECT count(*) FROM {STD_TABLE}"))
    model = linker.misc.save_model_to_json()
    score = "SELECT __dedup_rid_l, __dedup_rid_r, match_key, round(match_weight, 9) FROM {}"
    theirs = load_linker(engine, STD_TABLE, model).inference.predict(threshold_match_probability=0.01)
    start_blocking(engine, cfg, STD_TABLE).wait()
    ours_linker = load_linker(engine, STD_TABLE, model)
    register_blocked_pairs(ours_linker, engine.splink_api().register(BLOCKED_PAIRS_TABLE))

    def pruned(*a, **k):
        raise AssertionError("Splink copied the records for source pruning")

    monkeypatch.setattr(inference, "predict_from_blocked_pairs_with_source_pruning", pruned)
    ours = ours_linker.inference.predict(threshold_match_probability=0.01)
    expected = set(engine.rows(score.format(theirs.physical_name)))
    assert len(expected) > 100
    assert set(engine.rows(score.format(ours.physical_name))) == expected


def test_an_engine_without_work_meanwhile_creates_on_wait_and_never_when_stopped():
    """The base engine (Spark's) does nothing meanwhile: the tables are made when
    waited for, once, and not at all if the run stops first (no training to fill)."""
    from glue_jobs.engines import Engine

    class Recording(Engine):
        def __init__(self):
            self.made = []

        def create(self, name, sql):
            self.made.append(name)

    engine = Recording()
    work = engine.create_meanwhile([("a", "SELECT 1"), ("b", "SELECT 2")])
    assert engine.made == []
    work.wait()
    work.wait()
    assert engine.made == ["a", "b"]
    stopped = engine.create_meanwhile([("c", "SELECT 3")])
    stopped.stop()
    stopped.wait()
    assert engine.made == ["a", "b"]


@pytest.mark.parametrize("data", ["cases", "third generator"])
def test_an_incremental_batchs_pairs_are_the_full_blockings_pairs_that_hold_a_new_record(data):
    """``blocked_pairs_sql(..., new_keyed=...)``: the batch against itself and against
    the published records gives every pair (and its first rule) that blocking all the
    records together gives with at least one new record, and no other."""
    cfg = load_config(TPCDS)
    engine = _std_engine(_frame(data), cfg)
    engine.create("keyed", blocking_keys_sql(engine, cfg, STD_TABLE))
    engine.create("everything", blocked_pairs_sql(cfg, "keyed"))
    # a tenth of the records are the batch (by a hash of the key: in no order the rules know)
    engine.create("keyed_new", "SELECT * FROM keyed WHERE hash(__dedup_rid) % 10 = 0")
    engine.create("keyed_old", "SELECT * FROM keyed WHERE hash(__dedup_rid) % 10 <> 0")
    want = set(engine.rows("SELECT * FROM everything WHERE join_key_l IN (SELECT __dedup_rid FROM keyed_new) "
                           "OR join_key_r IN (SELECT __dedup_rid FROM keyed_new)"))
    got = set(engine.rows(blocked_pairs_sql(cfg, "keyed_old", new_keyed="keyed_new")))
    assert len(want) > 20 and {k for k, _, _ in want} != {"0"}
    assert got == want
