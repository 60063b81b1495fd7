"""Incremental runs of the local command on real data: published match_ids never change,
every record of every run stays published, a failed run changes nothing, the model is reused.

Each test that runs the job checks that no customer is lost (every input record once in
matches/, one survivor per match_id).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from glue_jobs.dedup import main, run
from glue_jobs.incremental import std_cache_files
from tests.dedup_fixtures import (
    REPO,
    SAMPLE,
    SAMPLE_TRUTH,
    SETTINGS,
    assert_published_complete,
    read_output,
    sha256,
    tree_digest,
)

ID = "c_customer_id"


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> list[Path]:
    """The sample in three parts (80 %, 10 %, 10 %, random), as CSV files."""
    d = tmp_path_factory.mktemp("parts")
    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    rest = df.sample(frac=0.2, random_state=5)
    b1 = rest.iloc[: len(rest) // 2]
    paths = []
    for name, part in (("base", df.drop(rest.index)), ("b1", b1), ("b2", rest.drop(b1.index))):
        paths.append(d / f"{name}.csv")
        part.to_csv(paths[-1], index=False)
    return paths


def _ids(*paths: Path) -> set[str]:
    return {i for p in paths for i in pd.read_csv(p, dtype=str)[ID]}


def _summary(out: Path) -> dict:
    return json.loads((out / "model" / "run_summary.json").read_text())


def _match_ids(out: Path) -> dict[str, str]:
    m, _ = read_output(out)
    return dict(zip(m[ID], m["match_id"]))


def test_incremental_runs_keep_every_record_and_every_published_match_id(parts, tmp_path):
    base, b1, b2 = parts
    out = tmp_path / "out"
    run(base, out, SETTINGS, quiet=True)
    assert_published_complete(out, _ids(base))
    # a replace run keeps no standardised cache (only incremental runs read one) ...
    assert sorted(p.name for p in (out / "model").iterdir()) == ["run_summary.json", "splink_model.json"]
    first = _match_ids(out)
    run(b1, out, SETTINGS, quiet=True, incremental=True)
    assert_published_complete(out, _ids(base, b1))
    # ... so the first incremental run after it standardises the published records and keeps them all
    assert _summary(out)["published_records_standardised"] == "again"
    assert [f.name for f in std_cache_files(out / "model")] == ["standardised.parquet"]
    _assert_cache_is_the_published_set_standardised(out)
    second = _match_ids(out)
    run(b2, out, SETTINGS, quiet=True, incremental=True, labels_file=SAMPLE_TRUTH)
    m = assert_published_complete(out, _ids(base, b1, b2))
    third = _match_ids(out)
    # never reassigned once published
    assert {k: second[k] for k in first} == first
    assert {k: third[k] for k in second} == second
    # the id scheme: a cluster's match_id is the lowest id among its members when first published
    for mid, members in m.groupby("match_id")[ID]:
        first_run = [i for i in members if i in first] or [i for i in members if i in second] or list(members)
        assert mid == min(first_run)
    # new records found the published records they duplicate: the result equals the truth
    s = _summary(out)
    assert s["mode"] == "incremental" and s["records_in"] == len(_ids(b2))
    assert s["published_records_standardised"] == "from the previous run's cache"
    assert s["records_published_before"] == len(_ids(base, b1))
    # the counts reported are those of the published sets
    survivors = read_output(out)[1]
    assert s["clusters"] == len(survivors) == m["match_id"].nunique()
    assert s["duplicates_removed"] == len(m) - len(survivors) > 0
    assert s["labels"]["precision"] == 1.0 and s["labels"]["recall"] >= 0.95
    truth = pd.read_csv(SAMPLE_TRUTH, dtype=str).set_index(ID)["entity_id"]
    joined = [i for i in _ids(b1, b2) if (truth == truth[i]).sum() > 1
              and any(j in first for j in truth[truth == truth[i]].index if j != i)]
    assert joined, "the parts must hold duplicates of published records"
    assert sum(third[i] in set(first.values()) for i in joined) >= 0.9 * len(joined)


def test_a_new_record_linking_two_published_clusters_joins_the_stronger_and_is_listed(tmp_path):
    out = tmp_path / "out"
    run(SAMPLE, out, SETTINGS, quiet=True)
    matches, _ = read_output(out)
    # a published pair of one customer, split into two published clusters (as an older run might have)
    sizes = matches.groupby("match_id")[ID].transform("size")
    pairs = matches[sizes == 2].sort_values(["match_id", ID]).groupby("match_id")
    # two records that differ in a compared, non-empty field: a copy of r2 is closer to r2
    pair = next(g for _, g in pairs if (g["c_email_address"] != "").all() and g["c_email_address"].nunique() == 2)
    r1, r2 = pair[ID].tolist()
    matches.loc[matches[ID] == r2, "match_id"] = r2
    path = next((out / "matches").glob("*.csv"))
    matches.to_csv(path, index=False)
    # the new record is r2 again under a new id: it links to both, most strongly to r2
    new = matches[matches[ID] == r2].drop(columns=["match_id", "match_confidence"]).assign(**{ID: "ZZNEW0000000001"})
    new_path = tmp_path / "new.csv"
    new.to_csv(new_path, index=False)
    run(new_path, out, SETTINGS, quiet=True, incremental=True)
    after = assert_published_complete(out, set(matches[ID]) | {"ZZNEW0000000001"})
    mid = dict(zip(after[ID], after["match_id"]))
    assert mid[r1] == r1 and mid[r2] == r2, "published clusters are never merged"
    assert mid["ZZNEW0000000001"] == r2
    [case] = _summary(out)["linked_clusters"]
    assert case["record"] == "ZZNEW0000000001" and case["joined"] == r2
    assert {link["match_id"] for link in case["links"]} == {r1, r2}
    assert case["links"][0]["match_id"] == r2  # the strongest link first
    assert case["links"][0]["match_weight"] > case["links"][1]["match_weight"]


def _published(parts, tmp_path) -> Path:
    """What a first run in incremental mode publishes (nothing was published: a full run)."""
    out = tmp_path / "out"
    run(parts[0], out, SETTINGS, quiet=True, incremental=True)
    return out


def test_a_batch_with_published_ids_is_refused_and_changes_nothing(parts, tmp_path, capsys):
    out = _published(parts, tmp_path)
    before = tree_digest(out)
    clash = tmp_path / "clash.csv"
    pd.concat([pd.read_csv(parts[1], dtype=str), pd.read_csv(parts[0], dtype=str).iloc[:2]]).to_csv(clash, index=False)
    assert main([str(clash), "--output", str(out), "--incremental"]) == 2
    assert "already published" in capsys.readouterr().err
    assert tree_digest(out) == before
    assert_published_complete(out, _ids(parts[0]))


@pytest.mark.parametrize("where", ["publish", "assign"])
def test_a_failed_incremental_run_leaves_the_published_sets_byte_for_byte(parts, tmp_path, monkeypatch, where):
    import glue_jobs.dedup as dedup
    import glue_jobs.incremental as incremental

    out = _published(parts, tmp_path)
    before = tree_digest(out)
    if where == "publish":
        def broken(staging, output):
            raise OSError("disk full")
        monkeypatch.setattr(dedup, "publish_local", broken)
        expected = "disk full"
    else:
        monkeypatch.setattr(incremental, "assign_sql", lambda *a: "SELECT no_such_column FROM __incr_comp")
        expected = "no_such_column"
    with pytest.raises(Exception, match=expected):  # noqa: B017 - a DuckDB error or an OSError
        run(parts[1], out, SETTINGS, quiet=True, incremental=True)
    assert tree_digest(out) == before
    assert not (out / "_staging").exists()
    assert_published_complete(out, _ids(parts[0]))


def test_the_published_model_is_reused_unless_retrain_or_model_says_otherwise(parts, tmp_path, capsys):
    base, b1, b2 = parts
    out = _published(parts, tmp_path)
    published_sha = sha256(out / "model" / "splink_model.json")
    assert _summary(out)["model"]["source"].startswith("trained on this run's")

    assert main([str(b1), "--output", str(out), "--incremental"]) == 0
    s = _summary(out)["model"]
    assert s["source"].startswith("published model") and s["sha256"] == published_sha
    assert "published model" in capsys.readouterr().out
    assert_published_complete(out, _ids(base, b1))

    assert main([str(b2), "--output", str(out), "--incremental", "--retrain"]) == 0
    assert _summary(out)["model"]["source"] == f"trained on this run's {len(_ids(base, b1, b2))} records"
    assert_published_complete(out, _ids(base, b1, b2))

    saved = tmp_path / "saved_model.json"
    shutil.copy(out / "model" / "splink_model.json", saved)
    other = tmp_path / "other"
    assert main([str(SAMPLE), "--output", str(other), "--model", str(saved)]) == 0
    s = _summary(other)["model"]
    assert s["source"] == f"--model {saved}" and s["sha256"] == sha256(saved)
    assert_published_complete(other, _ids(SAMPLE))


def test_a_model_trained_with_other_settings_is_refused(tmp_path, capsys):
    febrl_model = tmp_path / "febrl.json"
    from glue_jobs.config import load_config
    from glue_jobs.model import splink_settings

    model = {**splink_settings(load_config(REPO / "benchmarks" / "settings" / "febrl.json"))}
    model["blocking_rules_to_generate_predictions"] = []
    febrl_model.write_text(json.dumps(model))
    assert main([str(SAMPLE), "--output", str(tmp_path / "out"), "--model", str(febrl_model)]) == 2
    err = capsys.readouterr().err
    assert "trained with other settings" in err and str(febrl_model) in err
    assert not (tmp_path / "out").exists()


def test_a_stale_standardised_cache_is_not_used(parts, tmp_path):
    out = _published(parts, tmp_path)
    matches, _ = read_output(out)
    path = next((out / "matches").glob("*.csv"))
    matches.iloc[1:].to_csv(path, index=False)  # the published set changed after the cache was written
    run(parts[1], out, SETTINGS, quiet=True, incremental=True)
    assert _summary(out)["published_records_standardised"] == "again"
    assert_published_complete(out, (_ids(parts[0]) - {matches[ID].iloc[0]}) | _ids(parts[1]))


def test_the_standardised_cache_grows_by_one_part_per_incremental_run(parts, tmp_path):
    """An incremental run that used the cache writes its new records' standardised rows
    as a part beside the earlier files (kept as they were: the same inode, not a copy);
    the parts together are what standardising the published set afresh gives."""
    import duckdb

    base, b1, b2 = parts
    out = tmp_path / "out"
    run(base, out, SETTINGS, quiet=True, incremental=True)
    full_inode = (out / "model" / "standardised.parquet").stat().st_ino
    run(b1, out, SETTINGS, quiet=True, incremental=True)
    run(b2, out, SETTINGS, quiet=True, incremental=True)
    assert _summary(out)["published_records_standardised"] == "from the previous run's cache"
    files = std_cache_files(out / "model")
    names = [f.name for f in files]
    assert names[0] == "standardised.parquet" and len(files) == 3
    assert names[1].startswith("standardised-000001-") and names[2].startswith("standardised-000002-")
    assert files[0].stat().st_ino == full_inode
    con = duckdb.connect()
    sizes = [con.execute(f"SELECT count(*) FROM read_parquet('{f}')").fetchone()[0] for f in files]
    assert sizes == [len(_ids(base)), len(_ids(b1)), len(_ids(b2))]
    _assert_cache_is_the_published_set_standardised(out)


def _assert_cache_is_the_published_set_standardised(out: Path) -> None:
    import duckdb

    from glue_jobs.config import load_config
    from glue_jobs.engines import DuckDBEngine
    from glue_jobs.standardise import RID, create_standardised

    files = std_cache_files(out / "model")
    con = duckdb.connect()
    con.execute(f"CREATE TABLE cached AS SELECT * FROM read_parquet({[str(f) for f in files]})")
    # every record its own key (RID: Splink's id), whatever order the runs numbered them in
    assert con.execute(f"SELECT count(DISTINCT {RID}) = count(*) FROM cached").fetchone() == (True,)
    cached = con.execute(f"SELECT * EXCLUDE ({RID}) FROM cached").fetchall()
    engine = DuckDBEngine()
    matches = next((out / "matches").glob("*.csv"))
    engine.con.execute(f"CREATE TABLE pub AS SELECT * FROM read_csv('{matches}', all_varchar = true)")
    create_standardised(engine, load_config(SETTINGS), "pub", "fresh")
    assert sorted(map(repr, cached)) == sorted(map(repr, engine.rows(f"SELECT * EXCLUDE ({RID}) FROM fresh")))


def test_a_run_that_read_many_cache_parts_writes_the_cache_as_one_file(parts, tmp_path, monkeypatch):
    """Parts do not pile up: once a run reads ``MAX_STD_CACHE_FILES`` files it writes every
    published record as one file, and the next run reads (and adds to) that one."""
    import glue_jobs.dedup as dedup

    monkeypatch.setattr(dedup, "MAX_STD_CACHE_FILES", 2)
    base, b1, b2 = parts
    out = tmp_path / "out"
    run(base, out, SETTINGS, quiet=True, incremental=True)
    run(b1, out, SETTINGS, quiet=True, incremental=True)
    assert len(std_cache_files(out / "model")) == 2
    run(b2, out, SETTINGS, quiet=True, incremental=True)
    assert _summary(out)["published_records_standardised"] == "from the previous run's cache"
    assert [f.name for f in std_cache_files(out / "model")] == ["standardised.parquet"]
    assert sorted((out / "model").glob("standardised*.parquet")) == [out / "model" / "standardised.parquet"]
    _assert_cache_is_the_published_set_standardised(out)


def test_published_matches_with_an_empty_match_id_are_refused_and_nothing_changes(parts, tmp_path, capsys):
    """A hand-edited matches file with a record whose match_id was cleared: the run says
    so (exit 2, naming the column) instead of making that record a survivor of its own."""
    out = _published(parts, tmp_path)
    path = next((out / "matches").glob("*.csv"))
    matches = pd.read_csv(path, dtype=str, keep_default_na=False)
    matches.loc[3, "match_id"] = " "
    matches.to_csv(path, index=False)
    before = tree_digest(out)
    assert main([str(parts[1]), "--output", str(out), "--incremental"]) == 2
    assert "1 published record(s) have an empty 'match_id'" in capsys.readouterr().err
    assert tree_digest(out) == before


def test_scoring_only_the_paired_records_gives_the_weights_of_scoring_them_among_all(tmp_path):
    # An incremental run scores its pairs with a linker over the records in a pair only
    # (paired_records_linker); every weight must be the one a linker over all records gives,
    # term-frequency adjustments included (of the paired records alone, a common name is rarer)
    from glue_jobs.blocking import blocked_pairs_sql, blocking_keys_sql
    from glue_jobs.config import load_config
    from glue_jobs.dedup import load_csv
    from glue_jobs.engines import DuckDBEngine
    from glue_jobs.incremental import paired_records_linker, tf_columns
    from glue_jobs.model import load_linker, register_blocked_pairs, splink_settings
    from glue_jobs.model_store import MODEL_FILE, fit_to_settings, read_model_file
    from glue_jobs.standardise import RID, create_standardised

    run(SAMPLE, tmp_path / "out", SETTINGS, quiet=True)
    cfg = load_config(SETTINGS)
    model = fit_to_settings(read_model_file(tmp_path / "out" / "model" / MODEL_FILE), splink_settings(cfg), "test")
    engine = DuckDBEngine()
    create_standardised(engine, cfg, load_csv(engine, SAMPLE, cfg), "std")
    engine.create("keys", blocking_keys_sql(engine, cfg, "std"))
    engine.create("keys_new", f"SELECT * FROM keys WHERE {RID} % 2 = 0")  # half as "new"
    engine.create("blocked", blocked_pairs_sql(cfg, "keys", new_keyed="keys_new"))
    linker = load_linker(engine, "std", model)
    saved = linker.misc.save_model_to_json()
    assert tf_columns(saved), "the model must adjust some level for term frequency"
    tfs = {c: linker.table_management.compute_tf_table(c) for c in tf_columns(saved)}

    def scores(lk) -> dict:
        register_blocked_pairs(lk, engine.splink_api().register("blocked"))
        pred = engine.to_sql_name(lk.inference.predict())
        return {(a, b): round(w, 9) for a, b, w in engine.rows(f"SELECT {RID}_l, {RID}_r, match_weight FROM {pred}")}

    expected = scores(linker)
    # the job's linkers share one Splink cache, which holds the term frequencies already; the
    # scorer must use the ones it is given, not count them again over its own records
    engine.splink_api()._intermediate_table_cache.invalidate_cache()
    scorer = paired_records_linker(engine, saved, "std", "blocked", tfs)
    n_paired, n_all = engine.scalar("SELECT count(*) FROM __incr_std_paired"), engine.scalar("SELECT count(*) FROM std")
    assert 0 < n_paired < n_all * 0.6
    got = scores(scorer)
    assert len(expected) > 20
    assert got == expected
