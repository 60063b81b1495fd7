"""Stack settings: Pulumi config turned into one typed, validated object.

``parse_settings`` is pure (a mapping of config key to raw value in, a
``Settings`` out) so that tests can feed it anything; ``load_settings`` reads
the stack's Pulumi config and calls it. Every key here is declared, with the
same default and a description, in ``Pulumi.yaml`` (a test keeps them equal).

All problems are reported at once, each naming the key and the accepted form,
before any resource is registered.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping

from builders import names
from builders.layout import bucket_layout
from glue_jobs.contract import JOB_ENGINES

TRIGGER_SOURCES = ("cloudtrail", "s3-eventbridge")
TRAIL_MODES = ("per-stack", "shared", "none")
OUTPUT_FORMATS = ("csv", "parquet")
DEDUP_MODES = ("replace", "incremental")
WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")
EXECUTION_CLASSES = ("STANDARD", "FLEX")
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
ENCRYPTIONS = ("sse-s3", "sse-kms")
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)

_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()=-]+(/[A-Za-z0-9!_.*'()=-]+)*/$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_RE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")


class SettingsError(ValueError):
    """One or more config keys are invalid; the message lists each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    """Every setting of one stack, with the defaults of ``Pulumi.yaml``."""

    environment: str = ""
    owner: str = ""
    watched_prefix: str = "etl-ttt-demo/data_analytics_team_folder/"
    output_prefix: str = "etl-ttt-demo/output/data_analytics_team_folder/top-customers/"
    data_bucket_name: str = ""
    database_name: str = ""
    trigger_source: str = "cloudtrail"
    trail_mode: str = "per-stack"
    shared_trail_name: str = ""
    job_engine: str = "auto"
    output_format: str = "csv"
    dedup_mode: str = "replace"
    job_worker_type: str = "G.1X"
    job_workers: int = 2
    job_timeout_minutes: int = 60
    job_max_concurrent_runs: int = 1
    job_execution_class: str = "STANDARD"
    crawl_timeout_minutes: int = 30
    log_level: str = "ERROR"
    log_retention_days: int = 30
    notification_email: str = ""
    trigger_max_event_age_seconds: int = 3600
    trigger_retry_attempts: int = 8
    encryption: str = "sse-s3"
    kms_key_arn: str = ""
    trail_log_expiration_days: int = 90
    trail_kms_encryption: bool = False
    noncurrent_version_expiration_days: int = 30
    protect_data: bool = True
    data_access_logs: bool = False
    data_access_log_expiration_days: int = 90


def config_key(attr: str) -> str:
    """Python attribute name -> Pulumi config key (``job_workers`` -> ``jobWorkers``)."""
    head, *rest = attr.split("_")
    return head + "".join(part.capitalize() for part in rest)


CONFIG_KEYS = {config_key(f.name): f.name for f in dataclasses.fields(Settings)}


def _as_int(key: str, raw: Any, problems: list[str], low: int, high: int) -> int | None:
    try:
        value = int(str(raw).strip()) if not isinstance(raw, bool) else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        problems.append(f"{key}: {raw!r} is not a whole number from {low} to {high}")
        return None
    return value


def _as_bool(key: str, raw: Any, problems: list[str]) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    problems.append(f"{key}: {raw!r} is not true or false")
    return None


def _choice(key: str, raw: Any, allowed: tuple[str, ...], problems: list[str]) -> str | None:
    if raw in allowed:
        return raw
    problems.append(f"{key}: {raw!r} is not one of {', '.join(allowed)}")
    return None


def _prefix(key: str, raw: Any, problems: list[str]) -> str | None:
    text = str(raw)
    if text.startswith("/"):
        problems.append(f"{key}: {text!r} starts with '/'; S3 keys have none (e.g. 'team/folder/')")
    elif not text.endswith("/"):
        problems.append(f"{key}: {text!r} needs a trailing '/' so that it names a folder (e.g. '{text}/')")
    elif not _PREFIX_RE.match(text):
        problems.append(f"{key}: {text!r} is not a folder path of letters, digits and !_.*'()=- separated by single '/'")
    else:
        return text
    return None


_INT_RANGES = {
    "job_workers": (2, 299),
    "job_timeout_minutes": (1, 2880),
    "job_max_concurrent_runs": (1, 1000),
    # Each 30-second poll adds about 13 events to the execution history; a Standard
    # execution holds 25,000, so the loop must end well before ~960 minutes.
    "crawl_timeout_minutes": (1, 720),
    "trigger_max_event_age_seconds": (60, 86400),
    "trigger_retry_attempts": (0, 185),
    "trail_log_expiration_days": (1, 3650),
    "noncurrent_version_expiration_days": (1, 3650),
    "log_retention_days": (1, 3653),
    "data_access_log_expiration_days": (1, 3650),
}
_CHOICES = {
    "trigger_source": TRIGGER_SOURCES,
    "trail_mode": TRAIL_MODES,
    "job_engine": JOB_ENGINES,
    "output_format": OUTPUT_FORMATS,
    "dedup_mode": DEDUP_MODES,
    "job_worker_type": WORKER_TYPES,
    "job_execution_class": EXECUTION_CLASSES,
    "log_level": LOG_LEVELS,
    "encryption": ENCRYPTIONS,
}


