"""IAM: no wildcard actions in any policy document, no managed policies, trust scoped to one service
and this account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Res, as_list, known, parse_json, principal_is_everyone, rule, string_list
from .resource_types import (
    BUCKET_POLICY,
    IAM_POLICY,
    KMS_KEY,
    MANAGED_ATTACHMENT_TYPES,
    ROLE,
    ROLE_POLICY,
    SNS_TOPIC_POLICY,
    SQS_QUEUE_POLICY,
)

POLICY_DOCUMENT_PROPS: dict[str, tuple[str, ...]] = {
    ROLE: ("assumeRolePolicy",),
    ROLE_POLICY: ("policy",),
    IAM_POLICY: ("policy",),
    BUCKET_POLICY: ("policy",),
    SQS_QUEUE_POLICY: ("policy",),
    SNS_TOPIC_POLICY: ("policy",),
    KMS_KEY: ("policy",),
}
"""Properties that hold a JSON IAM policy document, per resource type."""

# Services that AWS documents no aws:SourceAccount / aws:SourceArn for when they assume a
# service role: a condition on a key the service doesn't send would deny every AssumeRole.
# iam:PassRole decides who may hand such a role to the service.
SERVICES_WITHOUT_SOURCE_KEYS = frozenset({"glue.amazonaws.com"})


def policy_documents(typ: str, props: Mapping) -> list[tuple[str, Any]]:
    """``(property, document)`` for every IAM policy document the resource carries."""
    found = [(prop, parse_json(props.get(prop))) for prop in POLICY_DOCUMENT_PROPS.get(typ, ())
             if props.get(prop) is not None]
    inline = props.get("inlinePolicies") if typ == ROLE else None
    if known(inline):
        found += [(f"inlinePolicies[{i}]", parse_json(item["policy"])) for i, item in enumerate(inline or [])
                  if known(item) and (item or {}).get("policy") is not None]
    return found


def _allow_statements(document: Any) -> list[tuple[int, Mapping]]:
    """``(index, statement)`` of the Allow statements of a policy document."""
    if not isinstance(document, Mapping):
        return []
    return [(i, s) for i, s in enumerate(as_list(document.get("Statement")))
            if isinstance(s, Mapping) and s.get("Effect") == "Allow"]


def wildcard_actions(document: Any) -> list[str]:
    """Problems of the Allow statements: ``*`` / ``service:*`` actions, NotAction, NotResource.
    Deny statements may be broad: the TLS-only statement denies s3:* on purpose."""
    problems = []
    for i, statement in _allow_statements(document):
        label = statement.get("Sid") or f"#{i}"
        for action in as_list(statement.get("Action")):
            if known(action) and (action == "*" or (isinstance(action, str) and action.endswith(":*"))):
                problems.append(f"statement {label} allows the wildcard action {action!r}; name each action")
        if "NotAction" in statement:
            problems.append(f"statement {label} allows with NotAction (everything else); name each action")
        if "NotResource" in statement:
            problems.append(f"statement {label} allows with NotResource; name each resource")
        if principal_is_everyone(statement.get("Principal")) and not statement.get("Condition"):
            problems.append(f"statement {label} allows everyone ('*' principal) without a condition")
    return problems


@rule("iam-no-wildcard-actions", types=POLICY_DOCUMENT_PROPS,
      requires="No Allow statement grants '*' or 'service:*', uses NotAction/NotResource, or allows '*' unconditionally.",
      mirrors="Security Hub IAM.1, IAM.21; checkov CKV_AWS_62, CKV_AWS_63")
def no_wildcards(r: Res) -> list[str]:
    return [f"{prop}: {problem}" for prop, document in policy_documents(r.type, r.props) if known(document)
            for problem in wildcard_actions(document)]


@rule("iam-no-managed-policies", types=(*MANAGED_ATTACHMENT_TYPES, ROLE),
      requires="Roles use inline policies; managed policies only where allow-listed.",
      mirrors="Security Hub IAM.1/IAM.21 (scope); custom",
      config={"allowedManagedPolicyArns": string_list([])})
def no_managed_policies(r: Res, config: dict) -> list[str]:
    """Inline, exactly scoped policies only; a managed policy only where AWS requires one (allow-listed)."""
    allowed = set(config["allowedManagedPolicyArns"])
    if r.type == ROLE:
        arns = r.props.get("managedPolicyArns")
        extra = [a for a in arns or [] if known(a) and a not in allowed] if known(arns) else []
        return [f"role attaches managed policies {extra}; use inline policies"] if extra else []
    arns = r.props.get("policyArns") if "policyArns" in r.props else [r.props.get("policyArn")]
    if not known(arns):
        return []
    return [(f"managed policy {arn} attached; use an inline policy scoped to the stack's ARNs "
             "(or allow-list the ARN in the pack config with the reason AWS requires it)")
            for arn in arns or [] if known(arn) and arn and arn not in allowed]


@rule("iam-trust-scoped-to-service-and-account", types=ROLE,
      requires="Roles trust one AWS service, limited by aws:SourceAccount / aws:SourceArn.",
      mirrors="AWS IAM confused-deputy guidance; custom")
def trust_policy(r: Res) -> list[str]:
    """Roles are assumable by one AWS service, limited to this account (confused deputy) where the
    service sends the source keys."""
    document = parse_json(r.props.get("assumeRolePolicy"))
    if not known(document):
        return []
    problems = []
    for i, statement in _allow_statements(document):
        principal = statement.get("Principal") or {}
        services = as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
        if not services or set(principal) - {"Service"}:
            problems.append(f"trust statement #{i} must name AWS service principals only")
            continue
        conditions = statement.get("Condition") or {}
        keys = {k for block in conditions.values() if isinstance(block, Mapping) for k in block}
        if not set(services) <= SERVICES_WITHOUT_SOURCE_KEYS and not keys & {
                "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID"}:
            problems.append(f"trust statement #{i} must limit the service with aws:SourceAccount or aws:SourceArn")
    return problems
