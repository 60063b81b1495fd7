"""The stack's KMS key and the Glue security configuration that uses it.

A Glue security configuration has no update: every field forces a new one. Its
name therefore ends in a hash of its settings (``<name>-<8 hex>``), so that a
change of ``encryption``, ``kmsKeyArn`` or the stack key creates the new
configuration under a new name, moves the job and crawler to it, then deletes
the old one (Pulumi's create-before-delete; with a fixed name AWS answers
``AlreadyExistsException``). The job's log groups carry the name (Glue names
them after it), so they are replaced too.

A customer-managed key because AWS-managed keys can't be shared with the
services that must encrypt with them here: CloudWatch alarms publishing to the
failure topic, CloudWatch Logs for Glue's encrypted logs, CloudTrail.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from builders import policies
from builders.arns import Arns


@dataclass
class EncryptionArgs:
    arns: Arns
    security_configuration_name: str
    """The name's base; the configuration's name is ``<base>-<8 hex of its settings>``."""
    log_groups: list[str] = field(default_factory=list)
    """The stack's log groups (names, ``*``/``?`` allowed): only these may use the key."""
    s3_encryption: str = "sse-s3"
    """``sse-s3``, or ``sse-kms`` with ``s3_kms_key_arn`` or else the key this component creates."""
    s3_kms_key_arn: str | None = None
    retain: bool = False
    """Keep the key in AWS when the stack goes (set when it encrypts data that is retained)."""
    trail_arns: list[str] = field(default_factory=list)
    """Trails that encrypt their log files with the key (``trailKmsEncryption``)."""
    tags: dict[str, str] = field(default_factory=dict)


class Encryption(pulumi.ComponentResource):
    key: aws.kms.Key
    key_arn: pulumi.Output[str]
    security_configuration: aws.glue.SecurityConfiguration

    def __init__(self, name: str, args: EncryptionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("etl-ttt-demo:security:Encryption", name, None, opts)
        arns = args.arns
        self.key = aws.kms.Key(
            f"{name}-key",
            description="etl-ttt-demo dedup pipeline: failure topic, log groups, Glue logs and bookmarks, trail logs",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(policies.kms_key_policy(arns, log_groups=args.log_groups, trail_arns=args.trail_arns)),
            tags=args.tags or None,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain),
        )
        self.key_arn = self.key.arn
        self.bucket_key_arn: pulumi.Input[str] | None = None
        """The key S3 objects are encrypted with, ``None`` for SSE-S3."""
        if args.s3_encryption == "sse-kms":
            self.bucket_key_arn = args.s3_kms_key_arn or self.key.arn
        configuration = pulumi.Output.all(self.bucket_key_arn, self.key.arn).apply(
            lambda keys: security_configuration_settings(keys[0], keys[1])
        )
        self.security_configuration = aws.glue.SecurityConfiguration(
            f"{name}-glue",
            name=configuration.apply(lambda c: hashed_name(args.security_configuration_name, c)),
            encryption_configuration=configuration,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"key_arn": self.key.arn, "security_configuration": self.security_configuration.name})


def security_configuration_settings(bucket_key_arn: str | None, stack_key_arn: str) -> dict:
    """The Glue security configuration's ``encryption_configuration``."""
    return {
        "s3_encryption": (
            {"s3_encryption_mode": "SSE-KMS", "kms_key_arn": bucket_key_arn}
            if bucket_key_arn
            else {"s3_encryption_mode": "SSE-S3"}
        ),
        "cloudwatch_encryption": {"cloudwatch_encryption_mode": "SSE-KMS", "kms_key_arn": stack_key_arn},
        "job_bookmarks_encryption": {"job_bookmarks_encryption_mode": "CSE-KMS", "kms_key_arn": stack_key_arn},
    }


HASH_PATTERN = "?" * 8
"""What the hash suffix looks like in an IAM/KMS ``ArnLike`` pattern."""


def hashed_name(base: str, configuration: dict) -> str:
    """``<base>-<first 8 hex of the SHA-256 of the settings>``: a new name whenever a field changes."""
    digest = hashlib.sha256(json.dumps(configuration, sort_keys=True).encode()).hexdigest()[:8]
    return f"{base}-{digest}"
