"""glue_jobs/run_local.sh: paths relative to the caller, Python >= 3.11 only.

The install itself (a few minutes, from PyPI) is not run here: the venv is a
link to the test interpreter's, with the stamp the script expects.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.dedup_fixtures import REPO, SAMPLE, assert_no_customer_lost


def _repo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "glue_jobs", root / "glue_jobs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "requirements-job.txt", root)
    venv = root / ".venv-dedup"
    venv.mkdir()
    (venv / "bin").mkdir()
    # a venv sharing the test venv's packages: its pyvenv.cfg and lib/, its own python link
    shutil.copy(Path(sys.prefix) / "pyvenv.cfg", venv)
    os.symlink(Path(sys.prefix) / "lib", venv / "lib")
    os.symlink(sys.executable, venv / "bin" / "python")
    (venv / ".requirements.sha256").write_text(
        hashlib.sha256((root / "requirements-job.txt").read_bytes()).hexdigest() + "\n")
    return root


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHON")}
    return {**env, **extra}


def test_relative_input_and_output_are_the_callers(tmp_path):
    root = _repo_copy(tmp_path)
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    shutil.copy(SAMPLE, elsewhere / "mine.csv")
    r = subprocess.run(["sh", str(root / "glue_jobs" / "run_local.sh"), "mine.csv", "--output", "myout"],
                       cwd=elsewhere, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "setting up" not in r.stderr  # the stamp matched: no reinstall
    got = pd.read_csv(elsewhere / "myout" / "deduplicated" / "mine.csv", dtype=str)
    assert 400 < len(got) < 535
    assert_no_customer_lost(elsewhere / "mine.csv", elsewhere / "myout")
    assert not (root / "myout").exists()


def test_python_older_than_3_11_is_refused(tmp_path):
    root = _repo_copy(tmp_path)
    old = tmp_path / "python3.7"
    old.write_text("#!/bin/sh\nexit 1\n")  # fails the version check, as a 3.7 would
    old.chmod(0o755)
    r = subprocess.run(["sh", str(root / "glue_jobs" / "run_local.sh")], cwd=tmp_path,
                       env=_env(PYTHON=str(old)), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "needs Python 3.11 or newer" in r.stderr
    assert (root / ".venv-dedup" / "bin" / "python").exists()  # nothing touched


def test_a_user_mistake_exits_2_without_a_traceback(tmp_path):
    root = _repo_copy(tmp_path)
    (tmp_path / "results.csv").write_text("not a folder")
    for args, hint in [(["nope.csv"], "input file not found"),
                       (["--output", "results.csv"], "is an existing file, not a folder"),
                       (["--threads", "-1"], "from 1 to 1024")]:
        r = subprocess.run(["sh", str(root / "glue_jobs" / "run_local.sh"), *args], cwd=tmp_path,
                           env=_env(), capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and hint in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_run_imports_no_pandas(tmp_path):
    # pandas costs 0.6 s at the start of every local run and the job needs it only for
    # --labels; a module that imports it at the top (or through pyarrow) brings that back
    code = ("import sys; from glue_jobs.dedup import main; "
            f"rc = main([{str(SAMPLE)!r}, '--output', {str(tmp_path / 'out')!r}]); "
            "assert rc == 0, rc; "
            "print('IMPORTED' if 'pandas' in sys.modules else 'CLEAN')")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=_env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("CLEAN"), r.stdout[-300:]
