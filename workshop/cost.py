"""What a class costs, before it runs: per student per upload and per class-day. Pure.

Prices come from ``workshop.prices`` (one module, dated); usage per run from
``RunAssumptions`` (stated in the printout); the Step Functions state
transitions of a normal run are counted by walking the real definition
(``builders.workflow_definition.build_definition``), so a change to the
workflow changes the estimate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from builders import workflow_definition as wd
from builders.settings import Settings
from workshop import prices

_MATH_ADD = re.compile(r"^States\.MathAdd\(\s*(\$[\w.]*)\s*,\s*(-?\d+)\s*\)$")


# --- Step Functions: count the transitions of a run on the real definition ---------------------------

def _get(data: dict, path: str):
    """Value at a simple JSONPath (``$.a.b``); ``KeyError`` when absent."""
    if path == "$":
        return data
    value = data
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def _set(data: dict, path: str | None, value) -> dict:
    if path is None:
        return data
    if path == "$":
        return value
    target = data
    parts = path.removeprefix("$.").split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value
    return data


def _parameters(template: dict, data: dict) -> dict:
    out = {}
    for key, value in template.items():
        if isinstance(value, dict):
            out[key] = _parameters(value, data)
        elif key.endswith(".$"):
            match = _MATH_ADD.match(value)
            if match:
                out[key[:-2]] = _get(data, match.group(1)) + int(match.group(2))
            elif value.startswith("$$"):
                out[key[:-2]] = None  # context object: not needed to choose a path
            else:
                out[key[:-2]] = _get(data, value)
        else:
            out[key] = value
    return out


def _matches(rule: dict, data: dict) -> bool:
    if "And" in rule:
        return all(_matches(r, data) for r in rule["And"])
    if "Or" in rule:
        return any(_matches(r, data) for r in rule["Or"])
    if "Not" in rule:
        return not _matches(rule["Not"], data)
    try:
        value = _get(data, rule["Variable"])
        present = True
    except KeyError:
        value, present = None, False
    if "IsPresent" in rule:
        return present == rule["IsPresent"]
    if not present:
        # Step Functions fails the execution here (States.Runtime); a normal run never does.
        raise ValueError(f"Choice rule reads {rule['Variable']}, absent from the state data")
    for op, test in (("StringEquals", lambda a, b: a == b), ("NumericEquals", lambda a, b: a == b),
                     ("NumericGreaterThanEquals", lambda a, b: a >= b), ("NumericLessThan", lambda a, b: a < b),
                     ("BooleanEquals", lambda a, b: a == b)):
        if op in rule:
            return test(value, rule[op])
    raise ValueError(f"Choice operator not understood by the estimate: {sorted(rule)}")


def run_transitions(definition: dict, crawler_polls_running: int) -> tuple[int, str]:
    """State transitions of one execution in which every task succeeds and the
    crawler is still RUNNING for ``crawler_polls_running`` polls, then READY
    with a SUCCEEDED last crawl. Returns (transitions, the state it ends in).
    """
    states = definition["States"]
    name = definition["StartAt"]
    data: dict = {"bucket": "b", "key": "k"}
    polls = [{"State": "RUNNING"}] * crawler_polls_running + [{"State": "READY", "LastCrawl": {"Status": "SUCCEEDED"}}]
    transitions = 0
    while transitions < 10_000:
        transitions += 1
        state = states[name]
        kind = state["Type"]
        if kind in ("Succeed", "Fail"):
            return transitions, name
        if kind == "Choice":
            name = next((c["Next"] for c in state["Choices"] if _matches(c, data)), state.get("Default"))
            continue
        if kind == "Task":
            result: dict = {"Id": "jr_1", "JobRunState": "SUCCEEDED"}
            if state["Resource"] == wd.GLUE_GET_CRAWLER:
                result = {"Crawler": polls.pop(0) if len(polls) > 1 else polls[0]}
            if "ResultSelector" in state:
                result = _parameters(state["ResultSelector"], result)
            data = _set(data, state.get("ResultPath", "$"), result)
        elif kind == "Pass":
            value = state["Result"] if "Result" in state else _parameters(state.get("Parameters", {}), data)
            data = _set(data, state.get("ResultPath", "$"), value)
        if state.get("End"):
            return transitions, name
        name = state["Next"]
    raise ValueError("the workflow did not end within 10,000 transitions")


# --- The estimate -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunAssumptions:
    """Usage of one upload's run: guesses for the workshop's ~530-row file, stated in the printout."""

    job_minutes: float = 3.0
    """Wall time of a Glue 5.0 run (start-up plus Splink on a small file)."""
    crawl_minutes: float = 1.5
    crawler_dpus: float = 2.0
    """DPUs a small crawl is billed for (AWS does not publish it; the console shows it per crawl)."""
    pipeline_objects_written: int = 12
    """Objects the job writes or copies per run (part files, staging, matches, output)."""
    s3_reads_per_run: int = 60
    log_mb_per_run: float = 5.0
    stored_mb_per_run: float = 0.5
    """Upload, matches and output of one run, kept for the class-day."""


@dataclass(frozen=True)
class PipelineSettings:
    """The settings the bill depends on: a class's defaults (shared trail), the stack's otherwise."""

    trail_mode: str = "shared"
    trigger_source: str = Settings.trigger_source
    job_execution_class: str = Settings.job_execution_class
    job_worker_type: str = Settings.job_worker_type
    job_workers: int = Settings.job_workers
    poll_seconds: int = wd.WorkflowSpec.poll_seconds


@dataclass(frozen=True)
class Line:
    item: str
    quantity: str
    usd: float


def data_events_per_upload(settings: PipelineSettings, run: RunAssumptions) -> int:
    if settings.trail_mode == "none":
        return 0
    if settings.trail_mode == "shared":
        # The class trail watches whole student buckets: the pipeline's own writes are recorded too.
        return 1 + run.pipeline_objects_written
    return 1


def per_upload(settings: PipelineSettings, run: RunAssumptions) -> list[Line]:
    events = data_events_per_upload(settings, run)
    dpus = prices.DPU_PER_WORKER[settings.job_worker_type] * settings.job_workers
    job_hours = max(run.job_minutes, prices.GLUE_JOB_MINIMUM_MINUTES) / 60
    dpu_price = prices.GLUE_DPU_HOUR_FLEX if settings.job_execution_class == "FLEX" else prices.GLUE_DPU_HOUR_STANDARD
    crawl_hours = max(run.crawl_minutes, prices.GLUE_CRAWLER_MINIMUM_MINUTES) / 60
    polls_running = max(0, math.ceil(run.crawl_minutes * 60 / settings.poll_seconds) - 1)
    definition = wd.build_definition(wd.WorkflowSpec("job", "crawler", "topic", poll_seconds=settings.poll_seconds))
    transitions, _ = run_transitions(definition, polls_running)
    puts = 1 + run.pipeline_objects_written
    return [
        Line("CloudTrail data events", f"{events} event(s)", events * prices.CLOUDTRAIL_DATA_EVENTS_PER_100K / 100_000),
        Line(f"Glue job ({settings.job_execution_class})",
             f"{dpus} DPU x {max(run.job_minutes, prices.GLUE_JOB_MINIMUM_MINUTES):g} min", dpus * job_hours * dpu_price),
        Line("Glue crawler", f"{run.crawler_dpus:g} DPU x {crawl_hours * 60:g} min (10-min minimum)",
             run.crawler_dpus * crawl_hours * prices.GLUE_CRAWLER_DPU_HOUR),
        Line("Step Functions", f"{transitions} state transitions",
             transitions * prices.STEP_FUNCTIONS_PER_1K_TRANSITIONS / 1000),
        Line("S3 requests", f"{puts} PUT/COPY, {run.s3_reads_per_run} GET",
             puts * prices.S3_PUT_PER_1K / 1000 + run.s3_reads_per_run * prices.S3_GET_PER_1K / 1000),
        Line("CloudWatch Logs", f"{run.log_mb_per_run:g} MB ingested",
             run.log_mb_per_run / 1024 * prices.CLOUDWATCH_LOGS_INGEST_PER_GB),
    ]


# What one student stack keeps that is billed by the month (tests count them in a render of the program).
KMS_KEYS_PER_STACK = 1
ALARMS_PER_STACK = 2


def per_student_day(run: RunAssumptions, uploads: int) -> list[Line]:
    """What a student's stack costs for one day whatever the uploads do: key, alarms, storage."""
    stored_gb = uploads * run.stored_mb_per_run / 1024
    return [
        Line("KMS key", f"{KMS_KEYS_PER_STACK} key x 1 day", KMS_KEYS_PER_STACK * prices.KMS_KEY_MONTH / 30),
        Line("CloudWatch alarms", f"{ALARMS_PER_STACK} alarms x 1 day",
             ALARMS_PER_STACK * prices.CLOUDWATCH_ALARM_MONTH / 30),
        Line("S3 storage", f"{stored_gb * 1024:g} MB x 1 day", stored_gb * prices.S3_STORAGE_GB_MONTH / 30),
    ]


