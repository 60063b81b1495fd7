"""Glue: security configurations that encrypt everything, used by every job and crawler, and the
supported Glue version."""

from __future__ import annotations

from .base import UNKNOWN, Res, known, rule, string_list, unset
from .resource_types import GLUE_CRAWLER, GLUE_JOB, GLUE_ML_TRANSFORM, GLUE_SECURITY_CONFIGURATION

GLUE_VERSION = "5.0"
"""The one Glue version the pack allows (Spark 3.5, Python 3.11). 0.9, 1.0 and 2.0 are end of life
(2.0, the only version FindMatches ran on, since 2026-04-01: its runs no longer start); the stack's
job runs on 5.0."""


@rule("glue-security-configuration-encrypts-all", types=GLUE_SECURITY_CONFIGURATION,
      requires=("Glue security configurations encrypt S3 output, CloudWatch logs (SSE-KMS) and job bookmarks "
                "(CSE-KMS)."),
      mirrors="checkov CKV_AWS_99")
def security_configuration(r: Res) -> list[str]:
    config = r.props.get("encryptionConfiguration")
    if not known(config):
        return []
    config = config or {}
    problems = []
    s3 = config.get("s3Encryption") or {}
    if known(s3) and s3.get("s3EncryptionMode") not in ("SSE-S3", "SSE-KMS", UNKNOWN):
        problems.append(f"S3 output must be encrypted (s3EncryptionMode SSE-S3 or SSE-KMS, not {s3.get('s3EncryptionMode')!r})")
    if known(s3) and s3.get("s3EncryptionMode") == "SSE-KMS" and not s3.get("kmsKeyArn"):
        problems.append("s3Encryption SSE-KMS needs a kmsKeyArn")
    for block, mode_key, mode, message in (
        ("cloudwatchEncryption", "cloudwatchEncryptionMode", "SSE-KMS", "CloudWatch logs"),
        ("jobBookmarksEncryption", "jobBookmarksEncryptionMode", "CSE-KMS", "job bookmarks"),
    ):
        settings = config.get(block) or {}
        if known(settings) and (settings.get(mode_key) not in (mode, UNKNOWN) or not settings.get("kmsKeyArn")):
            problems.append(f"{message} must be encrypted ({mode_key} {mode} with a kmsKeyArn)")
    return problems


@rule("glue-job-crawler-security-configuration", types=(GLUE_JOB, GLUE_CRAWLER),
      requires="Glue jobs and crawlers name a security configuration.", mirrors="checkov CKV_AWS_195")
def uses_security_configuration(r: Res) -> list[str]:
    return ["Glue job/crawler must name a security configuration (securityConfiguration)"
            ] if unset(r.props, "securityConfiguration") else []


@rule("glue-security-configuration-attached",
      requires="Glue jobs and crawlers use a security configuration defined in the stack.",
      mirrors="checkov CKV_AWS_195")
def security_configuration_exists(resources: list[Res]) -> list[tuple[str, str]]:
    configurations = {r.props.get("name"): r for r in resources if r.type == GLUE_SECURITY_CONFIGURATION}
    ids = set(configurations)
    for r in configurations.values():
        ids |= set(r.ids)
    problems = []
    for r in resources:
        value = r.props.get("securityConfiguration")
        if r.type not in (GLUE_JOB, GLUE_CRAWLER) or not known(value):
            continue
        if not value:
            problems.append((f"{r.name} has no security configuration", r.name))
        elif not r.ref("securityConfiguration") & ids:
            problems.append((f"{r.name} names security configuration {value!r}, which this stack doesn't define", r.name))
    return problems


@rule("glue-supported-version", types=(GLUE_JOB, GLUE_ML_TRANSFORM),
      requires=f"Glue jobs and ML transforms run on Glue {GLUE_VERSION}.", mirrors="Security Hub Glue.4",
      config={"supportedVersions": string_list([GLUE_VERSION])})
def supported_version(r: Res, config: dict) -> list[str]:
    version = r.props.get("glueVersion")
    if not known(version):
        return []
    command = r.props.get("command") or {}
    if r.type == GLUE_JOB and known(command) and command.get("name") == "pythonshell":
        return []  # Python shell jobs take 1.0 / 3.0 and follow their own support policy
    supported = config["supportedVersions"]
    if version not in supported:
        return [f"Glue version {version!r} is not supported (use {' or '.join(sorted(supported))}; "
                "2.0, which FindMatches needed, is end of life since 2026-04-01)"]
    return []
