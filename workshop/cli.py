"""``python -m workshop {plan,preflight,up,destroy,status,handout,cost}``.

Exit codes: 0 done; 1 some stacks failed (all are reported at the end);
2 nothing was done (bad roster, clashing plan, failed preflight, bad option).

Each subcommand has its own handler (``set_defaults(handler=...)``); each
handler validates what it takes explicitly, before doing anything, and every
refusal is a ``Refusal`` (exit 2, its message printed). Everything printed goes
through ``workshop.terminal.say``: user text escaped, a closed pipe no error.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from builders.settings import (
    EXECUTION_CLASSES,
    TRAIL_MODES,
    TRIGGER_SOURCES,
    WORKER_TYPES,
    SettingsError,
    parse_settings,
)
from workshop import cost, orchestrate, preflight
from workshop.handout import FORMATS, OutputError, check_out_dir, write_handouts
from workshop.orchestrate import StackBackend, StackRetryPolicy
from workshop.plan import (
    DEFAULT_TRAIL_NAME,
    DEFAULT_TRAIL_STACK,
    ClassOptions,
    ClassPlan,
    PlanError,
    check_class,
    only,
    plan_class,
    student_settings,
)
from workshop.roster import RosterError, load_roster
from workshop.terminal import ArgumentParser, escape, say

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C


class UsageError(ValueError):
    pass


Refusal = (RosterError, PlanError, UsageError, SettingsError, OutputError)
"""The user's mistakes: said, exit 2, nothing done."""


@dataclass
class Context:
    """What every handler may use besides its arguments (tests pass a fake backend and collect ``out``)."""

    out: Callable[[str], None]
    backend: StackBackend | None = None
    sleep: Callable[[float], None] | None = None


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


def _options(args) -> ClassOptions:
    return ClassOptions(region=args.region, account=args.account or ClassOptions.account, trail_mode=args.trail_mode,
                        trigger_source=args.trigger_source, trail_stack=args.trail_stack,
                        trail_name=args.trail_name, extra=_pairs(args.set, "--set"))


def _plan(args, ctx: Context) -> ClassPlan:
    students = load_roster(args.roster)
    plan = plan_class(students, _options(args), str(args.roster))
    ctx.out(f"{args.roster}: {len(students)} student(s), {len(plan.all_stacks)} stack(s) planned, no name collision")
    return plan


def _preflight(args, options: ClassOptions, students: int, ctx: Context) -> bool:
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
    ctx.out(preflight.report(findings, shape))
    return preflight.passed(findings)


# --- one handler per subcommand ---------------------------------------------------------------------

def run_plan(args, ctx: Context) -> int:
    plan = _plan(args, ctx)
    if plan.trail:
        ctx.out(f"  {plan.trail.stack:32} shared_trail/  trail {args.trail_name}")
    for spec in plan.students:
        ctx.out(f"  {spec.stack:32} {spec.student.name} <{spec.student.email}>")
    return EXIT_OK


def run_preflight(args, ctx: Context) -> int:
    if args.roster:
        count = len(_plan(args, ctx).students)
    elif args.students is not None:
        if args.students < 1:
            raise UsageError(f"--students {args.students}: a class has at least one student")
        count = args.students
        check_class(_options(args))  # the settings the stacks would refuse, said once for the class
    else:
        raise UsageError("preflight needs --roster or --students")
    return EXIT_OK if _preflight(args, _options(args), count, ctx) else EXIT_REFUSED


def run_handout(args, ctx: Context) -> int:
    if not args.account:
        raise UsageError("handout needs --account: bucket names contain the account id")
    try:
        check_out_dir(args.out)  # before any work; said together with the roster's problems
    except OutputError as error:
        try:
            _plan(args, Context(lambda text: None))
        except Refusal as other:
            raise UsageError(f"{error}\n{other}") from None
        raise
    plan = _plan(args, ctx)
    settings = parse_settings(student_settings(plan.students[0].student, plan.options))
    note = ("Uploads are seen through the class's shared CloudTrail trail: a run may start a few minutes "
            "after the upload." if plan.options.trail_mode == "shared" else "")
    paths = write_handouts([spec.student for spec in plan.students], args.out, args.format, plan.options.account,
                           args.region, settings=settings, trail_note=note)
    ctx.out(f"wrote {len(paths) - 1} handout(s) and an index to {args.out}")
    return EXIT_OK


