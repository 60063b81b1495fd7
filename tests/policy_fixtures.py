"""The policy pack's test helpers: the rules' runner, compliant resources to break, the pack loader."""

from __future__ import annotations

import copy
import json
import runpy
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "policy"))
import checks  # noqa: E402  (policy/ is the pack's root folder, not a package)
from checks import RULES, UNKNOWN, Res  # noqa: E402, F401  (UNKNOWN: for the tests)
from checks.iam import policy_documents  # noqa: E402, F401
from checks.tagging import provider_default_tags  # noqa: E402, F401

PROVIDER = "pulumi:providers:aws"
RESOURCE_RULES = {name: rule for name, rule in RULES.items() if not rule.is_stack}
STACK_RULES = {name: rule for name, rule in RULES.items() if rule.is_stack}


def verdict(name: str, typ: str, props: dict, provider: dict | None = None, config: dict | None = None) -> list:
    """What the pack's rule ``name`` says about one resource (the engine's type guard included)."""
    return RULES[name](Res(typ, "r", props, provider=provider), config)



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


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="arn:aws:s3:::b/*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def with_(props: dict, path: str, value) -> dict:
    changed = copy.deepcopy(props)
    *parents, last = path.split(".")
    target = changed
    for key in parents:
        target = target[key]
    target[last] = value
    return changed



def bucket_stack(skip: str = "", trail_expiry: bool = True, noncurrent: bool = True) -> list[Res]:
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
        "pol": Res(checks.BUCKET_POLICY, "pol", {"bucket": "b", "policy": doc(TLS_DENY)}),
    }
    bucket = Res(checks.BUCKET, "logs", {"bucket": "b"}, frozenset({"b", "arn:aws:s3:::b"}))
    trail = Res(checks.TRAIL, "trail", {**TRAIL, "s3BucketName": "b"})
    return [bucket, trail, *(r for k, r in children.items() if k != skip)]


def load_pack() -> tuple[dict, dict]:
    """Run policy/__main__.py as the engine would, with PolicyPack replaced: (its arguments, the module)."""
    import pulumi_policy

    captured: dict = {}
    original = pulumi_policy.PolicyPack
    pulumi_policy.PolicyPack = lambda **kwargs: captured.update(kwargs)
    try:
        module = runpy.run_path(str(REPO / "policy" / "__main__.py"), run_name="__main__")
    finally:
        pulumi_policy.PolicyPack = original
    return captured, module



def resource_args(typ, props, provider_props=None, config=None):
    from pulumi_policy import PolicyProviderResource, PolicyResourceOptions, ResourceValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy

    provider = (PolicyProviderResource(PROVIDER, unknown_checking_proxy(provider_props), "urn:p", "aws")
                if provider_props is not None else None)
    opts = PolicyResourceOptions(False, [], None, [], None, [])
    return ResourceValidationArgs(typ, unknown_checking_proxy(props), "urn:r", "r", opts, provider, config or {})


def run_policy(policy, args) -> list[str]:
    messages: list[str] = []
    policy.validate(args, lambda message, urn=None: messages.append(message))
    return messages

