"""The policy pack's checks as pure functions. No Pulumi inside.

Resource checks take ``(resource type token, props)`` and return a list of
violation messages (empty: compliant). ``props`` are the resource's inputs
with Pulumi's camelCase names, as the policy engine hands them over and as
the unit-test mocks record them. Stack checks take a list of ``Res`` (type,
name, props, the identifiers others may use for it, and what its properties
refer to) and return ``(message, resource name)`` pairs.

A value that is not known yet (``UNKNOWN``, during ``pulumi preview`` of a new
stack) is never a violation here: ``pulumi up`` checks every resource again
with its final inputs before creating it.

Each policy names the AWS Security Hub control and/or checkov check it mirrors
in ``CONTROLS`` (used for the policy descriptions and docs/security.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = object()
"""Stands for a value the engine doesn't know yet (preview)."""

REQUIRED_TAGS = ("project", "stack", "environment")
"""Tag keys every taggable resource carries through the provider's default tags."""

SUPPORTED_GLUE_VERSIONS = ("4.0", "5.0")
"""Glue versions in standard support (0.9, 1.0, 2.0 are end of life; 2.0 since 2026-04-01)."""

FINDMATCHES_GLUE_VERSION = "2.0"

# Resource types of this stack (and close relatives) whose pulumi-aws class takes
# ``tags``. tests/test_policy_pack.py keeps this equal to pulumi-aws' own classes
# for every type the rendered stacks contain.
TAGGABLE_TYPES = frozenset(
    {
        "aws:cloudtrail/trail:Trail",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:glue/catalogDatabase:CatalogDatabase",
        "aws:glue/crawler:Crawler",
        "aws:glue/job:Job",
        "aws:glue/mLTransform:MLTransform",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:sfn/stateMachine:StateMachine",
        "aws:sns/topic:Topic",
        "aws:sqs/queue:Queue",
    }
)

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_TYPES = (BUCKET, "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
TRAIL = "aws:cloudtrail/trail:Trail"
GLUE_JOB = "aws:glue/job:Job"
GLUE_CRAWLER = "aws:glue/crawler:Crawler"
GLUE_ML_TRANSFORM = "aws:glue/mLTransform:MLTransform"
GLUE_SECURITY_CONFIGURATION = "aws:glue/securityConfiguration:SecurityConfiguration"
SQS_QUEUE = "aws:sqs/queue:Queue"
SNS_TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_POLICY = "aws:iam/policy:Policy"
MANAGED_ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
)
GLUE_DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"

# Properties that hold a JSON IAM policy document, per resource type.
POLICY_DOCUMENT_PROPS: dict[str, tuple[str, ...]] = {
    ROLE: ("assumeRolePolicy",),
    ROLE_POLICY: ("policy",),
    IAM_POLICY: ("policy",),
    BUCKET_POLICY: ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    KMS_KEY: ("policy",),
}


def known(value: Any) -> bool:
    return value is not UNKNOWN


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def parse_json(value: Any) -> Any:
    """A JSON property (policy, defaultTags) as data; ``UNKNOWN`` when not known yet."""
    if not known(value):
        return UNKNOWN
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------- S3


def check_public_access_block(typ: str, props: Mapping) -> list[str]:
    if typ != PUBLIC_ACCESS_BLOCK:
        return []
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    off = [f for f in flags if known(props.get(f)) and not _truthy(props.get(f))]
    return [f"public access block must set {', '.join(off)} to true"] if off else []


def check_acls_disabled(typ: str, props: Mapping) -> list[str]:
    if typ in BUCKET_ACL_TYPES:
        return ["bucket ACLs are disabled (BucketOwnerEnforced); don't manage ACL resources"]
    if typ in BUCKET_TYPES:
        if props.get("acl") not in (None, "private", UNKNOWN) or props.get("grants"):
            return ["bucket must not set an ACL or grants (ACLs are disabled)"]
        return []
    if typ == OWNERSHIP_CONTROLS:
        rule = props.get("rule")
        if not known(rule):
            return []
        ownership = (rule or {}).get("objectOwnership")
        if known(ownership) and ownership != "BucketOwnerEnforced":
            return [f"object ownership must be BucketOwnerEnforced (ACLs disabled), not {ownership!r}"]
    return []


