"""Property-based tests of the local dedup command (Hypothesis), issue 10.

Every property runs the real command (``glue_jobs.dedup.main``, DuckDB + Splink)
on generated input, next to a previous good output, and holds it to:

- exit 0 or 2, never a traceback;
- exit 0: no customer lost (``assert_no_customer_lost``: every input record in
  ``matches/`` as it came in, exactly one survivor per ``match_id``);
- exit 2: a message naming the problem, and the previous output byte for byte.

Runs are a second or two each: the example counts are small on purpose.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from glue_jobs.config import SettingsFileError, load_config
from glue_jobs.dedup import main
from tests.dedup_fixtures import SAMPLE, SETTINGS, assert_no_customer_lost, read_csv_exact, sha256

HEADER, ROWS = read_csv_exact(SAMPLE)
BASE = ROWS[:24] + [ROWS[0][:1] + ["ZZZZDUPLICATE001"] + ROWS[0][2:]]  # 25 records, one duplicate pair
RUNS = settings(max_examples=10, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# names a user's file may carry: SQL words, names the job's own SQL uses, quotes,
# spaces, case variants of the required columns, unicode
AWKWARD_NAMES = ["rn", "n", "match_id", "MATCH_ID", "unique_id", "cluster_id", "full_name", "first_name",
                 "select", "from", "order", "group", "sized", "s", "i", "c", "l", "r", "t", "_",
                 "a b", ' "quoted" ', "it's", "back`tick", "semi;colon", "per%cent", "new\nline",
                 "C_CUSTOMER_ID", "c_login ", "Ünïcødé", "名前", "x" * 200, "__dedup_std", "__splink__df"]
column_names = st.one_of(st.sampled_from(AWKWARD_NAMES),
                         st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"),
                                 min_size=1, max_size=12))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _run_next_to_a_previous_output(work: Path, path: Path, capsys, *extra: str) -> tuple[int, str, Path]:
    """Run the command on ``path`` into an output that already holds a good run's result."""
    out = work / "out"
    if not out.exists():
        prev = _write(work / "previous.csv", HEADER, ROWS[:20])
        assert main([str(prev), "--output", str(out), "--threads", "2"]) == 0
        capsys.readouterr()
    before, around = _tree(out), _tree(work)
    cwd = os.getcwd()
    os.chdir(work)  # anything written to the current folder would show in ``around``
    try:
        code = main([str(path), "--output", str(out), "--threads", "2", *extra])
    except SystemExit as e:
        code = e.code
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    outside = {k: v for k, v in _tree(work).items() if not k.startswith("out/")}
    assert outside == {k: v for k, v in around.items() if not k.startswith("out/")}, "a file outside the output changed"
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error: ") and len(err) < 2000, err
        assert _tree(out) == before, "a refused run changed the previous output"
    assert not (out / "_staging").exists()
    return code, err, out


@RUNS
@given(extra=st.lists(column_names, min_size=1, max_size=3), order=st.randoms(use_true_random=False),
       values=st.sampled_from(["v", "", "1", "same", "rn"]))
