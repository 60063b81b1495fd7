"""A valid CSV that DuckDB's reader refuses is read with Python's csv module instead.

Seen: a file whose lines end in \\r\\n and \\n alike (files from two systems put
together) with a line break inside a quoted field. Python's reader, with the
job's rules (RFC 4180 quoting, every record as wide as the header), reads it.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from glue_jobs.config import load_config
from glue_jobs.dedup import load_csv, load_csv_python, main, read_header
from glue_jobs.engines import DuckDBEngine
from glue_jobs.sample.generate import generate
from tests.dedup_fixtures import SAMPLE, SETTINGS


def _mixed_line_endings(path: Path, n_entities: int) -> tuple[list[list[str]], dict[str, str]]:
    """A generated file, every third line ending in \\r\\n, three e-mails with a line break."""
    df, _ = generate(n_entities, seed=3)
    rows = [list(df.columns)] + df.astype(object).where(df.notna(), "").astype(str).values.tolist()
    col, cid = rows[0].index("c_email_address"), rows[0].index("c_customer_id")
    broken = {}
    for i in (7, len(rows) // 2, len(rows) - 2):
        rows[i][col] = rows[i][col] + "\r\nsecond line"
        broken[rows[i][cid]] = rows[i][col]
    out = io.StringIO()
    for i, r in enumerate(rows):
        csv.writer(out, lineterminator="\r\n" if i % 3 == 0 else "\n").writerow(r)
    path.write_bytes(out.getvalue().encode())
    return rows, broken


def test_mixed_line_endings_with_a_quoted_line_break_are_read_not_refused(tmp_path, capsys):
    path = tmp_path / "mixed.csv"
    rows, broken = _mixed_line_endings(path, 60_000)
    before = path.read_bytes()
    code = main([str(path), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert path.read_bytes() == before  # the input is only read
    with (tmp_path / "out" / "matches" / "mixed.csv").open(newline="") as f:
        got = {r["c_customer_id"]: r for r in csv.DictReader(f)}
    assert len(got) == len(rows) - 1
    for cid, email in broken.items():
        assert got[cid]["c_email_address"] == email


def _both_ways(path: Path) -> tuple[list, list]:
    cfg = load_config(SETTINGS)
    a, b = DuckDBEngine(), DuckDBEngine()
    load_csv(a, path, cfg, "t")
    load_csv_python(b, path, read_header(path, cfg), cfg.delimiter, "t")
    order = f"ORDER BY {a.quote(cfg.id_column)}"
    return a.rows(f"SELECT * FROM t {order}"), b.rows(f"SELECT * FROM t {order}")


@pytest.mark.parametrize("case", ["sample", "empty, quoted, BOM, unicode, blank line"])
def test_python_reader_loads_what_duckdbs_reader_loads(tmp_path, case):
    """Where DuckDB reads a file, the fallback gives the same table: strings, an
    empty field NULL whether quoted or not, a BOM dropped, blank lines skipped."""
    if case == "sample":
        path = SAMPLE
    else:
        lines = SAMPLE.read_text(encoding="utf-8").splitlines()
        header, body = lines[0], lines[1:40]
        body[3] = body[3].replace(",,", ',"",', 1)
        body[5] = '"' + body[5].split(",", 1)[0] + '",' + body[5].split(",", 1)[1]
        body[8] = body[8].replace("a", "ä", 2)
        path = tmp_path / "odd.csv"
        path.write_bytes(("\ufeff" + "\n".join([header] + body[:20] + [""] + body[20:]) + "\n").encode())
    duck, python = _both_ways(path)
    assert len(duck) > 30 and python == duck


def _sample_records_csv(path: Path, size: int, straddle: list[int] = ()) -> list[list[str]]:
    """At least ``size`` bytes of the sample's records under new ids, written to ``path``;
    at each offset of ``straddle`` a record whose quoted e-mail field (line breaks,
    quotes, a delimiter, text shaped like whole records) is written across it.
    Returns the records."""
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        header, *sample = list(csv.reader(f))
    cid, email = header.index("c_customer_id"), header.index("c_email_address")
    line = io.StringIO()
    w = csv.writer(line, lineterminator="\n")

    def encoded(row: list[str]) -> bytes:
        line.seek(0)
        line.truncate()
        w.writerow(row)
        return line.getvalue().encode()

    chunks, rows, straddled = [encoded(header)], [], 0
    written = len(chunks[0])
    while written < size:
        row = list(sample[len(rows) % len(sample)])
        row[cid] = f"ID{len(rows):09d}"
        if straddled < len(straddle) and written > straddle[straddled] - 300:
            fake = ",".join(f'"{v}"' for v in sample[0])  # a whole record, quoted, inside one field
            row[email] = 'a "quoted", split\n' + "\n".join([fake] * 8) + "\nend"
            straddled += 1
        rows.append(row)
        chunks.append(encoded(row))
        written += len(chunks[-1])
    path.write_bytes(b"".join(chunks))
    assert straddled == len(straddle)
    return rows


def _assert_both_readers_read(engine: DuckDBEngine, path: Path, rows: list[list[str]]) -> None:
    """The input's reader and the published matches' read ``path`` as Python's reader does."""
    from glue_jobs.incremental import load_published_files

    load_csv(engine, path, load_config(SETTINGS), "t")
    load_published_files(engine, [path], str(path), "p")
    expected = sorted(tuple(v or None for v in r) for r in rows)
    for table in ("t", "p"):
        assert sorted(engine.rows(f"SELECT * FROM {table}")) == expected, table


