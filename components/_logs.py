"""A CloudWatch log group with the stack's retention, encrypted with the stack key."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def log_group(
    resource_name: str,
    *,
    name: pulumi.Input[str],
    retention_days: int,
    kms_key_arn: pulumi.Input[str] | None,
    tags: dict[str, str] | None,
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    """The log group ``name`` (made by the stack, not left to the service to create
    unencrypted and kept forever), as child ``resource_name`` of ``parent``."""
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        retention_in_days=retention_days,
        kms_key_id=kms_key_arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
