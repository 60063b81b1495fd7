"""Property-based tests (Hypothesis) of the workshop command over random rosters and options:
arbitrary unicode names, e-mails good and bad, duplicates, blank and comment lines, a BOM, CRLF,
other encodings. Each property: exit 0 or 2, no exception, nothing printed raw that could reorder
or forge the terminal's text, a refusal names the roster file, and a refused handout leaves the
previous output byte for byte."""

from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workshop.cli import main

UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
ACCOUNT = "123456789012"
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.sampled_from(["Ann", "Bob Smith", "bob.smith", "José Núñez", "Jose Nunez", "李雷", "Ev\u202eil", "x\u200by",
                     "a\x1b[31mred", "  ", "", "O'Brien, Jr.", "#comment", "=cmd|' /C calc'!A0"]),
)
emails = st.one_of(st.emails(), st.text(max_size=30), st.sampled_from(["a@example.com", "A@Example.com", "al@", ""]))
headers = st.sampled_from([["name", "email"], ["email", "name"], [" Name ", "EMAIL"], ["name", "email", "team"],
                           ["nom", "courriel"], ["name"], []])


@st.composite
def rosters(draw) -> bytes:
    rows = draw(st.lists(st.tuples(names, emails), max_size=8))
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), min_size=1, max_size=3))  # the same student twice
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    header = draw(headers)
    if header:
        writer.writerow(header)
    email_first = header[:1] == ["email"]
    for name, email in rows:
        if draw(st.integers(0, 5)) == 0:
            buffer.write(draw(st.sampled_from(["\n", "\r\n", "# a comment\n", " , \n", ",,,\n"])))
        writer.writerow([email, name] if email_first else [name, email])
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = "\ufeff" + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


def raw_unsafe(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if c != "\n" and unicodedata.category(c) in UNSAFE]


def run(argv: list[str]) -> tuple[int, str]:
    out: list[str] = []
    code = main(argv, out=out.append)
    text = "\n".join(out)
    assert code in (0, 2), f"exit {code}:\n{text}"
    assert raw_unsafe(text) == [], f"printed raw: {raw_unsafe(text)}"
    return code, text


@SETTINGS
@given(rosters())
@example(b"name,email\n\n;,*@A.AD\n")  # found by Hypothesis: the owner tag fell back to an e-mail no tag takes
def test_plan_on_any_roster_exits_0_or_2_and_prints_nothing_raw(roster):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "class.csv"
        path.write_bytes(roster)
        code, text = run(["plan", "--roster", str(path)])
        assert str(path) in text, "the roster file is named, in success and refusal"
        if code == 0:
            stacks = [line.split()[0] for line in text.splitlines() if line.startswith("  student-")]
            assert len(stacks) == len(set(stacks)) > 0, "one distinct stack per student"
        else:
            assert f"{path}:" in text, "a refusal names the roster file (and line:column)"
        assert path.read_bytes() == roster, "the roster is never modified"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rosters(), st.sampled_from(["md", "html"]), st.sampled_from(["folder", "file", "under a file"]))
def test_handout_on_any_roster_writes_everything_or_leaves_the_previous_output(roster, fmt, place):
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "class.csv", Path(folder) / "handouts"
        path.write_bytes(roster)
        previous = out / f"index.{fmt}" if place == "folder" else out
        previous.parent.mkdir(exist_ok=True)
        previous.write_bytes(b"previous handouts\r\n")
        target = out / "sub" if place == "under a file" else out
        code, text = run(["handout", "--roster", str(path), "--account", ACCOUNT, "--format", fmt,
                          "--out", str(target)])
        if code == 2:
            assert previous.read_bytes() == b"previous handouts\r\n"
            assert not out.is_dir() or [p.name for p in out.iterdir()] == [previous.name]
        else:
            assert place == "folder" and previous.read_bytes() != b"previous handouts\r\n"
        if place != "folder":
            assert code == 2 and "--out" in text
        assert sorted(p.name for p in Path(folder).iterdir()) == ["class.csv", "handouts"], "no staging left"


ROSTER = "name,email\nAnn,ann@example.com\nBob,bob@example.com\n"
option_values = st.one_of(st.text(max_size=40), st.from_regex(r"[A-Za-z0-9._-]{0,130}", fullmatch=True),
                          st.sampled_from(["$(id);x", "a--b", "192.168.5.4", "eu-west-1", "x\u202e", "class"]))


@SETTINGS
@given(st.sampled_from(["--trail-stack", "--trail-name", "--region", "--account", "--set"]), option_values,
       st.sampled_from(["plan", "handout", "preflight"]))
def test_any_option_value_exits_0_or_2_and_prints_nothing_raw(option, value, command):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "class.csv"
        path.write_text(ROSTER)
        argv = [command, "--roster", str(path), "--account", ACCOUNT, f"{option}={value}"]
        if command == "handout":
            argv += ["--out", str(Path(folder) / "out")]
        code, text = run(argv)
        if code == 2 and option != "--set":
            assert option in text, f"the refusal names {option}:\n{text}"
