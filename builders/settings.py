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
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from builders import names
from builders.layout import bucket_layout
from glue_jobs import contract as _contract
from glue_jobs.contract import DEDUP_MODES, JOB_ENGINES, MODEL_CHOICES, OUTPUT_FORMATS, prefix_problem
from glue_jobs.contract import shown as _shown

TRIGGER_SOURCES = ("cloudtrail", "s3-eventbridge")
TRAIL_MODES = ("per-stack", "shared", "none")
WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")
EXECUTION_CLASSES = ("STANDARD", "FLEX")
LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
ENCRYPTIONS = ("sse-s3", "sse-kms")
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)

_EMAIL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# Tag values as IAM's service model has them (botocore iam tagValueType: pattern
# [\p{L}\p{Z}\p{N}_.:/=+\-@]*, at most 256 characters); the default tags go on roles too.
_TAG_VALUE_MAX = 256
_TAG_SYMBOLS = set("_.:/=+-@")
# A CloudTrail trail name (CreateTrail: 3-128 of letters, digits, '.', '_', '-'; starts and
# ends with a letter or digit; no two of '._-' in a row; not an IP address) or a trail ARN.
_TRAIL_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9])){1,126}[A-Za-z0-9]")
_TRAIL_ARN_RE = re.compile(r"arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail/(.+)")
_KMS_KEY_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:key/"
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})")
# Glue's NumberOfWorkers: "at most 299 for G.1X and 149 for G.2X" (Glue API, JobRun.NumberOfWorkers).
_MAX_WORKERS = {"G.2X": 149}


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
    model_choice: str = "auto"
    model_object_key: str = ""
    labels_object_key: str = ""
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

    # What follows from the settings, decided here once (``__main__.py`` only composes).
    @property
    def per_stack_trail(self) -> bool:
        """The stack creates its own trail (``trailMode: per-stack``)."""
        return self.trail_mode == "per-stack"

    @property
    def trail_encrypted(self) -> bool:
        """The stack's own trail encrypts its log files with the stack key."""
        return self.per_stack_trail and self.trail_kms_encryption

    @property
    def retain_stack_key(self) -> bool:
        """Retained data must stay readable: keep the stack key when it encrypts the data bucket."""
        return self.protect_data and self.encryption == "sse-kms" and not self.kms_key_arn


def config_key(attr: str) -> str:
    """Python attribute name -> Pulumi config key (``job_workers`` -> ``jobWorkers``)."""
    head, *rest = attr.split("_")
    return head + "".join(part.capitalize() for part in rest)


CONFIG_KEYS = {config_key(f.name): f.name for f in dataclasses.fields(Settings)}


def _as_int(key: str, raw: Any, problems: list[str], low: int, high: int) -> int | None:
    # ASCII digits only: int() also takes "1_000" and other scripts' digits
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    value = int(text) if re.fullmatch(r"[+-]?[0-9]{1,12}", text) else None
    if value is None or not low <= value <= high:
        problems.append(f"{key}: {_shown(raw)} is not a whole number from {low} to {high}")
        return None
    return value


def _as_bool(key: str, raw: Any, problems: list[str]) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    problems.append(f"{key}: {_shown(raw)} is not true or false")
    return None


def _choice(key: str, raw: Any, allowed: tuple[str, ...], problems: list[str]) -> str | None:
    if isinstance(raw, str) and raw in allowed:
        return raw
    problems.append(f"{key}: {_shown(raw)} is not one of {', '.join(allowed)}")
    return None


def _as_prefix(key: str, raw: Any, problems: list[str]) -> str | None:
    problem = prefix_problem(str(raw))
    if problem:
        problems.append(f"{key}: {problem}")
        return None
    return str(raw)


# objects of the team's that the job reads, and how their names end
_OBJECT_SUFFIX = {"model_object_key": ".json", "labels_object_key": ".csv"}


def _as_object_key(key: str, raw: Any, suffix: str, problems: list[str]) -> str | None:
    problem = _contract.object_key_problem(str(raw), suffix) if str(raw) else None
    problems.extend([f"{key}: {problem}"] if problem else [])
    return None if problem else str(raw)


def tag_value_problem(value: str) -> str | None:
    """Why AWS would refuse ``value`` as a tag value, or None.

    The rule of IAM's model (letters, numbers, separators and ``_.:/=+-@``, at most
    256 characters), stricter on one point: no line or paragraph separator.
    """
    if len(value) > _TAG_VALUE_MAX:
        return f"is {len(value)} characters; a tag value has at most {_TAG_VALUE_MAX}"
    bad = [c for c in value if not (c in _TAG_SYMBOLS or unicodedata.category(c) in _TAG_CATEGORIES)]
    if bad:
        shown = ", ".join(sorted({repr(c) for c in bad}))
        return f"has {shown}; a tag value takes only letters, digits, spaces and _ . : / = + - @"
    return None