def check_default_encryption(typ: str, props: Mapping) -> list[str]:
    if typ not in SSE_TYPES:
        return []
    rules = props.get("rules")
    if not known(rules):
        return []
    if not rules:
        return ["default encryption needs a rule"]
    problems = []
    for rule in rules:
        by_default = (rule or {}).get("applyServerSideEncryptionByDefault")
        if not known(by_default):
            continue
        algorithm = (by_default or {}).get("sseAlgorithm")
        if known(algorithm) and algorithm not in ("AES256", "aws:kms", "aws:kms:dsse"):
            problems.append(f"default encryption must be SSE-S3 (AES256) or SSE-KMS, not {algorithm!r}")
    return problems


def check_versioning(typ: str, props: Mapping) -> list[str]:
    if typ not in VERSIONING_TYPES:
        return []
    config = props.get("versioningConfiguration")
    if not known(config):
        return []
    status = (config or {}).get("status")
    if known(status) and status != "Enabled":
        return [f"versioning must be Enabled, not {status!r}"]
    return []


def _enabled_rules(props: Mapping) -> list[dict] | None:
    rules = props.get("rules")
    if not known(rules):
        return None
    return [r for r in rules or [] if (r or {}).get("status") in ("Enabled", UNKNOWN)]


def check_lifecycle(typ: str, props: Mapping) -> list[str]:
    if typ not in LIFECYCLE_TYPES:
        return []
    rules = _enabled_rules(props)
    if rules is None:
        return []
    if not any((r.get("abortIncompleteMultipartUpload") or {}).get("daysAfterInitiation") for r in rules):
        return ["lifecycle must abort incomplete multipart uploads (an enabled rule with abortIncompleteMultipartUpload)"]
    return []


def _principal_is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in _as_list(principal.get("AWS"))
    return False


def denies_insecure_transport(document: Any, bucket_arn: str | None = None, bucket_name: str | None = None) -> bool:
    """True when a statement denies every S3 action to everyone when aws:SecureTransport is false
    (on the given bucket and its objects, when the bucket is known)."""
    if not isinstance(document, Mapping):
        return False
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        if not _principal_is_everyone(statement.get("Principal")):
            continue
        if not set(_as_list(statement.get("Action"))) & {"s3:*", "*"}:
            continue
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if str(condition.get("aws:SecureTransport", "")).lower() != "false":
            continue
        resources = set(_as_list(statement.get("Resource")))
        if bucket_arn and not {bucket_arn, f"{bucket_arn}/*"} <= resources:
            continue
        tails = {r.split(":::", 1)[1] for r in resources if isinstance(r, str) and ":::" in r}
        if bucket_name and not {bucket_name, f"{bucket_name}/*"} <= tails:
            continue
        return True
    return False


def check_bucket_policy_tls(typ: str, props: Mapping) -> list[str]:
    if typ != BUCKET_POLICY:
        return []
    document = parse_json(props.get("policy"))
    if not known(document):
        return []
    bucket = props.get("bucket")
    if not denies_insecure_transport(document, bucket_name=bucket if known(bucket) and bucket else None):
        return ["bucket policy must deny s3:* to everyone when aws:SecureTransport is false, "
                "on the bucket and its objects"]
    return []


# ---------------------------------------------------------------- CloudTrail


def check_trail_log_validation(typ: str, props: Mapping) -> list[str]:
    if typ != TRAIL:
        return []
    value = props.get("enableLogFileValidation")
    if known(value) and not _truthy(value):
        return ["trail must enable log file validation (enableLogFileValidation: true)"]
    return []


