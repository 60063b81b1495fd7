"""Who uploaded what: S3 server access logs of the data bucket (``dataAccessLogs``), under Pulumi mocks."""

from __future__ import annotations

import json

import pytest
from conftest import ACCOUNT, render_stack, stack_config
from parliament import analyze_policy_string

from builders.settings import SettingsError, parse_settings

LOGGING = "aws:s3/bucketLogging:BucketLogging"
NO_TRAIL = {"trailMode": "none", "triggerSource": "s3-eventbridge"}


def test_off_by_default_and_in_the_workshop_stack(dev_stack):
    assert parse_settings({}).data_access_logs is False
    assert dev_stack.of_type(LOGGING) == []
    assert [r for r in dev_stack.of_type("aws:s3/bucket:Bucket") if r.name == "access-logs"] == []
    assert dev_stack.program["access_logs"] is None


@pytest.fixture(scope="module")
def logged():
    return render_stack({**stack_config("dev"), **NO_TRAIL, "dataAccessLogs": True,
                         "dataAccessLogExpirationDays": 30, "encryption": "sse-kms"})


def test_data_bucket_logs_into_the_stacks_log_bucket(logged):
    data = logged.one("aws:s3/bucket:Bucket", "data")
    logs = logged.one("aws:s3/bucket:Bucket", "access-logs")
    logging = logged.one(LOGGING)
    assert logging.inputs["bucket"] == data.outputs["id"]
    assert logging.inputs["targetBucket"] == logs.outputs["bucket"]
    assert logging.inputs["targetPrefix"] == "s3-access/"


def test_log_bucket_expires_its_logs(logged):
    (rule,) = logged.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                         "access-logs-lifecycle").inputs["rules"]
    assert rule["expiration"] == {"days": 30}


def test_log_bucket_is_sse_s3_even_when_the_data_is_sse_kms(logged):
    """S3 server access logging cannot deliver to an SSE-KMS bucket (S3 User Guide)."""
    data_rule, = logged.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                            "data-encryption").inputs["rules"]
    assert data_rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    (rule,) = logged.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                         "access-logs-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}


def test_only_s3_logging_for_this_data_bucket_and_account_may_write(logged):
    data = logged.one("aws:s3/bucket:Bucket", "data")
    logs = logged.one("aws:s3/bucket:Bucket", "access-logs")
    policy = json.loads(logged.one("aws:s3/bucketPolicy:BucketPolicy", "access-logs-policy").inputs["policy"])
    (grant,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == f"{logs.outputs['arn']}/s3-access/*"
    assert grant["Condition"] == {"ArnLike": {"aws:SourceArn": data.outputs["arn"]},
                                  "StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert any(s.get("Sid") == "DenyInsecureTransport" for s in policy["Statement"])
    assert analyze_policy_string(json.dumps(policy)).findings == []


@pytest.mark.parametrize("raw,message", [
    ({"dataAccessLogs": "yes"}, "dataAccessLogs: 'yes' is not true or false"),
    ({"dataAccessLogExpirationDays": "0"}, "dataAccessLogExpirationDays: '0' is not a whole number from 1 to 3650"),
])
def test_bad_values_name_the_key(raw, message):
    with pytest.raises(SettingsError) as error:
        parse_settings(raw)
    assert message in str(error.value)