_TAG_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Zs"}


def trail_name_problem(value: str) -> str | None:
    """Why CloudTrail would refuse ``value`` as a trail name (or trail ARN), or None."""
    m = _TRAIL_ARN_RE.fullmatch(value)
    name = m.group(1) if m else value
    if not _TRAIL_NAME_RE.fullmatch(name) or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return (f"{_shown(value)} is not a trail name (3-128 letters, digits, '.', '_', '-', starting and "
                "ending with a letter or digit, no two of '._-' in a row) nor a trail ARN")
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
    "model_choice": MODEL_CHOICES,
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
    failed: set[str] = set()
    for key in sorted(set(raw) - set(CONFIG_KEYS), key=str):
        problems.append(f"{key if str(key).isprintable() else _shown(key)}: unknown setting; "
                        f"known settings are {', '.join(sorted(CONFIG_KEYS))}")
    for key, attr in CONFIG_KEYS.items():
        value = raw.get(key)
        if value is None:
            continue
        before = len(problems)
        if attr in _INT_RANGES:
            value = _as_int(key, value, problems, *_INT_RANGES[attr])
        elif attr in _CHOICES:
            value = _choice(key, value, _CHOICES[attr], problems)
        elif attr in ("trail_kms_encryption", "protect_data", "data_access_logs"):
            value = _as_bool(key, value, problems)
        elif attr in ("watched_prefix", "output_prefix"):
            value = _as_prefix(key, value, problems)
        elif attr in _OBJECT_SUFFIX:
            value = _as_object_key(key, value, _OBJECT_SUFFIX[attr], problems)
        else:
            value = str(value).strip()
        if len(problems) > before:
            failed.add(key)
        elif value is not None:
            values[attr] = value

    # Checks on one value and checks across values run together: every problem at once.
    # A check that reads a value which failed above is skipped (it would judge the default).
    problems.extend(_cross_checks(Settings(**values), failed))
    if problems:
        raise SettingsError(problems)
    return Settings(**values)


def _cross_checks(s: Settings, failed: set[str] = frozenset()) -> list[str]:
    problems: list[str] = []
    for needs, check in _CHECKS:
        if not (set(needs) & failed):
            problems.extend(check(s))
    return problems


def _one(problem: str | None) -> list[str]:
    return [problem] if problem else []


def _layout(s: Settings) -> list[str]:
    try:
        bucket_layout(s.watched_prefix, s.output_prefix)
    except ValueError as error:
        return [f"outputPrefix: {error}"]
    return []


def _bucket(s: Settings) -> list[str]:
    if not s.data_bucket_name:
        return []
    try:
        names.check_bucket_name(s.data_bucket_name)
    except ValueError as error:
        return [f"dataBucketName: {error}"]
    return []


def _tag(key: str, value: str) -> list[str]:
    problem = tag_value_problem(value) if value else None
    return [f"{key}: {_shown(value)} {problem} (it becomes the '{key}' tag)"] if problem else []


def _glue_name(key: str, value: str) -> list[str]:
    if value and not re.fullmatch(r"[a-z0-9_]{1,255}", value):
        return [f"{key}: {_shown(value)} must be 1-255 lowercase letters, digits and '_' (Athena reads no other)"]
    return []


def _read_object(key: str, value: str, s: Settings) -> list[str]:
    """An object the job reads (model, labels) lies outside the pipeline's folders."""
    try:
        problem = value and bucket_layout(s.watched_prefix, s.output_prefix).reserved_problem(value)
    except ValueError:
        return []  # reported by the layout check
    return [f"{key}: {problem}"] if problem else []


