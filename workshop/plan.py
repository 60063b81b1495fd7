"""From a validated roster to the stacks of a class: names, config, checks. Pure.

Each student gets the stack ``student-<slug>`` of the pipeline program (the
repository root) with their owner tag and notification e-mail. With the shared
trail mode the class also gets one stack of the ``shared_trail/`` program,
brought up before and destroyed after the students'.

``plan_class`` refuses a class whose stacks would clash: every physical name of
every stack (``builders.names.physical_names``, the function the program uses)
must be valid and distinct across the class, and every student's settings must
pass ``builders.settings.parse_settings``, all reported at once.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from builders.names import LAB_BUCKET_PREFIX, physical_names
from builders.settings import SettingsError, parse_settings
from workshop.roster import STACK_PREFIX, Student

REPO = Path(__file__).resolve().parent.parent
SHARED_TRAIL_DIR = REPO / "shared_trail"
PIPELINE_PROJECT = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]
TRAIL_PROJECT = yaml.safe_load((SHARED_TRAIL_DIR / "Pulumi.yaml").read_text())["name"]
DEFAULT_TRAIL_STACK = "class"
DEFAULT_TRAIL_NAME = "etl-ttt-demo-class-trail"
# A placeholder account for planning: names depend on the account only through its
# 12 digits, so lengths (and thus validity and collisions) are the same for any account.
PLACEHOLDER_ACCOUNT = "000000000000"
# The namespace in which AWS requires each physical name to be unique.
NAMESPACES = {
    "data_bucket": "s3 bucket",
    "database": "glue database",
    "trail": "cloudtrail trail",
    "crawler": "glue crawler",
    "job": "glue job",
    "state_machine": "state machine",
    "rule": "eventbridge rule",
    "glue_job_role": "iam role",
    "crawler_role": "iam role",
    "states_role": "iam role",
    "events_role": "iam role",
    "security_configuration": "glue security configuration",
}


# Settings the workshop command sets itself, and the option that controls each.
RESERVED = {
    "owner": "the roster's name column",
    "notificationEmail": "the roster's email column",
    "trailMode": "--trail-mode",
    "sharedTrailName": "--trail-name",
    "triggerSource": "--trigger-source",
}


# Pulumi stack names: letters, digits, '-', '_', '.', at most 100 (pulumi/pulumi sdk/go/common/tokens,
# ValidateStackName; the same rule tests/test_workshop_roster.py holds student stacks to).
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# CloudTrail trail names (CreateTrail, InvalidTrailNameException): ASCII letters, digits, '.', '_', '-';
# start and end with a letter or digit; 3 to 128 characters; no two of '._-' in a row; not an IP address.
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9])){1,126}[A-Za-z0-9]$")
# AWS region codes: eu-west-1, us-gov-west-1, cn-north-1, eusc-de-east-1.
_REGION = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}$")


def option_problems(options: ClassOptions) -> list[str]:
    """What is wrong with the class's own options (the same for every student), each named by its flag."""
    problems = []
    if not _REGION.match(options.region):
        problems.append(f"--region {options.region!r} is not an AWS region code (e.g. eu-west-1)")
    if not (len(options.account) == 12 and options.account.isascii() and options.account.isdigit()):
        problems.append(f"--account {options.account!r} is not a 12-digit AWS account id")
    if options.trail_mode == "shared":
        if not _STACK_NAME.match(options.trail_stack):
            problems.append(f"--trail-stack {options.trail_stack!r} is not a Pulumi stack name "
                            "(1 to 100 letters, digits, '-', '_' or '.')")
        if not _TRAIL_NAME.match(options.trail_name) or _is_ip(options.trail_name):
            problems.append(f"--trail-name {options.trail_name!r} is not a CloudTrail trail name (3 to 128 "
                            "letters, digits, '.', '_' or '-', starting and ending with a letter or digit, no two "
                            "of '._-' in a row, not an IP address)")
    problems += [f"--set {key}: set per class by the workshop command; use {flag}"
                 for key, flag in RESERVED.items() if key in options.extra]
    return problems


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def class_problems(options: ClassOptions) -> list[str]:
    """Every problem of the class's options and of the settings every student shares, each said once."""
    try:
        parse_settings(class_settings(options))
    except SettingsError as error:
        return option_problems(options) + list(error.problems)
    return option_problems(options)


def check_class(options: ClassOptions) -> None:
    """PlanError listing every class-wide problem (for commands that take a class size, not a roster)."""
    problems = class_problems(options)
    if problems:
        raise PlanError(problems)


def class_bucket_prefix(stack_prefix: str = STACK_PREFIX) -> str:
    """The start of every student's data bucket name: ``etl-ttt-demo-student-``.

    ``names.bucket_name`` keeps the start of the stack name (it cuts and hashes
    only the end), so one StartsWith value covers every student bucket, however
    many students, and no bucket of a stack not named ``student-...``.
    """
    return f"{LAB_BUCKET_PREFIX}-{stack_prefix}"


@dataclass(frozen=True)
class ClassOptions:
    region: str = "eu-west-1"
    account: str = PLACEHOLDER_ACCOUNT
    trail_mode: str = "shared"
    trigger_source: str = "cloudtrail"
    trail_stack: str = DEFAULT_TRAIL_STACK
    trail_name: str = DEFAULT_TRAIL_NAME
    extra: dict[str, str] = field(default_factory=dict)
    """More pipeline settings for every student (``--set jobExecutionClass=FLEX``)."""


