"""The policy pack (policy/): every check on passing and failing props, the pack wrapper, and the
rendered stacks (dev, a workshop stack, a production-like SSE-KMS stack) against every policy,
the provider's default tags and parliament.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import runpy
import sys
from pathlib import Path

import pytest
from conftest import REPO, RecordingMocks, render_stack, stack_config
from parliament import analyze_policy_string

sys.path.insert(0, str(REPO / "policy"))
import checks  # noqa: E402  (policy/ is the pack's root folder, not a package)
from checks import UNKNOWN, Res  # noqa: E402

PROVIDER = "pulumi:providers:aws"

WORKSHOP = {
    "environment": "workshop",
    "owner": "student-07",
    "protectData": False,
    "triggerSource": "s3-eventbridge",
    "trailMode": "none",
    "encryption": "sse-kms",
}
PRODUCTION_KMS = {
    "environment": "prod",
    "owner": "data-platform-team",
    "protectData": True,
    "encryption": "sse-kms",
    "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-1111-2222-3333-444455556666",
    "trailKmsEncryption": True,
}
STACKS = {
    "dev": (lambda: stack_config("dev"), "dev"),
    "workshop": (lambda: WORKSHOP, "student-07"),
    "prod-kms": (lambda: PRODUCTION_KMS, "prod"),
}


@pytest.fixture(scope="module", params=sorted(STACKS))
def stack(request) -> tuple[str, dict, RecordingMocks]:
    config_of, stack_name = STACKS[request.param]
    config = config_of()
    return request.param, config, render_stack(config, stack=stack_name)


def as_res(mocks: RecordingMocks) -> list[Res]:
    """The mocks' resources as the stack checks see them: ids from outputs, refs are the input values."""
    resources = []
    for r in mocks.resources:
        if r.typ.startswith("pulumi:") or not r.typ.startswith("aws:"):
            continue
        ids = {r.outputs.get(k) for k in ("id", "bucket", "name", "arn")} - {None}
        resources.append(Res(r.typ, r.name, r.inputs, frozenset(ids)))
    return resources


# ------------------------------------------------------------------ resource checks, one by one

PAB = checks.PUBLIC_ACCESS_BLOCK
SSE = checks.SSE_TYPES[0]
LIFECYCLE = checks.LIFECYCLE_TYPES[0]
VERSIONING = checks.VERSIONING_TYPES[0]
ALL_BLOCKS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
              "restrictPublicBuckets": True, "bucket": "b"}
TLS_DENY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
SECURITY_CONFIGURATION = {"encryptionConfiguration": {
    "s3Encryption": {"s3EncryptionMode": "SSE-S3"},
    "cloudwatchEncryption": {"cloudwatchEncryptionMode": "SSE-KMS", "kmsKeyArn": "arn:aws:kms:k"},
    "jobBookmarksEncryption": {"jobBookmarksEncryptionMode": "CSE-KMS", "kmsKeyArn": "arn:aws:kms:k"},
}}
TRAIL = {
    "s3BucketName": "trail-logs",
    "enableLogFileValidation": True,
    "advancedEventSelectors": [{"fieldSelectors": [
        {"field": "eventCategory", "equals": ["Data"]},
        {"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::data/watched/"]},
    ]}],
}
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]}


def _doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action, resource="arn:aws:s3:::b/*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _with(props: dict, path: str, value) -> dict:
    changed = copy.deepcopy(props)
    *parents, last = path.split(".")
    target = changed
    for key in parents:
        target = target[key]
    target[last] = value
    return changed