# (config keys a check reads, the check): a check is skipped when one of its keys is already wrong.
_CHECKS: list[tuple[tuple[str, ...], Any]] = [
    (("watchedPrefix", "outputPrefix"), _layout),
    (("dataBucketName",), _bucket),
    (("databaseName",), lambda s: _glue_name("databaseName", s.database_name)),
    (("owner",), lambda s: _tag("owner", s.owner)),
    (("environment",), lambda s: _tag("environment", s.environment)),
    (("trailMode", "triggerSource"), lambda s: _one(
        s.trail_mode == "none" and s.trigger_source == "cloudtrail"
        and "trailMode: 'none' records no CloudTrail events, so triggerSource 'cloudtrail' would never fire; "
            "use triggerSource 's3-eventbridge' or trailMode 'per-stack'/'shared'")),
    (("trailKmsEncryption", "trailMode"), lambda s: _one(
        s.trail_kms_encryption and s.trail_mode != "per-stack"
        and f"trailKmsEncryption: applies to the stack's own trail; trailMode {s.trail_mode!r} creates none "
            "(the class trail is set up by shared_trail/)")),
    (("trailMode", "sharedTrailName"), lambda s: _one(
        s.trail_mode == "shared" and not s.shared_trail_name
        and "sharedTrailName: required when trailMode is 'shared' (the name of the class trail, "
            "see shared_trail/ and docs/instructor-runbook.md)")),
    (("trailMode", "sharedTrailName"), lambda s: _one(
        s.shared_trail_name and s.trail_mode != "shared"
        and f"sharedTrailName: used only with trailMode 'shared' (trailMode is {s.trail_mode!r}, which would "
            "ignore it); set trailMode 'shared' or remove sharedTrailName")),
    (("sharedTrailName",), lambda s: _one(
        s.shared_trail_name and (p := trail_name_problem(s.shared_trail_name)) and f"sharedTrailName: {p}")),
    (("notificationEmail",), lambda s: _one(
        s.notification_email and (len(s.notification_email) > 254 or not _EMAIL_RE.match(s.notification_email))
        and f"notificationEmail: {_shown(s.notification_email)} is not an e-mail address (name@example.com, "
            "at most 254 characters)")),
    (("logRetentionDays",), lambda s: _one(
        s.log_retention_days not in LOG_RETENTION_DAYS
        and f"logRetentionDays: {s.log_retention_days} is not a CloudWatch retention; use one of "
            + ", ".join(map(str, LOG_RETENTION_DAYS)))),
    (("encryption", "kmsKeyArn"), lambda s: _one(
        s.encryption == "sse-s3" and s.kms_key_arn
        and "kmsKeyArn: set only with encryption 'sse-kms' (with sse-s3 it would be ignored)")),
    (("kmsKeyArn",), lambda s: _one(
        s.kms_key_arn and not _KMS_KEY_ARN_RE.fullmatch(s.kms_key_arn)
        and f"kmsKeyArn: {_shown(s.kms_key_arn)} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; "
            "an alias ARN can't be granted in IAM policies)")),
    (("modelChoice", "modelObjectKey"), lambda s: _one(s.model_choice == "object" and not s.model_object_key and (
        "modelObjectKey: required when modelChoice is 'object' (a Splink model JSON's key in the data bucket)"))),
    (("modelChoice", "modelObjectKey"), lambda s: _one(s.model_object_key and s.model_choice != "object" and (
        f"modelObjectKey: used only with modelChoice 'object' (not {s.model_choice!r}, which would ignore it)"))),
    (("modelObjectKey", "watchedPrefix", "outputPrefix"),
     lambda s: _read_object("modelObjectKey", s.model_object_key, s)),
    (("labelsObjectKey", "watchedPrefix", "outputPrefix"),
     lambda s: _read_object("labelsObjectKey", s.labels_object_key, s)),
    (("jobExecutionClass", "jobWorkerType"), lambda s: _one(
        s.job_execution_class == "FLEX" and s.job_worker_type not in ("G.1X", "G.2X")
        and f"jobExecutionClass: FLEX runs only on G.1X and G.2X workers, not {s.job_worker_type}")),
    (("jobWorkers", "jobWorkerType"), lambda s: _one(
        s.job_workers > _MAX_WORKERS.get(s.job_worker_type, 299)
        and f"jobWorkers: {s.job_workers} is more than Glue allows for {s.job_worker_type} workers "
            f"(at most {_MAX_WORKERS.get(s.job_worker_type, 299)})")),
]


def load_settings() -> Settings:
    """Read this stack's Pulumi config (project namespace) into ``Settings``.

    Keys set in the stack that the program doesn't know are reported too: a
    typo (``jobWorker``) would otherwise be silently ignored.
    """
    import pulumi

    config = pulumi.Config()
    keys = set(CONFIG_KEYS) | _stack_config_keys(pulumi.get_project())
    try:
        return parse_settings({key: config.get(key) for key in keys})
    except SettingsError as error:
        # RunError: Pulumi prints the message and stops, without the program's traceback
        # (a settings mistake is the user's, not a bug; see pulumi.errors.RunError)
        raise pulumi.RunError(str(error)) from None


def _stack_config_keys(project: str) -> set[str]:
    """Keys of the project namespace that the stack sets (the SDK keeps them in its runtime config)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    namespace = f"{project}:"
    return {k.removeprefix(namespace) for k in {*CONFIG.get(), *get_config_env()} if k.startswith(namespace)}
