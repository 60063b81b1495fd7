"""An S3 bucket with the secure defaults every bucket of the stack shares.

All four public-access blocks, ACLs disabled (bucket owner enforced), default
encryption (SSE-S3, or SSE-KMS with a given key), a policy that denies any
request not made over TLS (plus the caller's statements), lifecycle rules that
abort incomplete multipart uploads and expire what the caller asks for, and
optionally S3 server access logs (who read or wrote which object) into a log
bucket whose policy grants logging.s3.amazonaws.com (see
``policies.access_log_bucket_policy``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import pulumi
import pulumi_aws as aws

from builders import policies


@dataclass
class SecureBucketArgs:
    bucket: str | None = None
    """Physical name; ``None`` lets Pulumi name it from the component's name."""
    versioning: bool = True
    kms_key_arn: pulumi.Input[str] | None = None
    """SSE-KMS with this key; ``None`` means SSE-S3."""
    force_destroy: bool = False
    """Let ``pulumi destroy`` empty the bucket (workshop stacks); off where data must survive."""
    retain: bool = False
    """Protect the bucket and keep it in AWS when removed from the stack (production data)."""
    expiration_days: int | None = None
    """Expire current objects after this many days (log buckets)."""
    noncurrent_expiration_days: int = 30
    abort_multipart_days: int = 7
    access_log_bucket: pulumi.Input[str] | None = None
    """Send S3 server access logs to this bucket (SSE-S3 only: S3 can't deliver them to SSE-KMS buckets)."""
    access_log_prefix: str = ""
    policy: Callable[[str], dict] | None = None
    """Bucket ARN -> full policy document; the TLS-only statement is added when missing."""
    tags: dict[str, str] = field(default_factory=dict)


class SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("etl-ttt-demo:storage:SecureBucket", name, None, opts)
        # A retained bucket keeps its safeguards too: removing the stack must not leave it
        # public-access-unblocked, unversioned or without its TLS-only policy.
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain)

        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket,
            force_destroy=args.force_destroy,
            tags=args.tags or None,
            opts=pulumi.ResourceOptions(parent=self, protect=args.retain, retain_on_delete=args.retain),
        )
        bucket_id = self.bucket.id
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        sse = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
            if args.kms_key_arn
            else {"sse_algorithm": "AES256"}
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[{"apply_server_side_encryption_by_default": sse, "bucket_key_enabled": bool(args.kms_key_arn)}],
            opts=child,
        )
        if args.versioning:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket_id,
                versioning_configuration={"status": "Enabled"},
                opts=child,
            )
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket_id, rules=self._lifecycle_rules(args), opts=child)
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(_with_tls(args.policy, arn))),
            opts=child,
        )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logs",
                bucket=bucket_id,
                target_bucket=args.access_log_bucket,
                target_prefix=args.access_log_prefix,
                # Date-partitioned keys (<prefix><account>/<region>/<bucket>/<yyyy>/<mm>/<dd>/...): easy to query.
                target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
                opts=child,
            )
        self.arn = self.bucket.arn
        self.name = self.bucket.bucket
        self.register_outputs({"arn": self.arn, "name": self.name})

    @staticmethod
    def _lifecycle_rules(args: SecureBucketArgs) -> list[dict]:
        rule: dict = {
            "id": "housekeeping",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": args.abort_multipart_days},
        }
        if args.versioning:
            rule["noncurrent_version_expiration"] = {"noncurrent_days": args.noncurrent_expiration_days}
        if args.expiration_days:
            rule["expiration"] = {"days": args.expiration_days}
        return [rule]


def _with_tls(policy: Callable[[str], dict] | None, bucket_arn: str) -> dict:
    document = policy(bucket_arn) if policy else policies.document()
    if not any(s.get("Sid") == "DenyInsecureTransport" for s in document["Statement"]):
        document["Statement"].append(policies.deny_insecure_transport(bucket_arn))
    return document