def _recorded_object_prefixes(props: Mapping) -> list[str] | None:
    """The S3 object ARN prefixes a trail records data events for (None: not known yet)."""
    prefixes: list[str] = []
    selectors = props.get("advancedEventSelectors")
    if not known(selectors):
        return None
    for selector in selectors or []:
        for field_selector in (selector or {}).get("fieldSelectors") or []:
            if field_selector.get("field") == "resources.ARN":
                for key in ("startsWiths", "equals"):
                    values = field_selector.get(key)
                    if not known(values):
                        return None
                    prefixes.extend(v for v in values or [] if known(v))
    for selector in props.get("eventSelectors") or [] if known(props.get("eventSelectors")) else []:
        for resource in (selector or {}).get("dataResources") or []:
            if resource.get("type") == "AWS::S3::Object":
                prefixes.extend(v for v in resource.get("values") or [] if known(v))
    return prefixes


def check_trail_logs_outside_watched(typ: str, props: Mapping) -> list[str]:
    """Trail logs must not land in a bucket the trail records writes in (it would trigger itself)."""
    if typ != TRAIL:
        return []
    bucket = props.get("s3BucketName")
    prefixes = _recorded_object_prefixes(props)
    if not known(bucket) or prefixes is None or not bucket:
        return []
    problems = []
    for prefix in prefixes:
        # arn:<partition>:s3:::<bucket>/<folder>/, a start of bucket names (arn:aws:s3:::etl-ttt-demo-),
        # or every object (arn:aws:s3, arn:aws:s3:::): does it take in the log bucket's objects?
        tail = prefix.split(":::", 1)[1] if ":::" in prefix else ""
        if tail in ("", "*") or f"{bucket}/".startswith(tail) or tail.startswith(f"{bucket}/"):
            problems.append(f"trail logs go to bucket {bucket}, which the trail records ({prefix}): "
                            "it would record its own log writes; use a log bucket of its own")
    return problems


def check_trail_kms(typ: str, props: Mapping) -> list[str]:
    """Advisory: KMS encryption of trail logs is a config choice (trailKmsEncryption)."""
    if typ != TRAIL:
        return []
    key = props.get("kmsKeyId")
    if known(key) and not key:
        return ["trail log files are SSE-S3 encrypted only; set trailKmsEncryption: true for SSE-KMS"]
    return []


# ---------------------------------------------------------------- Glue


def check_glue_security_configuration(typ: str, props: Mapping) -> list[str]:
    if typ != GLUE_SECURITY_CONFIGURATION:
        return []
    config = props.get("encryptionConfiguration")
    if not known(config):
        return []
    config = config or {}
    problems = []
    s3 = config.get("s3Encryption") or {}
    if known(s3) and s3.get("s3EncryptionMode") not in ("SSE-S3", "SSE-KMS", UNKNOWN):
        problems.append(f"S3 output must be encrypted (s3EncryptionMode SSE-S3 or SSE-KMS, not {s3.get('s3EncryptionMode')!r})")
    if known(s3) and s3.get("s3EncryptionMode") == "SSE-KMS" and not s3.get("kmsKeyArn"):
        problems.append("s3Encryption SSE-KMS needs a kmsKeyArn")
    cloudwatch = config.get("cloudwatchEncryption") or {}
    if known(cloudwatch) and (cloudwatch.get("cloudwatchEncryptionMode") not in ("SSE-KMS", UNKNOWN)
                              or not cloudwatch.get("kmsKeyArn")):
        problems.append("CloudWatch logs must be encrypted (cloudwatchEncryptionMode SSE-KMS with a kmsKeyArn)")
    bookmarks = config.get("jobBookmarksEncryption") or {}
    if known(bookmarks) and (bookmarks.get("jobBookmarksEncryptionMode") not in ("CSE-KMS", UNKNOWN)
                             or not bookmarks.get("kmsKeyArn")):
        problems.append("job bookmarks must be encrypted (jobBookmarksEncryptionMode CSE-KMS with a kmsKeyArn)")
    return problems


def check_glue_uses_security_configuration(typ: str, props: Mapping) -> list[str]:
    if typ not in (GLUE_JOB, GLUE_CRAWLER):
        return []
    value = props.get("securityConfiguration")
    if known(value) and not value:
        return ["Glue job/crawler must name a security configuration (securityConfiguration)"]
    return []


