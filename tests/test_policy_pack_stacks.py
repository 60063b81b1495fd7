"""The policy pack's wrapper (policy/__main__.py) through the engine API, and the rendered stacks (dev, a
workshop stack, a production-like SSE-KMS stack) against every rule, the provider's default tags and parliament.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
from pathlib import Path

import pytest
from conftest import REPO, RecordingMocks, render_stack, stack_config
from parliament import analyze_policy_string
from policy_fixtures import (
    ALL_BLOCKS,
    PAB,
    PROVIDER,
    RESOURCE_RULES,
    RULES,
    STACK_RULES,
    Res,
    bucket_stack,
    checks,
    load_pack,
    policy_documents,
    provider_default_tags,
    resource_args,
    run_policy,
    verdict,
)

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



def as_res(mocks: RecordingMocks, protect: bool = False) -> list[Res]:
    """The mocks' resources as the stack checks see them: ids from outputs, refs are the input values."""
    resources = []
    for r in mocks.resources:
        if r.typ.startswith("pulumi:") or not r.typ.startswith("aws:"):
            continue
        ids = {r.outputs.get(k) for k in ("id", "bucket", "name", "arn")} - {None}
        resources.append(Res(r.typ, r.name, r.inputs, frozenset(ids), protect=protect))
    return resources



@pytest.fixture(scope="module")
def pack():
    return load_pack()


def test_pack_serves_every_check_as_a_mandatory_policy(pack):
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    captured, _ = pack
    assert captured["name"] == "etl-ttt-demo-security"
    assert captured["enforcement_level"] == EnforcementLevel.MANDATORY
    policies = {p.name: p for p in captured["policies"]}
    assert list(policies) == list(RULES) and len(RULES) == 23
    assert {name for name, rule in RULES.items() if rule.advisory} == {"cloudtrail-kms-encryption"}
    assert set(STACK_RULES) == {"s3-bucket-secure-companions", "glue-security-configuration-attached", "data-protection"}
    for name, policy in policies.items():
        rule = RULES[name]
        level = EnforcementLevel.ADVISORY if rule.advisory else EnforcementLevel.MANDATORY
        assert policy.enforcement_level == level, name
        assert rule.mirrors in policy.description and rule.requires in policy.description, name
        assert isinstance(policy, StackValidationPolicy if rule.is_stack else ResourceValidationPolicy), name
        schema = policy.config_schema.properties if policy.config_schema else {}
        assert schema == rule.config, name
        assert all("default" in spec for spec in schema.values()), name
    assert {name for name, rule in RULES.items() if rule.config} == {
        "iam-no-managed-policies", "default-tags", "glue-supported-version", "data-protection"}



