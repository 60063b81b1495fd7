"""Glue parity of ``--retrain``, ``--model FILE`` and ``--labels FILE`` (issue 11).

The stack settings ``modelChoice``/``modelObjectKey`` and ``labelsObjectKey``
become the job's ``--model_source`` and ``--labels_uri`` default arguments; a
run may override them (``aws glue start-job-run --arguments``). Reuses the
run-path harness (tests/test_glue_run_path.py): ``glue_entry.main()`` with the
awsglue double, S3 on moto, the job's arguments and role policy as the stack
renders them, every S3 call recorded and evaluated against that policy.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from moto import mock_aws

from glue_jobs import glue_entry, model_store
from glue_jobs.dedup import main as dedup_main
from glue_jobs.validation import InputError
from tests.conftest import render_stack, stack_config
from tests.dedup_fixtures import SAMPLE
from tests.iam_eval import Request, allowed, granting
from tests.test_glue_run_path import UPLOAD_KEY, GlueWorld, spark  # noqa: F401 - fixture

TRUTH = SAMPLE.with_name("customers_truth.csv")
MODEL_KEY = "etl-ttt-demo/models/splink_model.json"
LABELS_KEY = "etl-ttt-demo/labels/customers_truth.csv"


@pytest.fixture(scope="module")
def team_stack():
    return render_stack({**stack_config("dev"), "modelChoice": "object", "modelObjectKey": MODEL_KEY,
                         "labelsObjectKey": LABELS_KEY})


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """A local run of the sample with the same labels: its model (the team's) and its summary."""
    out = tmp_path_factory.mktemp("local") / "out"
    assert dedup_main([str(SAMPLE), "--output", str(out), "--labels", str(TRUTH), "--threads", "2"]) == 0
    model = (out / "model" / model_store.MODEL_FILE).read_bytes()
    again = out.parent / "again"
    assert dedup_main([str(SAMPLE), "--output", str(again), "--labels", str(TRUTH), "--threads", "2",
                       "--model", str(out / "model" / model_store.MODEL_FILE)]) == 0
    return model, json.loads((again / "model" / model_store.SUMMARY_FILE).read_text())


@pytest.fixture
def world(team_stack, tmp_path, monkeypatch):
    with mock_aws():
        yield GlueWorld(team_stack, tmp_path, monkeypatch)


def _summary(world) -> dict:
    prefix = world.defaults["--model_prefix"]
    [key] = [k for k in world.keys(prefix) if "run_summary" in k]
    return json.loads(world.read(key))


def _argv(world, engine: str = "duckdb", **override: str) -> list[str]:
    argv = world.argv(UPLOAD_KEY, engine)
    for name, value in override.items():
        if f"--{name}" in argv:
            argv[argv.index(f"--{name}") + 1] = value
        else:
            argv += [f"--{name}", value]
    return argv


def test_the_settings_become_the_job_arguments_and_exact_grants(team_stack, dev_stack):
    args = team_stack.one("aws:glue/job:Job").inputs["defaultArguments"]
    bucket = args["--output_bucket"]
    assert args["--model_source"] == f"s3://{bucket}/{MODEL_KEY}"
    assert args["--labels_uri"] == f"s3://{bucket}/{LABELS_KEY}"
    dev_args = dev_stack.one("aws:glue/job:Job").inputs["defaultArguments"]
    assert dev_args["--model_source"] == "auto" and "--labels_uri" not in dev_args

    def grant(stack):
        policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "dedup-job-policy").inputs["policy"])
        return policy, [s for s in policy["Statement"] if s["Sid"] == "ReadModelAndLabels"]
    assert grant(dev_stack)[1] == [], "no team objects set: no grant"
    policy, [statement] = grant(team_stack)
    assert sorted(statement["Resource"]) == sorted(f"arn:aws:s3:::{bucket}/{k}" for k in (MODEL_KEY, LABELS_KEY))
    for other in ("etl-ttt-demo/models/other.json", "etl-ttt-demo/models/splink_model.json.bak",
                  "etl-ttt-demo/labels/", "etl-ttt-demo/labels/customers_truth.csv/x"):
        assert not allowed(policy, Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{other}")), other


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_given_model_and_labels_on_glue_as_locally(world, local_run, spark, engine):  # noqa: F811
    model, local_summary = local_run
    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=SAMPLE.read_bytes())
    world.s3.put_object(Bucket=world.bucket, Key=MODEL_KEY, Body=model)
    world.s3.put_object(Bucket=world.bucket, Key=LABELS_KEY, Body=TRUTH.read_bytes())
    glue_entry.main(_argv(world, engine))

    summary = _summary(world)
    assert summary["model"]["source"] == f"given model s3://{world.bucket}/{MODEL_KEY}"
    assert summary["model"]["sha256"] == hashlib.sha256(model).hexdigest() == local_summary["model"]["sha256"]
    # the same code as the local --labels: the same figures on the same file and model
    assert summary["labels"] == local_summary["labels"]
    assert summary["labels"]["records"] == 535 and summary["labels"]["true_pairs"] == 40  # 35 duplicates, some in clusters of 3
    assert summary["labels"]["f1"] > 0.9
    assert summary["prior_rescaling"]["rescaled"] is True  # the model says what its prior is for
    assert world.denied() == [], "every S3 call is allowed by the rendered job role"
    hits = {hit for r in world.recorder.requests() for hit in granting(world.policy, r)}
    used = {r for sid, r in hits if sid == "ReadModelAndLabels"}
    assert used == {f"arn:aws:s3:::{world.bucket}/{k}" for k in (MODEL_KEY, LABELS_KEY)}, "an unused grant"


