"""Each kind of bad input fails with a message naming the problem; the input is never changed."""
from __future__ import annotations

import shutil

import pytest

from glue_jobs.config import SettingsFileError, load_config
from glue_jobs.dedup import main, run
from glue_jobs.validation import InputError, check_header
from tests.dedup_fixtures import SAMPLE, SETTINGS, assert_no_customer_lost, sha256

HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
ROWS = SAMPLE.read_text(encoding="utf-8").splitlines()[1:]


def _write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


BAD = {
    "empty": (b"", "empty file"),
    "header_only": ((HEADER + "\n").encode(), "header only"),
    "missing_columns": (
        ("\n".join([HEADER.replace("c_email_address", "email").replace("c_birth_year", "yob")] + ROWS[:5]) + "\n").encode(),
        "missing required column(s) ['c_email_address', 'c_birth_year']"),
    "wrong_delimiter": (("\n".join(ln.replace(",", ";") for ln in [HEADER] + ROWS[:5]) + "\n").encode(),
                        "wrong delimiter, the header is semicolon-separated"),
    "latin1": (("\n".join([HEADER] + ROWS[:5]) + "\n").encode() + "1,X,1,1,1,1,1,Mr.,Jos\u00e9,P\u00e9rez,N,1,1,1970,SPAIN,,j@x.org,1\n".encode("latin-1"),
               "bad encoding, not UTF-8 (byte 0xe9 on line 7)"),
    "utf16": (("\n".join([HEADER] + ROWS[:5]) + "\n").encode("utf-16"), "bad encoding, the file is UTF-16"),
    "ragged": (("\n".join([HEADER] + ROWS[:5] + ["a,b,c"]) + "\n").encode(), "malformed CSV"),
    "duplicate_ids": (("\n".join([HEADER] + ROWS[:5] + ROWS[:1]) + "\n").encode(),
                      "id column 'c_customer_id' is not unique"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_fails_naming_the_problem_and_leaves_input_alone(tmp_path, case, capsys):
    data, message = BAD[case]
    path = _write(tmp_path, f"{case}.csv", data)
    before = sha256(path)
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        run(path, out, SETTINGS, quiet=True)
    assert message in str(err.value)
    assert str(path) in str(err.value)
    assert sha256(path) == before
    assert not (out / "deduplicated").exists() and not (out / "matches").exists()


def test_missing_object(tmp_path):
    with pytest.raises(InputError, match="input file not found"):
        run(tmp_path / "nope.csv", tmp_path / "out", SETTINGS, quiet=True)


def test_command_exits_2_with_the_message(tmp_path, capsys):
    path = _write(tmp_path, "empty.csv", b"")
    assert main([str(path), "--output", str(tmp_path / "out")]) == 2
    assert "error:" in capsys.readouterr().err


def test_failed_run_keeps_previous_published_output(tmp_path):
    out = tmp_path / "out"
    good = tmp_path / "good.csv"
    shutil.copy(SAMPLE, good)
    run(good, out, SETTINGS, quiet=True)
    assert_no_customer_lost(good, out)
    published = sha256(out / "deduplicated" / "good.csv")
    bad = _write(tmp_path, "good.csv.bad", (HEADER + "\n").encode())
    with pytest.raises(InputError):
        run(bad, out, SETTINGS, quiet=True)
    assert sha256(out / "deduplicated" / "good.csv") == published


def test_header_check_on_a_truncated_s3_sample():
    """The Glue wrapper passes only the first bytes of a big object: a cut header-only
    sample is not 'header only', and a cut UTF-8 character is not bad encoding."""
    cfg = load_config(SETTINGS)
    sample = (HEADER + "\n" + ROWS[0] + "\nJos\u00e9").encode()[:-1]
    cols = check_header(sample, "s3://b/k", cfg.required_columns, total_size=10_000_000)
    assert cols[:2] == ["c_customer_sk", "c_customer_id"]
    with pytest.raises(InputError, match="header only"):
        check_header((HEADER + "\n").encode(), "s3://b/k", cfg.required_columns, total_size=len(HEADER) + 1)


def test_bad_settings_name_the_key(tmp_path):
    p = tmp_path / "s.json"
    p.write_text('{"id_column": "id", "fields": {"n": {"kind": "nickname", "column": "x"}}}')
    with pytest.raises(SettingsFileError, match=r"fields\.n\.kind"):
        load_config(p)
    with pytest.raises(SettingsFileError, match="settings file not found"):
        load_config(tmp_path / "missing.json")


def test_bad_encoding_past_the_checked_header_sample(tmp_path):
    """Only the first 64 KB are checked up front; DuckDB finds later bad bytes and the
    message still names the line."""
    body = "\n".join(ROWS)
    copies = "\n".join(body.replace("AAAAAAAA", f"BBBBBBB{i}") for i in range(1, 4))
    data = (HEADER + "\n" + body + "\n" + copies + "\n").encode()
    assert len(data) > 64 * 1024
    path = _write(tmp_path, "late.csv", data + "1,X9,1,1,1,1,1,Mr.,Jos\u00e9,P\u00e9rez,N,1,1,1970,SPAIN,,j@x.org,1\n".encode("latin-1"))
    before = sha256(path)
    with pytest.raises(InputError, match=r"bad encoding, not UTF-8 \(byte 0xe9 on line 2142\)"):
        run(path, tmp_path / "out", SETTINGS, quiet=True)
    assert sha256(path) == before


@pytest.mark.parametrize("folder", ["deduplicated", "matches", "_staging"])
def test_input_inside_the_output_folder_is_refused(tmp_path, folder):
    out = tmp_path / "out"
    (out / folder).mkdir(parents=True)
    inside = out / folder / "customers.csv"
    shutil.copy(SAMPLE, inside)
    before = sha256(inside)
    with pytest.raises(InputError, match="the input is inside the output folder"):
        run(inside, out, SETTINGS, quiet=True)
    assert sha256(inside) == before
    # a relative spelling of the same place is caught too
    with pytest.raises(InputError, match="inside the output folder"):
        run(out / folder / ".." / folder / "customers.csv", out, SETTINGS, quiet=True)


def test_failed_write_removes_its_staging_folder(tmp_path, monkeypatch):
    import glue_jobs.dedup as dedup

    def broken(staging, output):
        raise OSError("disk full")

    monkeypatch.setattr(dedup, "publish_local", broken)
    with pytest.raises(OSError, match="disk full"):
        run(SAMPLE, tmp_path / "out", SETTINGS, quiet=True)
    assert not (tmp_path / "out").exists()  # the run created it, and removed it again


def test_a_run_failing_while_its_cache_is_written_stops_writing_and_publishes_nothing(tmp_path, monkeypatch):
    """A full run in incremental mode writes its standardised cache while the model
    trains (a cursor in a thread). Training fails: the writing is stopped before the
    staging folder is removed, nothing is published, and no thread is left running."""
    import threading

    import glue_jobs.dedup as dedup
    import glue_jobs.training as training

    started = []
    saver = dedup.save_std_cache_meanwhile

    def recording(engine, staging, saving):
        start = saver(engine, staging, saving)
        return lambda table: (start(table), started.append(table))

    def failing(*a, **k):
        raise RuntimeError("training failed")

    monkeypatch.setattr(dedup, "save_std_cache_meanwhile", recording)
    monkeypatch.setattr(training, "train_linker", failing)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="training failed"):
        run(SAMPLE, out, SETTINGS, quiet=True, incremental=True)
    assert started, "the cache was being written when training failed"
    assert not out.exists()
    assert not [t for t in threading.enumerate() if t.name == "dedup-meanwhile"]
