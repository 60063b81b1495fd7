"""What the workshop command prints: user text escaped, a closed pipe no error.

Names, e-mails, paths and option values come from the user. Printed raw, a
right-to-left override (U+202E) or an escape sequence in them reorders or
recolours the instructor's terminal, and a newline forges a line. Every line
the command prints goes through ``escape``: control, format (bidi, zero-width)
and line/paragraph-separator characters come out as ``\\uXXXX``; newlines of
the command's own multi-line messages stay.
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Control, format, surrogate, private-use, unassigned, line and paragraph separators."""


def unsafe(char: str) -> bool:
    return unicodedata.category(char) in UNSAFE_CATEGORIES


def describe(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def escape(text: str) -> str:
    r"""``text`` with every unsafe character but ``\n`` as ``\uXXXX`` (``\UXXXXXXXX`` above the BMP)."""
    return "".join(
        char if char == "\n" or not unsafe(char)
        else (f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        for char in text
    )


def silence_stdout() -> None:
    """After a BrokenPipeError: point stdout at /dev/null, so that later writes and the flush at exit
    don't fail again (the recipe of the Python docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def say(text: str) -> None:
    """Print one escaped message to stdout. When the reader has gone (``plan | head``), the rest of
    the output is dropped and the command carries on: an ``up`` must not stop halfway."""
    try:
        print(escape(text), flush=True)
    except BrokenPipeError:
        silence_stdout()


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with its usage errors (which quote the user's arguments) escaped too."""

    def _print_message(self, message: str, file=None) -> None:
        if message:
            try:
                super()._print_message(escape(message), file)
            except BrokenPipeError:
                silence_stdout()
