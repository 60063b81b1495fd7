"""Checks on the input object before any work: each failure names the problem.

Pure stdlib (used by the local command and by the Glue wrapper, which hands in
the first bytes of the S3 object).
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import stat
import sys
from typing import BinaryIO, Iterable, List, Optional, TextIO

SAMPLE_BYTES = 64 * 1024
# The longest record the local job reads (DuckDB's max_line_size, set explicitly)
MAX_RECORD_BYTES = 2 * 1024 * 1024


def csv_buffer_bytes(total_bytes: int, threads: int) -> int:
    """DuckDB's ``read_csv`` ``buffer_size`` for files of ``total_bytes`` read on ``threads``.

    Set explicitly, 32 MiB (16 x ``max_line_size``, what DuckDB's documentation
    gives as the default) read a 1M-record CSV (139-149 MB) in 1.0-1.2 s where
    DuckDB 2.0.1 left to itself took 1.2-1.5 s (medians of six shuffled runs each,
    2 cores). A buffer is one thread's work, so a file under four buffers gets
    smaller ones (2 per thread: a 14 MB file read in one 32 MiB buffer took 0.29 s
    against 0.21 s); never under twice the longest record (DuckDB refuses a buffer
    that is not larger than ``max_line_size``). Where DuckDB's parallel reader gives
    up on a file all the same, it is read on one thread
    (``DuckDBEngine.create_from_csv``).
    """
    mib = 1024 * 1024  # whole MiB: an odd size (31,268,145) made DuckDB's parallel reader give up
    return max(2 * MAX_RECORD_BYTES, min(32 * mib, total_bytes // (2 * max(1, threads)) // mib * mib))


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


def check_input_file(path: "os.PathLike[str]", source: str) -> int:
    """The input must be a readable regular file; return its size. Names what is wrong."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{source}: input file not found") from None
    except OSError as e:  # a symlink loop, a name too long, no permission on a folder
        raise InputError(f"{source}: the input cannot be read: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{source}: the input is a folder; pass one CSV file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{source}: the input is not a regular file (a pipe or a device?); pass one CSV file")
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise InputError(f"{source}: the input cannot be read: {e.strerror or e}") from None
    return st.st_size


def iter_file(f: BinaryIO, size: int = 1 << 20) -> Iterable[bytes]:
    while True:  # no walrus: this module also runs on Glue 2.0 (Python 3.7)
        chunk = f.read(size)
        if not chunk:
            return
        yield chunk


def check_header(sample: bytes, source: str, required: List[str], delimiter: str = ",",
                 total_size: Optional[int] = None) -> List[str]:
    """Validate the start of a CSV object; return its column names (trimmed).

    ``sample`` is the first bytes of the object (the whole object if small).
    """
    if sample.startswith(codecs.BOM_UTF8):
        sample = sample[len(codecs.BOM_UTF8):]
        if total_size is not None:
            total_size -= len(codecs.BOM_UTF8)
    size = len(sample) if total_size is None else total_size
    if size <= 0 or not sample.strip():
        raise InputError(f"{source}: empty file, no header and no records")
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
    if "\x00" in text:
        raise InputError(f"{source}: the file holds NUL bytes: not a text CSV file (a spreadsheet or a "
                         "UTF-16 file without its BOM?); export it as CSV, UTF-8")
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        raw_header = next(reader)
    except (StopIteration, csv.Error) as e:
        raise InputError(f"{source}: the header (line 1) cannot be read as CSV: {e}") from None
    header_line = text.splitlines()[0] if text.splitlines() else ""
    header = [h.strip() for h in raw_header]
    if len(header) == 1:
        for d, label in _OTHER_DELIMITERS.items():
            if d != delimiter and header_line.count(d) >= 1:
                raise InputError(
                    f"{source}: wrong delimiter, the header is {label}-separated "
                    f"but the job expects {delimiter!r} (set 'delimiter' in the settings file)")
    check_column_names(header, source)
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"{source}: missing required column(s) {missing}; the header has {header[:30]}"
            " (map other column names with a settings file)")
    rest = stream.read()
    if not rest.strip():
        if total_size is None or total_size <= len(sample):
            raise InputError(f"{source}: header only, the file has no records")
    return header


def check_column_names(header: List[str], source: str) -> None:
    """Every column has a name, and no two the same (DuckDB, Spark and the Glue catalog ignore case)."""
    for i, name in enumerate(header, 1):
        if not name:
            raise InputError(f"{source}: column {i} of the header has no name (a spreadsheet's index "
                             "column?); name it or remove the column")
    seen = {}
    for i, name in enumerate(header, 1):
        key = name.casefold()
        if key in seen:
            j, other = seen[key]
            same = "twice" if other == name else f"twice, as {other!r} and {name!r} (case is ignored)"
            raise InputError(f"{source}: duplicate header column: column {j} and column {i} are named {same}; "
                             "rename one (the output would otherwise rename it silently)")
        seen[key] = (i, name)


@contextlib.contextmanager
def job_csv_reader(f: TextIO, delimiter: str = ","):
    """Python's csv reader with the rules the job reads by (RFC 4180 quoting,
    strict), fields of any size while it is open."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        yield csv.reader(f, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    finally:
        csv.field_size_limit(old_limit)


def find_csv_problem(f: TextIO, delimiter: str = ",", max_record_bytes: int = MAX_RECORD_BYTES) -> Optional[str]:
    """The first record that breaks the CSV rules the job reads with, as "line N: cause", or None.

    ``f`` is the file opened as text (``newline=""``, UTF-8). Used to explain a
    parser's failure with the right line and cause: RFC 4180 quoting (a field
    that starts with a quote ends with one), every record as many fields as the
    header, no record longer than ``max_record_bytes``.
    """
    with job_csv_reader(f, delimiter) as reader:
        end = 0
        n_columns = None
        try:
            for row in reader:
                start, end = end + 1, reader.line_num
                if not row:
                    continue  # a blank line
                if n_columns is None:
                    n_columns = len(row)
                    continue
                size = sum(len(v) for v in row) + len(row) - 1
                if size > max_record_bytes // 4:  # characters are 1 to 4 bytes
                    size = sum(len(v.encode("utf-8")) for v in row) + len(row) - 1
                if size > max_record_bytes:
                    lines = f"lines {start}-{end}" if end > start else f"line {start}"
                    return (f"{lines}: a record of {size:,} bytes; the job reads records of at most "
                            f"{max_record_bytes:,} bytes (a quote opened on line {start} and closed much later?)")
                if len(row) != n_columns:
                    return f"line {start}: {len(row)} field(s), but the header has {n_columns}"
        except csv.Error as e:
            if "unexpected end of data" in str(e) or "EOF" in str(e):
                return f"line {end + 1}: a quoted field starts here and its closing quote is missing"
            return f"line {reader.line_num}: {e} (a quote inside a quoted field must be doubled: \"\")"
    return None
