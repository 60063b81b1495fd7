"""The policy pack's rules as pure functions, one module per domain. No Pulumi inside.

Each rule is registered once, where it is written, with ``base.rule``: its name, what it requires,
the AWS Security Hub control and/or checkov check it mirrors, its resource types (none: a stack
rule), whether it is advisory, and its config schema with defaults. ``RULES`` holds them all;
``policy/__main__.py`` serves each as a Pulumi policy and the tests run each the same way.

A resource rule sees one ``Res`` (type, name, props with Pulumi's camelCase names, the provider's
inputs) and returns violation messages (empty: compliant). A stack rule sees every ``Res`` of the
stack (with the identifiers others may use for each, and what its properties refer to) and returns
``(message, resource name)`` pairs. A value that is not known yet (``UNKNOWN``, during ``pulumi
preview`` of a new stack) is never a violation: ``pulumi up`` checks every resource again with its
final inputs before creating it.
"""

from . import glue, iam, logging, storage, tagging, trail, workflow  # noqa: F401  (each registers its rules)
from .base import RULES, UNKNOWN, Res, Rule
from .resource_types import *  # noqa: F403  (the type tokens, for the tests and the docs)

__all__ = ["RULES", "UNKNOWN", "Res", "Rule", "glue", "iam", "logging", "storage", "tagging", "trail", "workflow"]
