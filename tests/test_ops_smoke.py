"""``python -m ops smoke`` on moto: the real workflow definition on moto's interpreter, through
success and a failure at each stage, each with its message and exit code.

What moto cannot do is emulated in the test, narrowly:

* EventBridge does not start Step Functions targets in moto: after the upload, the
  test starts the execution with the input the rule's transformer gives a
  CloudTrail "PutObject" event for that object (``UploadTriggers``).
* A Glue job run writes nothing in moto: the run writes the run summary and a
  deduplicated CSV (the sample's first ``clusters`` records) as glue_entry does.
* A crawl creates no table in moto: a finished crawl creates the table as the
  crawler would (columns from the CSV header, lowercased).
* moto's job runs and crawls carry no ErrorMessage: failed ones get one.

The clock is injected: a wait advances it and moto's job runs and crawls by a tick.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.glue import models as glue_models
from test_ops_completion_event import COMPLETION, STAGING, SUMMARY
from test_workflow_engine import (  # noqa: F401 (aws is a fixture)
    CRAWLER,
    JOB,
    REGION,
    Stack,
    _crawls_take,
    _job_runs_end,
    _tick,
    aws,
)

from builders.event_patterns import target_input
from ops import cli
from ops.redrive import apply_input_transformer
from ops.smoke import SAMPLE, Smoke, sample_records

BUCKET = COMPLETION.bucket
FOLDER = "etl-ttt-demo/data_analytics_team_folder/"
OUTPUT = "etl-ttt-demo/output/data_analytics_team_folder/top-customers/"
HEADER, RECORDS = sample_records()


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        time.sleep(0.02)  # let the interpreter's thread move on
        _tick()


class UploadTriggers:
    """The S3 client, plus what the rule does on AWS: an upload into the folder starts the workflow."""

    def __init__(self, s3, sfn, machine: str, *, fires: bool = True, refuse: str = ""):
        self._s3, self._sfn, self._machine, self.fires, self.refuse = s3, sfn, machine, fires, refuse

    def __getattr__(self, name):
        return getattr(self._s3, name)

    def upload_file(self, filename, bucket, key, **kwargs):
        if self.refuse == "upload":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject")
        self._s3.upload_file(filename, bucket, key, **kwargs)
        if self.fires:
            event = {"id": f"evt-{key[-12:]}", "time": "2026-11-29T21:00:00Z",
                     "detail": {"eventName": "PutObject", "requestParameters": {"bucketName": bucket, "key": key}}}
            upload = apply_input_transformer(event, *target_input("cloudtrail"))
            # EventBridge names executions itself (a random id).
            self._sfn.start_execution(stateMachineArn=self._machine, name=uuid.uuid4().hex, input=json.dumps(upload))

    def delete_object(self, **kwargs):
        if self.refuse == "delete":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "DeleteObject")
        return self._s3.delete_object(**kwargs)


@pytest.fixture
def world(aws, monkeypatch):  # noqa: F811
    s3 = boto3.client("s3", region_name=REGION)
    glue = boto3.client("glue", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    job = {"summary": True, "rows": SUMMARY["clusters"]}
    crawler = {"creates_table": True}
    original_run_init = glue_models.FakeJobRun.__init__

    def job_run_writes(self, *args, **kwargs):  # what glue_entry.main leaves behind
        original_run_init(self, *args, **kwargs)
        lines = SAMPLE.read_text(encoding="utf-8").splitlines()
        s3.put_object(Bucket=BUCKET, Key=f"{OUTPUT}part-00000.csv", Body="\n".join(lines[: job["rows"] + 1]) + "\n")
        if job["summary"]:
            s3.put_object(Bucket=BUCKET, Key=f"{STAGING}summaries/{self.job_run_id}.json", Body=json.dumps(SUMMARY))

    monkeypatch.setattr(glue_models.FakeJobRun, "__init__", job_run_writes)
    original_run_dict = glue_models.FakeJobRun.as_dict
    monkeypatch.setattr(glue_models.FakeJobRun, "as_dict", lambda self: {
        **original_run_dict(self), **({"ErrorMessage": "InputError: s3://x: malformed CSV"} if self.status == "FAILED" else {})})
    original_crawler_dict = glue_models.FakeCrawler.as_dict

    def crawler_dict(self):
        data = original_crawler_dict(self)
        last = data.get("LastCrawl", {})
        if last.get("Status") == "FAILED":
            last["ErrorMessage"] = "Service Principal: glue.amazonaws.com is not authorized to perform: s3:GetObject"
        if last.get("Status") == "SUCCEEDED" and crawler["creates_table"]:
            _crawler_creates_table(glue_models.glue_backends["123456789012"][REGION])
        return data

    monkeypatch.setattr(glue_models.FakeCrawler, "as_dict", crawler_dict)
    stack = Stack(completion=COMPLETION)
    stack.s3, stack.glue, stack.job, stack.crawler = s3, glue, job, crawler
    stack.outputs = {
        "data_bucket": BUCKET, "upload_uri": f"s3://{BUCKET}/{FOLDER}", "state_machine_arn": stack.arn,
        "job_name": JOB, "crawler_name": CRAWLER, "database_name": COMPLETION.database,
        "table_name": COMPLETION.table, "table_prefix": "ml_final_", "output_uri": f"s3://{BUCKET}/{OUTPUT}",
        "run_summaries_uri": f"s3://{BUCKET}/{STAGING}summaries/", "trigger_source": "cloudtrail",
        "trail_name": "etl-ttt-demo-trail-test", "rule_name": "find-matches-rule-test", "region": REGION,
    }

    def smoke(*, fires=True, refuse="", timeout=20, **kwargs):
        out, clock = io.StringIO(), Clock()
        client = UploadTriggers(s3, stack.sfn, stack.arn, fires=fires, refuse=refuse)
        code = Smoke(stack.outputs, s3=client, sfn=stack.sfn, glue=glue, sqs=boto3.client("sqs", region_name=REGION),
                     out=out, timeout_minutes=timeout, poll_seconds=15, clock=clock, sleep=clock.sleep, **kwargs).run()
        return code, out.getvalue()

    stack.smoke = smoke
    return stack


def _crawler_creates_table(backend) -> None:
    database = backend.databases[COMPLETION.database]
    if COMPLETION.table in database.tables:
        return
    backend.create_table(COMPLETION.database, COMPLETION.table, {
        "Name": COMPLETION.table, "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
        "StorageDescriptor": {"Location": f"s3://{BUCKET}/{OUTPUT}",
                              "Columns": [{"Name": c.lower(), "Type": "string"} for c in HEADER]}})


def _stage_lines(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines() if line[:1].isalpha() and len(line.split()) > 3
            and line.split()[1] in ("ok", "FAILED")}


def _left(world) -> list[str]:
    keys = []
    for prefix in (FOLDER, f"{STAGING}summaries/"):
        keys += [o["Key"] for o in world.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    return keys


def test_sample_is_the_bundled_one():
    assert HEADER[:2] == ["c_customer_sk", "c_customer_id"] and RECORDS == SUMMARY["records_in"] == 535


def test_a_working_stack_passes_every_stage_and_leaves_nothing(world):
    code, text = world.smoke()
    assert code == 0, text
    stages = _stage_lines(text)
    assert list(stages) == ["upload", "trigger", "job", "crawl", "workflow", "table", "cleanup"]
    assert all(" ok " in line and line.split()[3] == "s" for line in stages.values())
    assert "CloudTrail hands data events to EventBridge best effort" in text
    assert f"{COMPLETION.database}.{COMPLETION.table}: 18 columns, 500 rows (535 in minus 35 duplicates removed)" in text
    assert re.search(r"completion event [0-9a-f-]{36}$", stages["workflow"]), stages["workflow"]
    assert _left(world) == [] and text.rstrip().endswith("PASS: the stack works end to end")


def test_keep_leaves_the_sample_and_the_summary(world):
    code, text = world.smoke(keep=True)
    assert code == 0 and len(_left(world)) == 2 and "kept (--keep)" in text


def test_upload_refused(world):
    code, text = world.smoke(refuse="upload")
    assert code == 1
    assert "FAILED at stage upload: an AWS call failed in stage upload\n  AWS said: AccessDenied: Access Denied" in text
    assert "s3:PutObject" in text and world.sfn.list_executions(stateMachineArn=world.arn)["executions"] == []


def test_no_execution_names_the_causes_for_cloudtrail(world):
    sqs = boto3.client("sqs", region_name=REGION)
    world.outputs["dead_letter_queue_url"] = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=world.outputs["dead_letter_queue_url"], MessageBody="{}")
    code, text = world.smoke(fires=False, timeout=5)
    assert code == 1
    assert "FAILED at stage trigger: no execution started within 5 minutes" in text
    assert "aws cloudtrail get-trail-status --name etl-ttt-demo-trail-test" in text
    assert "aws events describe-rule --name find-matches-rule-test" in text
    assert "the dead-letter queue holds 1 event(s)" in text and "ops redrive" in text
    assert _left(world) == [], "the sample is removed after a failure too"


def test_no_execution_names_the_causes_for_s3_notifications(world):
    world.outputs["trigger_source"] = "s3-eventbridge"
    code, text = world.smoke(fires=False, timeout=6)
    assert code == 1 and "no execution started within 6 minutes" in text
    assert f"get-bucket-notification-configuration --bucket {BUCKET}" in text
    assert "CloudTrail" not in text and "S3 event notifications, usually seconds" in text
    assert "still waiting for the execution (5 min)" in text and "(10 min)" not in text


def test_failed_job_run_gives_glues_error_verbatim(world, monkeypatch):
    _job_runs_end(monkeypatch, "FAILED")
    code, text = world.smoke()
    assert code == 1
    assert "FAILED at stage job: job run jr_" in text and "AWS said: InputError: s3://x: malformed CSV" in text
    assert f"/aws-glue/jobs/{JOB}" in text


def test_failed_crawl_gives_the_last_crawl_message_verbatim(world, monkeypatch):
    _crawls_take(monkeypatch, [("RUNNING", "FAILED")])
    code, text = world.smoke()
    assert code == 1
    assert ("FAILED at stage crawl: crawl FAILED\n  AWS said: Service Principal: glue.amazonaws.com is not "
            "authorized to perform: s3:GetObject") in text


def test_missing_run_summary_fails_the_workflow_stage_with_the_failed_task(world):
    world.job["summary"] = False
    code, text = world.smoke()
    assert code == 1
    assert "FAILED at stage workflow: execution FAILED" in text
    assert "AWS said: Read run summary: " in text and "NoSuchKey" in text


def test_a_missing_table(world):
    world.crawler["creates_table"] = False
    code, text = world.smoke()
    assert code == 1
    assert f"FAILED at stage table: no table {COMPLETION.database}.{COMPLETION.table}" in text
    assert "AWS said: EntityNotFoundException: " in text


def test_a_table_with_the_wrong_row_count(world):
    world.job["rows"] = 480
    code, text = world.smoke()
    assert code == 1
    assert "has 480 rows; expected 500 (535 in minus 35 duplicates removed)" in text


def test_cleanup_refused_is_not_a_pass(world):
    code, text = world.smoke(refuse="delete")
    assert code == 1 and "table " in text and "cleanup failed" in text and "PASS" not in text


def test_cli_refuses_an_older_stack(tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"upload_uri": "s3://b/f/"}))
    assert cli.main(["smoke", "--stack", "dev", "--outputs", str(outputs)]) == 2
    assert "run `pulumi up` with this version first" in capsys.readouterr().err


def test_the_uploaded_sample_is_read_as_the_job_reads_it():
    rows = list(csv.reader(io.StringIO(SAMPLE.read_text(encoding="utf-8"))))
    assert len(rows) - 1 == RECORDS and all(len(r) == len(HEADER) for r in rows)
