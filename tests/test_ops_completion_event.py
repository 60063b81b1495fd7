"""The completion event, run on moto's Step Functions interpreter and EventBridge.

A rule with the README's example pattern sends the default bus's matching
events to a queue: a successful run puts exactly one event there, with the
counts of the job's run summary; a failed run puts none.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto.glue import models as glue_models
from test_workflow_engine import (  # noqa: F401 (aws is a fixture)
    ACCOUNT,
    REGION,
    UPLOAD,
    Stack,
    _crawls_take,
    _job_runs_end,
    aws,
)

from builders import completion_event as ce
from builders import policies
from builders import workflow_definition as wd

STAGING = "etl-ttt-demo/output/data_analytics_team_folder/top-customers-staging/"
SUMMARY = {"records_in": 535, "clusters": 500, "duplicates_removed": 35, "prior": 0.001}
TABLE = ce.table_name("etl-ttt-demo/output/data_analytics_team_folder/top-customers/")
COMPLETION = ce.CompletionEvent(
    bucket=UPLOAD["bucket"],
    staging_prefix=STAGING,
    database="glue_ttt_demo_db_test",
    table=TABLE,
    event_bus_arn=ce.event_bus_arn("aws", REGION, ACCOUNT),
)


def test_table_name_is_the_crawlers():
    assert TABLE == "ml_final_top_customers"
    assert ce.table_name("a/b/Top.Customers 2026/") == "ml_final_top_customers_2026"


@pytest.fixture
def world(aws, monkeypatch):  # noqa: F811
    """The stack plus: the data bucket, a job that writes its run summary, a rule on the example pattern."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=UPLOAD["bucket"], CreateBucketConfiguration={"LocationConstraint": REGION})
    original = glue_models.FakeJobRun.__init__
    writes = {"summary": True}

    def job_writes_summary(self, *args, **kwargs):  # what glue_entry.main writes before it commits
        original(self, *args, **kwargs)
        if writes["summary"]:
            s3.put_object(Bucket=UPLOAD["bucket"], Key=ce.summary_key(STAGING, self.job_run_id), Body=json.dumps(SUMMARY))

    monkeypatch.setattr(glue_models.FakeJobRun, "__init__", job_writes_summary)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="downstream")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="downstream", EventPattern=json.dumps(ce.example_rule_pattern(COMPLETION.database)))
    events.put_targets(Rule="downstream", Targets=[{"Id": "q", "Arn": queue_arn}])
    stack = Stack(completion=COMPLETION)

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    stack.received = received
    stack.writes = writes
    return stack


def test_success_puts_one_event_with_the_runs_counts(world):
    described = world.run()
    assert described["status"] == "SUCCEEDED", world.history(described)[-3:]
    entered = world.entered_states(described)
    assert entered[-3:] == [wd.READ_SUMMARY, wd.ANNOUNCE, wd.SUCCEEDED]
    (event,) = world.received()
    assert event["source"] == ce.SOURCE and event["detail-type"] == ce.DETAIL_TYPE
    (run,) = world.glue.get_job_runs(JobName="ml-lab-notebook-job-test")["JobRuns"]
    detail = event["detail"]
    assert detail == {
        "bucket": UPLOAD["bucket"],
        "key": UPLOAD["key"],
        "keyEncoding": "none",
        "database": COMPLETION.database,
        "table": TABLE,
        "recordsIn": 535,
        "clusters": 500,
        "duplicatesRemoved": 35,
        "jobRunId": run["Id"],
        "executionArn": detail["executionArn"],
    }
    # moto leaves the name out of $$.Execution.Id (":None"); AWS gives the execution ARN.
    assert detail["executionArn"].startswith(world.arn.replace(":stateMachine:", ":execution:"))
    assert world.received() == [], "put once"


def test_a_stacks_rule_does_not_hear_another_stacks_event():
    from moto.events.models import EventPattern

    event = {"source": ce.SOURCE, "detail-type": ce.DETAIL_TYPE, "detail": {"database": "glue_ttt_demo_db_other"}}
    assert EventPattern.load(json.dumps(ce.example_rule_pattern("glue_ttt_demo_db_other"))).matches_event(event)
    assert not EventPattern.load(json.dumps(ce.example_rule_pattern("glue_ttt_demo_db_test"))).matches_event(event)


def test_failed_job_puts_no_event(world, monkeypatch):
    _job_runs_end(monkeypatch, "FAILED")
    described = world.run()
    assert described["status"] == "FAILED"
    assert wd.ANNOUNCE not in world.entered_states(described)
    assert world.received() == []