def check_glue_version(typ: str, props: Mapping, *, findmatches_opt_in: bool = False,
                       supported: Iterable[str] = SUPPORTED_GLUE_VERSIONS) -> list[str]:
    """Jobs and ML transforms run on a supported Glue version; 2.0 only with the FindMatches opt-in."""
    if typ not in (GLUE_JOB, GLUE_ML_TRANSFORM):
        return []
    version = props.get("glueVersion")
    if not known(version):
        return []
    command = props.get("command") or {}
    if typ == GLUE_JOB and known(command) and command.get("name") == "pythonshell":
        return []  # Python shell jobs take 1.0 / 3.0 and follow their own support policy
    allowed = set(supported) | ({FINDMATCHES_GLUE_VERSION} if findmatches_opt_in else set())
    if version not in allowed:
        return [(f"Glue version {version!r} is not supported (use one of {', '.join(sorted(supported))}; "
                "2.0 only with matcher=findmatches, end of life since 2026-04-01)")]
    return []


# ---------------------------------------------------------------- queues, topics, logs, keys


def check_sqs_encrypted(typ: str, props: Mapping) -> list[str]:
    if typ != SQS_QUEUE:
        return []
    sse, key = props.get("sqsManagedSseEnabled"), props.get("kmsMasterKeyId")
    if not known(sse) or not known(key):
        return []
    if not _truthy(sse) and not key:
        return ["queue must be encrypted at rest (sqsManagedSseEnabled or kmsMasterKeyId)"]
    return []


def check_sns_encrypted(typ: str, props: Mapping) -> list[str]:
    if typ != SNS_TOPIC:
        return []
    key = props.get("kmsMasterKeyId")
    if known(key) and not key:
        return ["topic must be encrypted with a KMS key (kmsMasterKeyId)"]
    return []


def check_log_group(typ: str, props: Mapping) -> list[str]:
    if typ != LOG_GROUP:
        return []
    problems = []
    retention, key = props.get("retentionInDays"), props.get("kmsKeyId")
    if known(retention) and not retention:
        problems.append("log group must have a retention (retentionInDays; 0 or unset keeps logs forever)")
    if known(key) and not key:
        problems.append("log group must be encrypted with a KMS key (kmsKeyId)")
    return problems


def check_kms_rotation(typ: str, props: Mapping) -> list[str]:
    if typ != KMS_KEY:
        return []
    spec = props.get("customerMasterKeySpec") or props.get("keySpec") or "SYMMETRIC_DEFAULT"
    rotation = props.get("enableKeyRotation")
    if known(rotation) and spec == "SYMMETRIC_DEFAULT" and not _truthy(rotation):
        return ["symmetric KMS key must enable automatic rotation (enableKeyRotation: true)"]
    return []


# ---------------------------------------------------------------- IAM


def policy_documents(typ: str, props: Mapping) -> list[tuple[str, Any]]:
    """``(property, document)`` for every IAM policy document the resource carries."""
    found = []
    for prop in POLICY_DOCUMENT_PROPS.get(typ, ()):
        if props.get(prop) is not None:
            found.append((prop, parse_json(props.get(prop))))
    if typ == ROLE:
        inline = props.get("inlinePolicies")
        if known(inline):
            for i, item in enumerate(inline or []):
                if known(item) and (item or {}).get("policy") is not None:
                    found.append((f"inlinePolicies[{i}]", parse_json(item["policy"])))
    return found


def wildcard_actions(document: Any) -> list[str]:
    """Problems of the Allow statements: ``*`` / ``service:*`` actions, NotAction, NotResource."""
    if not isinstance(document, Mapping):
        return []
    problems = []
    for i, statement in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            # Deny statements may be broad: the TLS-only statement denies s3:* on purpose.
            continue
        label = statement.get("Sid") or f"#{i}"
        for action in _as_list(statement.get("Action")):
            if not known(action):
                continue
            if action == "*" or (isinstance(action, str) and action.endswith(":*")):
                problems.append(f"statement {label} allows the wildcard action {action!r}; name each action")
        if "NotAction" in statement:
            problems.append(f"statement {label} allows with NotAction (everything else); name each action")
        if "NotResource" in statement:
            problems.append(f"statement {label} allows with NotResource; name each resource")
        if _principal_is_everyone(statement.get("Principal")) and not statement.get("Condition"):
            problems.append(f"statement {label} allows everyone ('*' principal) without a condition")
    return problems


