"""The workshop command against a careless or hostile user: no traceback, exit 0 or 2 (1 only for
failed stacks), every refusal names the option or file:line:column, user text never printed raw,
a class-wide problem said once, and a closed pipe is no error."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from builders.settings import Settings
from workshop import cli, cost
from workshop.cli import main

REPO = Path(__file__).resolve().parent.parent
ROSTER = REPO / "examples" / "students.csv"
ACCOUNT = "123456789012"
UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def raw_unsafe(text: str) -> list[str]:
    """Control, format (bidi overrides, zero-width) and separator characters printed as such."""
    return [f"U+{ord(c):04X}" for c in text if c != "\n" and unicodedata.category(c) in UNSAFE]


def run(*argv: str) -> tuple[int, str]:
    out: list[str] = []
    code = main(list(argv), out=out.append)
    text = "\n".join(out)
    assert raw_unsafe(text) == [], f"printed raw: {raw_unsafe(text)} in {text!r}"
    return code, text


def _roster(tmp_path: Path, body: str, name: str = "class.csv") -> Path:
    path = tmp_path / name
    path.write_text("name,email\n" + body, encoding="utf-8")
    return path


def test_a_roster_that_is_a_directory_is_refused(tmp_path):
    code, text = run("plan", "--roster", str(tmp_path))
    assert code == 2 and str(tmp_path) in text and "directory" in text


def test_a_roster_that_cannot_be_read_is_refused(tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    code, text = run("plan", "--roster", str(loop))
    assert code == 2 and "loop.csv" in text


def test_a_plan_problem_names_the_roster_file_and_line(tmp_path):
    roster = _roster(tmp_path, "Ann,ann@example.com\nBob,bob@example.com\n")
    code, text = run("plan", "--roster", str(roster), "--set", "dataBucketName=one-bucket-for-all")
    assert code == 2 and f"{roster}:3 (Bob):" in text, text


def test_a_name_of_punctuation_gets_a_valid_owner_tag(tmp_path):
    roster = _roster(tmp_path, ";,*@example.com\n")
    assert run("plan", "--roster", str(roster))[0] == 0


def test_a_roster_that_is_not_csv_is_refused_with_its_line(tmp_path):
    roster = _roster(tmp_path, "Ann,ann@example.com\n" + "B" * 200_000 + ",b@example.com\n")
    code, text = run("plan", "--roster", str(roster))
    assert code == 2 and f"{roster}:3:" in text and "field larger than field limit" in text, text[:300]


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\x1b", "\u2028", "\ufeff"])
def test_names_with_control_or_format_characters_are_refused_with_line_and_column(tmp_path, char):
    roster = _roster(tmp_path, f"Ann,ann@example.com\nEv{char}il,evil@example.com\n")
    code, text = run("plan", "--roster", str(roster))
    assert code == 2
    assert f"{roster}:3:1:" in text and f"U+{ord(char):04X}" in text, text


def test_user_text_in_paths_and_options_is_escaped(tmp_path):
    roster = _roster(tmp_path, "Ann,ann@example.com\n", name="cl\u202eass\n.csv")
    code, text = run("plan", "--roster", str(roster))
    assert code == 0 and "\\u202e" in text
    code, text = run("status", "--roster", str(roster), "--only", "x\u202ey")
    assert code == 2 and "\\u202e" in text


def test_argparse_errors_are_escaped_too(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["plan", "--roster", str(ROSTER), "\u202e$(id)"])
    assert exit_.value.code == 2
    assert raw_unsafe(capsys.readouterr().err) == []


@pytest.mark.parametrize("option, value", [
    ("--trail-stack", "$(id);x"), ("--trail-stack", "a/b"), ("--trail-stack", "x" * 101), ("--trail-stack", ""),
    ("--trail-name", "$(id);x"), ("--trail-name", "ab"), ("--trail-name", "a--b"), ("--trail-name", "-abc"),
    ("--trail-name", "192.168.5.4"), ("--trail-name", "a" * 129), ("--trail-name", "abc_"),
    ("--region", "$(id)"), ("--region", "eu-west"),
])
def test_trail_stack_trail_name_and_region_are_validated(option, value):
    for command in ("plan", "handout"):
        code, text = run(command, "--roster", str(ROSTER), "--account", ACCOUNT, f"{option}={value}")
        assert code == 2 and option in text, text
        assert text.count(option) == 1, f"said more than once:\n{text}"


@pytest.mark.parametrize("option, value", [
    ("--trail-stack", "class-2026.spring_b"), ("--trail-name", "etl-ttt-demo.class_trail-2"),
    ("--region", "us-gov-west-1"),
])
def test_valid_names_pass(option, value):
    assert run("plan", "--roster", str(ROSTER), option, value)[0] == 0


@pytest.mark.parametrize("argv, problem", [
    (["--set", "jobWorkers=1"], "jobWorkers: '1' is not a whole number"),
    (["--trail-mode", "none", "--trigger-source", "cloudtrail"], "records no CloudTrail events"),
])
def test_a_class_wide_problem_is_said_once(argv, problem):
    code, text = run("plan", "--roster", str(ROSTER), *argv)
    assert code == 2 and text.count(problem) == 1, text


def test_preflight_by_class_size_validates_the_settings_without_a_student():
    code, text = run("preflight", "--students", "3", "--trail-mode", "none")
    assert code == 2 and text.count("records no CloudTrail events") == 1, text


def test_handout_out_that_is_a_file_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "handouts"
    target.write_bytes(b"previous\x00bytes")
    code, text = run("handout", "--roster", str(ROSTER), "--account", ACCOUNT, "--out", str(target))
    assert code == 2 and "--out" in text and "not a folder" in text
    assert target.read_bytes() == b"previous\x00bytes"
    code, text = run("handout", "--roster", str(ROSTER), "--account", ACCOUNT, "--out", str(target / "sub"))
    assert code == 2 and "--out" in text


def test_handout_out_where_nothing_can_be_written_is_refused():
    # /sys refuses new entries even to root (the tests may run as root, where chmod protects nothing).
    code, text = run("handout", "--roster", str(ROSTER), "--account", ACCOUNT, "--out", "/sys/handouts")
    assert code == 2 and "/sys" in text and "--out" in text
    assert not Path("/sys/handouts").exists()


def test_handout_writes_only_once_everything_is_rendered(tmp_path):
    out = tmp_path / "handouts"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run("handout", "--roster", str(ROSTER), "--account", ACCOUNT, "--out", str(out))[0] == 0
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.glob("*.md"))) == 61
    assert [p.name for p in tmp_path.iterdir()] == ["handouts"], "no staging folder left behind"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [], "no staging folder left behind"


def test_cost_defaults_come_from_the_stacks_settings(monkeypatch):
    args = cli._parser().parse_args(["cost", "--students", "1"])
    defaults = Settings()
    assert (args.workers, args.worker_type, args.execution_class, args.trigger_source) == (
        defaults.job_workers, defaults.job_worker_type, defaults.job_execution_class, defaults.trigger_source)
    assert args.trail_mode == "shared", "a class shares one trail"
    # Read, not copied: other defaults in the settings object are other defaults on the command line.
    other = functools.partial(cost.PipelineSettings, trail_mode="per-stack", job_workers=7, job_worker_type="G.2X",
                              job_execution_class="FLEX", trigger_source="s3-eventbridge")
    monkeypatch.setattr(cost, "PipelineSettings", other)
    args = cli._parser().parse_args(["cost", "--students", "1"])
    assert (args.trail_mode, args.workers, args.worker_type, args.execution_class, args.trigger_source) == (
        "per-stack", 7, "G.2X", "FLEX", "s3-eventbridge")


def test_each_subcommand_has_its_own_handler():
    parser = cli._parser()
    handlers = {}
    for argv in (["plan", "--roster", "r"], ["preflight", "--students", "1"], ["up", "--roster", "r"],
                 ["destroy", "--roster", "r"], ["status", "--roster", "r"], ["handout", "--roster", "r"],
                 ["cost", "--students", "1"]):
        handlers[argv[0]] = parser.parse_args(argv).handler
    assert len(set(handlers.values())) == 7, handlers


def test_a_closed_pipe_is_not_an_error():
    """``python -m workshop plan | head -1``: the reader goes away; no traceback, exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "workshop", "plan", "--roster", str(ROSTER)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    proc.stdout.close()  # before the command writes anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


