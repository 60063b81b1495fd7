"""The stack's policy pack: the pure checks of ``checks.py`` as mandatory Pulumi policies.

Run with ``pulumi preview --policy-pack policy`` (the pull-request workflow does).
Pack config (``--policy-pack-config``):
- ``data-protection: {requireDataProtection: true}`` for production stacks;
- ``iam-no-managed-policies: {allowedManagedPolicyArns: [...]}`` where AWS requires a managed policy;
- ``default-tags: {requiredTags: [...]}`` to require more tag keys (e.g. owner).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks

try:  # the engine's marker for values not known during preview
    from pulumi_policy.proxy import _is_unknown as _engine_unknown
except ImportError:  # pragma: no cover
    def _engine_unknown(value: Any) -> bool:
        return False


def plain(value: Any) -> Any:
    """The engine's props (proxies raising on unknowns) as plain data, unknowns as ``checks.UNKNOWN``."""
    if _engine_unknown(value):
        return checks.UNKNOWN
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        target = _target(value)
        return {k: plain(target[k]) for k in target}
    if hasattr(value, "__len__") and hasattr(value, "__getitem__"):
        target = _target(value)
        return [plain(target[i]) for i in range(len(target))]
    return value


def _target(proxy: Any) -> Any:
    try:
        return proxy["__target"]
    except (KeyError, IndexError, TypeError):
        return proxy


def _description(name: str) -> str:
    requirement, controls = checks.CONTROLS[name]
    return f"{requirement} Mirrors: {controls}."


def _resource_policy(name: str, check: Callable[[str, Mapping], list[str]],
                     level: EnforcementLevel = EnforcementLevel.MANDATORY) -> ResourceValidationPolicy:
    def validate(args, report_violation):
        for message in check(args.resource_type, plain(args.props)):
            report_violation(message, None)

    return ResourceValidationPolicy(name=name, description=_description(name), validate=validate,
                                    enforcement_level=level)


def _managed_policies(args, report_violation):
    allowed = args.get_config().get("allowedManagedPolicyArns") or []
    for message in checks.check_no_managed_policies(args.resource_type, plain(args.props), allowed=allowed):
        report_violation(message, None)


def _default_tags(args, report_violation):
    required = args.get_config().get("requiredTags") or list(checks.REQUIRED_TAGS)
    provider = plain(args.provider.props) if args.provider is not None else None
    for message in checks.check_tags(args.resource_type, plain(args.props), provider, required):
        report_violation(message, None)


def stack_resources(resources) -> list[checks.Res]:
    """The engine's stack resources as ``checks.Res``: ids from outputs and URN, refs from property dependencies."""
    found = []
    for r in resources:
        props = plain(r.props)
        ids = {r.urn} | {props.get(k) for k in ("id", "name", "bucket", "arn") if isinstance(props.get(k), str)}
        refs = {k: frozenset(d.urn for d in deps) for k, deps in (r.property_dependencies or {}).items()}
        protect = bool(getattr(r.opts, "protect", False)) if r.opts is not None else False
        found.append(checks.Res(r.resource_type, r.name, props, frozenset(ids), refs, protect))
    return found


def _stack_policy(name: str, check: Callable[..., list[tuple[str, str]]],
                  config: Callable[[Mapping], dict] | None = None,
                  config_schema: PolicyConfigSchema | None = None) -> StackValidationPolicy:
    def validate(args, report_violation):
        resources = stack_resources(args.resources)
        urns = {r.name: r.ids for r in resources}
        kwargs = config(args.get_config()) if config else {}
        for message, subject in check(resources, **kwargs):
            urn = next((i for i in urns.get(subject, ()) if isinstance(i, str) and i.startswith("urn:")), None)
            report_violation(message, urn)

    return StackValidationPolicy(name=name, description=_description(name), validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY, config_schema=config_schema)


def build_policies() -> list:
    policies: list = [_resource_policy(name, check) for name, check in checks.RESOURCE_CHECKS.items()
                      if name != "iam-no-managed-policies"]
    policies += [_resource_policy(name, check, EnforcementLevel.ADVISORY)
                 for name, check in checks.ADVISORY_RESOURCE_CHECKS.items()]
    policies.append(ResourceValidationPolicy(
        name="iam-no-managed-policies", description=_description("iam-no-managed-policies"),
        validate=_managed_policies, enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={
            "allowedManagedPolicyArns": {"type": "array", "items": {"type": "string"}, "default": []}}),
    ))
    policies.append(ResourceValidationPolicy(
        name="default-tags", description=_description("default-tags"), validate=_default_tags,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={
            "requiredTags": {"type": "array", "items": {"type": "string"}, "default": list(checks.REQUIRED_TAGS)}}),
    ))
    policies.append(_stack_policy("s3-bucket-secure-companions", checks.check_bucket_companions))
    policies.append(_stack_policy("glue-security-configuration-attached",
                                  checks.check_glue_security_configuration_exists))
    policies.append(_stack_policy(
        "glue-supported-version", checks.check_glue_versions,
        config=lambda c: {"supported": c.get("supportedVersions") or list(checks.SUPPORTED_GLUE_VERSIONS)},
        config_schema=PolicyConfigSchema(properties={
            "supportedVersions": {"type": "array", "items": {"type": "string"},
                                  "default": list(checks.SUPPORTED_GLUE_VERSIONS)}}),
    ))
    policies.append(_stack_policy(
        "data-protection", checks.check_data_protection,
        config=lambda c: {"require": bool(c.get("requireDataProtection", False))},
        config_schema=PolicyConfigSchema(properties={"requireDataProtection": {"type": "boolean", "default": False}}),
    ))
    return policies


POLICIES = build_policies()

# Serves the policies to the Pulumi engine (blocks); tests load this file with PolicyPack replaced.
PolicyPack(name="etl-ttt-demo-security", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
