"""The rendered rule's pattern against real-shaped events, on moto's EventBridge pattern engine.

Events are shaped like the ones AWS delivers: CloudTrail data events as
"AWS API Call via CloudTrail" (with errorCode on denied calls) and S3's own
"Object Created" / "Object Deleted" notifications.
"""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import quote_plus

import pytest
from conftest import ACCOUNT, REGION, render_stack, stack_config
from moto.events.models import EventPattern

from glue_jobs.contract import decode_source_key

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
WATCHED = "etl-ttt-demo/data_analytics_team_folder/"
FILE = f"{WATCHED}full-top-customer.csv"


@pytest.fixture(scope="module")
def rendered():
    """The dev stack rendered once per trigger source."""
    base = stack_config("dev")
    return {
        "cloudtrail": render_stack({**base, "triggerSource": "cloudtrail"}),
        "s3-eventbridge": render_stack({**base, "triggerSource": "s3-eventbridge", "trailMode": "none"}),
    }


def _bucket(stack) -> str:
    return stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]


def _cloudtrail_event(bucket: str, key: str, event_name: str = "PutObject", **detail) -> dict:
    request = {"bucketName": bucket, "Host": f"{bucket}.s3.{REGION}.amazonaws.com", "key": key}
    if event_name == "CompleteMultipartUpload":
        request["uploadId"] = "2~rLXvVdO9JBeyaQ4d5jGi8Rr2iL_AFt"
    if event_name == "CopyObject":
        request["x-amz-copy-source"] = f"{bucket}/incoming/customers.csv"
    event = {
        "version": "0",
        "id": "6f2d7c1e-3b0a-4f57-9a3c-2b9f3f0c1d2e",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-11-27T10:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.10",
            "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT, "userName": "student"},
            "eventTime": "2026-11-27T10:00:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": event_name,
            "awsRegion": REGION,
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "[aws-cli/2.22.0 md/command#s3.cp]",
            "requestParameters": request,
            "responseElements": {"x-amz-server-side-encryption": "AES256"},
            "requestID": "B1C2D3E4F5A6B7C8",
            "eventID": "a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d",
            "readOnly": event_name in ("GetObject", "HeadObject"),
            "resources": [
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
            ],
            "eventType": "AwsApiCall",
            "managementEvent": False,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Data",
            **detail,
        },
    }
    return event


def _s3_event(bucket: str, key: str, detail_type: str = "Object Created", reason: str = "PutObject") -> dict:
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-11-27T10:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 5242880, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189"},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": ACCOUNT,
            "source-ip-address": "198.51.100.7",
            "reason": reason,
        },
    }


def _matches(stack, event) -> bool:
    pattern = stack.one(RULE).inputs["eventPattern"]
    return EventPattern.load(pattern).matches_event(event)


# --- CloudTrail source ----------------------------------------------------------


@pytest.mark.parametrize("call", ["PutObject", "CompleteMultipartUpload", "CopyObject"])
def test_cloudtrail_write_calls_into_the_folder_match(rendered, call):
    stack = rendered["cloudtrail"]
    assert _matches(stack, _cloudtrail_event(_bucket(stack), FILE, call))


@pytest.mark.parametrize(
    "case",
    ["read", "head", "delete", "denied write", "failed multipart", "other bucket", "sibling folder",
     "parent folder", "output folder", "trail log write"],
)
def test_cloudtrail_other_calls_do_not_match(rendered, case):
    stack = rendered["cloudtrail"]
    bucket = _bucket(stack)
    event = {
        "read": lambda: _cloudtrail_event(bucket, FILE, "GetObject"),
        "head": lambda: _cloudtrail_event(bucket, FILE, "HeadObject"),
        "delete": lambda: _cloudtrail_event(bucket, FILE, "DeleteObject"),
        "denied write": lambda: _cloudtrail_event(
            bucket, FILE, "PutObject", errorCode="AccessDenied", errorMessage="Access Denied", responseElements=None
        ),
        "failed multipart": lambda: _cloudtrail_event(
            bucket, FILE, "CompleteMultipartUpload", errorCode="InvalidPart", errorMessage="One or more parts not found"
        ),
        "other bucket": lambda: _cloudtrail_event("etl-ttt-demo-someone-else-123456789012-eu-west-1", FILE),
        "sibling folder": lambda: _cloudtrail_event(bucket, "etl-ttt-demo/data_analytics_team_folder_old/x.csv"),
        "parent folder": lambda: _cloudtrail_event(bucket, "etl-ttt-demo/x.csv"),
        "output folder": lambda: _cloudtrail_event(
            bucket, "etl-ttt-demo/output/data_analytics_team_folder/top-customers/part-0.csv"
        ),
        "trail log write": lambda: _cloudtrail_event(
            _trail_log_bucket(stack), f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/11/27/log.json.gz"
        ),
    }[case]()
    assert not _matches(stack, event)