@pytest.mark.parametrize("option", ["--trail-name=--", "--region=--", "--set=--", "--trail-stack=--"])
def test_an_option_given_only_the_end_of_options_marker_is_refused(tmp_path, capsys, option):
    """argparse turns ``--opt=--`` into a list where a string belongs: a usage error, not a traceback."""
    from workshop.cli import main

    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nAnn,ann@example.com\n")
    with pytest.raises(SystemExit) as done:
        main(["plan", "--roster", str(roster), option], out=lambda text: None)
    assert done.value.code == 2
    assert "'--' is not a value" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["up", "destroy"])
def test_ctrl_c_during_a_class_run_says_what_to_do_instead_of_a_traceback(tmp_path, command):
    """A Ctrl-C while stacks are being changed (raised here inside a worker, as
    ``pool.map`` re-raises it in the main thread) ends with a message and 130."""
    from workshop.cli import EXIT_INTERRUPTED, main

    class Interrupted:
        def up(self, spec, log):
            raise KeyboardInterrupt

        destroy = up

        def outputs(self, spec, log=None):
            return None

    roster = _roster(tmp_path, "Ada,ada@example.com\nBob,bob@example.com\n")
    out: list[str] = []
    argv = [command, "--roster", str(roster), "--trail-mode", "per-stack"]
    if command == "up":
        argv.append("--skip-preflight")
    assert main(argv, backend=Interrupted(), out=out.append) == EXIT_INTERRUPTED
    assert f"interrupted (Ctrl-C) during '{command}'" in out[-1] and "workshop status" in out[-1]
