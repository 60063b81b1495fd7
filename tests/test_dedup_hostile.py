"""Hostile and careless input to the local command (issue 10): every refusal is exit 2 with a
message naming the file, line, column or key; nothing is written before the checks pass; a
glob-looking path is read as a path; an interrupted run leaves the previous output byte for byte."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import glue_jobs.dedup as dedup
from glue_jobs.dedup import main
from tests.dedup_fixtures import REPO, SAMPLE, SETTINGS, assert_no_customer_lost, read_csv_exact, sha256

HEADER, ROWS = read_csv_exact(SAMPLE)
SMALL = [",".join(HEADER)] + [",".join(r) for r in ROWS[:60]]


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its hash: "byte for byte"."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if the job starts loading data: refusals must come first."""
    def boom(*a, **k):
        raise AssertionError("the job started working before refusing")
    monkeypatch.setattr(dedup, "load_csv", boom)


def _main(capsys, *args) -> tuple[int, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# ------------------------------------------------------------------ a path is a path

@pytest.mark.parametrize("name, decoy", [("batch[1].csv", "batch1.csv"), ("cust*.csv", "cust1.csv"),
                                         ("c?.csv", "cx.csv"), ("[!a]b.csv", "xb.csv")])
def test_a_glob_looking_input_name_is_read_literally(tmp_path, name, decoy):
    _csv(tmp_path / decoy, [SMALL[0]] + SMALL[31:61])  # other records, same layout
    target = _csv(tmp_path / name, SMALL[:31])
    res = dedup.run(target, tmp_path / "out", SETTINGS, quiet=True)
    assert res.records_in == 30
    assert_no_customer_lost(target, tmp_path / "out")


# ------------------------------------------------------------------ output checked first

def test_output_that_is_a_file_is_refused_before_any_work(tmp_path, capsys, no_work):
    target = tmp_path / "results.csv"
    target.write_text("keep me")
    code, err = _main(capsys, SAMPLE, "--output", target)
    assert code == 2 and "is an existing file, not a folder" in err and str(target) in err
    assert target.read_text() == "keep me"


def test_empty_output_is_refused_not_taken_as_the_current_folder(tmp_path, capsys, monkeypatch, no_work):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "matches").mkdir()
    (tmp_path / "matches" / "precious.csv").write_text("x")
    code, err = _main(capsys, SAMPLE, "--output", "")
    assert code == 2 and "--output" in err and "empty" in err
    assert (tmp_path / "matches" / "precious.csv").read_text() == "x"