CASES = [
    # (check, type, passing props, failing props)
    ("s3-public-access-block", PAB, ALL_BLOCKS, _with(ALL_BLOCKS, "restrictPublicBuckets", False)),
    ("s3-public-access-block", PAB, ALL_BLOCKS, {k: v for k, v in ALL_BLOCKS.items() if k != "blockPublicAcls"}),
    ("s3-acls-disabled", checks.OWNERSHIP_CONTROLS, {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
     {"rule": {"objectOwnership": "ObjectWriter"}}),
    ("s3-acls-disabled", checks.BUCKET, {"bucket": "b"}, {"bucket": "b", "acl": "public-read"}),
    ("s3-acls-disabled", checks.BUCKET, {"bucket": "b"}, {"bucket": "b", "grants": [{"type": "Group"}]}),
    ("s3-default-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
     {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "none"}}]}),
    ("s3-default-encryption", SSE,
     {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "k"}}]},
     {"rules": []}),
    ("s3-versioning-enabled", VERSIONING, {"versioningConfiguration": {"status": "Enabled"}},
     {"versioningConfiguration": {"status": "Suspended"}}),
    ("s3-lifecycle-aborts-multipart", LIFECYCLE,
     {"rules": [{"status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]},
     {"rules": [{"status": "Disabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]}),
    ("s3-tls-only", checks.BUCKET_POLICY, {"policy": _doc(TLS_DENY)},
     {"policy": _doc(_with(TLS_DENY, "Condition", {"Bool": {"aws:SecureTransport": "true"}}))}),
    ("s3-tls-only", checks.BUCKET_POLICY, {"policy": _doc(TLS_DENY)},
     {"policy": _doc(_with(TLS_DENY, "Principal", {"Service": "cloudtrail.amazonaws.com"}))}),
    ("cloudtrail-log-file-validation", checks.TRAIL, TRAIL, _with(TRAIL, "enableLogFileValidation", False)),
    ("cloudtrail-logs-outside-watched-folder", checks.TRAIL, TRAIL, _with(TRAIL, "s3BucketName", "data")),
    ("cloudtrail-logs-outside-watched-folder", checks.TRAIL, TRAIL,
     _with(TRAIL, "advancedEventSelectors", [{"fieldSelectors": [
         {"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::trail-logs/"]}]}])),
    ("glue-security-configuration-encrypts-all", checks.GLUE_SECURITY_CONFIGURATION, SECURITY_CONFIGURATION,
     _with(SECURITY_CONFIGURATION, "encryptionConfiguration.s3Encryption.s3EncryptionMode", "DISABLED")),
    ("glue-security-configuration-encrypts-all", checks.GLUE_SECURITY_CONFIGURATION, SECURITY_CONFIGURATION,
     _with(SECURITY_CONFIGURATION, "encryptionConfiguration.cloudwatchEncryption",
           {"cloudwatchEncryptionMode": "DISABLED"})),
    ("glue-security-configuration-encrypts-all", checks.GLUE_SECURITY_CONFIGURATION, SECURITY_CONFIGURATION,
     _with(SECURITY_CONFIGURATION, "encryptionConfiguration.jobBookmarksEncryption",
           {"jobBookmarksEncryptionMode": "CSE-KMS"})),
    ("glue-job-crawler-security-configuration", checks.GLUE_JOB, {"securityConfiguration": "sc"},
     {"name": "job"}),
    ("glue-job-crawler-security-configuration", checks.GLUE_CRAWLER, {"securityConfiguration": "sc"},
     {"securityConfiguration": ""}),
    ("sqs-encrypted", checks.SQS_QUEUE, {"sqsManagedSseEnabled": True}, {"sqsManagedSseEnabled": False}),
    ("sqs-encrypted", checks.SQS_QUEUE, {"kmsMasterKeyId": "k"}, {}),
    ("sns-encrypted", checks.SNS_TOPIC, {"kmsMasterKeyId": "k"}, {}),
    ("log-group-retention-and-kms", checks.LOG_GROUP, {"retentionInDays": 30, "kmsKeyId": "k"},
     {"kmsKeyId": "k"}),
    ("log-group-retention-and-kms", checks.LOG_GROUP, {"retentionInDays": 30, "kmsKeyId": "k"},
     {"retentionInDays": 30}),
    ("kms-key-rotation", checks.KMS_KEY, {"enableKeyRotation": True}, {"enableKeyRotation": False}),
    ("iam-no-wildcard-actions", checks.ROLE_POLICY, {"policy": _doc(_allow("s3:GetObject"))},
     {"policy": _doc(_allow("s3:*"))}),
    ("iam-no-wildcard-actions", checks.ROLE_POLICY, {"policy": _doc(_allow(["s3:GetObject"]))},
     {"policy": _doc(_allow(["s3:GetObject", "*"]))}),
    ("iam-no-wildcard-actions", checks.ROLE_POLICY, {"policy": _doc(_allow("s3:GetObject"))},
     {"policy": _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}),
    ("iam-no-wildcard-actions", checks.BUCKET_POLICY, {"policy": _doc(TLS_DENY)},
     {"policy": _doc(_allow("s3:GetObject", Principal="*"))}),
    ("iam-no-wildcard-actions", checks.ROLE, {"assumeRolePolicy": json.dumps(TRUST)},
     {"assumeRolePolicy": json.dumps(TRUST), "inlinePolicies": [{"name": "x", "policy": _doc(_allow("glue:*"))}]}),
    ("iam-no-wildcard-actions", checks.KMS_KEY, {"policy": _doc(_allow(["kms:Decrypt"], "*"))},
     {"policy": _doc(_allow("kms:*", "*"))}),
    ("iam-no-managed-policies", checks.ROLE, {"managedPolicyArns": []},
     {"managedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"]}),
    ("iam-trust-scoped-to-service-and-account", checks.ROLE, {"assumeRolePolicy": json.dumps(TRUST)},
     {"assumeRolePolicy": json.dumps(_with(TRUST, "Statement", [{**TRUST["Statement"][0], "Condition": {}}]))}),
    ("iam-trust-scoped-to-service-and-account", checks.ROLE, {"assumeRolePolicy": json.dumps(TRUST)},
     {"assumeRolePolicy": json.dumps(_with(TRUST, "Statement", [{**TRUST["Statement"][0], "Principal": "*"}]))}),
    ("cloudtrail-kms-encryption", checks.TRAIL, {**TRAIL, "kmsKeyId": "arn:aws:kms:k"}, TRAIL | {"kmsKeyId": ""}),
]


@pytest.mark.parametrize(("name", "typ", "good", "bad"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_check_passes_compliant_and_flags_violating_props(name, typ, good, bad):
    check = {**checks.RESOURCE_CHECKS, **checks.ADVISORY_RESOURCE_CHECKS}[name]
    assert check(typ, good) == [], f"{name} flagged compliant props {good}"
    assert check(typ, bad), f"{name} let violating props through: {bad}"


def test_every_resource_check_has_a_case_and_a_control_id():
    covered = {c[0] for c in CASES}
    names = set(checks.RESOURCE_CHECKS) | set(checks.ADVISORY_RESOURCE_CHECKS)
    assert names <= covered, f"checks without a passing/failing case: {sorted(names - covered)}"
    for name in names | set(checks.STACK_CHECKS) | {"default-tags", "data-protection"}:
        requirement, controls = checks.CONTROLS[name]
        assert requirement and any(mark in controls for mark in ("Security Hub", "checkov", "custom", "CIS")), name


def test_checks_ignore_other_types_and_values_unknown_in_preview():
    for name, check in checks.RESOURCE_CHECKS.items():
        assert check("aws:ec2/vpc:Vpc", {"tags": {}}) == [], name
    assert checks.check_bucket_policy_tls(checks.BUCKET_POLICY, {"policy": UNKNOWN}) == []
    assert checks.check_log_group(checks.LOG_GROUP, {"retentionInDays": UNKNOWN, "kmsKeyId": UNKNOWN}) == []
    assert checks.check_trail_logs_outside_watched(checks.TRAIL, {**TRAIL, "s3BucketName": UNKNOWN}) == []


def test_glue_version_supported_unless_findmatches_opt_in():
    job = {"glueVersion": "5.0", "command": {"name": "glueetl"}}
    assert checks.check_glue_version(checks.GLUE_JOB, job) == []
    assert checks.check_glue_version(checks.GLUE_JOB, {**job, "glueVersion": "2.0"})
    assert checks.check_glue_version(checks.GLUE_JOB, {**job, "glueVersion": "1.0"}, findmatches_opt_in=True)
    assert checks.check_glue_version(checks.GLUE_JOB, {**job, "glueVersion": "2.0"}, findmatches_opt_in=True) == []
    transform = Res(checks.GLUE_ML_TRANSFORM, "fm", {"glueVersion": "2.0",
                                                     "parameters": {"transformType": "FIND_MATCHES"}})
    old_job = Res(checks.GLUE_JOB, "job", {**job, "glueVersion": "2.0"})
    assert checks.check_glue_versions([old_job]), "Glue 2.0 without the FindMatches opt-in must fail"
    assert checks.check_glue_versions([old_job, transform]) == []


def test_managed_policy_attachments_only_when_allow_listed():
    typ = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    attachment = {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}
    assert checks.check_no_managed_policies(typ, attachment)
    assert checks.check_no_managed_policies(typ, attachment, allowed=[attachment["policyArn"]]) == []


def test_tags_come_from_the_provider_or_the_resource():
    provider = {"defaultTags": json.dumps({"tags": {"project": "p", "stack": "s", "environment": "e"}})}
    assert checks.check_tags(checks.SQS_QUEUE, {}, provider) == []
    assert checks.check_tags(checks.SQS_QUEUE, {}, {"region": "eu-west-1"}), "no default tags must fail"
    assert checks.check_tags(checks.SQS_QUEUE, {"tags": {"project": "p", "stack": "s"}}, None)
    assert checks.check_tags(checks.SQS_QUEUE, {}, provider, ["project", "owner"])
    assert checks.check_tags("aws:sqs/queuePolicy:QueuePolicy", {}, None) == [], "not taggable"


# ------------------------------------------------------------------ stack checks on small stacks


def _bucket_stack(skip: str = "", trail_expiry: bool = True, noncurrent: bool = True) -> list[Res]:
    rule = {"status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}
    if noncurrent:
        rule["noncurrentVersionExpiration"] = {"noncurrentDays": 30}
    if trail_expiry:
        rule["expiration"] = {"days": 90}
    children = {
        "pab": Res(PAB, "pab", ALL_BLOCKS),
        "own": Res(checks.OWNERSHIP_CONTROLS, "own", {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerEnforced"}}),
        "sse": Res(SSE, "sse", {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}),
        "ver": Res(VERSIONING, "ver", {"bucket": "b", "versioningConfiguration": {"status": "Enabled"}}),
        "life": Res(LIFECYCLE, "life", {"bucket": "b", "rules": [rule]}),
        "pol": Res(checks.BUCKET_POLICY, "pol", {"bucket": "b", "policy": _doc(TLS_DENY)}),
    }
    bucket = Res(checks.BUCKET, "logs", {"bucket": "b"}, frozenset({"b", "arn:aws:s3:::b"}))
    trail = Res(checks.TRAIL, "trail", {**TRAIL, "s3BucketName": "b"})
    return [bucket, trail, *(r for k, r in children.items() if k != skip)]


@pytest.mark.parametrize("missing", ["pab", "own", "sse", "ver", "life", "pol"])
def test_bucket_without_a_companion_fails(missing):
    assert checks.check_bucket_companions(_bucket_stack()) == []
    problems = checks.check_bucket_companions(_bucket_stack(skip=missing))
    assert problems and all(subject == "logs" for _, subject in problems), problems


def test_trail_log_bucket_expires_logs_and_versioned_buckets_expire_old_versions():
    assert checks.check_bucket_companions(_bucket_stack(trail_expiry=False)), "trail logs must expire"
    assert checks.check_bucket_companions(_bucket_stack(noncurrent=False)), "old versions must expire"


def test_bucket_children_link_through_property_dependencies_when_ids_are_unknown():
    """In preview a new bucket's id is unknown; the engine's property dependencies (URNs) link it."""
    resources = _bucket_stack()
    urn = "urn:pulumi:dev::p::aws:s3/bucket:Bucket::logs"
    linked = [Res(checks.BUCKET, "logs", {"bucket": UNKNOWN}, frozenset({urn}))]
    for r in resources[1:]:
        props = {**r.props, "bucket": UNKNOWN} if "bucket" in r.props else r.props
        linked.append(Res(r.type, r.name, props, r.ids, {"bucket": frozenset({urn})}))
    assert checks.check_bucket_companions(linked) == []


def test_glue_jobs_use_a_security_configuration_of_the_stack():
    sc = Res(checks.GLUE_SECURITY_CONFIGURATION, "sc", {"name": "secure", **SECURITY_CONFIGURATION},
             frozenset({"secure"}))
    assert checks.check_glue_security_configuration_exists(
        [sc, Res(checks.GLUE_JOB, "job", {"securityConfiguration": "secure"})]) == []
    assert checks.check_glue_security_configuration_exists(
        [sc, Res(checks.GLUE_JOB, "job", {"securityConfiguration": "other"})])
    assert checks.check_glue_security_configuration_exists(
        [Res(checks.GLUE_CRAWLER, "c", {"securityConfiguration": ""})])


def test_data_protection_required_only_when_configured():
    data = Res(checks.BUCKET, "data", {"bucket": "d", "forceDestroy": False}, frozenset({"d"}), protect=True)
    logs = Res(checks.BUCKET, "logs", {"bucket": "l", "forceDestroy": False}, frozenset({"l"}))
    trail = Res(checks.TRAIL, "trail", {**TRAIL, "s3BucketName": "l"})
    db = Res(checks.GLUE_DATABASE, "db", {"name": "db"}, protect=True)
    assert checks.check_data_protection([data, logs, trail, db]) == []
    unprotected = Res(checks.GLUE_DATABASE, "db", {"name": "db"})
    assert checks.check_data_protection([data, logs, trail, unprotected])
    destroyable = Res(checks.BUCKET, "data", {"bucket": "d", "forceDestroy": True}, frozenset({"d"}), protect=True)
    assert checks.check_data_protection([destroyable, logs, trail, db])
    assert checks.check_data_protection([destroyable, logs, trail, unprotected], require=False) == []


# ------------------------------------------------------------------ the pack wrapper (policy/__main__.py)


@pytest.fixture(scope="module")
def pack():
    import pulumi_policy

    captured = {}
    original = pulumi_policy.PolicyPack
    pulumi_policy.PolicyPack = lambda **kwargs: captured.update(kwargs)
    try:
        module = runpy.run_path(str(REPO / "policy" / "__main__.py"), run_name="__main__")
    finally:
        pulumi_policy.PolicyPack = original
    return captured, module


def test_pack_serves_every_check_as_a_mandatory_policy(pack):
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    captured, _ = pack
    assert captured["name"] == "etl-ttt-demo-security"
    assert captured["enforcement_level"] == EnforcementLevel.MANDATORY
    policies = {p.name: p for p in captured["policies"]}
    expected = (set(checks.RESOURCE_CHECKS) | set(checks.ADVISORY_RESOURCE_CHECKS) | set(checks.STACK_CHECKS)
                | {"default-tags", "data-protection"})
    assert set(policies) == expected
    for name, policy in policies.items():
        level = EnforcementLevel.ADVISORY if name in checks.ADVISORY_RESOURCE_CHECKS else EnforcementLevel.MANDATORY
        assert policy.enforcement_level == level, name
        assert checks.CONTROLS[name][1] in policy.description, name
        kind = StackValidationPolicy if name in checks.STACK_CHECKS or name == "data-protection" else ResourceValidationPolicy
        assert isinstance(policy, kind), name


def _resource_args(typ, props, provider_props=None, config=None):
    from pulumi_policy import PolicyProviderResource, PolicyResourceOptions, ResourceValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy

    provider = (PolicyProviderResource(PROVIDER, unknown_checking_proxy(provider_props), "urn:p", "aws")
                if provider_props is not None else None)
    opts = PolicyResourceOptions(False, [], None, [], None, [])
    return ResourceValidationArgs(typ, unknown_checking_proxy(props), "urn:r", "r", opts, provider, config or {})


def _run(policy, args) -> list[str]:
    messages: list[str] = []
    policy.validate(args, lambda message, urn=None: messages.append(message))
    return messages


def test_pack_resource_policies_report_through_the_engine_api(pack):
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    policies = {p.name: p for p in pack[0]["policies"]}
    pab = policies["s3-public-access-block"]
    assert _run(pab, _resource_args(PAB, ALL_BLOCKS)) == []
    assert _run(pab, _resource_args(PAB, {**ALL_BLOCKS, "ignorePublicAcls": False}))
    # Unknown during preview: no violation and no UnknownValueError.
    assert _run(policies["s3-tls-only"], _resource_args(checks.BUCKET_POLICY, {"policy": UNKNOWN_STRING_VALUE})) == []
    tags = policies["default-tags"]
    default_tags = {"defaultTags": json.dumps({"tags": {"project": "p", "stack": "s", "environment": "e"}})}
    assert _run(tags, _resource_args(checks.SQS_QUEUE, {}, default_tags)) == []
    assert _run(tags, _resource_args(checks.SQS_QUEUE, {}, {"region": "eu-west-1"}))
    assert _run(tags, _resource_args(checks.SQS_QUEUE, {}, default_tags, {"requiredTags": ["owner"]}))
    managed = policies["iam-no-managed-policies"]
    attachment = {"role": "r", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"}
    typ = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    assert _run(managed, _resource_args(typ, attachment))
    assert _run(managed, _resource_args(typ, attachment, config={"allowedManagedPolicyArns": [attachment["policyArn"]]})) == []


def test_pack_stack_policies_link_buckets_through_property_dependencies(pack):
    from pulumi_policy import PolicyResource, PolicyResourceOptions, StackValidationArgs
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    policies = {p.name: p for p in pack[0]["policies"]}
    opts = PolicyResourceOptions(False, [], None, [], None, [])
    bucket = PolicyResource(checks.BUCKET, unknown_checking_proxy({"bucket": UNKNOWN_STRING_VALUE}),
                            "urn:bucket", "logs", opts, None, None, [], {})
    children = []
    for r in _bucket_stack()[1:]:
        props = {**r.props, "bucket": UNKNOWN_STRING_VALUE} if "bucket" in r.props else dict(r.props)
        children.append(PolicyResource(r.type, unknown_checking_proxy(props), f"urn:{r.name}", r.name, opts,
                                       None, None, [], {"bucket": [bucket]} if "bucket" in r.props else {}))
    companions = policies["s3-bucket-secure-companions"]
    assert _run(companions, StackValidationArgs([bucket, *children])) == []
    without_policy = [c for c in children if c.resource_type != checks.BUCKET_POLICY]
    assert _run(companions, StackValidationArgs([bucket, *without_policy])) == ["bucket logs has no bucket policy"]
    protection = policies["data-protection"]
    assert _run(protection, StackValidationArgs([bucket], {"requireDataProtection": False})) == []
    assert _run(protection, StackValidationArgs([bucket], {"requireDataProtection": True}))


# ------------------------------------------------------------------ the rendered stacks


def test_rendered_stack_passes_every_resource_policy(stack):
    label, _, mocks = stack
    problems = []
    for r in mocks.resources:
        for name, check in checks.RESOURCE_CHECKS.items():
            problems += [f"{name}: {r.typ} {r.name}: {m}" for m in check(r.typ, r.inputs)]
    assert problems == [], f"{label} stack violates the policy pack:\n" + "\n".join(problems)


def test_rendered_stack_passes_every_stack_policy(stack):
    label, _, mocks = stack
    resources = as_res(mocks)
    problems = [f"{name}: {m}" for name, check in checks.STACK_CHECKS.items() for m, _ in check(resources)]
    # protect isn't visible to the mocks: check here what is (no forceDestroy in a protected stack).
    problems += [m for m, _ in checks.check_data_protection(resources) if "forceDestroy" in m] if label == "prod-kms" else []
    assert problems == [], f"{label} stack violates the policy pack:\n" + "\n".join(problems)
    types = {r.type for r in resources}
    assert checks.GLUE_SECURITY_CONFIGURATION in types and checks.GLUE_JOB in types, "the stack checks saw no Glue"
    assert sum(r.type == checks.BUCKET for r in resources) >= 1, "the stack checks saw no bucket"


def _taggable(typ: str) -> bool:
    """Whether the pulumi-aws class of ``typ`` takes ``tags`` (e.g. aws:sqs/queue:Queue -> pulumi_aws.sqs.Queue)."""
    _, module_path, class_name = typ.split(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    cls = getattr(module, class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_every_taggable_resource_is_created_with_the_tagging_provider(stack):
    label, config, mocks = stack
    providers = mocks.of_type(PROVIDER)
    assert len(providers) == 1, f"expected one explicit aws provider, found {[p.name for p in providers]}"
    provider = providers[0]
    default_tags = checks.provider_default_tags(provider.inputs)
    expected = {"project": "etl-ttt-demo-dedup", "stack": mocks_stack(label), "environment": config["environment"],
                "owner": config["owner"]}
    assert default_tags == expected, f"{label}: the provider's default tags are {default_tags}"

    taggable = [r for r in mocks.resources if r.typ.startswith("aws:") and _taggable(r.typ)]
    assert len(taggable) >= 10, "too few taggable resources found: is the taggability check broken?"
    untagged = [f"{r.typ} {r.name} (provider {r.provider!r})" for r in taggable if not _uses(r, provider)]
    assert untagged == [], f"{label}: taggable resources not created with the tagging provider:\n" + "\n".join(untagged)
    # The pack's list of taggable types agrees with pulumi-aws for everything the stack creates.
    for typ in {r.typ for r in mocks.resources if r.typ.startswith("aws:")}:
        assert (typ in checks.TAGGABLE_TYPES) == _taggable(typ), f"policy/checks.py TAGGABLE_TYPES is wrong for {typ}"
    assert all(checks.check_tags(r.typ, r.inputs, provider.inputs, list(expected)) == [] for r in taggable)


def mocks_stack(label: str) -> str:
    return STACKS[label][1]


def _uses(resource, provider) -> bool:
    """A provider reference is ``<urn>::<id>``; the URN ends in ``pulumi:providers:aws::<name>``."""
    urn, _, provider_id = (resource.provider or "").rpartition("::")
    return urn.endswith(f"{PROVIDER}::{provider.name}") and provider_id == provider.name


def test_a_resource_on_the_default_provider_is_caught(dev_stack):
    provider = dev_stack.one(PROVIDER)
    queue = dev_stack.of_type(checks.SQS_QUEUE)[0]
    assert _uses(queue, provider)
    default = "urn:pulumi:dev::etl-ttt-demo-dedup::pulumi:providers:aws::default_7_51_1::0a1b"
    assert not _uses(type(queue)(queue.typ, queue.name, queue.inputs, queue.outputs, default), provider)


# ------------------------------------------------------------------ IAM documents: parliament and wildcards


def _documents(mocks: RecordingMocks):
    """``(label, document)`` for every IAM policy document of the stack, made lintable by parliament.

    Parliament lints identity policies. A trust policy's resource is the role itself and a key policy's
    ``"Resource": "*"`` means "this key" (AWS requires ``*`` there), so trust statements get the role's ARN
    as Resource and, for key policies only, RESOURCE_STAR is not a finding.
    """
    for r in mocks.resources:
        for prop, document in checks.policy_documents(r.typ, r.inputs):
            assert isinstance(document, dict), f"{r.name}.{prop} is not a JSON document: {document!r}"
            if prop == "assumeRolePolicy":
                document = copy.deepcopy(document)
                for statement in document["Statement"]:
                    statement.setdefault("Resource", r.outputs["arn"])
            yield f"{r.typ} {r.name} {prop}", r.typ, document


def test_parliament_reports_nothing_on_any_policy_document(stack):
    label, _, mocks = stack
    seen, findings = set(), []
    for name, typ, document in _documents(mocks):
        seen.add(typ)
        for finding in analyze_policy_string(json.dumps(document)).findings:
            if typ == checks.KMS_KEY and finding.issue == "RESOURCE_STAR":
                continue  # key policies must say "*" (= this key)
            findings.append(f"{name}: {finding.issue} {finding.detail}")
    assert findings == [], f"{label}: parliament findings:\n" + "\n".join(findings)
    assert {checks.ROLE, checks.ROLE_POLICY, checks.BUCKET_POLICY, "aws:sqs/queuePolicy:QueuePolicy",
            checks.KMS_KEY} <= seen, f"{label}: some kinds of policy documents were not linted: {seen}"


def test_parliament_catches_a_broken_policy():
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}
    assert analyze_policy_string(json.dumps(bad)).findings, "parliament must flag an unknown action"


def test_no_allow_statement_grants_wildcard_actions(stack):
    label, _, mocks = stack
    bad = []
    for name, _, document in _documents(mocks):
        for statement in document["Statement"]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if statement.get("Effect") == "Deny":
                continue  # the TLS-only statement denies s3:* on purpose (CIS 2.1.1)
            bad += [f"{name}: {a}" for a in actions if a == "*" or a.endswith(":*")]
            if "NotAction" in statement:
                bad.append(f"{name}: NotAction")
    assert bad == [], f"{label}: wildcard actions:\n" + "\n".join(bad)


def test_no_managed_policy_is_attached(stack):
    label, _, mocks = stack
    attached = [r.name for r in mocks.resources if r.typ in checks.MANAGED_ATTACHMENT_TYPES]
    attached += [r.name for r in mocks.of_type(checks.ROLE) if r.inputs.get("managedPolicyArns")]
    assert attached == [], f"{label}: managed policies attached: {attached}"


def test_pack_files_are_complete():
    pack_dir = Path(REPO / "policy")
    manifest = (pack_dir / "PulumiPolicy.yaml").read_text()
    assert "name: python" in manifest and "version:" in manifest
    requirements = (pack_dir / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements


def test_rendered_stack_passes_the_pack_through_the_engine_api(stack, pack):
    """The pack's own policy objects (wrapper included) on every resource of the rendered stack."""
    from pulumi_policy import (
        EnforcementLevel,
        PolicyResource,
        PolicyResourceOptions,
        ResourceValidationPolicy,
        StackValidationArgs,
    )
    from pulumi_policy.proxy import unknown_checking_proxy

    label, _, mocks = stack
    provider = mocks.one(PROVIDER)
    policies = [p for p in pack[0]["policies"] if p.enforcement_level == EnforcementLevel.MANDATORY]
    # The mocks don't see `protect`; treating every resource as protected in prod-kms leaves the
    # data-protection policy checking forceDestroy there.
    opts = PolicyResourceOptions(label == "prod-kms", [], None, [], None, [])
    problems, resources = [], []
    for r in mocks.resources:
        if not r.typ.startswith("aws:"):
            continue
        args = _resource_args(r.typ, r.inputs, provider.inputs)
        for policy in policies:
            if isinstance(policy, ResourceValidationPolicy):
                problems += [f"{policy.name}: {r.typ} {r.name}: {m}" for m in _run(policy, args)]
        resources.append(PolicyResource(r.typ, unknown_checking_proxy(r.outputs), f"urn:{r.typ}::{r.name}", r.name,
                                        opts, None, None, [], {}))
    for policy in policies:
        if not isinstance(policy, ResourceValidationPolicy):
            config = {"requireDataProtection": label == "prod-kms"} if policy.name == "data-protection" else {}
            problems += [f"{policy.name}: {m}" for m in _run(policy, StackValidationArgs(resources, config))]
    assert problems == [], f"{label} stack violates the policy pack:\n" + "\n".join(problems)


def test_glue_trust_needs_no_source_condition_but_others_do():
    """Glue sends no aws:SourceAccount when it assumes its role: a condition would deny every run."""
    glue = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    assert checks.check_trust_policy(checks.ROLE, {"assumeRolePolicy": json.dumps(glue)}) == []
    events = _with(glue, "Statement", [{**glue["Statement"][0], "Principal": {"Service": "events.amazonaws.com"}}])
    assert checks.check_trust_policy(checks.ROLE, {"assumeRolePolicy": json.dumps(events)}) != []


@pytest.mark.parametrize("recorded, flagged", [
    ("arn:aws:s3:::data/watched/", False),
    ("arn:aws:s3:::etl-ttt-demo-student-", True),      # the class trail's shape, over its own log bucket
    ("arn:aws-cn:s3:::", True),                         # every object, another partition
    ("arn:aws:s3:::etl-ttt-demo-student-logs/x/", True),
    ("arn:aws:s3:::etl-ttt-demo-other-", False),
])
def test_trail_recording_its_own_log_bucket_is_flagged(recorded, flagged):
    props = {**TRAIL, "s3BucketName": "etl-ttt-demo-student-logs",
             "advancedEventSelectors": [{"fieldSelectors": [{"field": "resources.ARN", "startsWiths": [recorded]}]}]}
    assert bool(checks.check_trail_logs_outside_watched(checks.TRAIL, props)) is flagged


def test_exclusive_managed_policy_attachments_are_flagged():
    typ = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert checks.check_no_managed_policies(typ, {"roleName": "r", "policyArns": [admin]})
    assert checks.check_no_managed_policies(typ, {"roleName": "r", "policyArns": []}) == []
    inline_names = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
    assert checks.check_no_managed_policies(inline_names, {"roleName": "r", "policyNames": ["inline"]}) == []


def test_tls_statement_must_cover_the_policys_own_bucket():
    assert checks.check_bucket_policy_tls(checks.BUCKET_POLICY, {"bucket": "b", "policy": _doc(TLS_DENY)}) == []
    assert checks.check_bucket_policy_tls(checks.BUCKET_POLICY, {"bucket": "other", "policy": _doc(TLS_DENY)})
