"""CloudTrail advanced event selectors for S3 write data events. Pure.

Only the write calls that create an object are recorded (data events are billed
per event), and only under the given object-ARN prefixes.
"""

from __future__ import annotations

from builders.event_patterns import WRITE_EVENT_NAMES

# CloudTrail quotas (AWS CloudTrail User Guide, "Quotas in AWS CloudTrail"):
# at most 500 values across all conditions of all advanced event selectors of a trail.
MAX_SELECTOR_VALUES = 500


def s3_write_selectors(object_arn_prefixes: list[str]) -> list[dict]:
    """Selectors recording successful-or-not object writes under each prefix.

    ``object_arn_prefixes`` are like ``arn:aws:s3:::bucket/folder/``. Raises
    ValueError when the selectors would exceed CloudTrail's value quota.
    """
    if not object_arn_prefixes:
        raise ValueError("at least one object ARN prefix is needed")
    for prefix in object_arn_prefixes:
        if not prefix.startswith("arn:") or ":s3:::" not in prefix:
            raise ValueError(f"{prefix!r} is not an S3 object ARN prefix (arn:aws:s3:::bucket/folder/)")
    selectors = [
        {
            "name": "S3 object writes under the watched folders",
            "field_selectors": [
                {"field": "eventCategory", "equals": ["Data"]},
                {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                {"field": "eventName", "equals": list(WRITE_EVENT_NAMES)},
                {"field": "resources.ARN", "starts_withs": sorted(set(object_arn_prefixes))},
            ],
        }
    ]
    used = selector_value_count(selectors)
    if used > MAX_SELECTOR_VALUES:
        raise ValueError(
            f"{used} selector values exceed CloudTrail's {MAX_SELECTOR_VALUES} per trail; "
            "watch a common bucket-name prefix instead of one prefix per bucket"
        )
    return selectors


def selector_value_count(selectors: list[dict]) -> int:
    """Values across all conditions, as CloudTrail counts them against its quota."""
    return sum(
        len(values)
        for selector in selectors
        for condition in selector["field_selectors"]
        for key, values in condition.items()
        if key != "field"
    )
