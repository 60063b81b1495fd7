"""``python -m ops redrive`` on moto: SQS (the dead-letter queue) and Step Functions.

moto 5.2 runs no definition here (executions stay RUNNING; the tests set each
outcome on moto's execution objects, as a finished run would leave it), and
lacks two things, emulated narrowly:

* RedriveExecution is not implemented: a botocore ``before-call`` hook answers it
  as AWS does (``redriveDate``) and puts the execution back to RUNNING, which is
  what AWS does to a redriven execution.
* ListExecutions leaves out ``stopDate`` of TIMED_OUT executions (AWS gives it for
  every closed one); the command then goes by the start date, which the test's
  timed-out execution shares.
* ``redriveStatus`` is not in DescribeExecution: the command treats its absence as
  "redrivable" and the NOT_REDRIVABLE case is covered by injecting it.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions.models import stepfunctions_backends

from builders.event_patterns import target_input
from ops import cli, redrive

REGION, ACCOUNT = "eu-west-1", "123456789012"
BUCKET = "etl-ttt-demo-dev-123456789012-eu-west-1"
FOLDER = "etl-ttt-demo/data_analytics_team_folder/"


def cloudtrail_event(n: int, key: str | None = None) -> dict:
    return {
        "version": "0", "id": f"0e3b6c1e-5f1a-4a0e-9d7e-00000000000{n}",
        "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "account": ACCOUNT,
        "time": f"2026-11-27T10:0{n}:00Z", "region": REGION, "resources": [],
        "detail": {"eventSource": "s3.amazonaws.com", "eventName": "PutObject",
                   "requestParameters": {"bucketName": BUCKET, "key": key or f"{FOLDER}file-{n}.csv"}},
    }


class World:
    def __init__(self):
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.queue = self.sqs.create_queue(QueueName="trigger-dead-letters")["QueueUrl"]
        self.machine = self.sfn.create_state_machine(
            name="findmatches-ML-dedup-workflow-dev", roleArn=f"arn:aws:iam::{ACCOUNT}:role/states",
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
        )["stateMachineArn"]
        self.outputs = {"state_machine_arn": self.machine, "dead_letter_queue_url": self.queue,
                        "trigger_source": "cloudtrail"}
        self.redriven: list[str] = []
        self.sfn.meta.events.register("before-call.sfn.RedriveExecution", self._redrive)

    def _redrive(self, params, **_):  # moto lacks RedriveExecution (see the module docstring)
        arn = json.loads(params["body"])["executionArn"]  # the serialised request
        self.redriven.append(arn)
        self.execution(arn).status = "RUNNING"
        return SimpleNamespace(status_code=200, headers={}), {"redriveDate": datetime.now(timezone.utc)}

    def execution(self, arn: str):
        machine = stepfunctions_backends[ACCOUNT][REGION].describe_state_machine(self.machine)
        return next(e for e in machine.executions if e.execution_arn == arn)

    def finish(self, arn: str, status: str, stopped: datetime | None = None) -> None:
        execution = self.execution(arn)
        execution.status, execution.stop_date = status, stopped or datetime.now(timezone.utc)

    def park(self, event, error="Throttling"):
        body = event if isinstance(event, str) else json.dumps(event)
        self.sqs.send_message(QueueUrl=self.queue, MessageBody=body, MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": error}})

    def queued(self) -> int:
        """Messages still in the queue, visible or not (a received one is hidden for a while)."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=names)["Attributes"]
        return sum(int(attrs[n]) for n in names)

    def executions(self) -> list[dict]:
        return self.sfn.list_executions(stateMachineArn=self.machine)["executions"]

    def run(self, **kwargs) -> tuple[int, str]:
        out = io.StringIO()
        code = redrive.run(self.outputs, sqs=self.sqs, sfn=self.sfn, out=out, wait_seconds=0, **kwargs)
        return code, out.getvalue()


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield World()


