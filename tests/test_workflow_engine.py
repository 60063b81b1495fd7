"""The rendered state machine, run on real engines: statelint and moto's Step Functions interpreter.

moto 5.2.x needs three narrow fixes to behave like AWS (see ../shared/DESIGN.md §5);
each is a test-fixture patch of the emulator, never a change to the definition:

1. ``glue:startJobRun.sync`` crashes: ``callback_endpoint`` is ``None`` in the
   ``finally`` of ``StateTaskServiceCallback._eval_integration_pattern``
   (LocalStack, where the interpreter comes from, fixed the same line).
2. aws-sdk errors are named ``glue.X``; AWS names them ``Glue.X``.
3. A finished crawl's ``LastCrawl.Status`` is ``COMPLETED``; AWS's API model
   allows only SUCCEEDED / CANCELLED / FAILED (checked below against botocore).
4. aws-sdk task results keep botocore's Python datetimes and streams, which the
   interpreter then cannot serialise; AWS hands the state JSON (ISO strings, and
   an S3 GetObject ``Body`` as a string).

Sleeps of the interpreter (retry intervals, .sync polling) are shortened so the
suite stays fast; the definition's intervals are checked separately.
"""

from __future__ import annotations

import inspect
import json
import textwrap
import time
from types import SimpleNamespace

import boto3
import botocore.session
import pytest
from moto import mock_aws
from moto.glue import models as glue_models
from moto.moto_api import state_manager
from moto.sns import models as sns_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_callback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from statelint.linter import Linter

from builders import workflow_definition as wd

REGION = "eu-west-1"
ACCOUNT = "123456789012"
JOB, CRAWLER = "ml-lab-notebook-job-test", "ml-final-crawler-test"
UPLOAD = {
    "bucket": "etl-ttt-demo-test-123456789012-eu-west-1",
    "key": "etl-ttt-demo/data_analytics_team_folder/full-top-customer.csv",
    "trigger": "PutObject",
    "eventId": "0e3b6c1e-5f1a-4a0e-9d7e-1f2e3d4c5b6a",
    "eventTime": "2026-11-27T10:00:00Z",
}


def _definition(topic_arn: str, **spec) -> dict:
    return wd.build_definition(wd.WorkflowSpec(job_name=JOB, crawler_name=CRAWLER, topic_arn=topic_arn, **spec))


# --- statelint ---------------------------------------------------------------


def test_statelint_finds_no_problem():
    definition = _definition(f"arn:aws:sns:{REGION}:{ACCOUNT}:failures")
    assert Linter.validate(json.dumps(definition)) == []


def test_statelint_catches_a_broken_definition():
    """The linter really lints: a dangling Next is reported."""
    definition = _definition(f"arn:aws:sns:{REGION}:{ACCOUNT}:failures")
    definition["States"][wd.START_CRAWLER]["Next"] = "No such state"
    assert any("No such state" in problem for problem in Linter.validate(json.dumps(definition)))


# --- moto fixture ------------------------------------------------------------


def _patched_eval_integration_pattern():
    """moto defect 1: the same function with the LocalStack fix (guard the None endpoint)."""
    source = textwrap.dedent(inspect.getsource(state_task_service_callback.StateTaskServiceCallback._eval_integration_pattern))
    broken = "callback_endpoint.interrupt_all()"
    assert source.count(broken) == 1, "moto changed: revisit the .sync patch"
    source = source.replace(broken, "if callback_endpoint is not None:\n                " + broken)
    namespace = dict(vars(state_task_service_callback))
    exec(compile(source, state_task_service_callback.__file__, "exec"), namespace)  # noqa: S102
    return namespace["_eval_integration_pattern"]


