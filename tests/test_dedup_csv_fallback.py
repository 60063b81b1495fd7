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