def test_failed_crawl_puts_no_event(world, monkeypatch):
    _crawls_take(monkeypatch, [("RUNNING", "FAILED")])
    described = world.run()
    assert described["status"] == "FAILED"
    assert world.received() == []


def test_a_missing_summary_fails_the_run_and_tells_a_person(world):
    world.writes["summary"] = False
    described = world.run()
    assert described["status"] == "FAILED"
    entered = world.entered_states(described)
    assert wd.READ_SUMMARY in entered and wd.ANNOUNCE not in entered and entered[-2:] == [wd.NOTIFY, wd.FAILED]
    assert world.received() == []
    (message,) = world.notifications()
    assert "NoSuchKey" in json.dumps(message["error"])


def test_role_may_put_only_the_pipelines_source_on_the_default_bus():
    definition = wd.build_definition(wd.WorkflowSpec("job", "crawler", "arn:aws:sns:x:1:t", completion=COMPLETION))
    policy = policies.states_policy(
        wd.service_calls(definition), job_arn="arn:job", crawler_arn="arn:crawler", topic_arn="arn:topic",
        summary_objects_arn=f"arn:aws:s3:::{UPLOAD['bucket']}/{COMPLETION.summary_prefix}*",
        event_bus_arn=COMPLETION.event_bus_arn, event_source=ce.SOURCE,
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    bus = by_sid["AnnounceCatalogUpdate"]
    assert bus["Action"] == ["events:PutEvents"] and bus["Resource"] == COMPLETION.event_bus_arn
    assert bus["Condition"] == {"StringEquals": {"events:source": ce.SOURCE}}
    assert by_sid["ReadRunSummary"]["Action"] == ["s3:GetObject"]
    # Without an event source the role would put anything: refused.
    with pytest.raises(ValueError, match="event_source"):
        policies.states_policy(wd.service_calls(definition), job_arn="a", crawler_arn="b", topic_arn="c",
                               summary_objects_arn="d", event_bus_arn=COMPLETION.event_bus_arn)


def test_a_call_the_policy_cannot_place_is_an_error_not_a_gap():
    definition = wd.build_definition(wd.WorkflowSpec("job", "crawler", "arn:aws:sns:x:1:t", completion=COMPLETION))
    with pytest.raises(ValueError, match="s3:GetObject"):
        policies.states_policy(wd.service_calls(definition), job_arn="a", crawler_arn="b", topic_arn="c",
                               event_bus_arn=COMPLETION.event_bus_arn, event_source=ce.SOURCE)


def test_with_sse_kms_data_the_workflow_may_decrypt_the_run_summary():
    from conftest import render_stack, stack_config

    key = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    stack = render_stack({**stack_config("dev"), "encryption": "sse-kms", "kmsKeyArn": key})
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "workflow-policy").inputs["policy"])
    (keys,) = [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"]]
    assert key in (keys["Resource"] if isinstance(keys["Resource"], list) else [keys["Resource"]])
    plain = render_stack(stack_config("dev"))
    policy = json.loads(plain.one("aws:iam/rolePolicy:RolePolicy", "workflow-policy").inputs["policy"])
    (keys,) = [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"]]
    assert keys["Resource"] == plain.one("aws:kms/key:Key").outputs["arn"], "SSE-S3 data: the stack key only"


@pytest.mark.parametrize("staging", [STAGING, "a/b-staging/", "x(1)/it's-staging/"])
def test_the_workflow_reads_the_summary_where_the_job_writes_it(staging):
    from glue_jobs.contract import run_summary_key

    run_id = "jr_0123456789abcdef"
    assert ce.summary_key(staging, run_id) == run_summary_key(staging, run_id)
    definition = wd.build_definition(wd.WorkflowSpec("job", "crawler", "arn:aws:sns:x:1:t", completion=ce.CompletionEvent(
        "b", staging, "db", "t", ce.event_bus_arn("aws", REGION, ACCOUNT))))
    key_expr = definition["States"][wd.READ_SUMMARY]["Parameters"]["Key.$"]
    # The intrinsic's format string, unescaped, with the run id in place of {}.
    fmt = key_expr.removeprefix("States.Format('").removesuffix("', $.jobRun.JobRunId)").replace("\\'", "'")
    assert fmt.replace("{}", run_id) == run_summary_key(staging, run_id)