def check_iam_no_wildcards(typ: str, props: Mapping) -> list[str]:
    problems = []
    for prop, document in policy_documents(typ, props):
        if known(document):
            problems.extend(f"{prop}: {p}" for p in wildcard_actions(document))
    return problems


def check_no_managed_policies(typ: str, props: Mapping, *, allowed: Iterable[str] = ()) -> list[str]:
    """Inline, exactly scoped policies only; a managed policy only where AWS requires one (allow-listed)."""
    allowed = set(allowed)
    if typ in MANAGED_ATTACHMENT_TYPES:
        arns = props.get("policyArns") if "policyArns" in props else [props.get("policyArn")]
        if not known(arns):
            return []
        return [(f"managed policy {arn} attached; use an inline policy scoped to the stack's ARNs "
                 "(or allow-list the ARN in the pack config with the reason AWS requires it)")
                for arn in arns or [] if known(arn) and arn and arn not in allowed]
    if typ == ROLE:
        arns = props.get("managedPolicyArns")
        if known(arns):
            extra = [a for a in arns or [] if known(a) and a not in allowed]
            if extra:
                return [f"role attaches managed policies {extra}; use inline policies"]
    return []


# Services that AWS documents no aws:SourceAccount / aws:SourceArn for when they assume a
# service role: a condition on a key the service doesn't send would deny every AssumeRole.
# iam:PassRole decides who may hand such a role to the service.
SERVICES_WITHOUT_SOURCE_KEYS = frozenset({"glue.amazonaws.com"})


def check_trust_policy(typ: str, props: Mapping) -> list[str]:
    """Roles are assumable by one AWS service, limited to this account (confused deputy)
    where the service sends the source keys."""
    if typ != ROLE:
        return []
    document = parse_json(props.get("assumeRolePolicy"))
    if not known(document) or not isinstance(document, Mapping):
        return []
    problems = []
    for i, statement in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        services = _as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
        if not services or (isinstance(principal, Mapping) and set(principal) - {"Service"}):
            problems.append(f"trust statement #{i} must name AWS service principals only")
            continue
        conditions = statement.get("Condition") or {}
        keys = {k for block in conditions.values() if isinstance(block, Mapping) for k in block}
        if set(services) <= SERVICES_WITHOUT_SOURCE_KEYS:
            continue
        if not keys & {"aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID"}:
            problems.append(f"trust statement #{i} must limit the service with aws:SourceAccount or aws:SourceArn")
    return problems


# ---------------------------------------------------------------- tags and data protection


def provider_default_tags(provider_props: Mapping | None) -> dict:
    """The ``defaultTags.tags`` of an AWS provider's inputs (JSON-encoded or not)."""
    if not provider_props:
        return {}
    default_tags = parse_json(provider_props.get("defaultTags"))
    if not known(default_tags) or not isinstance(default_tags, Mapping):
        return {}
    tags = default_tags.get("tags") or {}
    return dict(tags) if isinstance(tags, Mapping) else {}


def check_tags(typ: str, props: Mapping, provider_props: Mapping | None,
               required: Iterable[str] = REQUIRED_TAGS) -> list[str]:
    if typ not in TAGGABLE_TYPES:
        return []
    own = props.get("tags")
    if not known(own):
        return []
    tags = {**provider_default_tags(provider_props), **(own or {})}
    missing = [k for k in required if not tags.get(k)]
    if missing:
        return [f"missing tags {missing}: create it with the stack's aws provider, whose default_tags carry them"]
    return []


