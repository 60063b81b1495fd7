"""Checks on the input object before any work: each failure names the problem.

Pure stdlib (used by the local command and by the Glue wrapper, which hands in
the first bytes of the S3 object).
"""
from __future__ import annotations

import codecs
import csv
import io
from typing import BinaryIO, Iterable

SAMPLE_BYTES = 64 * 1024
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


class InputError(ValueError):
    """The input cannot be deduplicated; the message says why and names the input."""


def check_utf8(chunks: Iterable[bytes], source: str) -> None:
    """Fail on the first byte sequence that is not UTF-8, with its line number."""
    dec = codecs.getincrementaldecoder("utf-8")()
    line = 1
    for chunk in chunks:
        try:
            dec.decode(chunk)
        except UnicodeDecodeError as e:
            line += chunk[: e.start].count(b"\n")
            raise InputError(
                f"{source}: bad encoding, not UTF-8 (byte 0x{chunk[e.start]:02x} on line {line}); "
                "save the file as UTF-8") from None
        line += chunk.count(b"\n")
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(f"{source}: bad encoding, the file ends inside a UTF-8 character") from None


def iter_file(f: BinaryIO, size: int = 1 << 20) -> Iterable[bytes]:
    while True:  # no walrus: this module also runs on Glue 2.0 (Python 3.7)
        chunk = f.read(size)
        if not chunk:
            return
        yield chunk


def check_header(sample: bytes, source: str, required: list[str], delimiter: str = ",",
                 total_size: int | None = None) -> list[str]:
    """Validate the start of a CSV object; return its column names.

    ``sample`` is the first bytes of the object (the whole object if small).
    """
    size = len(sample) if total_size is None else total_size
    if size == 0 or not sample.strip():
        raise InputError(f"{source}: empty file, no header and no records")
    if sample.startswith(codecs.BOM_UTF8):
        sample = sample[len(codecs.BOM_UTF8):]
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise InputError(f"{source}: bad encoding, the file is UTF-16; save it as UTF-8")
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as e:
        if len(sample) - e.start < 4 and e.reason == "unexpected end of data":
            text = sample[: e.start].decode("utf-8")  # sample cut inside a character
        else:
            line = sample[: e.start].count(b"\n") + 1
            raise InputError(
                f"{source}: bad encoding, not UTF-8 (byte 0x{sample[e.start]:02x} on line {line}); "
                "save the file as UTF-8") from None
    lines = text.splitlines()
    header_line = lines[0] if lines else ""
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter))
    header = [h.strip() for h in header]
    if len(header) == 1:
        for d, label in _OTHER_DELIMITERS.items():
            if d != delimiter and header_line.count(d) >= 1:
                raise InputError(
                    f"{source}: wrong delimiter, the header is {label}-separated "
                    f"but the job expects {delimiter!r} (set 'delimiter' in the settings file)")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"{source}: missing required column(s) {missing}; the header has {header[:30]}"
            " (map other column names with a settings file)")
    if len(lines) < 2 or not any(ln.strip() for ln in lines[1:]):
        if total_size is None or total_size <= len(sample):
            raise InputError(f"{source}: header only, the file has no records")
    return header
