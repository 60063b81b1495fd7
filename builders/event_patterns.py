"""EventBridge event patterns and target input for the upload trigger. Pure.

Two sources see an upload into the watched folder:

* ``cloudtrail``: the lab's way, "AWS API Call via CloudTrail" events from a
  trail that records S3 data events. Best effort, usually minutes late.
* ``s3-eventbridge``: S3's own "Object Created" events, switched on per bucket.
  Durable, typically seconds, no trail needed.
"""

from __future__ import annotations

# `aws s3 cp` switches to multipart above 8 MB (CompleteMultipartUpload) and a
# server-side copy logs CopyObject: a rule on PutObject alone misses both.
WRITE_EVENT_NAMES = ("PutObject", "CompleteMultipartUpload", "CopyObject")

CLOUDTRAIL = "cloudtrail"
S3_EVENTBRIDGE = "s3-eventbridge"


def upload_pattern(source: str, bucket: str, watched_prefix: str) -> dict:
    """The pattern that matches a successful write of an object under ``watched_prefix``.

    ``watched_prefix`` ends with '/', so a sibling folder such as
    ``<prefix minus slash>_old/`` does not match.
    """
    if not watched_prefix.endswith("/"):
        raise ValueError(f"watched_prefix {watched_prefix!r} must end with '/'")
    if source == CLOUDTRAIL:
        return {
            "source": ["aws.s3"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {
                "eventSource": ["s3.amazonaws.com"],
                "eventName": list(WRITE_EVENT_NAMES),
                "requestParameters": {
                    "bucketName": [bucket],
                    "key": [{"prefix": watched_prefix}],
                },
                # CloudTrail records denied and failed calls too, with an errorCode.
                "errorCode": [{"exists": False}],
            },
        }
    if source == S3_EVENTBRIDGE:
        return {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [bucket]},
                "object": {"key": [{"prefix": watched_prefix}]},
            },
        }
    raise ValueError(f"source {source!r} is not one of {CLOUDTRAIL}, {S3_EVENTBRIDGE}")


# Where each source keeps the uploaded object's bucket, key and write call.
_INPUT_PATHS = {
    CLOUDTRAIL: {
        "bucket": "$.detail.requestParameters.bucketName",
        "key": "$.detail.requestParameters.key",
        "trigger": "$.detail.eventName",
        "eventId": "$.id",
        "eventTime": "$.time",
    },
    S3_EVENTBRIDGE: {
        "bucket": "$.detail.bucket.name",
        "key": "$.detail.object.key",
        "trigger": "$.detail.reason",
        "eventId": "$.id",
        "eventTime": "$.time",
    },
}

# S3's event notifications URL-encode object keys ("a b.csv" arrives as "a+b.csv");
# CloudTrail logs the key as requested. The job decodes accordingly.
KEY_ENCODING = {CLOUDTRAIL: "none", S3_EVENTBRIDGE: "url"}

INPUT_TEMPLATE = (
    '{"bucket": <bucket>, "key": <key>, "trigger": <trigger>, '
    '"eventId": <eventId>, "eventTime": <eventTime>}'
)
"""The workflow's execution input. Placeholders stand unquoted: EventBridge
inserts string values JSON-quoted and escaped when a placeholder is a whole
JSON value."""


def target_input(source: str) -> tuple[dict[str, str], str]:
    """``(input_paths, input_template)`` of the rule target for ``source``."""
    if source not in _INPUT_PATHS:
        raise ValueError(f"source {source!r} is not one of {CLOUDTRAIL}, {S3_EVENTBRIDGE}")
    return dict(_INPUT_PATHS[source]), INPUT_TEMPLATE