def test_pack_resource_policies_report_through_the_engine_api(pack):
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    policies = {p.name: p for p in pack[0]["policies"]}
    pab = policies["s3-public-access-block"]
    assert run_policy(pab, resource_args(PAB, ALL_BLOCKS)) == []
    assert run_policy(pab, resource_args(PAB, {**ALL_BLOCKS, "ignorePublicAcls": False}))
    # Unknown during preview: no violation and no UnknownValueError.
    assert run_policy(policies["s3-tls-only"], resource_args(checks.BUCKET_POLICY, {"policy": UNKNOWN_STRING_VALUE})) == []
    tags = policies["default-tags"]
    default_tags = {"defaultTags": json.dumps({"tags": {"project": "p", "stack": "s", "environment": "e"}})}
    assert run_policy(tags, resource_args(checks.SQS_QUEUE, {}, default_tags)) == []
    assert run_policy(tags, resource_args(checks.SQS_QUEUE, {}, {"region": "eu-west-1"}))
    assert run_policy(tags, resource_args(checks.SQS_QUEUE, {}, default_tags, {"requiredTags": ["owner"]}))
    managed = policies["iam-no-managed-policies"]
    attachment = {"role": "r", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole"}
    typ = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    assert run_policy(managed, resource_args(typ, attachment))
    assert run_policy(managed, resource_args(typ, attachment, config={"allowedManagedPolicyArns": [attachment["policyArn"]]})) == []


def test_pack_stack_policies_link_buckets_through_property_dependencies(pack):
    from pulumi_policy import PolicyResource, PolicyResourceOptions, StackValidationArgs
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    policies = {p.name: p for p in pack[0]["policies"]}
    opts = PolicyResourceOptions(False, [], None, [], None, [])
    bucket = PolicyResource(checks.BUCKET, unknown_checking_proxy({"bucket": UNKNOWN_STRING_VALUE}),
                            "urn:bucket", "logs", opts, None, None, [], {})
    children = []
    for r in bucket_stack()[1:]:
        props = {**r.props, "bucket": UNKNOWN_STRING_VALUE} if "bucket" in r.props else dict(r.props)
        children.append(PolicyResource(r.type, unknown_checking_proxy(props), f"urn:{r.name}", r.name, opts,
                                       None, None, [], {"bucket": [bucket]} if "bucket" in r.props else {}))
    companions = policies["s3-bucket-secure-companions"]
    assert run_policy(companions, StackValidationArgs([bucket, *children])) == []
    without_policy = [c for c in children if c.resource_type != checks.BUCKET_POLICY]
    assert run_policy(companions, StackValidationArgs([bucket, *without_policy])) == ["bucket logs has no bucket policy"]
    protection = policies["data-protection"]
    assert run_policy(protection, StackValidationArgs([bucket], {"requireDataProtection": False})) == []
    assert run_policy(protection, StackValidationArgs([bucket], {"requireDataProtection": True}))


# ------------------------------------------------------------------ the rendered stacks


def test_rendered_stack_passes_every_resource_policy(stack):
    label, _, mocks = stack
    provider = mocks.one(PROVIDER).inputs
    problems = []
    for r in mocks.resources:
        for name, rule in RESOURCE_RULES.items():
            if rule.advisory:
                continue  # a config choice (trailKmsEncryption): reported, not enforced
            problems += [f"{name}: {r.typ} {r.name}: {m}" for m in rule(Res(r.typ, r.name, r.inputs, provider=provider))]
    assert problems == [], f"{label} stack violates the policy pack:\n" + "\n".join(problems)


def test_rendered_stack_passes_every_stack_policy(stack):
    label, _, mocks = stack
    # protect isn't visible to the mocks: treating every resource as protected in prod-kms leaves the
    # data-protection rule checking what is visible (no forceDestroy in a protected stack).
    resources = as_res(mocks, protect=label == "prod-kms")
    config = {"requireDataProtection": label == "prod-kms"}
    problems = [f"{name}: {m}" for name, rule in STACK_RULES.items() for m, _ in rule(resources, config)]
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
    default_tags = provider_default_tags(provider.inputs)
    expected = {"project": "etl-ttt-demo-dedup", "stack": mocks_stack(label), "environment": config["environment"],
                "owner": config["owner"]}
    assert default_tags == expected, f"{label}: the provider's default tags are {default_tags}"

    taggable = [r for r in mocks.resources if r.typ.startswith("aws:") and _taggable(r.typ)]
    assert len(taggable) >= 10, "too few taggable resources found: is the taggability check broken?"
    untagged = [f"{r.typ} {r.name} (provider {r.provider!r})" for r in taggable if not _uses(r, provider)]
    assert untagged == [], f"{label}: taggable resources not created with the tagging provider:\n" + "\n".join(untagged)
    # The pack's list of taggable types agrees with pulumi-aws for everything the stack creates.
    for typ in {r.typ for r in mocks.resources if r.typ.startswith("aws:")}:
        assert (typ in checks.TAGGABLE_TYPES) == _taggable(typ), f"policy/checks/resource_types.py TAGGABLE_TYPES is wrong for {typ}"
    assert all(verdict("default-tags", r.typ, r.inputs, provider.inputs, {"requiredTags": list(expected)}) == []
               for r in taggable)


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
        for prop, document in policy_documents(r.typ, r.inputs):
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
        args = resource_args(r.typ, r.inputs, provider.inputs)
        for policy in policies:
            if isinstance(policy, ResourceValidationPolicy):
                problems += [f"{policy.name}: {r.typ} {r.name}: {m}" for m in run_policy(policy, args)]
        resources.append(PolicyResource(r.typ, unknown_checking_proxy(r.outputs), f"urn:{r.typ}::{r.name}", r.name,
                                        opts, None, None, [], {}))
    for policy in policies:
        if not isinstance(policy, ResourceValidationPolicy):
            config = {"requireDataProtection": label == "prod-kms"}
            problems += [f"{policy.name}: {m}" for m in run_policy(policy, StackValidationArgs(resources, config))]
    assert problems == [], f"{label} stack violates the policy pack:\n" + "\n".join(problems)