def _trail_log_bucket(stack) -> str:
    log_bucket = stack.one("aws:s3/bucket:Bucket", "trail-logs").outputs["bucket"]
    assert log_bucket != _bucket(stack), "the trail must never log into the data bucket"
    return log_bucket


# --- S3 EventBridge source -------------------------------------------------------


@pytest.mark.parametrize("reason", ["PutObject", "CompleteMultipartUpload", "CopyObject"])
def test_s3_object_created_in_the_folder_matches(rendered, reason):
    stack = rendered["s3-eventbridge"]
    assert _matches(stack, _s3_event(_bucket(stack), FILE, reason=reason))


@pytest.mark.parametrize("case", ["delete", "other bucket", "sibling folder", "output folder", "cloudtrail event"])
def test_s3_other_events_do_not_match(rendered, case):
    stack = rendered["s3-eventbridge"]
    bucket = _bucket(stack)
    event = {
        "delete": lambda: _s3_event(bucket, FILE, "Object Deleted", "DeleteObject"),
        "other bucket": lambda: _s3_event("etl-ttt-demo-someone-else-123456789012-eu-west-1", FILE),
        "sibling folder": lambda: _s3_event(bucket, "etl-ttt-demo/data_analytics_team_folder_old/x.csv"),
        "output folder": lambda: _s3_event(bucket, "etl-ttt-demo/output/data_analytics_team_folder/top-customers/p.csv"),
        "cloudtrail event": lambda: _cloudtrail_event(bucket, FILE),
    }[case]()
    assert not _matches(stack, event)


def test_s3_source_switches_on_the_bucket_notifications_and_has_no_trail(rendered):
    stack = rendered["s3-eventbridge"]
    notification = stack.one("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["eventbridge"] is True
    assert notification.inputs["bucket"] == _bucket(stack)
    assert stack.of_type("aws:cloudtrail/trail:Trail") == []


# --- what the workflow receives ----------------------------------------------------


def _transform(input_transformer: dict, event: dict) -> dict:
    """EventBridge's input transformer, for the dot paths and whole-value placeholders we use."""
    values = {}
    for name, path in input_transformer["inputPaths"].items():
        value = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        values[name] = value
    text = re.sub(r"<([A-Za-z]+)>", lambda m: json.dumps(values[m.group(1)]), input_transformer["inputTemplate"])
    return json.loads(text)


@pytest.mark.parametrize("source", ["cloudtrail", "s3-eventbridge"])
def test_job_gets_the_uploaded_objects_real_key(rendered, source):
    """Event → target input → state machine arguments → the job's decoding: the key of the object.

    CloudTrail logs the key as requested; S3's notifications URL-encode it ("a b" → "a+b")."""
    stack = rendered[source]
    target = stack.one(TARGET)
    key = f'{WATCHED}customers "2026" (v2)+final.csv'
    if source == "cloudtrail":
        event = _cloudtrail_event(_bucket(stack), key)
    else:
        event = _s3_event(_bucket(stack), quote_plus(key, safe="/"))
    execution_input = _transform(target.inputs["inputTransformer"], copy.deepcopy(event))
    assert execution_input == {
        "bucket": _bucket(stack),
        "key": event["detail"]["requestParameters"]["key"] if source == "cloudtrail" else event["detail"]["object"]["key"],
        "trigger": "PutObject",
        "eventId": event["id"],
        "eventTime": event["time"],
    }
    definition = json.loads(stack.one("aws:sfn/stateMachine:StateMachine").inputs["definition"])
    arguments = definition["States"]["Run dedup job"]["Parameters"]["Arguments"]
    assert arguments["--source_key.$"] == "$.key"
    assert decode_source_key(execution_input["key"], arguments["--source_key_encoding"]) == key


@pytest.mark.parametrize("source", ["cloudtrail", "s3-eventbridge"])
def test_target_retries_boundedly_into_an_encrypted_dead_letter_queue(rendered, source):
    stack = rendered[source]
    target = stack.one(TARGET)
    queue = stack.one("aws:sqs/queue:Queue")
    assert 0 < target.inputs["retryPolicy"]["maximumEventAgeInSeconds"] <= 86400
    assert 0 <= target.inputs["retryPolicy"]["maximumRetryAttempts"] <= 185
    assert target.inputs["deadLetterConfig"]["arn"] == queue.outputs["arn"]
    assert queue.inputs["sqsManagedSseEnabled"] is True
    policy = json.loads(stack.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Resource"] == queue.outputs["arn"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == stack.one(RULE).outputs["arn"]
    state_machine = stack.one("aws:sfn/stateMachine:StateMachine")
    assert target.inputs["arn"] == state_machine.outputs["arn"]
