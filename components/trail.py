"""The trail that records uploads into the watched folder as CloudTrail data events.

Its logs go to a bucket of its own: a trail that logs into the watched folder
would record its own log writes and start the workflow again and again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from builders import policies
from builders.arns import Arns
from builders.trail_selectors import s3_write_selectors
from components.secure_bucket import SecureBucket, SecureBucketArgs


@dataclass
class TrailArgs:
    trail_name: str
    arns: Arns
    object_arn_prefixes: list[str]
    """What to record, e.g. ``[arns.objects(bucket, watched_prefix)]`` without the ``*``."""
    log_expiration_days: int
    force_destroy: bool
    kms_key_arn: pulumi.Input[str] | None = None
    """Encrypt log files (and the log bucket) with this key; ``None``: SSE-S3."""
    tags: dict[str, str] = field(default_factory=dict)


class Trail(pulumi.ComponentResource):
    trail: aws.cloudtrail.Trail
    log_bucket: SecureBucket

    def __init__(self, name: str, args: TrailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("etl-ttt-demo:audit:Trail", name, None, opts)
        trail_arn = args.arns.trail(args.trail_name)
        self.log_bucket = SecureBucket(
            f"{name}-logs",
            SecureBucketArgs(
                versioning=True,
                kms_key_arn=args.kms_key_arn,
                force_destroy=args.force_destroy,
                expiration_days=args.log_expiration_days,
                noncurrent_expiration_days=min(args.log_expiration_days, 30),
                policy=lambda bucket_arn: policies.trail_bucket_policy(
                    bucket_arn, account_id=args.arns.account_id, trail_arns=[trail_arn]
                ),
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.trail = aws.cloudtrail.Trail(
            name,
            name=args.trail_name,
            s3_bucket_name=self.log_bucket.name,
            enable_log_file_validation=True,
            is_multi_region_trail=False,
            include_global_service_events=False,
            kms_key_id=args.kms_key_arn,
            advanced_event_selectors=s3_write_selectors(args.object_arn_prefixes),
            tags=args.tags or None,
            # CloudTrail checks the bucket policy when the trail is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_bucket.policy]),
        )
        self.register_outputs({"trail_arn": self.trail.arn, "log_bucket": self.log_bucket.name})