def _stacks(args, ctx: Context) -> tuple[ClassPlan, ClassPlan, StackBackend, dict] | int:
    """The run commands' common part: the plan, the part ``--only`` names, the backend, the run options."""
    if args.parallel < 1 or args.attempts < 1:
        raise UsageError("--parallel and --attempts must be at least 1")
    whole = _plan(args, ctx)
    plan = only(whole, args.only) if args.only else whole
    backend = ctx.backend
    if backend is None:
        from workshop.backend import AutomationBackend

        backend = AutomationBackend()
        problems = backend.problems(plan.all_stacks)
        if problems:
            ctx.out("nothing done:\n" + "\n".join(f"  - {p}" for p in problems))
            return EXIT_REFUSED
    kwargs = {"parallel": args.parallel, "retry": StackRetryPolicy(attempts=args.attempts), "log": ctx.out}
    if ctx.sleep is not None:
        kwargs["sleep"] = ctx.sleep
    return whole, plan, backend, kwargs


def _finish(report, ctx: Context) -> int:
    ctx.out(report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


def run_up(args, ctx: Context) -> int:
    stacks = _stacks(args, ctx)
    if isinstance(stacks, int):
        return stacks
    _, plan, backend, kwargs = stacks
    if not args.skip_preflight and not _preflight(args, plan.options, len(plan.students), ctx):
        ctx.out("nothing created: the class does not fit the account's quotas (see above)")
        return EXIT_REFUSED
    return _finish(orchestrate.up_class(plan, backend, **kwargs), ctx)


def run_destroy(args, ctx: Context) -> int:
    stacks = _stacks(args, ctx)
    if isinstance(stacks, int):
        return stacks
    whole, plan, backend, kwargs = stacks
    return _finish(orchestrate.destroy_class(plan, backend, keep_trail=args.keep_trail,
                                             class_students=whole.students, **kwargs), ctx)


def run_status(args, ctx: Context) -> int:
    stacks = _stacks(args, ctx)
    if isinstance(stacks, int):
        return stacks
    _, plan, backend, kwargs = stacks
    report = orchestrate.status_class(plan, backend, parallel=args.parallel, log=ctx.out)
    for result in report.results:
        state = "error" if not result.ok else ("absent" if result.value is None else "up")
        ctx.out(f"  {result.spec.stack:32} {state:7} {result.value.get('upload_uri', '') if result.value else ''}")
    return _finish(report, ctx)


def run_cost(args, ctx: Context) -> int:
    settings = cost.PipelineSettings(args.trail_mode, args.trigger_source, args.execution_class,
                                     args.worker_type, args.workers)
    parse_settings({"trailMode": args.trail_mode, "triggerSource": args.trigger_source,
                    "jobExecutionClass": args.execution_class, "jobWorkerType": args.worker_type,
                    "jobWorkers": args.workers,
                    **({"sharedTrailName": DEFAULT_TRAIL_NAME} if args.trail_mode == "shared" else {})})
    run = cost.RunAssumptions(job_minutes=args.job_minutes, crawl_minutes=args.crawl_minutes,
                              crawler_dpus=args.crawler_dpus)
    try:
        ctx.out(cost.render(cost.estimate(args.students, args.uploads_per_student, settings, run)))
    except ValueError as error:
        raise UsageError(str(error)) from None
    return EXIT_OK


# --- the parser -------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m workshop", description="Run a whole workshop class: one stack per student.")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable, help: str) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help)
        p.set_defaults(handler=handler)
        return p

    def class_options(p: argparse.ArgumentParser, roster_required: bool = True) -> None:
        p.add_argument("--roster", required=roster_required, type=Path, help="CSV with a header name,email")
        p.add_argument("--region", default=_default_region(), help="AWS region of the class (default: $AWS_REGION or eu-west-1)")
        p.add_argument("--account", default=None, help="12-digit AWS account id (names only; the stacks use your credentials)")
        p.add_argument("--trail-mode", choices=TRAIL_MODES, default=ClassOptions.trail_mode,
                       help="shared (default: one class trail), per-stack (5 per region at most) or none")
        p.add_argument("--trigger-source", choices=TRIGGER_SOURCES, default=ClassOptions.trigger_source)
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

    class_options(command("plan", run_plan, "validate the roster and show the stacks it would create"))
    p = command("preflight", run_preflight, "check the class against the account's quotas")
    class_options(p, roster_required=False)
    p.add_argument("--students", type=int, help="class size, instead of --roster")
    quota_options(p)
    p = command("up", run_up, "create or update every stack (the class trail first)")
    class_options(p)
    run_options(p)
    quota_options(p)
    p.add_argument("--skip-preflight", action="store_true")
    p = command("destroy", run_destroy, "destroy every student stack, then the class trail")
    class_options(p)
    run_options(p)
    p.add_argument("--keep-trail", action="store_true", help="leave the class trail stack up")
    p = command("status", run_status, "which stacks exist, with their outputs")
    class_options(p)
    run_options(p)
    p = command("handout", run_handout, "one page per student")
    class_options(p)
    p.add_argument("--out", type=Path, default=Path("handouts"))
    p.add_argument("--format", choices=FORMATS, default="md")

    # The cost command's defaults are the stack's: cost.PipelineSettings reads them from Settings.
    pipeline, run = cost.PipelineSettings(), cost.RunAssumptions()
    p = command("cost", run_cost, "estimate the cost per upload and per class-day")
    p.add_argument("--students", type=int, required=True)
    p.add_argument("--uploads-per-student", type=int, default=5)
    p.add_argument("--trail-mode", choices=TRAIL_MODES, default=pipeline.trail_mode)
    p.add_argument("--trigger-source", choices=TRIGGER_SOURCES, default=pipeline.trigger_source)
    p.add_argument("--execution-class", choices=EXECUTION_CLASSES, default=pipeline.job_execution_class)
    p.add_argument("--worker-type", choices=WORKER_TYPES, default=pipeline.job_worker_type)
    p.add_argument("--workers", type=int, default=pipeline.job_workers)
    p.add_argument("--job-minutes", type=float, default=run.job_minutes)
    p.add_argument("--crawl-minutes", type=float, default=run.crawl_minutes)
    p.add_argument("--crawler-dpus", type=float, default=run.crawler_dpus)
    return parser


def _refuse_swallowed_values(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """argparse (3.11) turns ``--opt=--`` into a list where one string belongs: refuse it (exit 2)."""
    for sub in parser._subparsers._group_actions[0].choices.values():  # noqa: SLF001 - argparse has no API
        for action in sub._actions:  # noqa: SLF001
            value = getattr(args, action.dest, None)
            values = value if isinstance(action, argparse._AppendAction) and value else [value]  # noqa: SLF001
            if action.option_strings and action.nargs is None and any(isinstance(v, list) for v in values):
                sub.error(f"argument {'/'.join(action.option_strings)}: '--' is not a value; give one")


def main(argv: list[str] | None = None, *, backend: StackBackend | None = None,
         out: Callable[[str], None] = say, sleep: Callable[[float], None] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _refuse_swallowed_values(parser, args)
    ctx = Context(lambda text: out(escape(text)), backend, sleep)
    try:
        return args.handler(args, ctx)
    except Refusal as error:
        ctx.out(str(error))
        return EXIT_REFUSED
    except KeyboardInterrupt:
        # Ctrl-C reaches the running `pulumi` processes too (one process group), and
        # each stops its update; what is done stays done and `up`/`destroy` carry on
        ctx.out(f"interrupted (Ctrl-C) during '{args.command}': stacks being changed may be part-way. "
                "'python -m workshop status' with the same roster shows each stack; the same command "
                "again carries on from there")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