@dataclass(frozen=True)
class Estimate:
    students: int
    uploads_per_student: int
    settings: PipelineSettings
    run: RunAssumptions
    upload_lines: list[Line]
    day_lines: list[Line]

    @property
    def per_upload_usd(self) -> float:
        return sum(line.usd for line in self.upload_lines)

    @property
    def per_student_day_usd(self) -> float:
        return self.uploads_per_student * self.per_upload_usd + sum(line.usd for line in self.day_lines)

    @property
    def class_day_usd(self) -> float:
        return self.students * self.per_student_day_usd


def estimate(students: int, uploads_per_student: int, settings: PipelineSettings = PipelineSettings(),
             run: RunAssumptions = RunAssumptions()) -> Estimate:
    if students < 1 or uploads_per_student < 0:
        raise ValueError("students must be at least 1 and uploads per student not negative")
    if settings.job_worker_type not in prices.DPU_PER_WORKER:
        raise ValueError(f"jobWorkerType {settings.job_worker_type!r} is not one of {', '.join(prices.DPU_PER_WORKER)}")
    return Estimate(students, uploads_per_student, settings, run, per_upload(settings, run),
                    per_student_day(run, uploads_per_student))


def _money(usd: float) -> str:
    if usd < 0.01:
        return f"${usd:.6f}"
    return f"${usd:,.4f}" if usd < 1 else f"${usd:,.2f}"