def _as_state_json(value):
    """What AWS puts in the state for a value JSON can't hold: a datetime as ISO text, a body as text."""
    return value.read().decode() if hasattr(value, "read") else value.isoformat()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setattr(
        state_task_service_callback.StateTaskServiceCallback,
        "_eval_integration_pattern",
        _patched_eval_integration_pattern(),
    )
    monkeypatch.setitem(state_task_service_aws_sdk._SERVICE_ERROR_NAMES, "glue", "Glue")  # moto defect 2
    original_crawler_dict = glue_models.FakeCrawler.as_dict

    def as_dict(self):  # moto defect 3
        data = original_crawler_dict(self)
        if data.get("LastCrawl", {}).get("Status") == "COMPLETED":
            data["LastCrawl"]["Status"] = "SUCCEEDED"
        return data

    monkeypatch.setattr(glue_models.FakeCrawler, "as_dict", as_dict)
    sdk_task = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    original_sdk_eval = sdk_task._eval_service_task

    def sdk_eval_as_json(self, env, *args, **kwargs):  # moto defect 4
        original_sdk_eval(self, env, *args, **kwargs)
        env.stack.append(json.loads(json.dumps(env.stack.pop(), default=_as_state_json)))

    monkeypatch.setattr(sdk_task, "_eval_service_task", sdk_eval_as_json)
    # Waits and retry intervals pass in a tick; a tick is when running crawls move on.
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: _tick()))
    monkeypatch.setattr(WaitFunction, "_wait_interval", lambda self, env, wait_seconds: _tick())
    monkeypatch.setattr(state_task_service_callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", 0.05)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    crawl_progresses(immediately=True)
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield
    finally:
        state_manager.unset_transition("glue::crawl")
        state_manager.unset_transition("glue::job_run")


def crawl_progresses(*, immediately: bool = False, after_ticks: int = 0) -> None:
    """moto's crawls stay RUNNING unless told: end when first read, or after some ticks (waits, retry intervals)."""
    transition = {"progression": "immediate"} if immediately else {"progression": "manual", "times": after_ticks}
    state_manager.set_transition(model_name="glue::crawl", transition=transition)


def _tick() -> None:
    time.sleep(0.01)
    backend = glue_models.glue_backends[ACCOUNT][REGION]
    for crawler in backend.crawlers.values():
        for crawl in crawler.crawls:
            crawl.advance()
    for job in backend.jobs.values():
        for run in job.job_runs:
            run.advance()


def test_moto_crawl_status_patch_matches_the_aws_api_model():
    """Defect 3 is a defect: botocore's Glue model knows no COMPLETED last-crawl status."""
    model = botocore.session.get_session().get_service_model("glue")
    assert set(model.shape_for("LastCrawlStatus").enum) == {"SUCCEEDED", "CANCELLED", "FAILED"}


class Stack:
    """The workflow's world in moto: job, crawler, topic with a queue reading it, the state machine."""

    def __init__(self, *, max_concurrent_runs: int = 1, **spec):
        self.glue = boto3.client("glue", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        self.glue.create_database(DatabaseInput={"Name": "glue_ttt_demo_db_test"})
        self.glue.create_job(
            Name=JOB,
            Role=f"arn:aws:iam::{ACCOUNT}:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://b/script.py"},
            ExecutionProperty={"MaxConcurrentRuns": max_concurrent_runs},
        )
        self.glue.create_crawler(
            Name=CRAWLER,
            Role=f"arn:aws:iam::{ACCOUNT}:role/crawler",
            DatabaseName="glue_ttt_demo_db_test",
            Targets={"S3Targets": [{"Path": "s3://b/out/"}]},
        )
        self.topic_arn = sns.create_topic(Name="failures")["TopicArn"]
        self.definition = _definition(self.topic_arn, **spec)
        self.arn = self.sfn.create_state_machine(
            name="findmatches-ML-dedup-workflow-test",
            definition=json.dumps(self.definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/states",
        )["stateMachineArn"]

    def run(self, execution_input: dict = UPLOAD, timeout: float = 60) -> dict:
        execution = self.sfn.start_execution(stateMachineArn=self.arn, input=json.dumps(execution_input))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = self.sfn.describe_execution(executionArn=execution["executionArn"])
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.1)
        raise AssertionError(f"execution still running after {timeout} s")

    def history(self, described: dict) -> list[dict]:
        return self.sfn.get_execution_history(executionArn=described["executionArn"])["events"]

    def entered_states(self, described: dict) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history(described) if "stateEnteredEventDetails" in e]

    def notifications(self) -> list[dict]:
        topic = sns_models.sns_backends[ACCOUNT][REGION].topics[self.topic_arn]
        return [json.loads(message) for _, message, *_ in topic.sent_notifications]


def _crawls_take(monkeypatch, transitions):
    original = glue_models.FakeCrawl.__init__

    def init(self, crawler_name):
        original(self, crawler_name)
        self._transitions = transitions

    monkeypatch.setattr(glue_models.FakeCrawl, "__init__", init)


def _job_runs_end(monkeypatch, final_state: str):
    original = glue_models.FakeJobRun.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._transitions = [("STARTING", "RUNNING"), ("RUNNING", final_state)]

    monkeypatch.setattr(glue_models.FakeJobRun, "__init__", init)


# --- runs --------------------------------------------------------------------


def test_normal_run_succeeds_after_job_and_finished_crawl(aws):
    stack = Stack()
    described = stack.run()
    assert described["status"] == "SUCCEEDED", stack.history(described)[-3:]
    entered = stack.entered_states(described)
    assert entered[0] == wd.JOB_TASK and entered[-1] == wd.SUCCEEDED
    assert wd.GET_CRAWLER in entered and wd.NOTIFY not in entered
    # The job ran with the uploaded object's location.
    runs = stack.glue.get_job_runs(JobName=JOB)["JobRuns"]
    assert len(runs) == 1
    assert runs[0]["Arguments"]["--source_bucket"] == UPLOAD["bucket"]
    assert runs[0]["Arguments"]["--source_key"] == UPLOAD["key"]
    # The crawler was started by the workflow and finished.
    crawler = stack.glue.get_crawler(Name=CRAWLER)["Crawler"]
    assert crawler["State"] == "READY" and crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    assert stack.notifications() == []


