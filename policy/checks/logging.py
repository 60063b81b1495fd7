"""Logs and the key that encrypts them: log groups with a retention and a KMS key; keys that rotate."""

from __future__ import annotations

from .base import Res, known, rule, truthy, unset
from .resource_types import KMS_KEY, LOG_GROUP


@rule("log-group-retention-and-kms", types=LOG_GROUP,
      requires="Log groups have a retention and a KMS key.",
      mirrors="Security Hub CloudWatch.16; checkov CKV_AWS_66, CKV_AWS_158, CKV_AWS_338")
def log_group(r: Res) -> list[str]:
    problems = {
        "retentionInDays": "log group must have a retention (retentionInDays; 0 or unset keeps logs forever)",
        "kmsKeyId": "log group must be encrypted with a KMS key (kmsKeyId)",
    }
    return [message for key, message in problems.items() if unset(r.props, key)]


@rule("kms-key-rotation", types=KMS_KEY,
      requires="Symmetric KMS keys rotate.", mirrors="Security Hub KMS.4; checkov CKV_AWS_7")
def kms_rotation(r: Res) -> list[str]:
    spec = r.props.get("customerMasterKeySpec") or r.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    rotation = r.props.get("enableKeyRotation")
    if known(rotation) and spec == "SYMMETRIC_DEFAULT" and not truthy(rotation):
        return ["symmetric KMS key must enable automatic rotation (enableKeyRotation: true)"]
    return []