@example(extra=["rn"], order=None, values="1").via("issue 10: a column rn lost 30 customers")
@example(extra=["n"], order=None, values="v").via("issue 10: a column n crashed")
def test_any_extra_columns_in_any_order_lose_no_customer(extra, order, values, capsys):
    header = HEADER + extra
    rows = [r + [f"{values}{i % 3}" if values else "" for _ in extra] for i, r in enumerate(BASE)]
    columns = list(range(len(header)))
    if order is not None:
        order.shuffle(columns)
    header = [header[i] for i in columns]
    rows = [[r[i] for i in columns] for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = _write(work / "customers.csv", header, rows)
        code, err, out = _run_next_to_a_previous_output(work, path, capsys)
        if code == 0:
            assert_no_customer_lost(path, out)
        else:  # only a header the job cannot keep as it is: a duplicate (case-insensitive), an empty
            # name, or the column the job adds
            names = [h.strip() for h in header]
            if "match_id" in err:
                assert "match_id" in {h.casefold() for h in names}, err
            else:
                assert "duplicate header column" in err or "has no name" in err, err
                assert len({h.casefold() for h in names}) < len(names) or "" in names, err


# characters a file name may carry that a glob, a shell or SQL would read specially
NAME_CHARS = "*?[]{}!$;&|'\"` ~#%()<>=,.-_+@\\^aZ0é名"


@RUNS
@given(stem=st.text(st.sampled_from(NAME_CHARS), min_size=1, max_size=20))
@example(stem="batch[1]").via("issue 10")
@example(stem="cust*").via("issue 10")
def test_any_file_name_is_read_as_that_file(stem, capsys):
    assume("/" not in stem and stem not in (".", ".."))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # decoys a glob of the name could match instead
        for decoy in ("batch1", "cust1", "x", "a", "customers"):
            _write(work / f"{decoy}.csv", HEADER, ROWS[100:110])
        path = _write(work / f"{stem}.csv", HEADER, BASE)
        code, err, out = _run_next_to_a_previous_output(work, path, capsys)
        assert code == 0, err
        assert_no_customer_lost(path, out)


@RUNS
@given(n=st.integers(0, 3), copies=st.integers(1, 40), pick=st.integers(0, len(ROWS) - 1),
       fmt=st.sampled_from(["csv", "parquet"]))
@example(n=1, copies=1, pick=0, fmt="csv").via("issue 10: one record, ZeroDivisionError")
@example(n=1, copies=2, pick=0, fmt="csv").via("issue 10: two identical records, ValueError")
def test_tiny_and_all_identical_files_give_a_result_or_a_clear_refusal(n, copies, pick, fmt, capsys):
    """n distinct records, each repeated ``copies`` times under fresh ids."""
    rows = []
    for k in range(n):
        src = ROWS[(pick + k) % len(ROWS)]
        rows += [src[:1] + [f"ID{k:02d}COPY{c:04d}"] + src[2:] for c in range(copies)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = _write(work / "tiny.csv", HEADER, rows)
        code, err, out = _run_next_to_a_previous_output(work, path, capsys, "--format", fmt)
        if n == 0:
            assert code == 2 and "header only" in err
            return
        assert code == 0, err
        match_of = assert_no_customer_lost(path, out, fmt=fmt)
        # identical copies are one customer: the job must not split them
        for k in range(n):
            assert len({match_of[f"ID{k:02d}COPY{c:04d}"] for c in range(copies)}) == 1


# ------------------------------------------------------------------ job settings documents

SETTINGS_DOC = json.loads(SETTINGS.read_text())
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=8),
              st.sampled_from(["select", "rn", "email", "l.email = r.email", "swapped_names", "c_login", ";"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)
paths = st.sampled_from([
    ("id_column",), ("fields",), ("fields", "login"), ("fields", "login", "kind"), ("fields", "login", "column"),
    ("fields", "dob", "day"), ("blocking_rules",), ("blocking_rules", 0), ("training",),
    ("training", "prior_rules"), ("training", "prior_recall"), ("training", "em_blocking_rules", 0),
    ("threshold_match_probability",), ("delimiter",), ("description",), ("extra_key",)])


def _set(doc, path, value):
    for key in path[:-1]:
        doc = doc[key]
    if isinstance(doc, list):
        doc[path[-1] % len(doc)] = value
    else:
        doc[path[-1]] = value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(paths, json_values), min_size=1, max_size=3), st.booleans())
def test_any_settings_document_loads_or_is_refused_naming_a_key(edits, rename_field):
    doc = json.loads(json.dumps(SETTINGS_DOC))
    for path, value in edits:
        try:
            _set(doc, path, value)
        except (KeyError, TypeError, IndexError, ZeroDivisionError):
            pass  # an earlier edit replaced the parent: the document is odd enough
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "s.json"
        p.write_text(json.dumps(doc))
        try:
            cfg = load_config(p)
        except SettingsFileError as e:
            assert str(p) in str(e)
            return
    # accepted: every column the model's SQL names is a plain, unreserved identifier
    from glue_jobs.config import RESERVED_WORDS, standardised_columns

    for col in standardised_columns(cfg.fields):
        assert col.isidentifier() and col.islower() and col not in RESERVED_WORDS, col


@RUNS
@given(name=st.sampled_from(["select", "order", "rn", "n", "user", "name", "full_name", "match_id", "Login",
                             "login2", "email_user", "from_", "x"]) | st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))
def test_a_field_of_any_name_runs_or_is_refused(name, capsys):
    """A settings field renamed to anything: refused naming the field, or a run that loses no customer."""
    doc = json.loads(json.dumps(SETTINGS_DOC))
    doc["fields"] = {(name if k == "login" else k): v for k, v in doc["fields"].items()}
    doc["blocking_rules"] = [[name] if r == ["login"] else r for r in doc["blocking_rules"]]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        s = work / "s.json"
        s.write_text(json.dumps(doc))
        path = _write(work / "customers.csv", HEADER, BASE)
        code, err, out = _run_next_to_a_previous_output(work, path, capsys, "--settings", str(s))
        if code == 2:
            assert f"field name {name!r}" in err or "field name(s)" in err, err
        else:
            assert_no_customer_lost(path, out)


@pytest.mark.parametrize("copies", [300])
def test_300_identical_records_are_one_customer(copies, capsys):
    rows = [ROWS[7][:1] + [f"SAME{c:05d}"] + ROWS[7][2:] for c in range(copies)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = _write(work / "same.csv", HEADER, rows)
        code, err, out = _run_next_to_a_previous_output(work, path, capsys)
        assert code == 0, err
        assert len(set(assert_no_customer_lost(path, out).values())) == 1