def test_records_split_across_the_readers_buffers_are_read_whole(tmp_path):
    """DuckDB reads a large CSV in buffers, one thread each (``csv_buffer_bytes``). A
    quoted field that holds line breaks, delimiters, quotes and text shaped like a whole
    record, written across each buffer boundary, is read as Python's reader reads it,
    by the input's reader and by the published matches' (``load_published_files``)."""
    from glue_jobs.validation import csv_buffer_bytes

    size, threads = 16 * 1024 * 1024, 2
    buffer = csv_buffer_bytes(size, threads)
    boundaries = [k * buffer for k in range(1, size // buffer + 1)]
    assert len(boundaries) >= 3
    path = tmp_path / "big.csv"
    rows = _sample_records_csv(path, size, boundaries)
    _assert_both_readers_read(DuckDBEngine(threads=threads), path, rows)


def test_a_file_duckdbs_parallel_reader_gives_up_on_is_read_on_one_thread(tmp_path, monkeypatch):
    """DuckDB 2.0.1's parallel reader refuses some valid files ("does not support a full
    read on this file ... parallel = false"), depending on where its buffers end. Here a
    plain 6 MB file and a buffer one byte over the longest record: both readers read it,
    on one thread, and give what Python's reader gives."""
    import duckdb

    import glue_jobs.validation as validation
    from glue_jobs.validation import MAX_RECORD_BYTES

    path = tmp_path / "plain.csv"
    rows = _sample_records_csv(path, 6 * 1024 * 1024)
    odd = MAX_RECORD_BYTES + 1
    engine = DuckDBEngine(threads=2)
    with pytest.raises(duckdb.NotImplementedException, match="parallel = false"):  # the precondition
        engine.create("refused", f"SELECT * FROM read_csv('{path}', all_varchar = true, buffer_size = {odd}, "
                                 f"max_line_size = {MAX_RECORD_BYTES})")
    monkeypatch.setattr(validation, "csv_buffer_bytes", lambda size, threads: odd)
    _assert_both_readers_read(engine, path, rows)


def test_csv_buffers_are_whole_mib_over_twice_the_longest_record():
    from glue_jobs.validation import MAX_RECORD_BYTES, csv_buffer_bytes

    for size in (0, 1, 10**6, 14 * 10**6, 125_073_419, 148_500_875, 10**10):
        for threads in (1, 2, 8):
            b = csv_buffer_bytes(size, threads)
            assert b % (1024 * 1024) == 0 and 2 * MAX_RECORD_BYTES <= b <= 32 * 1024 * 1024
    assert csv_buffer_bytes(148_500_875, 2) == 32 * 1024 * 1024
