"""S3 buckets and their companions (public access, ACLs, encryption, versioning, lifecycle, TLS),
and the protection of the stack's data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import UNKNOWN, Res, as_list, known, parse_json, principal_is_everyone, rule, truthy
from .resource_types import (
    BUCKET_ACL_TYPES,
    BUCKET_POLICY,
    BUCKET_TYPES,
    GLUE_DATABASE,
    LIFECYCLE_TYPES,
    OWNERSHIP_CONTROLS,
    PUBLIC_ACCESS_BLOCK,
    SSE_TYPES,
    TRAIL,
    VERSIONING_TYPES,
)


@rule("s3-public-access-block", types=PUBLIC_ACCESS_BLOCK,
      requires="All four S3 public access blocks are on.",
      mirrors="Security Hub S3.8; checkov CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56")
def public_access_block(r: Res) -> list[str]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    off = [f for f in flags if known(r.props.get(f)) and not truthy(r.props.get(f))]
    return [f"public access block must set {', '.join(off)} to true"] if off else []


@rule("s3-acls-disabled", types=(*BUCKET_ACL_TYPES, *BUCKET_TYPES, OWNERSHIP_CONTROLS),
      requires="S3 ACLs are disabled (object ownership BucketOwnerEnforced, no ACL resources).",
      mirrors="Security Hub S3.12; checkov CKV2_AWS_65")
def acls_disabled(r: Res) -> list[str]:
    if r.type in BUCKET_ACL_TYPES:
        return ["bucket ACLs are disabled (BucketOwnerEnforced); don't manage ACL resources"]
    if r.type in BUCKET_TYPES:
        if r.props.get("acl") not in (None, "private", UNKNOWN) or r.props.get("grants"):
            return ["bucket must not set an ACL or grants (ACLs are disabled)"]
        return []
    ownership = _get(r.props, "rule", "objectOwnership")
    if known(ownership) and ownership != "BucketOwnerEnforced":
        return [f"object ownership must be BucketOwnerEnforced (ACLs disabled), not {ownership!r}"]
    return []


def _get(props: Any, *path: str) -> Any:
    """``props[a][b]...``: None where a level is missing, ``UNKNOWN`` where one is not known yet."""
    for key in path:
        if not known(props):
            return UNKNOWN
        props = (props or {}).get(key)
    return props


@rule("s3-default-encryption", types=SSE_TYPES,
      requires="S3 default encryption is SSE-S3 or SSE-KMS.",
      mirrors="Security Hub S3.17 (KMS); checkov CKV_AWS_19, CKV_AWS_145 (KMS)")
def default_encryption(r: Res) -> list[str]:
    rules = r.props.get("rules")
    if not known(rules):
        return []
    if not rules:
        return ["default encryption needs a rule"]
    algorithms = [_get(item, "applyServerSideEncryptionByDefault", "sseAlgorithm") for item in rules]
    return [f"default encryption must be SSE-S3 (AES256) or SSE-KMS, not {algorithm!r}"
            for algorithm in algorithms if known(algorithm) and algorithm not in ("AES256", "aws:kms", "aws:kms:dsse")]


@rule("s3-versioning-enabled", types=VERSIONING_TYPES,
      requires="S3 versioning resources enable versioning.", mirrors="Security Hub S3.14; checkov CKV_AWS_21")
def versioning(r: Res) -> list[str]:
    status = _get(r.props, "versioningConfiguration", "status")
    if known(status) and status != "Enabled":
        return [f"versioning must be Enabled, not {status!r}"]
    return []


def enabled_rules(props: Any) -> list[dict] | None:
    """The enabled (or not yet known) rules of a lifecycle configuration; None: not known yet."""
    rules = props.get("rules")
    if not known(rules):
        return None
    return [item for item in rules or [] if (item or {}).get("status") in ("Enabled", UNKNOWN)]


@rule("s3-lifecycle-aborts-multipart", types=LIFECYCLE_TYPES,
      requires="S3 lifecycle aborts incomplete multipart uploads.",
      mirrors="Security Hub S3.13; checkov CKV_AWS_300, CKV2_AWS_61")
def lifecycle(r: Res) -> list[str]:
    rules = enabled_rules(r.props)
    if rules is not None and not _any_rule_sets(rules, "abortIncompleteMultipartUpload", "daysAfterInitiation"):
        return ["lifecycle must abort incomplete multipart uploads (an enabled rule with abortIncompleteMultipartUpload)"]
    return []


def _any_rule_sets(rules: list[dict], block: str, key: str) -> bool:
    return any((item.get(block) or {}).get(key) for item in rules)


def denies_insecure_transport(document: Any, bucket_arn: str | None = None, bucket_name: str | None = None) -> bool:
    """True when a statement denies every S3 action to everyone when aws:SecureTransport is false
    (on the given bucket and its objects, when the bucket is known)."""
    if not isinstance(document, Mapping):
        return False
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        if not principal_is_everyone(statement.get("Principal")):
            continue
        if not set(as_list(statement.get("Action"))) & {"s3:*", "*"}:
            continue
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if str(condition.get("aws:SecureTransport", "")).lower() != "false":
            continue
        resources = set(as_list(statement.get("Resource")))
        if bucket_arn and not {bucket_arn, f"{bucket_arn}/*"} <= resources:
            continue
        tails = {item.split(":::", 1)[1] for item in resources if isinstance(item, str) and ":::" in item}
        if bucket_name and not {bucket_name, f"{bucket_name}/*"} <= tails:
            continue
        return True
    return False


@rule("s3-tls-only", types=BUCKET_POLICY,
      requires="Bucket policies deny every non-TLS request (aws:SecureTransport false).",
      mirrors="Security Hub S3.5; AWS Config s3-bucket-ssl-requests-only; CIS AWS 2.1.1")
def bucket_policy_tls(r: Res) -> list[str]:
    document = parse_json(r.props.get("policy"))
    if not known(document):
        return []
    bucket = r.props.get("bucket")
    if not denies_insecure_transport(document, bucket_name=bucket if known(bucket) and bucket else None):
        return ["bucket policy must deny s3:* to everyone when aws:SecureTransport is false, "
                "on the bucket and its objects"]
    return []


# ---------------------------------------------------------------- stack rules


def _children_by_bucket(resources: list[Res], types: tuple[str, ...]) -> dict[str, list[Res]]:
    found: dict[str, list[Res]] = {}
    buckets = [r for r in resources if r.type in BUCKET_TYPES]
    for child in (r for r in resources if r.type in types):
        refs = child.ref("bucket")
        for bucket in buckets:
            if refs & bucket.ids:
                found.setdefault(bucket.name, []).append(child)
    return found


def trail_log_buckets(resources: list[Res]) -> set:
    """What the stack's trails name as their log bucket."""
    found: set = set()
    for trail in (r for r in resources if r.type == TRAIL):
        found |= trail.ref("s3BucketName")
    return found


