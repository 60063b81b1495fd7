"""The Glue job's run path, end to end: ``glue_entry.main()`` on both engines.

What is real: the entry point and everything it imports, PySpark (local mode,
the pinned version), DuckDB, Splink, boto3/botocore, the job's default
arguments and role policy as the stack renders them (``dev_stack``). What is
a double: ``awsglue`` (tests/awsglue_double: getResolvedOptions, GlueContext,
Job) and S3 (moto). Every S3 call the job makes is recorded with a botocore
event hook and evaluated against the rendered job role policy
(tests/iam_eval.py); a denied call fails the test, and a grant no call (nor a
documented Glue-side use) needs fails it too.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tests.conftest import REGION
from tests.dedup_fixtures import SAMPLE
from tests.iam_eval import CallRecorder, Request, allowed, granting
from tests.test_workflow_engine import aws  # noqa: F401 - fixture: moto with the Step Functions interpreter

sys.path.insert(0, str(Path(__file__).resolve().parent / "awsglue_double"))

from glue_jobs import contract, glue_entry, glue_io  # noqa: E402
from glue_jobs.validation import InputError  # noqa: E402

RUN_ID = "jr_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
UPLOAD_KEY = "etl-ttt-demo/data_analytics_team_folder/full top-customer (1).csv"


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("glue-run-path")
               .config("spark.sql.shuffle.partitions", "4").config("spark.default.parallelism", "4")
               .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
               .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


class GlueWorld:
    """The rendered job (arguments, policy) and its bucket in moto, with a call recorder."""

    def __init__(self, dev_stack, tmp_path, monkeypatch):
        job = dev_stack.one("aws:glue/job:Job")
        self.job_name = job.inputs["name"]
        self.defaults = dict(job.inputs["defaultArguments"])
        self.policy = json.loads(dev_stack.one("aws:iam/rolePolicy:RolePolicy", "dedup-job-policy").inputs["policy"])
        self.bucket = self.defaults["--output_bucket"]
        boto3.setup_default_session(region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)  # the test's own client: not recorded
        self.s3.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        settings_bucket, settings_key = glue_entry._split_s3(self.defaults["--settings_uri"])
        assert settings_bucket == self.bucket
        self.s3.put_object(Bucket=self.bucket, Key=settings_key,
                           Body=(Path(__file__).resolve().parent.parent / "glue_jobs/settings/tpcds_customer.json").read_bytes())
        self.old = {self.defaults["--output_prefix"] + "part-old.csv": b"c_customer_id\nOLD\n",
                    self.defaults["--matches_prefix"] + "part-old.csv": b"c_customer_id,match_id\nOLD,OLD\n"}
        for key, body in self.old.items():
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        self.recorder = CallRecorder()
        self.recorder.attach(boto3.DEFAULT_SESSION)
        self.checkpoints: list[str] = []
        local = tmp_path / "spark-checkpoints"

        def checkpoint_uri(bucket, staging):  # local PySpark has no s3:// file system: note where, use a folder
            self.checkpoints.append(real_checkpoint_uri(bucket, staging))
            return str(local)

        real_checkpoint_uri = glue_io.spark_checkpoint_uri
        monkeypatch.setattr(glue_io, "spark_checkpoint_uri", checkpoint_uri)

    def argv(self, key: str, engine: str) -> list[str]:
        """What Glue passes the script: the job's default arguments, the run's, its own."""
        args = {**self.defaults, "--job_engine": engine, "--source_bucket": self.bucket, "--source_key": key,
                "--source_key_encoding": "none", "--JOB_NAME": self.job_name, "--JOB_RUN_ID": RUN_ID}
        return ["glue_entry.py", *[x for kv in args.items() for x in kv]]

    def keys(self, prefix: str) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])]

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def denied(self) -> list[str]:
        return [r.describe() for r in self.recorder.requests() if not allowed(self.policy, r)]


@pytest.fixture
def world(dev_stack, tmp_path, monkeypatch):
    with mock_aws():
        yield GlueWorld(dev_stack, tmp_path, monkeypatch)


def _rows(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


GRANT_HITS: dict[tuple[str, str], int] = {}


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_main_runs_end_to_end_and_every_call_is_allowed(world, spark, engine):
    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=SAMPLE.read_bytes())
    glue_entry.main(world.argv(UPLOAD_KEY, engine))

    out, matches = world.defaults["--output_prefix"], world.defaults["--matches_prefix"]
    (survivors_key,) = world.keys(out)
    (matches_key,) = world.keys(matches)
    assert survivors_key == f"{out}part-{RUN_ID}.csv" and matches_key == f"{matches}part-{RUN_ID}.csv"
    survivors, matched = _rows(world.read(survivors_key)), _rows(world.read(matches_key))
    source = _rows(SAMPLE.read_bytes())
    # no customer lost: every input record in matches, exactly one survivor per match_id
    assert sorted(r["c_customer_id"] for r in matched) == sorted(r["c_customer_id"] for r in source)
    assert len(survivors) == len({r["match_id"] for r in matched}) < len(source)
    assert {r["c_customer_id"] for r in survivors} <= {r["c_customer_id"] for r in source}
    summary_key = contract.run_summary_key(world.defaults["--staging_prefix"], RUN_ID)
    assert world.keys(world.defaults["--staging_prefix"]) == [summary_key], "staging is removed, the summary stays"
    summary = json.loads(world.read(summary_key))
    assert (summary["records_in"], summary["clusters"], summary["duplicates_removed"]) == \
        (len(source), len(survivors), len(source) - len(survivors)) and summary["engine"] == engine
    assert world.read(UPLOAD_KEY) == SAMPLE.read_bytes(), "the input is never modified"
    from awsglue.job import Job

    assert Job.instances[-1].committed and Job.instances[-1].name == world.job_name

    assert world.recorder.calls, "the hook recorded nothing"
    assert world.denied() == []
    if engine == "spark":
        (checkpoint,) = world.checkpoints
        staging = f"s3://{world.bucket}/{world.defaults['--staging_prefix']}{RUN_ID}/"
        assert checkpoint.startswith(staging)
        # what Hadoop's S3 file systems write there: data, the folder's marker, the parents' markers
        ckpt_key = checkpoint.removeprefix(f"s3://{world.bucket}/")
        spark_writes = [f"{ckpt_key}uuid/rdd-7/part-00000", f"{ckpt_key.rstrip('/')}_$folder$",
                        f"{world.defaults['--staging_prefix']}{RUN_ID}_$folder$",
                        f"{world.defaults['--staging_prefix'].rstrip('/')}_$folder$"]
        for key in spark_writes:
            for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
                request = Request(action, f"arn:aws:s3:::{world.bucket}/{key}", (), "Spark checkpoint")
                assert allowed(world.policy, request), request.describe()
                for hit in granting(world.policy, request):
                    GRANT_HITS[hit] = GRANT_HITS.get(hit, 0) + 1
    for request in world.recorder.requests():
        for hit in granting(world.policy, request):
            GRANT_HITS[hit] = GRANT_HITS.get(hit, 0) + 1


# Grants no recorded call uses, and why they are there (AWS documentation, not this test):
GLUE_SIDE_GRANTS = {
    "JobLogs": "Glue writes the run's logs with the role (AWS Glue guide, 'Logging for AWS Glue jobs')",
    "JobMetrics": "--enable-metrics: Glue publishes job metrics with the role",
    "UseKeys": "the security configuration's keys (AWS Glue guide, 'Setting up encryption')",
}


def test_no_grant_is_wider_than_the_calls_need(dev_stack):
    """Runs after both engines (same module, file order): every S3 grant served a call."""
    assert GRANT_HITS, "run the end-to-end tests first (same module)"
    policy = json.loads(dev_stack.one("aws:iam/rolePolicy:RolePolicy", "dedup-job-policy").inputs["policy"])
    unused = []
    for statement in policy["Statement"]:
        if statement["Sid"] in GLUE_SIDE_GRANTS:
            continue
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        unused += [(statement["Sid"], r) for r in resources if (statement["Sid"], r) not in GRANT_HITS]
    # The script and module zip are read by Glue itself; the settings file by the job (recorded).
    assert unused == []
    # And each statement's actions: nothing broader than what S3 evaluates for the calls.
    actions = {a for s in policy["Statement"] if s["Sid"] not in GLUE_SIDE_GRANTS for a in s["Action"]}
    assert actions == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket"}


def test_policy_denies_what_the_job_must_not_do(dev_stack):
    """The evaluator can deny: writes to the uploads, reads outside the stack's folders, listing the uploads."""
    policy = json.loads(dev_stack.one("aws:iam/rolePolicy:RolePolicy", "dedup-job-policy").inputs["policy"])
    job = dev_stack.one("aws:glue/job:Job").inputs["defaultArguments"]
    bucket = job["--output_bucket"]
    watched = "etl-ttt-demo/data_analytics_team_folder/"
    for request in [
        Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{watched}x.csv"),
        Request("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{watched}x.csv"),
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/elsewhere/x.csv"),
        Request("s3:GetObject", f"arn:aws:s3:::other-bucket/{watched}x.csv"),
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", watched),)),
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", ""),)),
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}"),
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{job['--output_prefix']}part.csv"),
    ]:
        assert not allowed(policy, request), request.describe()


