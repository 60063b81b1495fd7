"""One IAM role for one AWS service, with one inline policy: the pattern every component uses."""

from __future__ import annotations

import json
from typing import Callable

import pulumi
import pulumi_aws as aws

from builders import policies


def service_role(
    name: str,
    *,
    role_name: str,
    service: str,
    policy: pulumi.Input[str],
    parent: pulumi.Resource,
    description: str,
    account_id: str | None = None,
    source_arn: str | None = None,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """``<name>-role`` assumable by ``service`` only (for this account / source), with ``<name>-policy``.

    ``policy`` is the JSON policy document, plain or an Output. Pass
    ``account_id`` / ``source_arn`` only for services that AWS documents to send
    ``aws:SourceAccount`` / ``aws:SourceArn`` when they assume a role: a condition
    on a key the service doesn't send denies every AssumeRole.
    """
    role = aws.iam.Role(
        f"{name}-role",
        name=role_name,
        description=description,
        assume_role_policy=json.dumps(policies.assume_role_policy(service, account_id, source_arn)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    role_policy = aws.iam.RolePolicy(
        f"{name}-policy",
        role=role.id,
        policy=policy,
        opts=pulumi.ResourceOptions(parent=role),
    )
    return role, role_policy


def glue_role(
    name: str, *, role_name: str, policy: pulumi.Input[str], parent: pulumi.Resource, description: str
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role for Glue (job or crawler). Glue documents no confused-deputy keys for its
    service role, so the trust has no source condition: iam:PassRole decides who may
    hand the role to Glue, and roles can't be passed across accounts."""
    return service_role(
        name, role_name=role_name, service="glue.amazonaws.com", policy=policy, parent=parent, description=description
    )


def policy_document(build: Callable[..., dict], **inputs: pulumi.Input) -> pulumi.Output[str]:
    """``build(**inputs)`` as a JSON policy document once every input is known (builders are pure)."""
    return pulumi.Output.all(**inputs).apply(lambda values: json.dumps(build(**values)))