def render(e: Estimate) -> str:
    s, r = e.settings, e.run
    out = [
        f"Cost estimate: {e.students} student(s) x {e.uploads_per_student} upload(s) in one class-day",
        f"settings: trailMode={s.trail_mode}, triggerSource={s.trigger_source}, "
        f"jobExecutionClass={s.job_execution_class}, {s.job_workers} x {s.job_worker_type}",
        "",
        "per student per upload:",
        *(f"  {line.item:28} {line.quantity:36} {_money(line.usd):>10}" for line in e.upload_lines),
        f"  {'total per upload':65} {_money(e.per_upload_usd):>10}",
        "",
        "per student per class-day, besides uploads:",
        *(f"  {line.item:28} {line.quantity:36} {_money(line.usd):>10}" for line in e.day_lines),
        "",
        f"per student per class-day: {_money(e.per_student_day_usd)}",
        f"per class-day ({e.students} students): {_money(e.class_day_usd)}",
        "",
        "usage assumed per run (override with the --job-minutes etc. options):",
        f"  job {r.job_minutes:g} min; crawl {r.crawl_minutes:g} min at {r.crawler_dpus:g} DPU; "
        f"{r.pipeline_objects_written} objects written by the job; {r.s3_reads_per_run} S3 reads; "
        f"{r.log_mb_per_run:g} MB of logs; {r.stored_mb_per_run:g} MB stored",
    ]
    if s.trail_mode == "shared":
        out.append("  the shared trail records every write in the student buckets, the job's own included "
                   f"({data_events_per_upload(s, r)} data events per upload instead of 1)")
    out += ["", f"prices assumed ({prices.PRICES_REGIONS}, as of {prices.PRICES_AS_OF}; {prices.PRICES_SOURCE}):"]
    out += [f"  {name:55} {value:g}" for name, value in prices.ALL.items()]
    out.append("Free tiers, credits, taxes and data transfer are ignored. Not a quote.")
    return "\n".join(out)