def test_bad_input_fails_with_its_message_and_publishes_nothing(world, spark):
    """What Glue shows as the run's error is the exception's text: it names the object and the line."""
    bad = "etl-ttt-demo/data_analytics_team_folder/ragged.csv"
    header = SAMPLE.read_text().splitlines()[0]
    world.s3.put_object(Bucket=world.bucket, Key=bad, Body=(header + "\n1,2,3\n").encode())
    with pytest.raises(InputError) as error:
        glue_entry.main(world.argv(bad, "duckdb"))
    message = str(error.value)
    assert message.startswith(f"s3://{world.bucket}/{bad}: ") and "/tmp" not in message
    for key, body in world.old.items():
        assert world.read(key) == body, "the previous output stays byte for byte"
    assert sorted(world.keys(world.defaults["--output_prefix"]) + world.keys(world.defaults["--matches_prefix"])) \
        == sorted(world.old)
    assert world.keys(world.defaults["--staging_prefix"]) == []
    assert world.denied() == []


def test_missing_upload_and_bad_settings_are_user_errors(world, spark):
    with pytest.raises(InputError, match="not found"):
        glue_entry.main(world.argv("etl-ttt-demo/data_analytics_team_folder/gone.csv", "auto"))
    settings_bucket, settings_key = glue_entry._split_s3(world.defaults["--settings_uri"])
    world.s3.put_object(Bucket=settings_bucket, Key=settings_key, Body=b"{not json")
    from glue_jobs.config import SettingsError

    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=SAMPLE.read_bytes())
    with pytest.raises(SettingsError, match=r"tpcds_customer\.json: not valid JSON"):
        glue_entry.main(world.argv(UPLOAD_KEY, "auto"))
    assert world.denied() == []