RESOURCE_CHECKS: dict[str, Callable[[str, Mapping], list[str]]] = {
    "s3-public-access-block": check_public_access_block,
    "s3-acls-disabled": check_acls_disabled,
    "s3-default-encryption": check_default_encryption,
    "s3-versioning-enabled": check_versioning,
    "s3-lifecycle-aborts-multipart": check_lifecycle,
    "s3-tls-only": check_bucket_policy_tls,
    "cloudtrail-log-file-validation": check_trail_log_validation,
    "cloudtrail-logs-outside-watched-folder": check_trail_logs_outside_watched,
    "glue-security-configuration-encrypts-all": check_glue_security_configuration,
    "glue-job-crawler-security-configuration": check_glue_uses_security_configuration,
    "sqs-encrypted": check_sqs_encrypted,
    "sns-encrypted": check_sns_encrypted,
    "log-group-retention-and-kms": check_log_group,
    "kms-key-rotation": check_kms_rotation,
    "iam-no-wildcard-actions": check_iam_no_wildcards,
    "iam-no-managed-policies": check_no_managed_policies,
    "iam-trust-scoped-to-service-and-account": check_trust_policy,
}
"""Mandatory resource policies that need nothing but the resource's own props."""

ADVISORY_RESOURCE_CHECKS: dict[str, Callable[[str, Mapping], list[str]]] = {
    "cloudtrail-kms-encryption": check_trail_kms,
}


# ---------------------------------------------------------------- stack checks


@dataclass
class Res:
    """One resource of the stack, as stack checks see it."""

    type: str
    name: str
    props: Mapping
    ids: frozenset = frozenset()
    """What other resources may use to refer to this one (id, name, ARN, URN)."""
    refs: Mapping[str, frozenset] = field(default_factory=dict)
    """Per property: what it refers to (its value and the URNs it depends on)."""
    protect: bool = False

    def ref(self, prop: str) -> frozenset:
        value = self.props.get(prop)
        values = {value} if isinstance(value, str) and known(value) else set()
        return frozenset(values | set(self.refs.get(prop, ())))


def _children_by_bucket(resources: list[Res], types: tuple[str, ...], prop: str = "bucket") -> dict[str, list[Res]]:
    found: dict[str, list[Res]] = {}
    buckets = [r for r in resources if r.type in BUCKET_TYPES]
    for child in (r for r in resources if r.type in types):
        refs = child.ref(prop)
        for bucket in buckets:
            if refs & bucket.ids:
                found.setdefault(bucket.name, []).append(child)
    return found


def check_bucket_companions(resources: list[Res]) -> list[tuple[str, str]]:
    """Every bucket has a public access block, BucketOwnerEnforced ownership, default encryption,
    versioning, a lifecycle (with expiry when it holds trail logs) and a TLS-only policy."""
    problems: list[tuple[str, str]] = []
    needed = {
        "public access block": ((PUBLIC_ACCESS_BLOCK,), "bucket"),
        "ownership controls (ACLs disabled)": ((OWNERSHIP_CONTROLS,), "bucket"),
        "default encryption configuration": (SSE_TYPES, "bucket"),
        "versioning": (VERSIONING_TYPES, "bucket"),
        "lifecycle configuration": (LIFECYCLE_TYPES, "bucket"),
        "bucket policy": ((BUCKET_POLICY,), "bucket"),
    }
    linked = {what: _children_by_bucket(resources, types, prop) for what, (types, prop) in needed.items()}
    trail_buckets = set()
    for trail in (r for r in resources if r.type == TRAIL):
        trail_buckets |= trail.ref("s3BucketName")
    for bucket in (r for r in resources if r.type in BUCKET_TYPES):
        for what, by_bucket in linked.items():
            if bucket.name not in by_bucket:
                problems.append((f"bucket {bucket.name} has no {what}", bucket.name))
        for policy in linked["bucket policy"].get(bucket.name, []):
            document = parse_json(policy.props.get("policy"))
            arns = sorted(i for i in bucket.ids if isinstance(i, str) and i.startswith("arn:"))
            if known(document) and not denies_insecure_transport(document, arns[0] if arns else None):
                problems.append((f"bucket {bucket.name}'s policy doesn't deny non-TLS requests", bucket.name))
        if trail_buckets & bucket.ids:
            for lifecycle in linked["lifecycle configuration"].get(bucket.name, []):
                rules = _enabled_rules(lifecycle.props)
                if rules is not None and not any((r.get("expiration") or {}).get("days") for r in rules):
                    problems.append(((f"trail log bucket {bucket.name} needs a lifecycle rule that expires logs "
                                     "(trailLogExpirationDays)"), bucket.name))
        for lifecycle in linked["lifecycle configuration"].get(bucket.name, []):
            rules = _enabled_rules(lifecycle.props)
            if rules is not None and bucket.name in linked["versioning"] and not any(
                (r.get("noncurrentVersionExpiration") or {}).get("noncurrentDays") for r in rules
            ):
                problems.append(((f"versioned bucket {bucket.name} needs a lifecycle rule expiring non-current "
                                 "versions (noncurrentVersionExpirationDays)"), bucket.name))
    return problems


