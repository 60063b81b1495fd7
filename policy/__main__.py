"""The stack's policy pack: every rule of ``checks/`` as a Pulumi policy (mandatory unless advisory).

Run with ``pulumi preview --policy-pack policy`` (the pull-request workflow does).
Pack config (``--policy-pack-config``):
- ``data-protection: {requireDataProtection: true}`` for production stacks;
- ``iam-no-managed-policies: {allowedManagedPolicyArns: [...]}`` where AWS requires a managed policy;
- ``default-tags: {requiredTags: [...]}`` to require more tag keys (e.g. owner);
- ``glue-supported-version: {supportedVersions: [...]}`` (default: the pack's one Glue version, 5.0).
Each rule declares its own config schema and defaults (``checks/base.py``, ``rule``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
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


def _resource(args) -> checks.Res:
    provider = plain(args.provider.props) if args.provider is not None else None
    return checks.Res(args.resource_type, args.name, plain(args.props), provider=provider)


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


def _urn(resources: list[checks.Res], name: str) -> str | None:
    ids = next((r.ids for r in resources if r.name == name), ())
    return next((i for i in ids if isinstance(i, str) and i.startswith("urn:")), None)


def policy(rule: checks.Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    """The rule as the engine's policy: its level, description and config schema come with the rule."""
    kwargs = {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": EnforcementLevel.ADVISORY if rule.advisory else EnforcementLevel.MANDATORY,
        "config_schema": PolicyConfigSchema(properties=dict(rule.config)) if rule.config else None,
    }
    if rule.is_stack:
        def validate_stack(args, report_violation):
            resources = stack_resources(args.resources)
            for message, subject in rule(resources, args.get_config()):
                report_violation(message, _urn(resources, subject))

        return StackValidationPolicy(validate=validate_stack, **kwargs)

    def validate_resource(args, report_violation):
        if not rule.applies_to(args.resource_type):
            return
        for message in rule(_resource(args), args.get_config()):
            report_violation(message, None)

    return ResourceValidationPolicy(validate=validate_resource, **kwargs)


def build_policies() -> list:
    return [policy(rule) for rule in checks.RULES.values()]


POLICIES = build_policies()

# Serves the policies to the Pulumi engine (blocks); tests load this file with PolicyPack replaced.
PolicyPack(name="etl-ttt-demo-security", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