def test_a_re_upload_during_the_run_is_refused_by_error_code(world):
    """S3 answers a GetObject whose IfMatch no longer holds with 412 PreconditionFailed."""
    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=b"v1")
    etag = world.s3.head_object(Bucket=world.bucket, Key=UPLOAD_KEY)["ETag"]
    world.s3.put_object(Bucket=world.bucket, Key=UPLOAD_KEY, Body=b"v2, uploaded mid-run")
    with pytest.raises(InputError, match="the object changed while the job was reading it"):
        glue_io.download_pinned(world.s3, world.bucket, UPLOAD_KEY, etag, Path("/dev/null"))


def test_bad_input_reaches_the_failure_notification(dev_stack, tmp_path, monkeypatch, spark, aws):  # noqa: F811
    """The job's error text becomes the run's ErrorMessage (JobRun.ErrorMessage, AWS Glue API), which
    the .sync task puts in the States.TaskFailed cause, which the workflow sends to the topic."""
    from moto.glue import models as glue_models

    from tests.test_workflow_engine import Stack, _job_runs_end

    world = GlueWorld(dev_stack, tmp_path, monkeypatch)
    bad = "etl-ttt-demo/data_analytics_team_folder/no-id.csv"
    world.s3.put_object(Bucket=world.bucket, Key=bad, Body=b"c_first_name,c_last_name\nAnn,Lee\n")
    with pytest.raises(InputError) as error:
        glue_entry.main(world.argv(bad, "auto"))
    glue_error = f"{type(error.value).__name__}: {error.value}"
    assert "c_customer_id" in glue_error and bad in glue_error

    _job_runs_end(monkeypatch, "FAILED")
    as_dict = glue_models.FakeJobRun.as_dict
    monkeypatch.setattr(glue_models.FakeJobRun, "as_dict", lambda self: {**as_dict(self), "ErrorMessage": glue_error})
    stack = Stack()
    described = stack.run({"bucket": world.bucket, "key": bad, "trigger": "PutObject", "eventId": "e", "eventTime": "t"})
    assert described["status"] == "FAILED"
    (message,) = stack.notifications()
    assert message["input"]["key"] == bad
    assert json.loads(message["error"]["Cause"])["ErrorMessage"] == glue_error
    assert sorted(world.keys(world.defaults["--output_prefix"]) + world.keys(world.defaults["--matches_prefix"])) \
        == sorted(world.old), "nothing published"