@pytest.fixture
def unwritable(tmp_path):
    """A folder this process cannot write in: chmod 555 for a normal user; for root (who
    ignores modes) a sysfs folder, which refuses new entries to everyone."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys/fs")
    with pytest.raises(OSError):
        (folder / "probe").mkdir()
    yield folder


def test_read_only_output_folder_is_refused_before_any_work(unwritable, capsys, no_work):
    code, err = _main(capsys, SAMPLE, "--output", unwritable)
    assert code == 2 and str(unwritable) in err and ("read-only" in err or "cannot write" in err), err


def test_output_under_a_read_only_parent_is_refused_before_any_work(unwritable, capsys, no_work):
    code, err = _main(capsys, SAMPLE, "--output", unwritable / "new" / "out")
    assert code == 2 and "cannot" in err and str(unwritable) in err, err
    assert not (unwritable / "new").exists()


def test_a_published_folder_that_is_a_file_is_refused(tmp_path, capsys, no_work):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "matches").write_text("not a folder")
    code, err = _main(capsys, SAMPLE, "--output", tmp_path / "out")
    assert code == 2 and "matches: expected a folder" in err


# ------------------------------------------------------------------ input files

@pytest.mark.parametrize("kind", ["folder", "symlink_loop", "fifo", "empty_name", "bom_only", "nul_bytes"])
def test_input_that_is_not_a_csv_file_is_refused_naming_it(tmp_path, capsys, kind, no_work):
    path = tmp_path / f"in-{kind}.csv"
    if kind == "folder":
        path.mkdir()
    elif kind == "symlink_loop":
        os.symlink(path, path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "bom_only":
        path.write_bytes(b"\xef\xbb\xbf")
    elif kind == "nul_bytes":
        path.write_bytes(b"\x00" * 100)
    args = [path] if kind != "empty_name" else [""]
    code, err = _main(capsys, *args, "--output", tmp_path / "out")
    assert code == 2, err
    expected = {"folder": "is a folder", "symlink_loop": "symbolic links", "fifo": "not a regular file",
                "empty_name": "empty", "bom_only": "empty file", "nul_bytes": "NUL bytes"}[kind]
    assert expected in err
    assert not (tmp_path / "out").exists()


def test_duplicate_header_column_is_refused_not_renamed(tmp_path, capsys):
    for header, hint in [(SMALL[0] + ",c_login", "column 16 and column 19 are named twice"),
                         (SMALL[0] + ",C_LOGIN", "as 'c_login' and 'C_LOGIN' (case is ignored)")]:
        path = _csv(tmp_path / "dup.csv", [header] + [r + ",x" for r in SMALL[1:]])
        code, err = _main(capsys, path, "--output", tmp_path / "out")
        assert code == 2 and "duplicate header column" in err and hint in err, err


def test_a_5_mb_field_is_reported_with_its_line_and_cause(tmp_path, capsys):
    big = ROWS[3].copy()
    big[HEADER.index("c_login")] = "x" * (5 * 1024 * 1024)
    lines = SMALL[:10] + [",".join(big)] + SMALL[10:]
    path = _csv(tmp_path / "big.csv", lines)
    code, err = _main(capsys, path, "--output", tmp_path / "out")
    assert code == 2 and "line 11:" in err and "a record of 5,2" in err and "at most 2,097,152 bytes" in err, err


def test_an_unbalanced_quote_is_reported_with_its_line(tmp_path, capsys):
    bad = ROWS[5].copy()
    bad[HEADER.index("c_first_name")] = '"Ann'
    path = _csv(tmp_path / "quote.csv", SMALL[:20] + [",".join(bad)] + SMALL[20:])
    code, err = _main(capsys, path, "--output", tmp_path / "out")
    assert code == 2 and "line 21" in err and "quote" in err, err
    stray = ROWS[5].copy()
    stray[HEADER.index("c_first_name")] = '"Ann"e'
    path = _csv(tmp_path / "stray.csv", SMALL[:7] + [",".join(stray)] + SMALL[7:])
    code, err = _main(capsys, path, "--output", tmp_path / "out")
    assert code == 2 and "line 8" in err, err


# ------------------------------------------------------------------ job settings

SETTINGS_TEXT = SETTINGS.read_text()


@pytest.mark.parametrize("case, hint", [
    ("training_list", "'training' must be an object"),
    ("sql_keyword_field", "field name 'select' (under 'fields') is a reserved SQL word"),
    ("latin1", "not UTF-8 (byte 0xe9 on line 2)"),
    ("folder", "is a folder"),
    ("symlink_loop", "symbolic links"),
    ("unknown_key", "unknown key(s) ['blocking_rule']"),
    ("duplicate_key", "key 'id_column' appears twice"),
    ("bad_json", "line 1, column"),
    ("threshold_bool", "'threshold_match_probability' must be a number"),
    ("rule_unknown_column", "uses unknown column(s) ['nickname']"),
    ("quote_delimiter", "'delimiter' must be one character"),
])
def test_bad_settings_exit_2_naming_the_key(tmp_path, capsys, case, hint, no_work):
    path = tmp_path / "settings.json"
    text = SETTINGS_TEXT
    if case == "training_list":
        doc = json.loads(SETTINGS_TEXT)
        doc["training"] = []
        text = json.dumps(doc)
    elif case == "sql_keyword_field":
        text = text.replace('"login": {', '"select": {').replace('["login"]', '["select"]')
    elif case == "unknown_key":
        text = text.replace('"blocking_rules"', '"blocking_rule"')
    elif case == "duplicate_key":
        text = text.replace('"id_column": "c_customer_id",', '"id_column": "c_customer_id", "id_column": "x",')
    elif case == "bad_json":
        text = "{'id_column': 1}"
    elif case == "threshold_bool":
        text = re.sub(r'"threshold_match_probability": [0-9.]+', '"threshold_match_probability": true', text)
    elif case == "rule_unknown_column":
        text = text.replace('"swapped_names",', '"l.nickname = r.nickname",')
    elif case == "quote_delimiter":
        text = text.replace('"delimiter": ","', '"delimiter": "\\""')
    if case == "latin1":
        path.write_bytes(('{\n"description": "Jos\u00e9",' + SETTINGS_TEXT.split("{", 1)[1]).encode("latin-1"))
    elif case == "folder":
        path.mkdir()
    elif case == "symlink_loop":
        os.symlink(path, path)
    else:
        path.write_text(text)
    code, err = _main(capsys, SAMPLE, "--settings", path, "--output", tmp_path / "out")
    assert code == 2 and hint in err and str(path) in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("threads", ["-1", "0", "many", "100000"])
def test_bad_thread_count_exits_2(tmp_path, capsys, threads, no_work):
    code, err = _main(capsys, SAMPLE, "--threads", threads, "--output", tmp_path / "out")
    assert code == 2 and "--threads" in err and "from 1 to 1024" in err


# ------------------------------------------------------------------ interrupted runs

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_write_leaves_no_staging_and_the_previous_output(tmp_path, capsys, monkeypatch, sig):
    out = tmp_path / "out"
    good = _csv(tmp_path / "customers.csv", SMALL)
    assert main([str(good), "--output", str(out)]) == 0
    before = _tree(out)
    real_write = dedup.write_outputs

    def write_then_signal(engine, result, output, name, fmt, cfg, staging, **files):
        (staging / "deduplicated").mkdir()
        engine.con.execute(f"COPY {result.survivors_table} TO '{staging / 'deduplicated' / 'half.csv'}'")
        os.kill(os.getpid(), sig)  # delivered to this (main) thread: the handler runs here
        return real_write(engine, result, output, name, fmt, cfg, staging, **files)

    monkeypatch.setattr(dedup, "write_outputs", write_then_signal)
    code, err = _main(capsys, good, "--output", out)
    assert code == 128 + sig and "interrupted" in err
    assert _tree(out) == before and not (out / "_staging").exists()


def test_ctrl_c_in_a_real_process_prints_no_traceback_and_keeps_the_output(tmp_path):
    out = tmp_path / "out"
    good = _csv(tmp_path / "customers.csv", SMALL)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "glue_jobs.dedup", str(good), "--output", str(out)]
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=300).returncode == 0
    before = _tree(out)
    shutil.copy(SAMPLE, good)  # a bigger file: the run lasts a few seconds
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any((out / "_staging").glob("*")) and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted (SIGINT)" in err
    assert _tree(out) == before and not (out / "_staging").exists()


def test_a_killed_runs_staging_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    good = _csv(tmp_path / "customers.csv", SMALL)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "glue_jobs.dedup", str(good), "--output", str(out)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not any((out / "_staging").glob("*/.lock")) and time.time() < deadline:
        time.sleep(0.01)
    proc.kill()  # SIGKILL: no handler runs
    proc.wait()
    left = list((out / "_staging").glob("*"))
    assert left, "the killed run left nothing to clean: the test did not test anything"
    dedup.run(good, out, SETTINGS, quiet=True)
    assert not (out / "_staging").exists()
    assert_no_customer_lost(good, out)


def test_work_left_running_at_exit_is_stopped_not_aborted():
    """Background work the job did not stop (an interrupt at the wrong moment) is stopped
    when the interpreter exits; left to Python's shutdown, a query ending meanwhile
    aborts the process with signal 6 after the job has already reported its exit."""
    code = ("import sys\nfrom glue_jobs.engines import DuckDBEngine\n"
            "DuckDBEngine().run_meanwhile(['CREATE TABLE x AS SELECT count(*) FROM range(50000000)'])\n"
            "sys.exit(3)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert (done.returncode, "FATAL" in done.stderr) == (3, False), done.stderr
