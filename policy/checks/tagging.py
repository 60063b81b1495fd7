"""Tags: every taggable resource carries the stack's tags, through the provider's default tags."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Res, known, parse_json, rule, string_list
from .resource_types import TAGGABLE_TYPES

REQUIRED_TAGS = ("project", "stack", "environment")
"""Tag keys every taggable resource carries through the provider's default tags."""


def provider_default_tags(provider_props: Mapping | None) -> dict:
    """The ``defaultTags.tags`` of an AWS provider's inputs (JSON-encoded or not)."""
    default_tags = parse_json((provider_props or {}).get("defaultTags"))
    tags = default_tags.get("tags") if known(default_tags) and isinstance(default_tags, Mapping) else None
    return dict(tags) if isinstance(tags, Mapping) else {}


@rule("default-tags", types=TAGGABLE_TYPES,
      requires="Every taggable resource carries project, stack and environment tags (and owner when set).",
      mirrors="Security Hub resource-tagging controls (e.g. CloudTrail.9, SNS.3, SQS.2)",
      config={"requiredTags": string_list(REQUIRED_TAGS)})
def default_tags(r: Res, config: dict) -> list[str]:
    own = r.props.get("tags")
    if not known(own):
        return []
    tags = {**provider_default_tags(r.provider), **(own or {})}
    missing = [k for k in config["requiredTags"] if not tags.get(k)]
    if missing:
        return [f"missing tags {missing}: create it with the stack's aws provider, whose default_tags carry them"]
    return []
