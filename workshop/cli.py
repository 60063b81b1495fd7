"""``python -m workshop {plan,preflight,up,destroy,status,handout,cost}``.

Exit codes: 0 done; 1 some stacks failed (all are reported at the end);
2 nothing was done (bad roster, clashing plan, failed preflight, bad option).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from builders.settings import TRAIL_MODES, TRIGGER_SOURCES, SettingsError, parse_settings
from workshop import cost, orchestrate, preflight
from workshop.handout import FORMATS, write_handouts
from workshop.orchestrate import RetryPolicy, StackBackend
from workshop.plan import (
    DEFAULT_TRAIL_NAME,
    DEFAULT_TRAIL_STACK,
    ClassOptions,
    ClassPlan,
    PlanError,
    only,
    plan_class,
    student_settings,
)
from workshop.roster import RosterError, Student, load_roster

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


class UsageError(ValueError):
    pass


def _pairs(values: list[str] | None, what: str, cast: Callable = str) -> dict:
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} {item!r} is not KEY=VALUE")
        try:
            out[key.strip()] = cast(value.strip())
        except ValueError:
            raise UsageError(f"{what} {item!r}: {value!r} is not a number") from None
    return out


def _default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workshop", description="Run a whole workshop class: one stack per student.")
    commands = parser.add_subparsers(dest="command", required=True)

    def class_options(p: argparse.ArgumentParser, roster_required: bool = True) -> None:
        p.add_argument("--roster", required=roster_required, type=Path, help="CSV with a header name,email")
        p.add_argument("--region", default=_default_region(), help="AWS region of the class (default: $AWS_REGION or eu-west-1)")
        p.add_argument("--account", default=None, help="12-digit AWS account id (names only; the stacks use your credentials)")
        p.add_argument("--trail-mode", choices=TRAIL_MODES, default="shared",
                       help="shared (default: one class trail), per-stack (5 per region at most) or none")
        p.add_argument("--trigger-source", choices=TRIGGER_SOURCES, default="cloudtrail")
        p.add_argument("--trail-stack", default=DEFAULT_TRAIL_STACK, help="stack of the shared_trail program")
        p.add_argument("--trail-name", default=DEFAULT_TRAIL_NAME, help="physical name of the class trail")
        p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a pipeline setting for every student")

    def quota_options(p: argparse.ArgumentParser) -> None:
        keys = ", ".join(preflight.QUOTAS)
        p.add_argument("--usage", action="append", metavar="QUOTA=N", help=f"already in use ({keys})")
        p.add_argument("--quota", action="append", metavar="QUOTA=N", help="the account's quota when not AWS's default")
        p.add_argument("--from-aws", action="store_true", help="read quotas and usage with boto3 (needs credentials)")

    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--only", action="append", metavar="STACK",
                       help="only this stack (repeatable; a student stack, or the trail stack)")
        p.add_argument("--parallel", type=int, default=8, help="stacks at a time (default 8)")
        p.add_argument("--attempts", type=int, default=4, help="attempts per stack for transient errors (default 4)")

    p = commands.add_parser("plan", help="validate the roster and show the stacks it would create")
    class_options(p)
    p = commands.add_parser("preflight", help="check the class against the account's quotas")
    class_options(p, roster_required=False)
    p.add_argument("--students", type=int, help="class size, instead of --roster")
    quota_options(p)
    p = commands.add_parser("up", help="create or update every stack (the class trail first)")
    class_options(p)
    run_options(p)
    quota_options(p)
    p.add_argument("--skip-preflight", action="store_true")
    p = commands.add_parser("destroy", help="destroy every student stack, then the class trail")
    class_options(p)
    run_options(p)
    p.add_argument("--keep-trail", action="store_true", help="leave the class trail stack up")
    p = commands.add_parser("status", help="which stacks exist, with their outputs")
    class_options(p)
    run_options(p)
    p = commands.add_parser("handout", help="one page per student")
    class_options(p)
    p.add_argument("--out", type=Path, default=Path("handouts"))
    p.add_argument("--format", choices=FORMATS, default="md")
    p = commands.add_parser("cost", help="estimate the cost per upload and per class-day")
    p.add_argument("--students", type=int, required=True)
    p.add_argument("--uploads-per-student", type=int, default=5)
    p.add_argument("--trail-mode", choices=TRAIL_MODES, default="shared")
    p.add_argument("--trigger-source", choices=TRIGGER_SOURCES, default="cloudtrail")
    p.add_argument("--execution-class", choices=("STANDARD", "FLEX"), default="STANDARD")
    p.add_argument("--worker-type", default="G.1X")
    p.add_argument("--workers", type=int, default=2)
    defaults = cost.RunAssumptions()
    p.add_argument("--job-minutes", type=float, default=defaults.job_minutes)
    p.add_argument("--crawl-minutes", type=float, default=defaults.crawl_minutes)
    p.add_argument("--crawler-dpus", type=float, default=defaults.crawler_dpus)
    return parser


def _options(args) -> ClassOptions:
    account = args.account or "000000000000"
    if not (len(account) == 12 and account.isdigit()):
        raise UsageError(f"--account {account!r} is not a 12-digit AWS account id")
    return ClassOptions(region=args.region, account=account, trail_mode=args.trail_mode,
                        trigger_source=args.trigger_source, trail_stack=args.trail_stack,
                        trail_name=args.trail_name, extra=_pairs(args.set, "--set"))


def _plan(args, out) -> tuple[list[Student], ClassPlan]:
    students = load_roster(args.roster)
    plan = plan_class(students, _options(args))
    out(f"{args.roster}: {len(students)} student(s), {len(plan.all_stacks)} stack(s) planned, no name collision")
    return students, plan


def _preflight(args, students: int, out) -> bool:
    options = _options(args)
    usage = _pairs(args.usage, "--usage", int)
    quotas = _pairs(args.quota, "--quota", int)
    if args.from_aws:
        from workshop.aws_quotas import read_account

        try:
            aws_usage, aws_quotas = read_account(options.region)
        except ImportError:
            raise UsageError("--from-aws needs boto3: pip install boto3 (or give --usage/--quota)") from None
        usage, quotas = {**aws_usage, **usage}, {**aws_quotas, **quotas}
    runs = int(options.extra.get("jobMaxConcurrentRuns", 1))
    shape = preflight.ClassShape(students, options.trail_mode, options.trigger_source, runs)
    findings = preflight.preflight(shape, usage, quotas)
    out(preflight.report(findings, shape))
    return preflight.passed(findings)


def main(argv: list[str] | None = None, *, backend: StackBackend | None = None,
         out: Callable[[str], None] = print, sleep: Callable[[float], None] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args, backend, out, sleep)
    except (RosterError, PlanError, UsageError, SettingsError) as error:
        out(str(error))
        return EXIT_REFUSED


def _run(args, backend: StackBackend | None, out, sleep) -> int:
    if args.command == "cost":
        settings = cost.PipelineSettings(args.trail_mode, args.trigger_source, args.execution_class,
                                         args.worker_type, args.workers)
        parse_settings({"trailMode": args.trail_mode, "triggerSource": args.trigger_source,
                        "jobExecutionClass": args.execution_class, "jobWorkerType": args.worker_type,
                        "jobWorkers": args.workers, "sharedTrailName": DEFAULT_TRAIL_NAME})
        run = cost.RunAssumptions(job_minutes=args.job_minutes, crawl_minutes=args.crawl_minutes,
                                  crawler_dpus=args.crawler_dpus)
        try:
            out(cost.render(cost.estimate(args.students, args.uploads_per_student, settings, run)))
        except ValueError as error:
            raise UsageError(str(error)) from None
        return EXIT_OK
    if args.command == "preflight":
        if args.roster:
            students, _ = _plan(args, out)
            count = len(students)
        elif args.students:
            count = args.students
            # Refuse the same invalid combinations the stacks would (e.g. trailMode none + cloudtrail).
            parse_settings(student_settings(Student("x", "x@example.com", 0, "student-x"), _options(args)))
        else:
            raise UsageError("preflight needs --roster or --students")
        return EXIT_OK if _preflight(args, count, out) else EXIT_REFUSED

    students, plan = _plan(args, out)
    if args.command == "plan":
        if plan.trail:
            out(f"  {plan.trail.stack:32} shared_trail/  trail {args.trail_name}")
        for spec in plan.students:
            out(f"  {spec.stack:32} {spec.student.name} <{spec.student.email}>")
        return EXIT_OK
    if args.command == "handout":
        if not args.account:
            raise UsageError("handout needs --account: bucket names contain the account id")
        settings = parse_settings(student_settings(students[0], plan.options))
        note = ("Uploads are seen through the class's shared CloudTrail trail: a run may start a few minutes "
                "after the upload." if plan.options.trail_mode == "shared" else "")
        paths = write_handouts(students, args.out, args.format, plan.options.account, args.region,
                               settings=settings, trail_note=note)
        out(f"wrote {len(paths) - 1} handout(s) and an index to {args.out}")
        return EXIT_OK

    class_students = plan.students
    if args.only:
        plan = only(plan, args.only)
    if args.parallel < 1 or args.attempts < 1:
        raise UsageError("--parallel and --attempts must be at least 1")
    if backend is None:
        from workshop.backend import AutomationBackend

        backend = AutomationBackend()
        problems = backend.problems(plan.all_stacks)
        if problems:
            out("nothing done:\n" + "\n".join(f"  - {p}" for p in problems))
            return EXIT_REFUSED
    retry = RetryPolicy(attempts=args.attempts)
    kwargs = {"parallel": args.parallel, "retry": retry, "log": out}
    if sleep is not None:
        kwargs["sleep"] = sleep
    if args.command == "up":
        if not args.skip_preflight and not _preflight(args, len(plan.students), out):
            out("nothing created: the class does not fit the account's quotas (see above)")
            return EXIT_REFUSED
        report = orchestrate.up_class(plan, backend, **kwargs)
    elif args.command == "destroy":
        report = orchestrate.destroy_class(plan, backend, keep_trail=args.keep_trail,
                                           class_students=class_students, **kwargs)
    else:
        report = orchestrate.status_class(plan, backend, parallel=args.parallel, log=out)
        for result in report.results:
            state = "error" if not result.ok else ("absent" if result.value is None else "up")
            out(f"  {result.spec.stack:32} {state:7} {result.value.get('upload_uri', '') if result.value else ''}")
    out(report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
