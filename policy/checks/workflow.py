"""The workflow's queues and topics (dead-letter queue, failure notifications): encrypted at rest."""

from __future__ import annotations

from .base import Res, known, rule, truthy, unset
from .resource_types import SNS_TOPIC, SQS_QUEUE


@rule("sqs-encrypted", types=SQS_QUEUE,
      requires="SQS queues are encrypted at rest.", mirrors="Security Hub SQS.1; checkov CKV_AWS_27")
def sqs_encrypted(r: Res) -> list[str]:
    sse, key = r.props.get("sqsManagedSseEnabled"), r.props.get("kmsMasterKeyId")
    if known(sse) and known(key) and not truthy(sse) and not key:
        return ["queue must be encrypted at rest (sqsManagedSseEnabled or kmsMasterKeyId)"]
    return []


@rule("sns-encrypted", types=SNS_TOPIC,
      requires="SNS topics are encrypted with KMS.", mirrors="Security Hub SNS.1; checkov CKV_AWS_26")
def sns_encrypted(r: Res) -> list[str]:
    return ["topic must be encrypted with a KMS key (kmsMasterKeyId)"] if unset(r.props, "kmsMasterKeyId") else []
