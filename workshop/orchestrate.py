"""Run one action over many stacks: bounded parallelism, retry of transient errors,
every failure collected and reported at the end. No Pulumi here: the stacks are
driven through a ``StackBackend`` (``workshop.backend`` for the real CLI, a fake
in tests).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from workshop.plan import ClassPlan, StackSpec

Log = Callable[[str], None]

# Errors worth another attempt: another update holds the stack's lock, or AWS throttled us.
TRANSIENT_MARKERS = (
    "ConcurrentUpdateError",
    "conflict: Another update is currently in progress",
    "Throttling",
    "ThrottlingException",
    "Rate exceeded",
    "RequestLimitExceeded",
    "TooManyRequests",
    "SlowDown",
    "ServiceUnavailable",
    "RequestTimeout",
    "connection reset",
)
# Errors that another attempt cannot fix, even when they also mention a transient word.
PERMANENT_MARKERS = ("AccessDenied", "UnauthorizedOperation", "ValidationError", "InvalidParameter",
                     "invalid stack configuration", "MalformedPolicyDocument")


class StackBackend(Protocol):
    """What the orchestration needs from Pulumi. Each call handles one stack."""

    def up(self, spec: StackSpec, log: Log) -> dict[str, Any]:
        """Create or update the stack with ``spec.config``; return its outputs."""

    def destroy(self, spec: StackSpec, log: Log) -> None:
        """Delete the stack's resources, then the stack."""

    def outputs(self, spec: StackSpec) -> dict[str, Any] | None:
        """The stack's outputs, or ``None`` when the stack does not exist."""


def is_transient(error: BaseException) -> bool:
    text = f"{type(error).__name__}: {error}"
    if any(marker.lower() in text.lower() for marker in PERMANENT_MARKERS):
        return False
    return any(marker.lower() in text.lower() for marker in TRANSIENT_MARKERS)


@dataclass
class Result:
    spec: StackSpec
    ok: bool
    attempts: int
    value: Any = None
    error: str | None = None
    transient_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StackRetryPolicy:
    attempts: int = 4
    base_delay: float = 5.0
    max_delay: float = 60.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff before attempt ``attempt + 1``."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def run_all(
    specs: list[StackSpec],
    action: Callable[[StackSpec], Any],
    *,
    parallel: int,
    retry: StackRetryPolicy = StackRetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    log: Log = print,
    rng: random.Random | None = None,
) -> list[Result]:
    """``action(spec)`` for every spec, at most ``parallel`` at a time; results in spec order.

    A transient error is retried up to ``retry.attempts`` attempts in all; any
    other error ends that stack's attempt and the others carry on.
    """
    if parallel < 1:
        raise ValueError("parallel must be at least 1")
    rng = rng or random.Random()
    lock = threading.Lock()

    def one(spec: StackSpec) -> Result:
        transient: list[str] = []
        for attempt in range(1, retry.attempts + 1):
            try:
                value = action(spec)
                return Result(spec, True, attempt, value=value, transient_errors=transient)
            except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the class
                message = f"{type(error).__name__}: {error}".strip()
                if is_transient(error) and attempt < retry.attempts:
                    with lock:
                        delay = retry.delay(attempt, rng)
                    transient.append(message)
                    log(f"{spec.label}: attempt {attempt} failed ({_first_line(message)}); retrying in {delay:.0f} s")
                    sleep(delay)
                    continue
                log(f"{spec.label}: FAILED after {attempt} attempt(s): {_first_line(message)}")
                return Result(spec, False, attempt, error=message, transient_errors=transient)
        raise AssertionError("unreachable")

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="stack") as pool:
        return list(pool.map(one, specs))


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else text


@dataclass
class ClassReport:
    action: str
    results: list[Result]
    skipped: list[StackSpec] = field(default_factory=list)
    skip_reason: str = ""

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def summary(self) -> str:
        done = sum(r.ok for r in self.results)
        lines = [f"{self.action}: {done} of {len(self.results) + len(self.skipped)} stack(s) succeeded"]
        for result in self.failed:
            lines.append(f"  FAILED {result.spec.label} after {result.attempts} attempt(s): {_first_line(result.error or '')}")
        for spec in self.skipped:
            lines.append(f"  SKIPPED {spec.label}: {self.skip_reason}")
        retried = [r for r in self.results if r.ok and r.transient_errors]
        for result in retried:
            lines.append(f"  retried {result.spec.label}: {len(result.transient_errors)} transient error(s), then succeeded")
        return "\n".join(lines)


def up_class(plan: ClassPlan, backend: StackBackend, *, parallel: int, retry: StackRetryPolicy = StackRetryPolicy(),
             sleep: Callable[[float], None] = time.sleep, log: Log = print) -> ClassReport:
    """The shared trail first (student rules rely on it), then every student in parallel."""
    results: list[Result] = []
    if plan.trail:
        log(f"bringing up the class trail stack {plan.trail.stack}")
        trail = run_all([plan.trail], lambda s: backend.up(s, _prefixed(log, s)), parallel=1,
                        retry=retry, sleep=sleep, log=log)
        results.extend(trail)
        if not trail[0].ok:
            return ClassReport("up", results, skipped=plan.students,
                               skip_reason="the class trail failed, so no student upload would be seen")
    log(f"bringing up {len(plan.students)} student stack(s), {parallel} at a time")
    results.extend(run_all(plan.students, lambda s: backend.up(s, _prefixed(log, s)), parallel=parallel,
                           retry=retry, sleep=sleep, log=log))
    return ClassReport("up", results)


def destroy_class(plan: ClassPlan, backend: StackBackend, *, parallel: int, keep_trail: bool = False,
                  class_students: list[StackSpec] | None = None,
                  retry: StackRetryPolicy = StackRetryPolicy(), sleep: Callable[[float], None] = time.sleep,
                  log: Log = print) -> ClassReport:
    """The plan's student stacks, then the class trail once no student stack of the class is left.

    ``class_students`` is the whole class when ``plan`` is a part of it (``--only``): the trail
    serves every student, so it goes only when none of their stacks still exists.
    """
    results = run_all(plan.students, lambda s: backend.destroy(s, _prefixed(log, s)), parallel=parallel,
                      retry=retry, sleep=sleep, log=log)
    if plan.trail and not keep_trail:
        destroyed = {r.spec.stack for r in results if r.ok}
        others = [s for s in (class_students or plan.students) if s.stack not in destroyed]
        remaining = [r.spec.stack for r in run_all(others, backend.outputs, parallel=parallel,
                                                   retry=StackRetryPolicy(attempts=2, base_delay=1), log=log)
                     if not r.ok or r.value is not None]
        if remaining or not all(r.ok for r in results):
            return ClassReport("destroy", results, skipped=[plan.trail],
                               skip_reason="student stacks remain; destroy them first, then run destroy again")
        results += run_all([plan.trail], lambda s: backend.destroy(s, _prefixed(log, s)), parallel=1,
                           retry=retry, sleep=sleep, log=log)
    return ClassReport("destroy", results)


def status_class(plan: ClassPlan, backend: StackBackend, *, parallel: int, log: Log = print) -> ClassReport:
    """Each stack's outputs (``None`` value: the stack does not exist)."""
    results = run_all(plan.all_stacks, backend.outputs, parallel=parallel, retry=StackRetryPolicy(attempts=2, base_delay=1),
                      log=log)
    return ClassReport("status", results)


def _prefixed(log: Log, spec: StackSpec) -> Log:
    return lambda line: log(f"[{spec.stack}] {line.rstrip()}")
