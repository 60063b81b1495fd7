"""The real ``StackBackend``: Pulumi's Automation API over the local ``pulumi`` CLI.

Deliberately thin: every decision (what to run, in which order, how often to
retry, what to report) lives in ``workshop.orchestrate`` and is tested with a
fake backend. This module needs the ``pulumi`` CLI and AWS credentials at run
time; nothing here is exercised by the tests beyond importing it.

Each stack's config is written to ``Pulumi.<stack>.yaml`` in its program's
directory, as ``pulumi config set`` would.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable
from typing import Any

import yaml

from workshop.orchestrate import Log
from workshop.plan import StackSpec


class AutomationBackend:
    def __init__(self, *, refresh: bool = False):
        self.refresh = refresh

    def problems(self, specs: list[StackSpec]) -> list[str]:
        """What would make every stack fail the same way; checked once, before the class starts."""
        found = []
        if not shutil.which("pulumi"):
            found.append("the pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)")
        venvs = set()
        for work_dir in {spec.work_dir for spec in specs}:
            options = yaml.safe_load((work_dir / "Pulumi.yaml").read_text()).get("runtime", {}).get("options", {})
            if options.get("virtualenv"):
                venvs.add((work_dir / options["virtualenv"]).resolve())
        for venv in sorted(venvs):
            if not venv.is_dir():
                # Sixty parallel runs would each try to create it at once.
                found.append(f"the virtualenv {venv} does not exist; create it first: "
                             f"python -m venv {venv} && {venv}/bin/pip install -r requirements.txt")
        return found

    def _stack(self, spec: StackSpec, create: bool):
        from pulumi import automation as auto

        # Selecting a stack rewrites the work directory's workspace file; one thread at a time.
        # (The commands that follow name their stack explicitly and run in parallel.)
        with _SELECT_LOCK:
            if create:
                return auto.create_or_select_stack(stack_name=spec.stack, work_dir=str(spec.work_dir))
            return auto.select_stack(stack_name=spec.stack, work_dir=str(spec.work_dir))

    def up(self, spec: StackSpec, log: Log) -> dict[str, Any]:
        from pulumi import automation as auto

        stack = self._stack(spec, create=True)
        stack.set_all_config({key: auto.ConfigValue(value=value) for key, value in spec.config.items()})
        # set_all_config adds and overwrites only: drop the project's settings this plan no longer sets
        # (a --set from an earlier run would otherwise keep applying).
        stale = stale_config_keys(stack.get_all_config(), spec.config)
        if stale:
            stack.remove_all_config(stale)
        result = stack.up(on_output=log, refresh=self.refresh or None, color="never")
        return {key: output.value for key, output in result.outputs.items()}

    def destroy(self, spec: StackSpec, log: Log) -> None:
        from pulumi import automation as auto

        try:
            stack = self._stack(spec, create=False)
        except auto.StackNotFoundError:
            log("no such stack; nothing to destroy")
            return
        stack.destroy(on_output=log, color="never", remove=True)

    def outputs(self, spec: StackSpec) -> dict[str, Any] | None:
        from pulumi import automation as auto

        try:
            stack = self._stack(spec, create=False)
        except auto.StackNotFoundError:
            return None
        return {key: output.value for key, output in stack.outputs().items()}


_SELECT_LOCK = threading.Lock()


def stale_config_keys(current: Iterable[str], wanted: dict[str, str]) -> list[str]:
    """Keys of the plan's own namespaces (not ``aws:``) that the stack has and the plan doesn't set."""
    namespaces = {key.split(":", 1)[0] for key in wanted if not key.startswith("aws:")}
    return sorted(key for key in current if key.split(":", 1)[0] in namespaces and key not in wanted)