def test_input_is_what_the_rules_input_transformer_gives():
    """AWS inserts a string placeholder that stands as a whole JSON value quoted and escaped
    (EventBridge User Guide, "Transforming inputs": ``{"instance": <instance>}`` gives
    ``{"instance": "i-0123456789"}``). moto's EventTemplateParser inserts it unquoted, so it is
    not the reference here; the AWS rule is, with a key that needs escaping."""
    key = f'{FOLDER}o\'brien "q" \\ é.csv'
    cloudtrail = cloudtrail_event(1, key=key)
    s3 = {"id": "e1", "time": "2026-11-27T10:00:00Z", "detail-type": "Object Created", "source": "aws.s3",
          "detail": {"bucket": {"name": BUCKET}, "object": {"key": "a+b.csv"}, "reason": "CopyObject"}}
    paths, template = target_input("cloudtrail")
    assert redrive.apply_input_transformer(cloudtrail, paths, template) == {
        "bucket": BUCKET, "key": key, "trigger": "PutObject", "eventId": cloudtrail["id"], "eventTime": cloudtrail["time"]}
    paths, template = target_input("s3-eventbridge")
    assert redrive.apply_input_transformer(s3, paths, template) == {
        "bucket": BUCKET, "key": "a+b.csv", "trigger": "CopyObject", "eventId": "e1", "eventTime": s3["time"]}


def test_dead_letters_start_the_workflow_and_leave_the_queue(world):
    world.park(cloudtrail_event(1))
    world.park(cloudtrail_event(2))
    code, text = world.run()
    assert code == 0, text
    assert world.queued() == 0
    started = {e["name"]: e for e in world.executions()}
    assert set(started) == {"redrive-0e3b6c1e-5f1a-4a0e-9d7e-000000000001", "redrive-0e3b6c1e-5f1a-4a0e-9d7e-000000000002"}
    upload = json.loads(world.sfn.describe_execution(
        executionArn=started["redrive-0e3b6c1e-5f1a-4a0e-9d7e-000000000001"]["executionArn"])["input"])
    assert upload == {"bucket": BUCKET, "key": f"{FOLDER}file-1.csv", "trigger": "PutObject",
                      "eventId": "0e3b6c1e-5f1a-4a0e-9d7e-000000000001", "eventTime": "2026-11-27T10:01:00Z"}
    assert "(parked: Throttling)" in text and "2 started or redriven, 0 already processed, 0 failed" in text


def test_running_twice_processes_each_upload_once(world):
    world.park(cloudtrail_event(1))
    assert world.run()[0] == 0
    (first,) = world.executions()
    world.finish(first["executionArn"], "SUCCEEDED")
    world.park(cloudtrail_event(1))  # the same event parked again (EventBridge delivers at least once)
    code, text = world.run()
    assert code == 0 and len(world.executions()) == 1 and world.queued() == 0
    assert "already SUCCEEDED" in text and "0 started or redriven, 1 already processed" in text


def test_an_upload_the_rule_already_processed_is_not_processed_again(world):
    event = cloudtrail_event(3)
    paths, template = target_input("cloudtrail")
    done = world.sfn.start_execution(stateMachineArn=world.machine,
                                     input=json.dumps(redrive.apply_input_transformer(event, paths, template)))
    world.finish(done["executionArn"], "SUCCEEDED")
    world.park(event)
    code, text = world.run()
    assert code == 0 and len(world.executions()) == 1 and world.queued() == 0
    assert done["executionArn"] in text


def test_a_named_redrive_that_failed_is_not_started_twice(world):
    world.park(cloudtrail_event(4))
    world.run()
    (first,) = world.executions()
    world.finish(first["executionArn"], "FAILED")
    world.park(cloudtrail_event(4))
    code, text = world.run()
    assert code == 0 and len(world.executions()) == 1 and world.queued() == 0
    assert "(FAILED)" in text and "--failed-since" in text


def test_dry_run_changes_nothing(world):
    world.park(cloudtrail_event(1))
    code, text = world.run(dry_run=True)
    assert code == 0 and world.executions() == [] and world.queued() == 1
    assert "would start redrive-0e3b6c1e-5f1a-4a0e-9d7e-000000000001" in text


def test_a_refused_start_keeps_the_message_and_gives_the_aws_error(world):
    world.park(cloudtrail_event(1))
    world.park(cloudtrail_event(2))

    def denied(params, **_):  # what AWS answers a caller without states:StartExecution
        if json.loads(params["body"])["name"].endswith("1"):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "User: x is not authorized"}},
                              "StartExecution")

    world.sfn.meta.events.register("before-call.sfn.StartExecution", denied)
    code, text = world.run()
    assert code == 1 and world.queued() == 1 and len(world.executions()) == 1
    assert "AccessDeniedException: User: x is not authorized; message kept" in text
    assert "1 started or redriven, 0 already processed, 1 failed" in text