def parse_settings(raw: Mapping[str, Any]) -> Settings:
    """Validate raw config values (keyed by Pulumi config key) into ``Settings``.

    Keys that are absent or ``None`` take their defaults. Unknown keys are an
    error (a typo would otherwise be silently ignored).
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key in sorted(set(raw) - set(CONFIG_KEYS)):
        problems.append(f"{key}: unknown setting; known settings are {', '.join(sorted(CONFIG_KEYS))}")
    for key, attr in CONFIG_KEYS.items():
        value = raw.get(key)
        if value is None:
            continue
        if attr in _INT_RANGES:
            value = _as_int(key, value, problems, *_INT_RANGES[attr])
        elif attr in _CHOICES:
            value = _choice(key, value, _CHOICES[attr], problems)
        elif attr in ("trail_kms_encryption", "protect_data", "data_access_logs"):
            value = _as_bool(key, value, problems)
        elif attr in ("watched_prefix", "output_prefix"):
            value = _prefix(key, value, problems)
        else:
            value = str(value).strip()
        if value is not None:
            values[attr] = value

    settings = Settings(**values) if not problems else None
    if settings is not None:
        problems.extend(_cross_checks(settings))
    if problems:
        raise SettingsError(problems)
    return settings


def _cross_checks(s: Settings) -> list[str]:
    problems = []
    try:
        bucket_layout(s.watched_prefix, s.output_prefix)
    except ValueError as error:
        problems.append(f"outputPrefix: {error}")
    if s.data_bucket_name:
        try:
            names.check_bucket_name(s.data_bucket_name)
        except ValueError as error:
            problems.append(f"dataBucketName: {error}")
    if s.database_name and not re.fullmatch(r"[a-z0-9_]{1,255}", s.database_name):
        problems.append(f"databaseName: {s.database_name!r} must be 1-255 lowercase letters, digits and '_' (Athena reads no other)")
    if s.trail_mode == "none" and s.trigger_source == "cloudtrail":
        problems.append("trailMode: 'none' records no CloudTrail events, so triggerSource 'cloudtrail' would never fire; "
                        "use triggerSource 's3-eventbridge' or trailMode 'per-stack'/'shared'")
    if s.trail_kms_encryption and s.trail_mode != "per-stack":
        problems.append(f"trailKmsEncryption: applies to the stack's own trail; trailMode {s.trail_mode!r} creates none "
                        "(the class trail is set up by shared_trail/)")
    if s.trail_mode == "shared" and not s.shared_trail_name:
        problems.append("sharedTrailName: required when trailMode is 'shared' (the name of the class trail, see shared_trail/ and docs/instructor-runbook.md)")
    if s.notification_email and not _EMAIL_RE.match(s.notification_email):
        problems.append(f"notificationEmail: {s.notification_email!r} is not an e-mail address (name@example.com)")
    if s.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"logRetentionDays: {s.log_retention_days} is not a CloudWatch retention; use one of "
                        + ", ".join(map(str, LOG_RETENTION_DAYS)))
    if s.encryption == "sse-s3" and s.kms_key_arn:
        problems.append("kmsKeyArn: set only with encryption 'sse-kms' (with sse-s3 it would be ignored)")
    if s.kms_key_arn and not re.fullmatch(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+", s.kms_key_arn):
        problems.append(f"kmsKeyArn: {s.kms_key_arn!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; "
                        "an alias ARN can't be granted in IAM policies)")
    if s.job_execution_class == "FLEX" and s.job_worker_type not in ("G.1X", "G.2X"):
        problems.append(f"jobExecutionClass: FLEX runs only on G.1X and G.2X workers, not {s.job_worker_type}")
    if s.owner and not _TAG_RE.match(s.owner):
        problems.append(f"owner: {s.owner!r} is not a valid tag value")
    if s.environment and not _TAG_RE.match(s.environment):
        problems.append(f"environment: {s.environment!r} is not a valid tag value")
    return problems


def load_settings() -> Settings:
    """Read this stack's Pulumi config (project namespace) into ``Settings``.

    Keys set in the stack that the program doesn't know are reported too: a
    typo (``jobWorker``) would otherwise be silently ignored.
    """
    import pulumi

    config = pulumi.Config()
    keys = set(CONFIG_KEYS) | _stack_config_keys(pulumi.get_project())
    return parse_settings({key: config.get(key) for key in keys})


def _stack_config_keys(project: str) -> set[str]:
    """Keys of the project namespace that the stack sets (the SDK keeps them in its runtime config)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    namespace = f"{project}:"
    return {k.removeprefix(namespace) for k in {*CONFIG.get(), *get_config_env()} if k.startswith(namespace)}
