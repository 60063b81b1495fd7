"""``python -m ops``: one parser, a subcommand per module in ``COMMANDS``.

Exit codes: 0 done, 1 the checked thing failed (a stage, a redrive), 2 a usage or
input mistake (bad option, unreadable outputs). Never a traceback for those.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Callable, TextIO

from ops.stack_outputs import OutputsError, read_outputs

# Modules that define register(subparsers); each sets func(args, outputs, out) -> int.
COMMANDS = ("ops.smoke", "ops.redrive", "ops.policy")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        p = module.register(sub)
        p.add_argument("--stack", required=True, help="the Pulumi stack to act on")
        p.add_argument("--outputs", metavar="FILE",
                       help="read the stack's outputs from this JSON file instead of `pulumi stack output --json`")
        p.add_argument("--region", help="AWS region (default: the stack's, from its outputs, or your AWS config)")
    return parser


def main(argv: list[str] | None = None, *, out: TextIO | None = None,
         outputs_reader: Callable[..., dict[str, Any]] = read_outputs) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        outputs = outputs_reader(args.stack, outputs_file=args.outputs)
    except OutputsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        return args.func(args, outputs, out)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
