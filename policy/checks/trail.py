"""CloudTrail: validated logs, kept outside what the trail records, optionally KMS-encrypted."""

from __future__ import annotations

from .base import Res, known, rule, truthy, unset
from .resource_types import TRAIL


@rule("cloudtrail-log-file-validation", types=TRAIL,
      requires="Trails validate log files.", mirrors="Security Hub CloudTrail.4; checkov CKV_AWS_36")
def log_validation(r: Res) -> list[str]:
    value = r.props.get("enableLogFileValidation")
    if known(value) and not truthy(value):
        return ["trail must enable log file validation (enableLogFileValidation: true)"]
    return []


def recorded_object_prefixes(props) -> list[str] | None:
    """The S3 object ARN prefixes a trail records data events for (None: not known yet)."""
    prefixes: list[str] = []
    selectors = props.get("advancedEventSelectors")
    if not known(selectors):
        return None
    for selector in selectors or []:
        for field_selector in (selector or {}).get("fieldSelectors") or []:
            if field_selector.get("field") == "resources.ARN":
                for key in ("startsWiths", "equals"):
                    values = field_selector.get(key)
                    if not known(values):
                        return None
                    prefixes.extend(v for v in values or [] if known(v))
    for selector in props.get("eventSelectors") or [] if known(props.get("eventSelectors")) else []:
        for resource in (selector or {}).get("dataResources") or []:
            if resource.get("type") == "AWS::S3::Object":
                prefixes.extend(v for v in resource.get("values") or [] if known(v))
    return prefixes


@rule("cloudtrail-logs-outside-watched-folder", types=TRAIL,
      requires="Trail logs go to a bucket the trail doesn't record (no self-triggering).",
      mirrors="custom (DESIGN.md §3)")
def logs_outside_watched(r: Res) -> list[str]:
    """Trail logs must not land in a bucket the trail records writes in (it would trigger itself)."""
    bucket = r.props.get("s3BucketName")
    prefixes = recorded_object_prefixes(r.props)
    if not known(bucket) or prefixes is None or not bucket:
        return []
    problems = []
    for prefix in prefixes:
        # arn:<partition>:s3:::<bucket>/<folder>/, a start of bucket names (arn:aws:s3:::etl-ttt-demo-),
        # or every object (arn:aws:s3, arn:aws:s3:::): does it take in the log bucket's objects?
        tail = prefix.split(":::", 1)[1] if ":::" in prefix else ""
        if tail in ("", "*") or f"{bucket}/".startswith(tail) or tail.startswith(f"{bucket}/"):
            problems.append(f"trail logs go to bucket {bucket}, which the trail records ({prefix}): "
                            "it would record its own log writes; use a log bucket of its own")
    return problems


@rule("cloudtrail-kms-encryption", types=TRAIL, advisory=True,
      requires="Advisory: trail logs encrypted with KMS (optional, trailKmsEncryption).",
      mirrors="Security Hub CloudTrail.2; checkov CKV_AWS_35")
def trail_kms(r: Res) -> list[str]:
    """A config choice (trailKmsEncryption), so advisory."""
    return ["trail log files are SSE-S3 encrypted only; set trailKmsEncryption: true for SSE-KMS"
            ] if unset(r.props, "kmsKeyId") else []
