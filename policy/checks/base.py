"""The pack's core: the resource a rule sees, the registration of rules, and JSON / unknown helpers.

A rule is registered once, with the ``rule`` decorator, in the module of its domain. The decorator
carries everything the pack and its tests need: the name, what it requires and which controls it
mirrors, the resource types it applies to (none: a stack rule), the enforcement level and the config
schema with defaults. The type guard lives here, not in each check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = object()
"""Stands for a value the engine doesn't know yet (preview)."""


def known(value: Any) -> bool:
    return value is not UNKNOWN


def as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def unset(props: Mapping, key: str) -> bool:
    """The property is known and empty (missing, None, "", 0, false)."""
    value = props.get(key)
    return known(value) and not value


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


def principal_is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in as_list(principal.get("AWS"))
    return False


@dataclass
class Res:
    """One resource, as rules see it: a resource rule sees one, a stack rule all of the stack's."""

    type: str
    name: str
    props: Mapping
    ids: frozenset = frozenset()
    """What other resources may use to refer to this one (id, name, ARN, URN)."""
    refs: Mapping[str, frozenset] = field(default_factory=dict)
    """Per property: what it refers to (its value and the URNs it depends on)."""
    protect: bool = False
    provider: Mapping | None = None
    """The inputs of the provider that creates it (its default tags), when known."""

    def ref(self, prop: str) -> frozenset:
        value = self.props.get(prop)
        values = {value} if isinstance(value, str) and known(value) else set()
        return frozenset(values | set(self.refs.get(prop, ())))


@dataclass(frozen=True)
class Rule:
    """One policy of the pack. ``types`` None: a stack rule, ``check(resources[, config])`` returns
    ``(message, resource name)`` pairs; otherwise ``check(resource[, config])`` returns messages."""

    name: str
    requires: str
    mirrors: str
    check: Callable[..., list]
    types: frozenset[str] | None = None
    advisory: bool = False
    config: Mapping[str, Mapping] = field(default_factory=dict)
    """The config schema: key -> JSON schema with a ``default``."""

    @property
    def is_stack(self) -> bool:
        return self.types is None

    @property
    def description(self) -> str:
        return f"{self.requires} Mirrors: {self.mirrors}."

    def settings(self, given: Mapping | None = None) -> dict:
        """The rule's config: the schema's defaults, overridden by what the pack config gives."""
        given = given or {}
        return {key: given[key] if given.get(key) not in (None, []) else schema["default"]
                for key, schema in self.config.items()}

    def applies_to(self, typ: str) -> bool:
        return self.is_stack or typ in self.types

    def __call__(self, subject: Any, config: Mapping | None = None) -> list:
        """Run the rule on a resource (``Res``) or a stack (list of ``Res``); other types pass."""
        if not self.is_stack and not self.applies_to(subject.type):
            return []
        return self.check(subject, self.settings(config)) if self.config else self.check(subject)


RULES: dict[str, Rule] = {}
"""Every rule of the pack by name, in registration order."""


def rule(name: str, *, requires: str, mirrors: str, types: Any = None, advisory: bool = False,
         config: Mapping[str, Mapping] | None = None) -> Callable[[Callable], Callable]:
    """Register the decorated check as the pack's rule ``name`` (``types``: a type token or several)."""
    def register(check: Callable) -> Callable:
        if name in RULES:
            raise ValueError(f"rule {name!r} is registered twice")
        kinds = None if types is None else frozenset([types] if isinstance(types, str) else types)
        RULES[name] = Rule(name, requires, mirrors, check, kinds, advisory, dict(config or {}))
        return check

    return register


def string_list(default: list[str] | tuple[str, ...]) -> dict:
    """The JSON schema of a config key holding a list of strings."""
    return {"type": "array", "items": {"type": "string"}, "default": list(default)}
