"""A deployed stack's outputs: from ``pulumi stack output --json`` or from a JSON file.

``--outputs FILE`` (the JSON that ``pulumi stack output --json`` prints) lets the
commands run where the Pulumi CLI is not installed, and is what the tests use.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any


class OutputsError(Exception):
    """The stack's outputs could not be read; the message says why and what to do."""


def read_outputs(stack: str, *, outputs_file: str | None = None, cwd: str | Path = ".") -> dict[str, Any]:
    if outputs_file:
        try:
            data = json.loads(Path(outputs_file).read_text(encoding="utf-8"))
        except OSError as e:
            raise OutputsError(f"--outputs {outputs_file}: {e.strerror}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise OutputsError(f"--outputs {outputs_file}: not the JSON of `pulumi stack output --json` ({e})") from None
    else:
        if not shutil.which("pulumi"):
            raise OutputsError("the pulumi CLI is not on PATH; install it, or pass --outputs FILE "
                               f"(the output of `pulumi stack output --json -s {stack}`)")
        done = subprocess.run(["pulumi", "stack", "output", "--json", "--stack", stack],
                              cwd=cwd, capture_output=True, text=True)
        if done.returncode != 0:
            raise OutputsError(f"pulumi stack output --stack {stack} failed: {done.stderr.strip()}")
        data = json.loads(done.stdout or "{}")
    if not isinstance(data, dict):
        raise OutputsError("stack outputs: expected a JSON object of output names to values")
    return data


def require(outputs: dict[str, Any], *keys: str) -> list[str]:
    """The names among ``keys`` the stack does not export (an older stack: run `pulumi up`)."""
    return [k for k in keys if not outputs.get(k)]
