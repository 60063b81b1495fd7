"""The policy pack's rules (policy/checks/): every rule on passing and failing props, the stack rules on
small stacks. The pack wrapper and the rendered stacks: test_policy_pack_stacks.py.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO
from policy_fixtures import (
    ALL_BLOCKS,
    LIFECYCLE,
    PAB,
    RESOURCE_RULES,
    RULES,
    SECURITY_CONFIGURATION,
    SSE,
    TLS_DENY,
    TRAIL,
    TRUST,
    UNKNOWN,
    VERSIONING,
    Res,
    allow,
    bucket_stack,
    checks,
    doc,
    verdict,
    with_,
)

CASES = [
    # (check, type, passing props, failing props)
    ("s3-public-access-block", PAB, ALL_BLOCKS, with_(ALL_BLOCKS, "restrictPublicBuckets", False)),
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
    ("s3-tls-only", checks.BUCKET_POLICY, {"policy": doc(TLS_DENY)},
     {"policy": doc(with_(TLS_DENY, "Condition", {"Bool": {"aws:SecureTransport": "true"}}))}),
    ("s3-tls-only", checks.BUCKET_POLICY, {"policy": doc(TLS_DENY)},
     {"policy": doc(with_(TLS_DENY, "Principal", {"Service": "cloudtrail.amazonaws.com"}))}),
    ("cloudtrail-log-file-validation", checks.TRAIL, TRAIL, with_(TRAIL, "enableLogFileValidation", False)),
    ("cloudtrail-logs-outside-watched-folder", checks.TRAIL, TRAIL, with_(TRAIL, "s3BucketName", "data")),
    ("cloudtrail-logs-outside-watched-folder", checks.TRAIL, TRAIL,
     with_(TRAIL, "advancedEventSelectors", [{"fieldSelectors": [
         {"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::trail-logs/"]}]}])),
    ("glue-security-configuration-encrypts-all", checks.GLUE_SECURITY_CONFIGURATION, SECURITY_CONFIGURATION,
     with_(SECURITY_CONFIGURATION, "encryptionConfiguration.s3Encryption.s3EncryptionMode", "DISABLED")),
    ("glue-security-configuration-encrypts-all", checks.GLUE_SECURITY_CONFIGURATION, SECURITY_CONFIGURATION,
     with_(SECURITY_CONFIGURATION, "encryptionConfiguration.cloudwatchEncryption",
           {"cloudwatchEncryptionMode": "DISABLED"})),
    ("glue-security-configuration-encrypts-all", checks.GLUE_SECURITY_CONFIGURATION, SECURITY_CONFIGURATION,
     with_(SECURITY_CONFIGURATION, "encryptionConfiguration.jobBookmarksEncryption",
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
    ("iam-no-wildcard-actions", checks.ROLE_POLICY, {"policy": doc(allow("s3:GetObject"))},
     {"policy": doc(allow("s3:*"))}),
    ("iam-no-wildcard-actions", checks.ROLE_POLICY, {"policy": doc(allow(["s3:GetObject"]))},
     {"policy": doc(allow(["s3:GetObject", "*"]))}),
    ("iam-no-wildcard-actions", checks.ROLE_POLICY, {"policy": doc(allow("s3:GetObject"))},
     {"policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}),
    ("iam-no-wildcard-actions", checks.BUCKET_POLICY, {"policy": doc(TLS_DENY)},
     {"policy": doc(allow("s3:GetObject", Principal="*"))}),
    ("iam-no-wildcard-actions", checks.ROLE, {"assumeRolePolicy": json.dumps(TRUST)},
     {"assumeRolePolicy": json.dumps(TRUST), "inlinePolicies": [{"name": "x", "policy": doc(allow("glue:*"))}]}),
    ("iam-no-wildcard-actions", checks.KMS_KEY, {"policy": doc(allow(["kms:Decrypt"], "*"))},
     {"policy": doc(allow("kms:*", "*"))}),
    ("iam-no-managed-policies", checks.ROLE, {"managedPolicyArns": []},
     {"managedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"]}),
    ("iam-trust-scoped-to-service-and-account", checks.ROLE, {"assumeRolePolicy": json.dumps(TRUST)},
     {"assumeRolePolicy": json.dumps(with_(TRUST, "Statement", [{**TRUST["Statement"][0], "Condition": {}}]))}),
    ("iam-trust-scoped-to-service-and-account", checks.ROLE, {"assumeRolePolicy": json.dumps(TRUST)},
     {"assumeRolePolicy": json.dumps(with_(TRUST, "Statement", [{**TRUST["Statement"][0], "Principal": "*"}]))}),
    ("cloudtrail-kms-encryption", checks.TRAIL, {**TRAIL, "kmsKeyId": "arn:aws:kms:k"}, TRAIL | {"kmsKeyId": ""}),
    ("default-tags", checks.SQS_QUEUE, {"tags": {"project": "p", "stack": "s", "environment": "e"}},
     {"tags": {"project": "p", "stack": "s"}}),
    ("glue-supported-version", checks.GLUE_JOB, {"glueVersion": "5.0"}, {"glueVersion": "2.0"}),
]


@pytest.mark.parametrize(("name", "typ", "good", "bad"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_check_passes_compliant_and_flags_violating_props(name, typ, good, bad):
    assert verdict(name, typ, good) == [], f"{name} flagged compliant props {good}"
    assert verdict(name, typ, bad), f"{name} let violating props through: {bad}"


def test_every_resource_check_has_a_case_and_a_control_id():
    covered = {c[0] for c in CASES}
    names = set(RESOURCE_RULES)
    assert names <= covered, f"checks without a passing/failing case: {sorted(names - covered)}"
    for name, rule in RULES.items():
        assert rule.requires and any(mark in rule.mirrors for mark in ("Security Hub", "checkov", "custom", "CIS")), name


def test_checks_ignore_other_types_and_values_unknown_in_preview():
    for name in RESOURCE_RULES:
        assert verdict(name, "aws:ec2/vpc:Vpc", {"tags": {}}) == [], name
    assert verdict("s3-tls-only", checks.BUCKET_POLICY, {"policy": UNKNOWN}) == []
    assert verdict("log-group-retention-and-kms", checks.LOG_GROUP, {"retentionInDays": UNKNOWN, "kmsKeyId": UNKNOWN}) == []
    assert verdict("cloudtrail-logs-outside-watched-folder", checks.TRAIL, {**TRAIL, "s3BucketName": UNKNOWN}) == []


def test_glue_version_only_the_supported_one():
    """Glue 5.0 only: 2.0 (FindMatches) is end of life, and no FindMatches transform makes it acceptable."""
    assert checks.glue.GLUE_VERSION == "5.0"
    job = {"glueVersion": "5.0", "command": {"name": "glueetl"}}
    assert verdict("glue-supported-version", checks.GLUE_JOB, job) == []
    for old in ("0.9", "1.0", "2.0", "3.0", "4.0"):
        assert verdict("glue-supported-version", checks.GLUE_JOB, {**job, "glueVersion": old}), old
    transform = {"glueVersion": "2.0", "parameters": {"transformType": "FIND_MATCHES"}}
    assert verdict("glue-supported-version", checks.GLUE_ML_TRANSFORM, transform), "a FindMatches transform can't run"
    old_job = Res(checks.GLUE_JOB, "job", {**job, "glueVersion": "2.0"})
    assert RULES["glue-supported-version"](old_job), "Glue 2.0 must fail, FindMatches or not"
    assert verdict("glue-supported-version", checks.GLUE_JOB, {"glueVersion": "3.0", "command": {"name": "pythonshell"}}) == []
    assert verdict("glue-supported-version", checks.GLUE_JOB, {**job, "glueVersion": UNKNOWN}) == []
    assert verdict("glue-supported-version", checks.GLUE_JOB, {**job, "glueVersion": "4.0"},
                   config={"supportedVersions": ["4.0", "5.0"]}) == [], "the pack config widens the list"


def test_managed_policy_attachments_only_when_allow_listed():
    typ = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    attachment = {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}
    assert verdict("iam-no-managed-policies", typ, attachment)
    assert verdict("iam-no-managed-policies", typ, attachment,
                   config={"allowedManagedPolicyArns": [attachment["policyArn"]]}) == []


def test_tags_come_from_the_provider_or_the_resource():
    provider = {"defaultTags": json.dumps({"tags": {"project": "p", "stack": "s", "environment": "e"}})}
    assert verdict("default-tags", checks.SQS_QUEUE, {}, provider) == []
    assert verdict("default-tags", checks.SQS_QUEUE, {}, {"region": "eu-west-1"}), "no default tags must fail"
    assert verdict("default-tags", checks.SQS_QUEUE, {"tags": {"project": "p", "stack": "s"}}, None)
    assert verdict("default-tags", checks.SQS_QUEUE, {}, provider, {"requiredTags": ["project", "owner"]})
    assert verdict("default-tags", "aws:sqs/queuePolicy:QueuePolicy", {}, None) == [], "not taggable"


# ------------------------------------------------------------------ stack checks on small stacks

@pytest.mark.parametrize("missing", ["pab", "own", "sse", "ver", "life", "pol"])
def test_bucket_without_a_companion_fails(missing):
    assert RULES["s3-bucket-secure-companions"](bucket_stack()) == []
    problems = RULES["s3-bucket-secure-companions"](bucket_stack(skip=missing))
    assert problems and all(subject == "logs" for _, subject in problems), problems


def test_trail_log_bucket_expires_logs_and_versioned_buckets_expire_old_versions():
    assert RULES["s3-bucket-secure-companions"](bucket_stack(trail_expiry=False)), "trail logs must expire"
    assert RULES["s3-bucket-secure-companions"](bucket_stack(noncurrent=False)), "old versions must expire"


def test_bucket_children_link_through_property_dependencies_when_ids_are_unknown():
    """In preview a new bucket's id is unknown; the engine's property dependencies (URNs) link it."""
    resources = bucket_stack()
    urn = "urn:pulumi:dev::p::aws:s3/bucket:Bucket::logs"
    linked = [Res(checks.BUCKET, "logs", {"bucket": UNKNOWN}, frozenset({urn}))]
    for r in resources[1:]:
        props = {**r.props, "bucket": UNKNOWN} if "bucket" in r.props else r.props
        linked.append(Res(r.type, r.name, props, r.ids, {"bucket": frozenset({urn})}))
    assert RULES["s3-bucket-secure-companions"](linked) == []


def test_glue_jobs_use_a_security_configuration_of_the_stack():
    sc = Res(checks.GLUE_SECURITY_CONFIGURATION, "sc", {"name": "secure", **SECURITY_CONFIGURATION},
             frozenset({"secure"}))
    assert RULES["glue-security-configuration-attached"](
        [sc, Res(checks.GLUE_JOB, "job", {"securityConfiguration": "secure"})]) == []
    assert RULES["glue-security-configuration-attached"](
        [sc, Res(checks.GLUE_JOB, "job", {"securityConfiguration": "other"})])
    assert RULES["glue-security-configuration-attached"](
        [Res(checks.GLUE_CRAWLER, "c", {"securityConfiguration": ""})])


def test_data_protection_required_only_when_configured():
    data = Res(checks.BUCKET, "data", {"bucket": "d", "forceDestroy": False}, frozenset({"d"}), protect=True)
    logs = Res(checks.BUCKET, "logs", {"bucket": "l", "forceDestroy": False}, frozenset({"l"}))
    trail = Res(checks.TRAIL, "trail", {**TRAIL, "s3BucketName": "l"})
    db = Res(checks.GLUE_DATABASE, "db", {"name": "db"}, protect=True)
    protection, required = RULES["data-protection"], {"requireDataProtection": True}
    assert protection([data, logs, trail, db], required) == []
    unprotected = Res(checks.GLUE_DATABASE, "db", {"name": "db"})
    assert protection([data, logs, trail, unprotected], required)
    destroyable = Res(checks.BUCKET, "data", {"bucket": "d", "forceDestroy": True}, frozenset({"d"}), protect=True)
    assert protection([destroyable, logs, trail, db], required)
    assert protection([destroyable, logs, trail, unprotected], {"requireDataProtection": False}) == []
    assert protection([destroyable, logs, trail, unprotected]) == [], "not required unless the pack config says so"

def test_glue_trust_needs_no_source_condition_but_others_do():
    """Glue sends no aws:SourceAccount when it assumes its role: a condition would deny every run."""
    glue = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    assert verdict("iam-trust-scoped-to-service-and-account", checks.ROLE, {"assumeRolePolicy": json.dumps(glue)}) == []
    events = with_(glue, "Statement", [{**glue["Statement"][0], "Principal": {"Service": "events.amazonaws.com"}}])
    assert verdict("iam-trust-scoped-to-service-and-account", checks.ROLE, {"assumeRolePolicy": json.dumps(events)}) != []


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
    assert bool(verdict("cloudtrail-logs-outside-watched-folder", checks.TRAIL, props)) is flagged


def test_exclusive_managed_policy_attachments_are_flagged():
    typ = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert verdict("iam-no-managed-policies", typ, {"roleName": "r", "policyArns": [admin]})
    assert verdict("iam-no-managed-policies", typ, {"roleName": "r", "policyArns": []}) == []
    inline_names = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
    assert verdict("iam-no-managed-policies", inline_names, {"roleName": "r", "policyNames": ["inline"]}) == []


def test_tls_statement_must_cover_the_policys_own_bucket():
    assert verdict("s3-tls-only", checks.BUCKET_POLICY, {"bucket": "b", "policy": doc(TLS_DENY)}) == []
    assert verdict("s3-tls-only", checks.BUCKET_POLICY, {"bucket": "other", "policy": doc(TLS_DENY)})


def test_docs_list_every_rule_with_its_kind():
    """docs/security.md has a row per rule, marked "(stack)" / "(advisory)" as the registration says."""
    rows = [line for line in (REPO / "docs" / "security.md").read_text().splitlines() if line.startswith("| `")]
    for name, rule in RULES.items():
        row = next((r for r in rows if f"`{name}`" in r.split("|")[1]), None)
        assert row is not None, f"docs/security.md has no row for {name}"
        head = row.split("|")[1]
        assert ("(stack)" in head) == rule.is_stack and ("(advisory)" in head) == rule.advisory, name
