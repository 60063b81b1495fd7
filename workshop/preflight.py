"""Will the class fit in the account? Quota arithmetic before anything is created. Pure.

Quotas are inputs: the defaults below are AWS's documented default quotas
(under the names the Service Quotas console uses); pass the account's real
values and current usage (``--quota``, ``--usage``, or ``--from-aws`` through
``workshop.aws_quotas``) when they differ. Every shortfall names the setting
or the quota increase that fixes it.

What one student stack creates (``PER_STUDENT``) is kept equal to what the
program really registers by ``tests/test_workshop_preflight.py``, which renders
a student stack under the Pulumi mocks and counts.
"""

from __future__ import annotations

from dataclasses import dataclass

TRAIL_MODES = ("per-stack", "shared", "none")


@dataclass(frozen=True)
class Quota:
    key: str
    service: str
    name: str
    """The quota's name in the AWS documentation / Service Quotas console."""
    default: int
    adjustable: bool
    scope: str
    service_code: str
    """Service Quotas service code, for ``--from-aws``."""


QUOTAS: dict[str, Quota] = {q.key: q for q in (
    Quota("trails", "AWS CloudTrail", "Trails per region", 5, False, "per account and region", "cloudtrail"),
    Quota("rules", "Amazon EventBridge", "Rules per event bus", 300, True, "per event bus", "events"),
    Quota("roles", "AWS IAM", "Roles per account", 1000, True, "per account", "iam"),
    Quota("glue_jobs", "AWS Glue", "Max jobs per account", 1000, True, "per account and region", "glue"),
    Quota("crawlers", "AWS Glue", "Max crawlers per account", 1000, True, "per account and region", "glue"),
    Quota("job_runs", "AWS Glue", "Max concurrent job runs per account", 2000, True, "per account and region", "glue"),
    Quota("buckets", "Amazon S3", "General purpose buckets", 10000, True, "per account", "s3"),
)}

# What one student stack creates (counted from a render of the program; a test keeps these true).
PER_STUDENT = {"rules": 1, "roles": 4, "glue_jobs": 1, "crawlers": 1, "buckets": 1}
PER_STACK_TRAIL = {"trails": 1, "buckets": 1}
"""Added per student with trailMode=per-stack: the trail and its log bucket."""
CLASS_TRAIL = {"trails": 1, "buckets": 1}
"""Added once with trailMode=shared: the shared_trail program's trail and log bucket."""
WARN_FRACTION = 0.9


@dataclass(frozen=True)
class ClassShape:
    students: int
    trail_mode: str = "shared"
    trigger_source: str = "cloudtrail"
    job_max_concurrent_runs: int = 1


def demand(shape: ClassShape) -> dict[str, int]:
    """How many of each quota'd thing the class creates (or, for job_runs, may run at once)."""
    if shape.trail_mode not in TRAIL_MODES:
        raise ValueError(f"trailMode {shape.trail_mode!r} is not one of {', '.join(TRAIL_MODES)}")
    need = {key: 0 for key in QUOTAS}
    for key, count in PER_STUDENT.items():
        need[key] += count * shape.students
    if shape.trail_mode == "per-stack":
        for key, count in PER_STACK_TRAIL.items():
            need[key] += count * shape.students
    elif shape.trail_mode == "shared":
        for key, count in CLASS_TRAIL.items():
            need[key] += count
    need["job_runs"] = shape.students * shape.job_max_concurrent_runs
    return need


@dataclass(frozen=True)
class Finding:
    quota: Quota
    in_use: int
    needed: int
    limit: int
    fix: str = ""

    @property
    def total(self) -> int:
        return self.in_use + self.needed

    @property
    def status(self) -> str:
        if self.total > self.limit:
            return "FAIL"
        if self.needed and self.total > WARN_FRACTION * self.limit:
            return "WARN"
        return "ok"

    def line(self) -> str:
        text = (f"{self.status:4} {self.quota.service}: {self.quota.name} ({self.quota.scope}): "
                f"{self.in_use} in use + {self.needed} for the class = {self.total} of {self.limit}")
        return text + (f"\n     fix: {self.fix}" if self.fix and self.status != "ok" else "")


def preflight(shape: ClassShape, usage: dict[str, int] | None = None,
              quotas: dict[str, int] | None = None) -> list[Finding]:
    """One finding per quota, with a fix for every shortfall (status FAIL) or near miss (WARN)."""
    usage, quotas = usage or {}, quotas or {}
    for key in set(usage) | set(quotas):
        if key not in QUOTAS:
            raise ValueError(f"unknown quota {key!r}; known: {', '.join(QUOTAS)}")
    need = demand(shape)
    findings = []
    for key, quota in QUOTAS.items():
        limit = quotas.get(key, quota.default)
        finding = Finding(quota, usage.get(key, 0), need[key], limit)
        findings.append(Finding(quota, finding.in_use, finding.needed, limit, _fix(finding, shape)))
    return findings


def _fix(f: Finding, shape: ClassShape) -> str:
    key, quota = f.quota.key, f.quota
    if key == "trails":
        free = max(f.limit - f.in_use, 0)
        if shape.trail_mode == "per-stack":
            return (f"{f.limit} trails per region is a hard limit ({free} free, {shape.students} students): "
                    "use --trail-mode shared (one class trail, trailMode=shared) or --trail-mode none "
                    "with --trigger-source s3-eventbridge (no trail at all)")
        return (f"no free trail in this region ({f.in_use} of {f.limit} in use, not adjustable): delete an unused trail, "
                "or use --trail-mode none with --trigger-source s3-eventbridge")
    increase = (f"request an increase of '{quota.name}' ({quota.service}, Service Quotas) to at least {f.total}"
                " a few days before class")
    if key == "job_runs":
        return (f"set jobMaxConcurrentRuns lower (--set jobMaxConcurrentRuns=1: {shape.students} runs at most) "
                f"or {increase}")
    if key == "buckets" and shape.trail_mode == "per-stack":
        return f"use --trail-mode shared (one log bucket for the class) or {increase}"
    return f"{increase}, or split the class across accounts"


def passed(findings: list[Finding]) -> bool:
    return all(f.status != "FAIL" for f in findings)


def report(findings: list[Finding], shape: ClassShape) -> str:
    head = (f"preflight for {shape.students} student(s), trailMode={shape.trail_mode}, "
            f"triggerSource={shape.trigger_source}, jobMaxConcurrentRuns={shape.job_max_concurrent_runs}")
    verdict = "PASS: the class fits" if passed(findings) else "FAIL: fix the lines marked FAIL before class"
    return "\n".join([head, *(f.line() for f in findings), verdict])