def test_a_stack_whose_workflow_is_gone_stops_with_the_aws_error(world):
    world.park(cloudtrail_event(1))
    world.outputs["state_machine_arn"] = world.machine + "-gone"
    code, text = world.run()
    assert code == 1 and world.queued() == 1
    assert "redrive stopped: StateMachineDoesNotExist: " in text


def test_a_message_that_is_no_event_is_left_for_a_person(world):
    world.park("not json")
    code, text = world.run()
    assert code == 1 and world.queued() == 1 and "not an EventBridge event" in text


def _failed(world, n: int, status: str = "FAILED", ago: timedelta = timedelta(hours=1)) -> str:
    paths, template = target_input("cloudtrail")
    arn = world.sfn.start_execution(stateMachineArn=world.machine, name=f"rule-{n}", input=json.dumps(
        redrive.apply_input_transformer(cloudtrail_event(n), paths, template)))["executionArn"]
    world.finish(arn, status, datetime.now(timezone.utc) - ago)
    return arn


def test_failed_since_redrives_only_what_failed_since_then_and_was_not_processed_since(world):
    recent, timed_out, old = _failed(world, 1), _failed(world, 2, "TIMED_OUT"), _failed(world, 3, ago=timedelta(days=3))
    processed = _failed(world, 4)
    later = world.sfn.start_execution(stateMachineArn=world.machine, name="rule-4-again",
                                      input=world.sfn.describe_execution(executionArn=processed)["input"])
    world.finish(later["executionArn"], "SUCCEEDED")
    now = datetime.now(timezone.utc)
    code, text = world.run(failed_since=redrive.parse_since("1d", now), now=lambda: now)
    assert code == 0, text
    assert sorted(world.redriven) == sorted([recent, timed_out])
    assert old not in text and f"skip     {processed}" in text
    # Twice: the redriven ones are running again, nothing is redriven a second time.
    code, text = world.run(failed_since=redrive.parse_since("1d", now), now=lambda: now)
    assert code == 0 and len(world.redriven) == 2 and "0 started or redriven" in text


def test_an_execution_aws_cannot_redrive_is_named_with_aws_reason(world, monkeypatch):
    arn = _failed(world, 1)
    original = world.sfn.describe_execution

    def describe(**kwargs):  # moto returns no redriveStatus (see the module docstring)
        return {**original(**kwargs), "redriveStatus": "NOT_REDRIVABLE",
                "redriveStatusReason": "Execution is RUNNING and cannot be redriven"}

    monkeypatch.setattr(world.sfn, "describe_execution", describe)
    code, text = world.run(failed_since=datetime.now(timezone.utc) - timedelta(days=1))
    assert code == 1 and world.redriven == [] and f"cannot   {arn}: Execution is RUNNING" in text


@pytest.mark.parametrize("text,expected", [
    ("90m", timedelta(minutes=90)), ("6h", timedelta(hours=6)), ("2d", timedelta(days=2)),
])
def test_since_durations(text, expected):
    now = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    assert now - redrive.parse_since(text, now) == expected
    assert redrive.parse_since("2026-11-28T09:00:00Z", now) == datetime(2026, 11, 28, 9, tzinfo=timezone.utc)
    assert redrive.parse_since("2026-11-28", now) == datetime(2026, 11, 28, tzinfo=timezone.utc)


def test_cli_bad_since_is_a_usage_error(tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"state_machine_arn": "arn:aws:states:eu-west-1:1:stateMachine:m",
                                   "dead_letter_queue_url": "https://q", "trigger_source": "cloudtrail"}))
    assert cli.main(["redrive", "--stack", "dev", "--outputs", str(outputs), "--failed-since", "yesterday"]) == 2
    assert "--failed-since 'yesterday': give a duration" in capsys.readouterr().err


def test_cli_old_stack_without_the_outputs_is_a_usage_error(tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"state_machine_arn": "arn"}))
    assert cli.main(["redrive", "--stack", "dev", "--outputs", str(outputs)]) == 2
    assert "dead_letter_queue_url" in capsys.readouterr().err


def test_cli_through_moto(world, tmp_path, monkeypatch):
    world.park(cloudtrail_event(1))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({**world.outputs, "region": REGION}))
    monkeypatch.setattr(redrive, "run", lambda *a, **k: _real_run(*a, **{**k, "wait_seconds": 0}))
    out = io.StringIO()
    assert cli.main(["redrive", "--stack", "dev", "--outputs", str(outputs)], out=out) == 0
    assert world.queued() == 0 and "1 started or redriven" in out.getvalue()


_real_run = redrive.run
