"""The class orchestration against a fake stack backend: bounded parallelism,
retry of transient errors only, one failure does not stop the others, all are
reported at the end, and the exit code says so."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from workshop import orchestrate
from workshop.cli import main
from workshop.orchestrate import StackRetryPolicy, is_transient
from workshop.plan import ClassOptions, only, plan_class
from workshop.roster import load_roster, parse_roster

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "students.csv"


class ConcurrentUpdateError(Exception):
    """Named like pulumi.automation's, which the backend raises for a locked stack."""


class FakeBackend:
    """Records every call; ``script[stack]`` lists what successive attempts do (an exception or 'ok')."""

    def __init__(self, script: dict[str, list] | None = None, delay: float = 0.02):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.delay = delay
        self.calls: list[tuple[str, str, float, float]] = []
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.existing: set[str] = set()

    def _do(self, op: str, spec):
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            step = self.script.get(spec.stack, []).pop(0) if self.script.get(spec.stack) else "ok"
        start = time.monotonic()
        try:
            time.sleep(self.delay)
            if isinstance(step, Exception):
                raise step
        finally:
            with self.lock:
                self.running -= 1
                self.calls.append((op, spec.stack, start, time.monotonic()))

    def up(self, spec, log):
        log("Updating (fake)")
        self._do("up", spec)
        self.existing.add(spec.stack)
        return {"upload_uri": f"s3://bucket-of-{spec.stack}/"}

    def destroy(self, spec, log):
        self._do("destroy", spec)
        self.existing.discard(spec.stack)

    def outputs(self, spec):
        self._do("outputs", spec)
        return {"upload_uri": "s3://x/"} if spec.stack in self.existing else None


def _plan(text: str | None = None, **options):
    students = parse_roster(text) if text else load_roster(ROSTER)
    return plan_class(students, ClassOptions(**options))


def _no_sleep(delays: list[float]):
    return delays.append


def test_bounded_parallel_up_trail_first_then_everyone():
    plan = _plan()
    backend = FakeBackend()
    report = orchestrate.up_class(plan, backend, parallel=7, sleep=_no_sleep([]), log=lambda _: None)
    assert report.ok and len(report.results) == 61
    assert backend.max_running <= 7
    assert backend.max_running >= 2  # it did run in parallel
    trail_end = next(end for op, stack, _, end in backend.calls if stack == "class")
    assert all(start >= trail_end for op, stack, start, _ in backend.calls if stack != "class")
    assert backend.existing == {spec.stack for spec in plan.all_stacks}


def test_transient_errors_are_retried_permanent_ones_reported_and_the_rest_carry_on():
    plan = _plan("name,email\nAnn,ann@example.com\nBob,bob@example.com\nCid,cid@example.com\n"
                 "Dee,dee@example.com\nEve,eve@example.com\n")
    backend = FakeBackend({
        "student-ann": [ConcurrentUpdateError("conflict: Another update is currently in progress."), "ok"],
        "student-bob": [RuntimeError("AccessDenied: not authorized to perform iam:CreateRole"), "ok"],
        "student-cid": [RuntimeError("ThrottlingException: Rate exceeded")] * 10,
        "student-dee": [RuntimeError("TooManyRequestsException"), RuntimeError("RequestLimitExceeded"), "ok"],
    })
    delays: list[float] = []
    lines: list[str] = []
    report = orchestrate.up_class(plan, backend, parallel=2, retry=StackRetryPolicy(attempts=4, base_delay=5, max_delay=60),
                                  sleep=delays.append, log=lines.append)
    by_stack = {r.spec.stack: r for r in report.results}
    assert (by_stack["student-ann"].ok, by_stack["student-ann"].attempts) == (True, 2)
    assert (by_stack["student-bob"].ok, by_stack["student-bob"].attempts) == (False, 1)
    assert (by_stack["student-cid"].ok, by_stack["student-cid"].attempts) == (False, 4)
    assert (by_stack["student-dee"].ok, by_stack["student-dee"].attempts) == (True, 3)
    assert by_stack["student-eve"].ok and by_stack["class"].ok
    assert not report.ok
    # Backoff before each retry: 1 (ann) + 3 (cid) + 2 (dee), each within the policy's cap.
    assert len(delays) == 6 and all(0 <= d <= 60 for d in delays)
    summary = report.summary()
    assert "4 of 6 stack(s) succeeded" in summary
    assert "FAILED student-bob (Bob) after 1 attempt(s): RuntimeError: AccessDenied" in summary
    assert "FAILED student-cid (Cid) after 4 attempt(s)" in summary
    assert "retried student-dee (Dee): 2 transient error(s), then succeeded" in summary
    assert any(line.startswith("[student-eve] Updating (fake)") for line in lines)


def test_a_failed_class_trail_creates_no_student_stack():
    plan = _plan("name,email\nAnn,ann@example.com\n")
    backend = FakeBackend({"class": [RuntimeError("MaximumNumberOfTrailsExceededException")]})
    report = orchestrate.up_class(plan, backend, parallel=4, sleep=_no_sleep([]), log=lambda _: None)
    assert [op_stack[1] for op_stack in backend.calls] == ["class"]
    assert not report.ok and "SKIPPED student-ann (Ann): the class trail failed" in report.summary()