COMPANIONS = {
    "public access block": (PUBLIC_ACCESS_BLOCK,),
    "ownership controls (ACLs disabled)": (OWNERSHIP_CONTROLS,),
    "default encryption configuration": SSE_TYPES,
    "versioning": VERSIONING_TYPES,
    "lifecycle configuration": LIFECYCLE_TYPES,
    "bucket policy": (BUCKET_POLICY,),
}


@rule("s3-bucket-secure-companions",
      requires=("Every bucket has a public access block, ownership controls, default encryption, versioning, a "
                "lifecycle (non-current version expiry; log expiry for trail log buckets) and a TLS-only policy."),
      mirrors="Security Hub S3.5, S3.8, S3.12, S3.13, S3.14; checkov CKV2_AWS_6, CKV2_AWS_61, CKV2_AWS_65")
def bucket_companions(resources: list[Res]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    linked = {what: _children_by_bucket(resources, types) for what, types in COMPANIONS.items()}
    logs = trail_log_buckets(resources)
    for bucket in (r for r in resources if r.type in BUCKET_TYPES):
        for what, by_bucket in linked.items():
            if bucket.name not in by_bucket:
                problems.append((f"bucket {bucket.name} has no {what}", bucket.name))
        for policy in linked["bucket policy"].get(bucket.name, []):
            document = parse_json(policy.props.get("policy"))
            arns = sorted(i for i in bucket.ids if isinstance(i, str) and i.startswith("arn:"))
            if known(document) and not denies_insecure_transport(document, arns[0] if arns else None):
                problems.append((f"bucket {bucket.name}'s policy doesn't deny non-TLS requests", bucket.name))
        for configuration in linked["lifecycle configuration"].get(bucket.name, []):
            rules = enabled_rules(configuration.props)
            if rules is None:
                continue
            if logs & bucket.ids and not _any_rule_sets(rules, "expiration", "days"):
                problems.append(((f"trail log bucket {bucket.name} needs a lifecycle rule that expires logs "
                                  "(trailLogExpirationDays)"), bucket.name))
            if bucket.name in linked["versioning"] and not _any_rule_sets(
                    rules, "noncurrentVersionExpiration", "noncurrentDays"):
                problems.append(((f"versioned bucket {bucket.name} needs a lifecycle rule expiring non-current "
                                  "versions (noncurrentVersionExpirationDays)"), bucket.name))
    return problems


@rule("data-protection",
      requires=("With pack config requireDataProtection: buckets don't force-destroy; data bucket and "
                "database are protected."),
      mirrors="custom", config={"requireDataProtection": {"type": "boolean", "default": False}})
def data_protection(resources: list[Res], config: dict) -> list[tuple[str, str]]:
    """Production stacks: no bucket force-destroys its objects, and the data (every bucket but trail
    log buckets, every Glue database) is protected from deletion."""
    if not config["requireDataProtection"]:
        return []
    logs = trail_log_buckets(resources)
    problems = []
    for r in resources:
        if r.type in BUCKET_TYPES and truthy(r.props.get("forceDestroy")):
            problems.append(((f"bucket {r.name} has forceDestroy: destroy would delete its objects "
                              "(protectData: true)"), r.name))
        is_data = r.type == GLUE_DATABASE or (r.type in BUCKET_TYPES and not (logs & r.ids))
        if is_data and not r.protect:
            problems.append(((f"{r.name} holds data and must be protected (protectData: true sets "
                              "protect and retainOnDelete)"), r.name))
    return problems
