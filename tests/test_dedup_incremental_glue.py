"""The Glue job in incremental mode, end to end: ``glue_entry.main()`` with the awsglue double and moto S3.

Reuses the run-path harness (tests/test_glue_run_path.py): the job's arguments and
role policy as the stack renders them, every S3 call recorded and evaluated
against that policy. Two runs: a replace run publishes 90 % of the sample, an
incremental run adds the other 10 %; published match_ids stay, every customer
is published once, the model is published under the model prefix and reused.
A refused incremental run leaves every published object byte for byte.
"""
from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from moto import mock_aws

from glue_jobs import glue_entry
from glue_jobs.validation import InputError
from tests.conftest import render_stack, stack_config
from tests.dedup_fixtures import SAMPLE
from tests.test_glue_run_path import GlueWorld

ID = "c_customer_id"


@pytest.fixture(scope="module")
def incremental_stack():
    return render_stack({**stack_config("dev"), "dedupMode": "incremental"})


@pytest.fixture
def world(incremental_stack, tmp_path, monkeypatch):
    with mock_aws():
        yield GlueWorld(incremental_stack, tmp_path, monkeypatch)


def _argv(world, key: str, run_id: str, mode: str) -> list[str]:
    argv = world.argv(key, "duckdb")
    argv[argv.index("--JOB_RUN_ID") + 1] = run_id
    argv[argv.index("--dedup_mode") + 1] = mode
    return argv


def _csv(world, prefix: str) -> list[dict]:
    rows = []
    for key in world.keys(prefix):
        rows += list(csv.DictReader(io.StringIO(world.read(key).decode())))
    return rows


def _check_no_customer_lost(world, ids: set[str]) -> dict[str, str]:
    matches = _csv(world, world.defaults["--matches_prefix"])
    survivors = _csv(world, world.defaults["--output_prefix"])
    got = [r[ID] for r in matches]
    assert len(got) == len(set(got)) and set(got) == ids
    mid = {r[ID]: r["match_id"] for r in matches}
    assert sorted(mid[r[ID]] for r in survivors) == sorted(set(mid.values())), "one survivor per match_id"
    assert all(0.0 <= float(r["match_confidence"]) <= 1.0 for r in matches)
    return mid


def _published(world) -> dict[str, bytes]:
    prefixes = [world.defaults[k] for k in ("--output_prefix", "--matches_prefix", "--model_prefix")]
    return {k: world.read(k) for p in prefixes for k in world.keys(p)}


UP = "etl-ttt-demo/data_analytics_team_folder/"


def _upload_base_and_batch(world):
    """The sample split into a base (90 %) and a batch (10 %, fixed seed), both uploaded under ``UP``."""
    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    batch = df.sample(frac=0.1, random_state=8)
    base = df.drop(batch.index)
    world.s3.put_object(Bucket=world.bucket, Key=UP + "base.csv", Body=base.to_csv(index=False).encode())
    world.s3.put_object(Bucket=world.bucket, Key=UP + "batch.csv", Body=batch.to_csv(index=False).encode())
    return df, base, batch