def test_destroy_removes_students_before_the_trail_and_keeps_it_while_students_remain():
    plan = _plan("name,email\nAnn,ann@example.com\nBob,bob@example.com\n")
    backend = FakeBackend()
    report = orchestrate.destroy_class(plan, backend, parallel=2, sleep=_no_sleep([]), log=lambda _: None)
    assert report.ok
    assert [c[1] for c in backend.calls][-1] == "class"
    backend = FakeBackend({"student-bob": [RuntimeError("AccessDenied")]})
    report = orchestrate.destroy_class(plan, backend, parallel=2, sleep=_no_sleep([]), log=lambda _: None)
    assert "class" not in [c[1] for c in backend.calls]
    assert "SKIPPED class: student stacks remain" in report.summary()


def test_destroying_only_the_trail_keeps_it_while_any_student_stack_exists():
    """`destroy --only class` with students still up would silently stop every student's trigger."""
    plan = _plan("name,email\nAnn,ann@example.com\nBob,bob@example.com\n")
    backend = FakeBackend()
    backend.existing = {"student-ann"}
    report = orchestrate.destroy_class(only(plan, ["class"]), backend, parallel=2, class_students=plan.students,
                                       sleep=_no_sleep([]), log=lambda _: None)
    assert ("destroy", "class") not in [(c[0], c[1]) for c in backend.calls]
    assert not report.ok and "SKIPPED class: student stacks remain" in report.summary()
    backend.existing = set()
    report = orchestrate.destroy_class(only(plan, ["class"]), backend, parallel=2, class_students=plan.students,
                                       sleep=_no_sleep([]), log=lambda _: None)
    assert ("destroy", "class") in [(c[0], c[1]) for c in backend.calls]


@pytest.mark.parametrize("message, transient", [
    ("ConcurrentUpdateError: conflict: Another update is currently in progress.", True),
    ("error: ThrottlingException: Rate exceeded", True),
    ("RequestLimitExceeded: Request limit exceeded.", True),
    ("TooManyRequestsException", True),
    ("AccessDenied: User is not authorized", False),
    ("AccessDeniedException ... Rate exceeded", False),
    ("invalid stack configuration:\n  - owner: ...", False),
    ("ValidationError: bad name", False),
    ("something nobody has seen before", False),
])
def test_transient_classification(message, transient):
    assert is_transient(RuntimeError(message)) is transient


def test_retry_delay_is_capped_full_jitter():
    import random

    policy = StackRetryPolicy(attempts=10, base_delay=5, max_delay=30)
    rng = random.Random(1)
    delays = [policy.delay(attempt, rng) for attempt in range(1, 10) for _ in range(50)]
    assert max(delays) <= 30 and min(delays) >= 0
    assert max(policy.delay(1, rng) for _ in range(200)) <= 5


# --- through the command line ---------------------------------------------------------------------

def test_cli_up_reports_everything_and_exits_non_zero_when_a_student_failed(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("name,email\nAnn,ann@example.com\nBob,bob@example.com\nCid,cid@example.com\n")
    backend = FakeBackend({"student-bob": [RuntimeError("AccessDenied: explicit deny")]})
    out: list[str] = []
    code = main(["up", "--roster", str(roster), "--parallel", "2"], backend=backend, out=out.append, sleep=lambda s: None)
    assert code == 1
    text = "\n".join(out)
    assert "PASS: the class fits" in text
    assert "up: 3 of 4 stack(s) succeeded" in text and "FAILED student-bob (Bob)" in text
    assert {"student-ann", "student-cid", "class"} <= backend.existing

    out.clear()
    assert main(["status", "--roster", str(roster)], backend=backend, out=out.append) == 0
    status = "\n".join(out)
    assert "student-bob" in status and "absent" in status

    backend.script.clear()
    assert main(["up", "--roster", str(roster)], backend=backend, out=out.append, sleep=lambda s: None) == 0


def test_cli_refuses_a_bad_roster_before_touching_any_stack(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("name,email\nBob Smith,bob@example.com\nbob.smith,bob@example.com\nAl,al@\n")
    backend = FakeBackend()
    out: list[str] = []
    assert main(["up", "--roster", str(roster)], backend=backend, out=out.append) == 2
    assert backend.calls == []
    text = "\n".join(out)
    assert f"{roster}:3:1:" in text and f"{roster}:3:2:" in text and f"{roster}:4:2:" in text


def test_cli_plan_lists_every_stack_and_validates_settings(tmp_path):
    out: list[str] = []
    assert main(["plan", "--roster", str(ROSTER)], out=out.append) == 0
    assert len([line for line in out if line.startswith("  student-")]) == 60
    assert main(["plan", "--roster", str(ROSTER), "--set", "jobWorkers=1"], out=out.append) == 2
    assert "jobWorkers: '1' is not a whole number from 2 to 299" in out[-1]
    assert main(["plan", "--roster", str(ROSTER), "--set", "noequals"], out=out.append) == 2


def test_cli_only_touches_the_named_stacks(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("name,email\nAnn,ann@example.com\nBob,bob@example.com\nCid,cid@example.com\n")
    backend = FakeBackend()
    out: list[str] = []
    assert main(["up", "--roster", str(roster), "--only", "student-bob"], backend=backend, out=out.append) == 0
    assert backend.existing == {"student-bob"}
    assert main(["destroy", "--roster", str(roster), "--only", "student-bob", "--only", "student-ann"],
                backend=backend, out=out.append) == 0
    assert sorted(c[1] for c in backend.calls if c[0] == "destroy") == ["student-ann", "student-bob"]
    assert backend.existing == set()
    assert main(["status", "--roster", str(roster), "--only", "student-dan"], backend=backend, out=out.append) == 2
    assert "--only 'student-dan' is no stack of this class" in out[-1]
