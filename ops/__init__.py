"""Day-two operations on a deployed stack: ``python -m ops <command> --stack NAME``.

Each command is a module with ``register(subparsers)``; it adds its parser and sets
``func(args, outputs, out) -> int`` on it. ``ops.cli`` reads the stack's outputs once
(``ops.stack_outputs``) and hands them over, so every command is testable on moto
with a plain dict of outputs.
"""