def check_glue_security_configuration_exists(resources: list[Res]) -> list[tuple[str, str]]:
    """Every Glue job and crawler names a security configuration of this stack that encrypts everything."""
    configurations = {r.props.get("name"): r for r in resources if r.type == GLUE_SECURITY_CONFIGURATION}
    ids = set()
    for r in configurations.values():
        ids |= set(r.ids)
    problems = []
    for r in resources:
        if r.type not in (GLUE_JOB, GLUE_CRAWLER):
            continue
        refs = r.ref("securityConfiguration")
        value = r.props.get("securityConfiguration")
        if not known(value):
            continue
        if not value:
            problems.append((f"{r.name} has no security configuration", r.name))
        elif not (refs & (set(configurations) | ids)):
            problems.append((f"{r.name} names security configuration {value!r}, which this stack doesn't define", r.name))
    return problems


def findmatches_opt_in(resources: list[Res]) -> bool:
    """The stack chose the FindMatches matcher: it defines a FIND_MATCHES ML transform."""
    for r in resources:
        if r.type == GLUE_ML_TRANSFORM:
            parameters = r.props.get("parameters") or {}
            if known(parameters) and parameters.get("transformType") == "FIND_MATCHES":
                return True
    return False


def check_glue_versions(resources: list[Res], supported: Iterable[str] = SUPPORTED_GLUE_VERSIONS) -> list[tuple[str, str]]:
    opt_in = findmatches_opt_in(resources)
    return [
        (f"{r.name}: {message}", r.name)
        for r in resources
        for message in check_glue_version(r.type, r.props, findmatches_opt_in=opt_in, supported=supported)
    ]


def check_data_protection(resources: list[Res], require: bool = True) -> list[tuple[str, str]]:
    """Production stacks (pack config requireDataProtection): no bucket force-destroys its objects, and the
    data (every bucket but trail log buckets, every Glue database) is protected from deletion."""
    if not require:
        return []
    trail_buckets: set = set()
    for trail in (r for r in resources if r.type == TRAIL):
        trail_buckets |= trail.ref("s3BucketName")
    problems = []
    for r in resources:
        if r.type in BUCKET_TYPES and _truthy(r.props.get("forceDestroy")):
            problems.append(((f"bucket {r.name} has forceDestroy: destroy would delete its objects "
                             "(protectData: true)"), r.name))
        is_data = r.type == GLUE_DATABASE or (r.type in BUCKET_TYPES and not (trail_buckets & r.ids))
        if is_data and not r.protect:
            problems.append(((f"{r.name} holds data and must be protected (protectData: true sets "
                             "protect and retainOnDelete)"), r.name))
    return problems


STACK_CHECKS: dict[str, Callable[[list[Res]], list[tuple[str, str]]]] = {
    "s3-bucket-secure-companions": check_bucket_companions,
    "glue-security-configuration-attached": check_glue_security_configuration_exists,
    "glue-supported-version": check_glue_versions,
}