def test_workflow_waits_while_the_crawl_runs(aws, monkeypatch):
    """The crawl is still RUNNING at the first polls: the loop waits, then succeeds."""
    crawl_progresses(after_ticks=3)
    stack = Stack()
    described = stack.run()
    assert described["status"] == "SUCCEEDED"
    assert stack.entered_states(described).count(wd.GET_CRAWLER) >= 2


def test_failing_job_notifies_and_fails(aws, monkeypatch):
    _job_runs_end(monkeypatch, "FAILED")
    stack = Stack()
    described = stack.run()
    assert described["status"] == "FAILED"
    entered = stack.entered_states(described)
    assert wd.START_CRAWLER not in entered, "a failed job must not be cataloged"
    assert entered[-2:] == [wd.NOTIFY, wd.FAILED]
    # A genuine failure is not retried: one job run only.
    assert len(stack.glue.get_job_runs(JobName=JOB)["JobRuns"]) == 1
    (message,) = stack.notifications()
    # moto leaves the execution's name out of $$.Execution.Id (":None"); AWS gives the execution ARN.
    assert message["execution"].startswith(stack.arn.replace(":stateMachine:", ":execution:"))
    assert message["input"]["key"] == UPLOAD["key"]
    assert message["error"]["Error"] == "States.TaskFailed"


def test_failed_crawl_notifies_and_fails(aws, monkeypatch):
    _crawls_take(monkeypatch, [("RUNNING", "FAILED")])
    stack = Stack()
    described = stack.run()
    assert described["status"] == "FAILED"
    (message,) = stack.notifications()
    assert message["error"]["Error"] == "CrawlFailed"


def test_crawl_that_never_ends_times_out(aws, monkeypatch):
    _crawls_take(monkeypatch, [("RUNNING", "RUNNING")])
    stack = Stack(crawl_timeout_minutes=2)  # four polls of 30 s
    described = stack.run()
    assert described["status"] == "FAILED"
    (message,) = stack.notifications()
    assert message["error"]["Error"] == "CrawlTimedOut"
    assert stack.entered_states(described).count(wd.GET_CRAWLER) == 4


def test_concurrent_runs_exceeded_recovers_through_retry(aws):
    """Another run holds the only slot; the retry waits until it is free, then the run goes on."""
    # Job runs move on one state every two ticks (a retry interval is a tick).
    state_manager.set_transition(model_name="glue::job_run", transition={"progression": "manual", "times": 2})
    stack = Stack()
    stack.glue.start_job_run(JobName=JOB)
    described = stack.run()
    assert described["status"] == "SUCCEEDED", stack.history(described)[-3:]
    errors = [e["taskFailedEventDetails"]["error"] for e in stack.history(described) if e["type"] == "TaskFailed"]
    assert errors and set(errors) == {"Glue.ConcurrentRunsExceededException"}
    assert len(errors) <= wd.CONCURRENT_RUNS_RETRY.max_attempts
    assert len(stack.glue.get_job_runs(JobName=JOB)["JobRuns"]) == 2


def test_crawler_running_recovers_through_retry(aws):
    """A crawl someone else started holds the crawler; StartCrawler is retried until it ends."""
    crawl_progresses(after_ticks=2)
    stack = Stack()
    stack.glue.start_crawler(Name=CRAWLER)  # RUNNING for the workflow's first StartCrawler
    described = stack.run()
    assert described["status"] == "SUCCEEDED", stack.history(described)[-3:]
    errors = [e["taskFailedEventDetails"]["error"] for e in stack.history(described) if e["type"] == "TaskFailed"]
    assert "Glue.CrawlerRunningException" in errors


# --- the retry budget --------------------------------------------------------


def _retry_wait_seconds(retrier: dict) -> float:
    """What a rendered retrier waits over all its attempts: exactly, or on average with FULL jitter."""
    waits = [
        min(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n, retrier.get("MaxDelaySeconds", float("inf")))
        for n in range(retrier["MaxAttempts"])
    ]
    return sum(waits) / (2 if retrier.get("JitterStrategy") == "FULL" else 1)


def test_concurrency_retry_outlasts_a_burst_of_ten_uploads():
    """Ten uploads within a minute, one run at a time, runs of up to 8 minutes:
    the tenth execution waits for nine runs, 72 minutes, within its retries."""
    job = _definition("arn:aws:sns:x")["States"][wd.JOB_TASK]
    (retrier,) = [r for r in job["Retry"] if "Glue.ConcurrentRunsExceededException" in r["ErrorEquals"]]
    assert _retry_wait_seconds(retrier) >= 9 * 8 * 60


def test_genuine_job_failure_is_not_retried():
    retried = {e for r in _definition("arn:aws:sns:x")["States"][wd.JOB_TASK]["Retry"] for e in r["ErrorEquals"]}
    assert not retried & {"States.TaskFailed", "States.ALL", "States.Timeout"}

