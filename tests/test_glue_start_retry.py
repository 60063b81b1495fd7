"""A throttled job start is started again; a run that started and failed never is.

Run on moto's Step Functions interpreter (fixture ``aws`` of test_workflow_engine)
with errors injected into moto's Glue StartJobRun. The injected error is what
AWS reports for a throttled ``glue:startJobRun.sync`` (AWS Knowledge Center,
"Glue throttling rate exceeded"): code AWSGlueException, which the interpreter
names ``Glue.AWSGlueException``, the throttling only in the cause text.
"""
from __future__ import annotations

import json

import pytest
from moto.core.exceptions import JsonRESTError
from moto.glue import models as glue_models
from statelint.linter import Linter

from builders import workflow_definition as wd
from tests.test_workflow_engine import JOB, Stack, _definition, _job_runs_end, aws  # noqa: F401 - fixture

THROTTLED = ("AWSGlueException", "Rate exceeded (Service: AWSGlue; Status Code: 400; Error Code: ThrottlingException; "
                                 "Request ID: 70ea5ab7-2bb8-4a47-b957-799ef46c129e; Proxy: null)")


def _start_fails(monkeypatch, errors: list[tuple[str, str]]):
    """The next StartJobRun calls fail with ``errors`` (code, message), in order; then runs start."""
    original = glue_models.GlueBackend.start_job_run
    calls = []

    def start_job_run(self, *args, **kwargs):
        calls.append(1)
        if errors:
            raise JsonRESTError(*errors.pop(0))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(glue_models.GlueBackend, "start_job_run", start_job_run)
    return calls


def _task_errors(stack, described) -> list[str]:
    return [e["taskFailedEventDetails"]["error"] for e in stack.history(described) if e["type"] == "TaskFailed"]


def test_definition_still_lints():
    assert Linter.validate(json.dumps(_definition("arn:aws:sns:eu-west-1:123456789012:t"))) == []


def test_throttled_start_is_started_again_and_succeeds(aws, monkeypatch):  # noqa: F811
    calls = _start_fails(monkeypatch, [THROTTLED, THROTTLED])
    stack = Stack()
    described = stack.run()
    assert described["status"] == "SUCCEEDED", stack.history(described)[-3:]
    assert _task_errors(stack, described) == ["Glue.AWSGlueException"] * 2
    assert stack.entered_states(described).count(wd.WAIT_RESTART) == 2
    assert len(calls) == 3 and len(stack.glue.get_job_runs(JobName=JOB)["JobRuns"]) == 1
    assert stack.notifications() == []


def test_throttling_that_never_ends_gives_up_and_notifies(aws, monkeypatch):  # noqa: F811
    calls = _start_fails(monkeypatch, [THROTTLED] * 50)
    stack = Stack()
    described = stack.run()
    assert described["status"] == "FAILED"
    assert len(calls) == 1 + wd.START_THROTTLE_RESTARTS
    assert stack.glue.get_job_runs(JobName=JOB)["JobRuns"] == []
    (message,) = stack.notifications()
    assert message["error"]["Error"] == "Glue.AWSGlueException" and "ThrottlingException" in message["error"]["Cause"]


def test_other_glue_errors_are_not_restarted(aws, monkeypatch):  # noqa: F811
    calls = _start_fails(monkeypatch, [("AWSGlueException", "Job definition is not valid (Service: AWSGlue; "
                                                            "Status Code: 400; Error Code: JobDefinitionErrorException)")])
    stack = Stack()
    described = stack.run()
    assert described["status"] == "FAILED" and len(calls) == 1
    assert wd.WAIT_RESTART not in stack.entered_states(described)
    (message,) = stack.notifications()
    assert "JobDefinitionErrorException" in message["error"]["Cause"]


def test_a_run_that_started_and_failed_is_never_run_again(aws, monkeypatch):  # noqa: F811
    """Throttled once, then the run starts and fails (States.TaskFailed): one run, then the notification."""
    calls = _start_fails(monkeypatch, [THROTTLED])
    _job_runs_end(monkeypatch, "FAILED")
    stack = Stack()
    described = stack.run()
    assert described["status"] == "FAILED"
    assert _task_errors(stack, described) == ["Glue.AWSGlueException", "States.TaskFailed"]
    assert len(calls) == 2 and len(stack.glue.get_job_runs(JobName=JOB)["JobRuns"]) == 1
    (message,) = stack.notifications()
    assert message["error"]["Error"] == "States.TaskFailed"


@pytest.mark.parametrize("error", ["Glue.ThrottlingException"])
def test_sdk_style_throttling_name_is_still_retried(aws, monkeypatch, error):  # noqa: F811
    """Should Step Functions ever name it Glue.ThrottlingException, the transient retrier takes it."""
    calls = _start_fails(monkeypatch, [(error.removeprefix("Glue."), "Rate exceeded")])
    stack = Stack()
    described = stack.run()
    assert described["status"] == "SUCCEEDED" and len(calls) == 2
    assert wd.WAIT_RESTART not in stack.entered_states(described)