def test_retrain_and_no_labels_per_run(world, local_run):
    """What ``aws glue start-job-run --arguments '{"--model_source":"retrain","--labels_uri":"none"}'`` does."""
    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=SAMPLE.read_bytes())
    glue_entry.main(_argv(world, model_source="retrain", labels_uri="none"))
    summary = _summary(world)
    assert summary["model"]["source"] == "trained on this run's 535 records"
    assert "labels" not in summary
    assert world.denied() == []
    reads = [r.resource for r in world.recorder.requests() if r.action == "s3:GetObject"]
    assert not [r for r in reads if r.endswith((MODEL_KEY, LABELS_KEY))], "neither object is read"


def _refused(world, match: str, **override: str) -> str:
    before = {k: world.read(k) for p in ("--output_prefix", "--matches_prefix", "--model_prefix")
              for k in world.keys(world.defaults[p])}
    with pytest.raises(InputError, match=match) as error:
        glue_entry.main(_argv(world, **override))
    after = {k: world.read(k) for p in ("--output_prefix", "--matches_prefix", "--model_prefix")
             for k in world.keys(world.defaults[p])}
    assert after == before, "nothing published: the previous output byte for byte"
    assert world.keys(world.defaults["--staging_prefix"]) == []
    assert "/tmp" not in str(error.value)
    return str(error.value)


def test_a_missing_or_malformed_object_ends_the_run_naming_its_uri(world, local_run):
    model, _ = local_run
    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=SAMPLE.read_bytes())
    model_uri, labels_uri = f"s3://{world.bucket}/{MODEL_KEY}", f"s3://{world.bucket}/{LABELS_KEY}"
    world.s3.put_object(Bucket=world.bucket, Key=LABELS_KEY, Body=TRUTH.read_bytes())
    _refused(world, f"{model_uri}: model object not found")
    world.s3.put_object(Bucket=world.bucket, Key=MODEL_KEY, Body=b"{not json")
    _refused(world, f"{model_uri}: not a Splink model JSON")
    world.s3.put_object(Bucket=world.bucket, Key=MODEL_KEY, Body=b'{"comparisons": [{"output_column_name": "x"}]}')
    _refused(world, f"given model {model_uri}: the model compares")
    world.s3.put_object(Bucket=world.bucket, Key=MODEL_KEY, Body=model)
    world.s3.delete_object(Bucket=world.bucket, Key=LABELS_KEY)
    _refused(world, f"{labels_uri}: labels object not found")
    world.s3.put_object(Bucket=world.bucket, Key=LABELS_KEY, Body=b"only_one_column\nx\n")
    _refused(world, f"{labels_uri}: line 1 must be a header with two columns")
    world.s3.put_object(Bucket=world.bucket, Key=LABELS_KEY, Body=b"c_customer_id,entity_id\nNOT_A_CUSTOMER,1\n")
    _refused(world, f"{labels_uri}: 1 labelled record id\\(s\\) are not in the output")
    assert world.denied() == []


def test_per_run_objects_outside_the_grant_are_refused(world):
    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=SAMPLE.read_bytes())
    message = _refused(world, "not an object in the stack's bucket", model_source="s3://other-bucket/m.json")
    assert "--model_source 's3://other-bucket/m.json'" in message
    _refused(world, "must be auto, retrain or", model_source="latest")
    # another key of the bucket: the role may not read it (on AWS a 403, here moto's 404: the same message)
    other = f"s3://{world.bucket}/etl-ttt-demo/models/other.json"
    _refused(world, f"{other}: model object not found or not readable by the job role", model_source=other)
    denied = world.denied()
    assert denied and all("other.json" in d for d in denied), denied


def test_the_default_arguments_are_checked_like_the_settings():
    from glue_jobs.contract import job_arguments

    common = dict(output_bucket="bucket-x", output_prefix="out/", matches_prefix="out-matches/",
                  staging_prefix="out-staging/", settings_uri="s3://bucket-x/s.json", output_format="csv",
                  job_engine="auto", dedup_mode="replace", model_prefix="out-model/")
    for bad, where in [({"model_source": "s3://other/m.json"}, "model_source"),
                       ({"model_source": "s3://bucket-x/m*.json"}, "model_source"),
                       ({"labels_uri": "s3://bucket-x/a/../l.csv"}, "labels_uri"),
                       ({"labels_uri": "none"}, "labels_uri")]:
        with pytest.raises(ValueError, match=where):
            job_arguments(**common, **bad)
    assert job_arguments(**common, model_source="s3://bucket-x/m/m.json")["--model_source"] == "s3://bucket-x/m/m.json"
    assert Path(TRUTH).is_file()