def test_glue_job_adds_an_upload_incrementally_with_stable_ids(world, tmp_path):
    df, base, batch = _upload_base_and_batch(world)

    glue_entry.main(_argv(world, UP + "base.csv", "jr_base", "replace"))
    first = _check_no_customer_lost(world, set(base[ID]))
    model_prefix = world.defaults["--model_prefix"]
    assert sorted(world.keys(model_prefix)) == [model_prefix + "run_summary-jr_base.json",
                                                model_prefix + "splink_model-jr_base.json"]
    published_model = world.read(model_prefix + "splink_model-jr_base.json")
    assert world.keys(world.defaults["--output_prefix"]), "the crawled folder holds the customers"
    assert not [k for k in world.keys(world.defaults["--output_prefix"]) if "model" in k]

    # a refused incremental run (ids already published) changes nothing, byte for byte
    before = _published(world)
    clash = pd.concat([batch, base.iloc[:1]])
    world.s3.put_object(Bucket=world.bucket, Key=UP + "clash.csv", Body=clash.to_csv(index=False).encode())
    with pytest.raises(InputError, match="already published"):
        glue_entry.main(_argv(world, UP + "clash.csv", "jr_clash", "incremental"))
    assert _published(world) == before

    glue_entry.main(_argv(world, UP + "batch.csv", "jr_batch", "incremental"))
    second = _check_no_customer_lost(world, set(df[ID]))
    assert {k: second[k] for k in first} == first, "published match_ids never change"
    assert sorted(world.keys(model_prefix)) == [model_prefix + "run_summary-jr_batch.json",
                                                model_prefix + "splink_model-jr_batch.json"]
    summary = json.loads(world.read(model_prefix + "run_summary-jr_batch.json"))
    assert summary["mode"] == "incremental" and summary["records_in"] == len(batch)
    assert summary["records_published_before"] == len(base)
    assert summary["model"]["source"].startswith("published model s3://")
    assert summary["model"]["sha256"] == __import__("hashlib").sha256(published_model).hexdigest()
    assert world.denied() == [], "every S3 call of both runs is allowed by the rendered job role"
    reads = [r for r in world.recorder.requests() if r.action == "s3:GetObject"
             and r.resource.split(":::", 1)[1].split("/", 1)[1].startswith(
                 (world.defaults["--matches_prefix"], model_prefix))]
    assert reads, "the incremental run read the published matches and model (the grant is used)"


def test_only_an_incremental_stack_may_read_back_what_it_published(dev_stack, incremental_stack):
    def read_back(stack):
        policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "dedup-job-policy").inputs["policy"])
        return [s for s in policy["Statement"] if s["Sid"] == "ReadPublishedState"]
    assert read_back(dev_stack) == []
    [grant] = read_back(incremental_stack)
    assert grant["Action"] == "s3:GetObject" or grant["Action"] == ["s3:GetObject"]
    assert all(r.endswith(("-matches/*", "-model/*")) for r in grant["Resource"])


def test_an_incremental_run_larger_than_the_driver_holds_is_refused(world, incremental_stack):
    """``--incremental_max_records`` (from jobWorkerType) bounds published + new records; beyond it the
    run ends with InputError and nothing is published."""
    from glue_jobs import contract

    assert world.defaults["--incremental_max_records"] == str(contract.incremental_max_records("G.1X"))
    df, base, batch = _upload_base_and_batch(world)
    glue_entry.main(_argv(world, UP + "base.csv", "jr_base", "replace"))
    before = _published(world)
    for limit, match in ((str(len(df) - 1), f"{len(df)} in all on the Glue driver's DuckDB; this job's workers "
                          f"hold at most {len(df) - 1}"), ("many", "not a positive whole number")):
        argv = _argv(world, UP + "batch.csv", "jr_big", "incremental")
        argv[argv.index("--incremental_max_records") + 1] = limit
        with pytest.raises(InputError, match=match):
            glue_entry.main(argv)
        assert _published(world) == before, "nothing published"
    argv = _argv(world, UP + "batch.csv", "jr_fits", "incremental")
    argv[argv.index("--incremental_max_records") + 1] = str(len(df))
    glue_entry.main(argv)
    _check_no_customer_lost(world, set(df[ID]))
    assert world.denied() == []


def test_the_limit_follows_the_driver_memory_of_the_worker_type():
    from glue_jobs import contract

    g1 = contract.incremental_max_records("G.1X")
    assert [contract.incremental_max_records(w) for w in ("G.2X", "G.4X", "G.8X")] == [2 * g1, 4 * g1, 8 * g1]
    replace = render_stack({**stack_config("dev"), "jobWorkerType": "G.2X"})
    assert "--incremental_max_records" not in replace.one("aws:glue/job:Job").inputs["defaultArguments"]
    bigger = render_stack({**stack_config("dev"), "dedupMode": "incremental", "jobWorkerType": "G.2X"})
    assert bigger.one("aws:glue/job:Job").inputs["defaultArguments"]["--incremental_max_records"] == str(2 * g1)