@dataclass(frozen=True)
class StackSpec:
    """One stack to bring up: which program, which stack, which config (full keys)."""

    stack: str
    work_dir: Path
    project: str
    config: dict[str, str]
    student: Student | None = None

    @property
    def label(self) -> str:
        return f"{self.stack} ({self.student.name})" if self.student else self.stack


@dataclass(frozen=True)
class ClassPlan:
    options: ClassOptions
    trail: StackSpec | None
    students: list[StackSpec]

    @property
    def all_stacks(self) -> list[StackSpec]:
        return ([self.trail] if self.trail else []) + self.students


class PlanError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the class plan:\n" + "\n".join(f"  - {p}" for p in problems))


def class_settings(options: ClassOptions) -> dict[str, str]:
    """The pipeline settings every student's stack shares (config keys without namespace)."""
    values = {
        "environment": "workshop",
        "triggerSource": options.trigger_source,
        "trailMode": options.trail_mode,
        # Workshop stacks leave nothing behind on destroy.
        "protectData": "false",
        # The lab's behaviour: each upload replaces the published customers.
        "dedupMode": "replace",
    }
    if options.trail_mode == "shared":
        values["sharedTrailName"] = options.trail_name
    # A reserved key is refused on its own (option_problems); applying it here would only
    # add the problems it causes (e.g. trailMode per-stack beside the class trail's name).
    values.update({key: value for key, value in options.extra.items() if key not in RESERVED})
    return values


def student_settings(student: Student, options: ClassOptions) -> dict[str, str]:
    """The pipeline settings of one student's stack (config keys without namespace)."""
    return {**class_settings(options), "owner": student.owner_tag, "notificationEmail": student.email}


def trail_settings(options: ClassOptions) -> dict[str, str]:
    return {"trailName": options.trail_name, "bucketNamePrefix": class_bucket_prefix()}


def _full(project: str, values: dict[str, str], region: str) -> dict[str, str]:
    return {"aws:region": region, **{f"{project}:{k}": v for k, v in values.items()}}


def only(plan: ClassPlan, stacks: list[str]) -> ClassPlan:
    """The part of the plan naming these stacks (student stacks or the trail stack)."""
    known = {spec.stack for spec in plan.all_stacks}
    unknown = sorted(set(stacks) - known)
    if unknown:
        raise PlanError([f"--only {name!r} is no stack of this class (see the plan command)" for name in unknown])
    trail = plan.trail if plan.trail and plan.trail.stack in stacks else None
    return ClassPlan(plan.options, trail, [spec for spec in plan.students if spec.stack in stacks])


def plan_class(students: list[Student], options: ClassOptions, source: str = "roster") -> ClassPlan:
    """The stacks of the class, or PlanError naming every clash and invalid setting (a student's by
    ``<source>:<line> (<name>)``, ``source`` being the roster file)."""

    def where(student: Student) -> str:
        return f"{source}:{student.line} ({student.name})"

    problems = class_problems(options)
    if option_problems(options):
        raise PlanError(problems)  # names built from bad options would only repeat them for every student
    shared = set(problems)
    specs = []
    owners: dict[tuple[str, str], str] = {}
    for student in students:
        values = student_settings(student, options)
        try:
            parse_settings(values)
        except SettingsError as error:
            # What is wrong for the whole class was said once above.
            problems.extend(f"{where(student)}: {p}" for p in error.problems if p not in shared)
        try:
            physical = physical_names(student.stack, options.account, options.region,
                                      data_bucket=values.get("dataBucketName") or None,
                                      database=values.get("databaseName") or None).as_dict()
        except ValueError as error:
            problems.append(f"{where(student)}: {error}")
            continue
        if options.trail_mode == "shared" and not physical["data_bucket"].startswith(class_bucket_prefix()):
            problems.append(f"{where(student)}: data bucket {physical['data_bucket']!r} does not "
                            f"start with {class_bucket_prefix()!r}, so the class trail would not see its uploads; "
                            "leave dataBucketName unset")
        for kind, name in physical.items():
            # Compare within the namespace AWS checks: all roles share one, buckets are global.
            key = (NAMESPACES.get(kind, kind), name.lower() if kind == "data_bucket" else name)
            if key in owners:
                problems.append(f"{where(student)}: {kind} {name!r} is also {owners[key]}'s")
            owners[key] = student.stack
        specs.append(StackSpec(student.stack, REPO, PIPELINE_PROJECT,
                               _full(PIPELINE_PROJECT, values, options.region), student))
    stacks = [s.stack for s in specs]
    if options.trail_mode == "shared" and options.trail_stack in stacks:
        problems.append(f"the trail stack {options.trail_stack!r} has the name of a student stack; choose another --trail-stack")
    if problems:
        raise PlanError(problems)
    trail = None
    if options.trail_mode == "shared":
        trail = StackSpec(options.trail_stack, SHARED_TRAIL_DIR, TRAIL_PROJECT,
                          _full(TRAIL_PROJECT, trail_settings(options), options.region))
    return ClassPlan(options, trail, specs)