CONTROLS: dict[str, tuple[str, str]] = {
    # name: (what it requires, the controls it mirrors)
    "s3-public-access-block": ("All four S3 public access blocks are on.",
                               "Security Hub S3.8; checkov CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56"),
    "s3-acls-disabled": ("S3 ACLs are disabled (object ownership BucketOwnerEnforced, no ACL resources).",
                         "Security Hub S3.12; checkov CKV2_AWS_65"),
    "s3-default-encryption": ("S3 default encryption is SSE-S3 or SSE-KMS.",
                              "Security Hub S3.17 (KMS); checkov CKV_AWS_19, CKV_AWS_145 (KMS)"),
    "s3-versioning-enabled": ("S3 versioning resources enable versioning.", "Security Hub S3.14; checkov CKV_AWS_21"),
    "s3-lifecycle-aborts-multipart": ("S3 lifecycle aborts incomplete multipart uploads.",
                                      "Security Hub S3.13; checkov CKV_AWS_300, CKV2_AWS_61"),
    "s3-tls-only": ("Bucket policies deny every non-TLS request (aws:SecureTransport false).",
                    "Security Hub S3.5; AWS Config s3-bucket-ssl-requests-only; CIS AWS 2.1.1"),
    "s3-bucket-secure-companions": (
        ("Every bucket has a public access block, ownership controls, default encryption, versioning, a lifecycle "
        "(non-current version expiry; log expiry for trail log buckets) and a TLS-only policy."),
        "Security Hub S3.5, S3.8, S3.12, S3.13, S3.14; checkov CKV2_AWS_6, CKV2_AWS_61, CKV2_AWS_65"),
    "cloudtrail-log-file-validation": ("Trails validate log files.", "Security Hub CloudTrail.4; checkov CKV_AWS_36"),
    "cloudtrail-logs-outside-watched-folder": (
        "Trail logs go to a bucket the trail doesn't record (no self-triggering).", "custom (DESIGN.md §3)"),
    "cloudtrail-kms-encryption": ("Advisory: trail logs encrypted with KMS (optional, trailKmsEncryption).",
                                  "Security Hub CloudTrail.2; checkov CKV_AWS_35"),
    "glue-security-configuration-encrypts-all": (
        "Glue security configurations encrypt S3 output, CloudWatch logs (SSE-KMS) and job bookmarks (CSE-KMS).",
        "checkov CKV_AWS_99"),
    "glue-job-crawler-security-configuration": ("Glue jobs and crawlers name a security configuration.",
                                                "checkov CKV_AWS_195"),
    "glue-security-configuration-attached": (
        "Glue jobs and crawlers use a security configuration defined in the stack.", "checkov CKV_AWS_195"),
    "glue-supported-version": ("Glue jobs run on a supported Glue version (2.0 only with the FindMatches opt-in).",
                               "Security Hub Glue.4"),
    "sqs-encrypted": ("SQS queues are encrypted at rest.", "Security Hub SQS.1; checkov CKV_AWS_27"),
    "sns-encrypted": ("SNS topics are encrypted with KMS.", "Security Hub SNS.1; checkov CKV_AWS_26"),
    "log-group-retention-and-kms": ("Log groups have a retention and a KMS key.",
                                    "Security Hub CloudWatch.16; checkov CKV_AWS_66, CKV_AWS_158, CKV_AWS_338"),
    "kms-key-rotation": ("Symmetric KMS keys rotate.", "Security Hub KMS.4; checkov CKV_AWS_7"),
    "iam-no-wildcard-actions": (
        "No Allow statement grants '*' or 'service:*', uses NotAction/NotResource, or allows '*' unconditionally.",
        "Security Hub IAM.1, IAM.21; checkov CKV_AWS_62, CKV_AWS_63"),
    "iam-no-managed-policies": ("Roles use inline policies; managed policies only where allow-listed.",
                                "Security Hub IAM.1/IAM.21 (scope); custom"),
    "iam-trust-scoped-to-service-and-account": (
        "Roles trust one AWS service, limited by aws:SourceAccount / aws:SourceArn.",
        "AWS IAM confused-deputy guidance; custom"),
    "default-tags": ("Every taggable resource carries project, stack and environment tags (and owner when set).",
                     "Security Hub resource-tagging controls (e.g. CloudTrail.9, SNS.3, SQS.2)"),
    "data-protection": (("With pack config requireDataProtection: buckets don't force-destroy; data bucket and "
                        "database are protected."), "custom"),
}
