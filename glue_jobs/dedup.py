"""Deduplicate a customer CSV on this machine (DuckDB backend, no AWS).

    python -m glue_jobs.dedup [INPUT.csv] [--output DIR] [--settings FILE] [--format csv|parquet]
        [--incremental] [--retrain | --model FILE] [--labels FILE] [--report DIR]

Defaults: the bundled sample ``glue_jobs/sample/customers.csv``, output ``./out/``.
Writes ``DIR/deduplicated/<name>.csv`` (one survivor per match_id) and
``DIR/matches/<name>.csv`` (every input record with its match_id and
match_confidence) and ``DIR/model/`` (Splink's model JSON and the run's
summary; in incremental mode also the standardised records, which the next
incremental run reads). ``--incremental`` adds the file to what DIR already
publishes (published match_ids never change; ``glue_jobs/incremental.py``). All three are
written under ``DIR/_staging/<run id>/`` first and moved into place only when
the run succeeded; the staging folder is removed on every exit (Ctrl-C and
SIGTERM included). The settings, the input and the output folder are checked
before any work; the input file is only read (as a path, never a pattern), and
an input inside DIR/deduplicated, DIR/matches or DIR/_staging is refused (the
run would replace it). Exit codes: 0 done, 2 refused (the message says why and
what would be right), 1 the machine failed (e.g. disk full), 130/143 interrupted.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import glue_jobs.model_store as model_store
import glue_jobs.runner as runner
from glue_jobs.config import DedupConfig, SettingsFileError, load_config
from glue_jobs.contract import OUTPUT_FORMATS
from glue_jobs.engines import Background, DuckDBEngine
from glue_jobs.evaluate import LabelsError, PairScores, load_labels
from glue_jobs.incremental import (
    STD_CACHE,
    STD_CACHE_INFO,
    STD_CACHE_PART,
    load_published_local,
    load_std_cache,
    std_cache_files,
    std_cache_info,
)
from glue_jobs.local_output import (
    OUTPUT_FOLDERS,
    Interrupted,
    Staging,
    check_input_outside_output,
    check_output,
    publish_local,
    received_signal,
    signals_as_exceptions,
    signals_ignored,
)
from glue_jobs.model_store import read_model_file
from glue_jobs.pipeline import MATCH_ID, DedupResult
from glue_jobs.validation import (
    MAX_RECORD_BYTES,
    SAMPLE_BYTES,
    InputError,
    check_header,
    check_input_file,
    check_utf8,
    find_csv_problem,
    iter_file,
    job_csv_reader,
)

HERE = Path(__file__).resolve().parent
DEFAULT_INPUT = HERE / "sample" / "customers.csv"
DEFAULT_SETTINGS = HERE / "settings" / "tpcds_customer.json"


@contextlib.contextmanager
def duckdb_path(path: Path):
    """``path`` as DuckDB's readers take it literally.

    DuckDB globs a path with '*', '?' or '[' (`batch[1].csv` would read `batch1.csv`,
    `cust*.csv` every match) and reads '\\' in such a path as an escape. Such a path is
    opened here and handed over as the open file (``/dev/fd/<n>``); any other as its
    absolute path (no '~' expansion).
    """
    text = str(path.absolute())
    if not set(text) & set("*?[]\\{}") or not os.path.isdir("/dev/fd"):
        yield text
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        yield f"/dev/fd/{fd}"
    finally:
        os.close(fd)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_header(path: Path, cfg: DedupConfig) -> list[str]:
    """Check the input file and its header (names, duplicates, required columns); return the columns."""
    size = check_input_file(path, str(path))
    with path.open("rb") as f:
        header = check_header(f.read(SAMPLE_BYTES), str(path), cfg.required_columns, cfg.delimiter, total_size=size)
    clash = [c for c in header if c.casefold() == MATCH_ID]
    if clash:
        raise InputError(f"{path}: the input already has a {clash[0]!r} column, the name of the column this "
                         "job adds (is it a matches/ file?); rename it or pass the deduplicated/ file")
    return header


def load_csv(engine: DuckDBEngine, path: Path, cfg: DedupConfig, table: str = "input_raw") -> str:
    """Validate ``path`` and load it as all-string columns into ``table``.

    The header is read here (Python's csv), checked (names, duplicates, required
    columns) and given to DuckDB as the column list, so DuckDB neither guesses
    the dialect nor renames a column.
    """
    source = str(path)
    header = read_header(path, cfg)
    columns = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in header) + "}"
    try:
        with duckdb_path(path) as literal_path:
            engine.create_from_csv(
                table, f"?, header = true, auto_detect = false, columns = {columns}, delim = ?, quote = '\"', "
                f"escape = '\"', strict_mode = true, null_padding = false, max_line_size = {MAX_RECORD_BYTES}",
                [literal_path, cfg.delimiter], path.stat().st_size)
    except Exception as e:  # duckdb.InvalidInputException and friends
        import duckdb

        text = str(e)
        if "unicode" in text.lower() or "utf" in text.lower():
            with path.open("rb") as f:  # past the first 64 KB checked above: find the line
                check_utf8(iter_file(f), source)
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
            problem = find_csv_problem(f, cfg.delimiter)
        if problem is None and not isinstance(e, duckdb.InvalidInputException):
            raise  # not the file's fault (memory, disk, an interrupted query): not a user error
        if problem is None:
            # Python's reader, with the same rules, finds nothing wrong: a valid CSV
            # DuckDB's parser refuses (seen: \r\n and \n line endings mixed in one
            # file with a line break inside quotes). Read it with Python's instead.
            load_csv_python(engine, path, header, cfg.delimiter, table)
            return table
        raise InputError(f"{source}: malformed CSV, {problem}") from None
    return table


def load_csv_python(engine: DuckDBEngine, path: Path, header: list[str], delimiter: str, table: str,
                    batch: int = 100_000) -> None:
    """``path`` (already checked: UTF-8, header, every record as wide as the header)
    into ``table`` as DuckDB's reader would load it: all strings, an empty field
    NULL (quoted or not), blank lines skipped. Streams ``batch`` records at a time."""
    import itertools

    import pyarrow as pa

    cols = ", ".join(f"{engine.quote(c)} VARCHAR" for c in header)
    engine.con.execute(f"CREATE OR REPLACE TABLE {table} ({cols})")
    n = len(header)
    with path.open("r", encoding="utf-8-sig", newline="") as f, job_csv_reader(f, delimiter) as reader:
        records = (r for r in reader if r)
        next(records)  # the header
        while chunk := list(itertools.islice(records, batch)):
            arrow = pa.table({f"c{i}": pa.array([r[i] or None for r in chunk], pa.string()) for i in range(n)})
            engine.con.register("__dedup_csv_batch", arrow)
            engine.con.execute(f"INSERT INTO {table} SELECT * FROM __dedup_csv_batch")
            engine.con.unregister("__dedup_csv_batch")


# An incremental run that read this many cache files or more writes the cache again as one
# file (every published record) instead of adding a part: the parts of many runs would
# each be linked into every later run's model/ and opened by every later read.
MAX_STD_CACHE_FILES = 16


@dataclass(frozen=True)
class StdCache:
    """The standardised records of everything published, kept in ``model/`` so that the
    next incremental run need not standardise them again (``std_cache_plan``).

    ``table``: records to write, as one part beside the ``kept`` files (the cache files
    the run read, linked, not copied), or as the whole cache when nothing is kept;
    ``saving``: a full run's cache, already being written (``save_std_cache_meanwhile``).
    """
    table: str | None = None
    kept: tuple[Path, ...] = ()
    saving: Background | None = None


def std_cache_plan(result, read: list[Path], saving: list[Background]) -> StdCache:
    """How this run leaves the cache: a full run's is being written already; an incremental
    run that read the cache adds its new records as a part (at 1M records, 0.1M rows written,
    not 1.1M: 1.5 s less) unless it read ``MAX_STD_CACHE_FILES`` files, when it writes every
    record as one file again; one that did not read it writes every record."""
    if saving:
        return StdCache(saving=saving[0])
    if read and len(read) < MAX_STD_CACHE_FILES:
        return StdCache(table=result.std_new_table, kept=tuple(read))
    return StdCache(table=result.std_table)


def write_outputs(engine: DuckDBEngine, result: DedupResult, output: Path, name: str,
                  fmt: str, cfg: DedupConfig, staging: Path,
                  model_files: dict[str, bytes] | None = None,
                  std_cache: StdCache = StdCache()) -> dict[str, Path]:
    """Write the outputs under ``staging``, then publish them over ``output`` (all or none);
    the standardised cache as ``std_cache`` says.

    The two output files are written at once, each by a query of its own on a
    cursor of its own, rows in no particular order (no ORDER BY either: sorting a
    million rows twice costs seconds and the crawler doesn't care), so that DuckDB
    uses every thread: a 1M-row CSV in 1.5 s, not 2.5 s. ``SET SESSION`` keeps that
    to these cursors: the model's sampling and the standardised cache read and
    write tables in insertion order, which keeps runs repeatable. Meanwhile this
    thread writes the model files and the cache.
    """
    opts = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER true, DELIMITER ',')"
    ext = "parquet" if fmt == "parquet" else "csv"
    writing: list[Background] = []
    try:
        for folder, table in zip(("deduplicated", "matches"), (result.survivors_table, result.matches_table)):
            (staging / folder).mkdir()
            target = _literal(str(staging / folder / f"{name}.{ext}"))
            writing.append(engine.run_meanwhile(["SET SESSION preserve_insertion_order = false",
                                                 f"COPY {table} TO {target} {opts}"]))
        (staging / "model").mkdir(exist_ok=True)
        for fname, data in (model_files or {}).items():
            (staging / "model" / fname).write_bytes(data)
        for kept in std_cache.kept:
            keep_file(kept, staging / "model" / kept.name)
        if std_cache.table is not None:
            part = STD_CACHE_PART.format(len(std_cache.kept), staging.name) if std_cache.kept else STD_CACHE
            engine.con.execute(_std_cache_copy(std_cache.table, staging / "model" / part))
        for work in (*writing, *([std_cache.saving] if std_cache.saving is not None else [])):
            work.wait()
    finally:
        for work in writing:
            work.stop()
    return publish_local(staging, output)


def _std_cache_copy(table: str, target: Path) -> str:
    # in insertion order (the cache's files too): the next incremental run may train on it
    return f"COPY {table} TO {_literal(str(target))} (FORMAT parquet)"


def save_std_cache_meanwhile(engine: DuckDBEngine, staging: Path, saving: list[Background]):
    """``on_standardised`` of a full run: its standardised table is the whole cache as
    it is made, so it is written while the model trains and ``write_outputs`` waits."""
    def start(table: str) -> None:
        (staging / "model").mkdir(exist_ok=True)
        saving.append(engine.run_meanwhile([_std_cache_copy(table, staging / "model" / STD_CACHE)]))
    return start


def keep_file(src: Path, dest: Path) -> None:
    """``src`` also at ``dest``: a hard link (no copy) where the file system allows one."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def output_name(input_path: Path, fmt: str) -> str:
    """The published file name: the input's stem (refused if the file system would refuse it)."""
    name = input_path.stem or "input"
    if len(f"{name}.{fmt}".encode()) > 255:
        raise InputError(f"{input_path}: the name is too long to name the output file ({name}.{fmt} is over "
                         "255 bytes); rename the input")
    return name


def run(input_path: Path, output: Path | str, settings: Path, fmt: str = "csv", threads: int | None = None,
        quiet: bool = False, verbose: bool = False, *, incremental: bool = False, retrain: bool = False,
        model_file: Path | None = None, labels_file: Path | None = None, report: Path | None = None):
    t0 = time.perf_counter()
    cfg = load_config(settings)
    output = check_output(str(output))
    read_header(input_path, cfg)
    check_input_outside_output(input_path, output)
    name = output_name(input_path, fmt)
    if report is not None and any(report.resolve().is_relative_to(output.resolve() / f)
                                  for f in (*OUTPUT_FOLDERS, "_staging")):
        raise InputError(f"--report {report}: inside the published output under {output}; choose another folder")
    labels = load_labels(labels_file, cfg.id_column) if labels_file else None
    given = (read_model_file(model_file), f"--model {model_file}") if model_file else None
    with Staging(output) as staging:
        engine = DuckDBEngine(threads=threads)
        # DuckDB spills to ./.tmp by default: keep even that inside this run's staging folder
        engine.con.execute(f"SET temp_directory = {_literal(str((staging.path / 'duckdb-tmp').absolute()))}")
        table = load_csv(engine, input_path, cfg)
        mode, published, saved, published_std = runner.REPLACE, None, None, None
        if incremental:
            mode = runner.INCREMENTAL
            published = load_published_local(engine, output)
            published_std = load_std_cache(engine, cfg, output / "model") if published else None
            saved_path = output / "model" / model_store.MODEL_FILE
            if published and saved_path.is_file():
                saved = (model_store.read_model_file(saved_path), f"published model {saved_path}")
        # The standardised cache only serves a later incremental run: incremental mode keeps
        # it (its first, full, run writes it); a replace run does not spend 2 s of CPU per
        # million records on it, and a first incremental run after one standardises the
        # published records again and writes it then.
        saving: list[Background] = []
        try:
            outcome = runner.execute(
                engine, cfg, table, source=str(input_path), mode=mode, published_table=published,
                choice=runner.ModelChoice.pick(given=given, published=saved, mode=mode, retrain=retrain),
                labels=labels, run_id=staging.run_id, published_std=published_std,
                on_standardised=save_std_cache_meanwhile(engine, staging.path, saving) if incremental else None)
            result, summary = outcome.result, outcome.summary
            files = {model_store.SUMMARY_FILE: (json.dumps(summary, indent=2, default=str) + "\n").encode()}
            if outcome.model_json is not None:
                files[model_store.MODEL_FILE] = model_store.model_bytes(outcome.model_json)
            std_cache = StdCache()
            if incremental:
                files[STD_CACHE_INFO] = std_cache_info(engine, cfg)
                read = std_cache_files(output / "model") if getattr(result, "used_std_cache", False) else []
                std_cache = std_cache_plan(result, read, saving)
            written = write_outputs(engine, result, output, name, fmt, cfg, staging.path, model_files=files,
                                    std_cache=std_cache)
        finally:
            with signals_ignored():  # a failed run stops writing into the staging folder it removes
                for work in saving:
                    work.stop()
    elapsed = time.perf_counter() - t0
    if report is not None and outcome.linker is not None:
        try:
            from glue_jobs.report import write_report

            views = write_report(report, outcome.linker, result.predictions, engine, result.std_table,
                                 result.confidence_table)
        except Exception as e:  # noqa: BLE001 - the outputs are published; the report is an extra
            views = []
            print(f"warning: report not written: {e}", file=sys.stderr)
    if not quiet:
        warnings = summary["model"].get("warnings", [])
        untrained = [w for w in warnings if "not observed" in w or "not fully trained" in w]
        if verbose:
            for w in warnings:
                print(f"model warning: {w.strip()}", file=sys.stderr)
        elif result.model.fallback:
            print(f"note: {result.model.fallback}", file=sys.stderr)
        elif summary.get("prior") == 0:
            print("note: no two records share an e-mail or a full name and birth date: "
                  "no duplicates assumed, every record kept", file=sys.stderr)
        elif untrained:
            print(f"note: {len(untrained)} model parameter(s) not observed in training kept Splink's "
                  "defaults (normal on small files; --verbose lists them)", file=sys.stderr)
        print(f"mode:               {summary['mode']}{' (' + summary['note'] + ')' if 'note' in summary else ''}")
        print(f"records in:         {summary['records_in']}")
        if "records_published_before" in summary:
            print(f"published before:   {summary['records_published_before']}")
            print(f"joined a cluster:   {summary['records_joined_existing']} new record(s)")
            print(f"linked 2+ clusters: {len(summary['linked_clusters'])} new record(s) to review "
                  f"(listed in {written['model']}/{model_store.SUMMARY_FILE})")
        print(f"records published:  {summary['records_total']}")
        print(f"clusters:           {summary['clusters']}")
        print(f"duplicates removed: {summary['duplicates_removed']}")
        print(f"model:              {summary['model']['source']}")
        print(f"deduplicated:       {written['deduplicated']}/")
        print(f"matches:            {written['matches']}/")
        print(f"model, summary:     {written['model']}/")
        if report is not None and outcome.linker is not None:
            print(f"report:             {report}/ ({len(views)} view(s))")
        print(f"time:               {elapsed:.1f} s")
        if "labels" in summary:
            print("\n".join(PairScores(**{k: summary["labels"][k] for k in
                                          ("true_pairs", "predicted_pairs", "true_positives", "records")}).lines()))
    result.model.timings["total"] = elapsed
    result.summary = summary
    return result


def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of threads from 1 to 1024")
    return value


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("empty; name a file or folder")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL character")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m glue_jobs.dedup", description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", type=_path, default=str(DEFAULT_INPUT),
                    help="customer CSV (default: the bundled sample)")
    ap.add_argument("--output", type=_path, default="out", help="output folder (default: ./out)")
    ap.add_argument("--settings", type=_path, default=str(DEFAULT_SETTINGS),
                    help="column-mapping settings JSON (default: TPC-DS customer)")
    ap.add_argument("--format", choices=OUTPUT_FORMATS, default="csv")
    ap.add_argument("--threads", type=_threads, default=None, help="DuckDB threads (default: all cores)")
    ap.add_argument("--verbose", action="store_true", help="print the model's training warnings")
    ap.add_argument("--incremental", action="store_true",
                    help="add the file to what --output already publishes; published match_ids never change")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--retrain", action="store_true",
                       help="train a new model even if --output publishes one (incremental runs reuse it)")
    which.add_argument("--model", type=_path, default=None, metavar="FILE",
                       help="use this Splink model JSON (e.g. DIR/model/splink_model.json) instead of training")
    ap.add_argument("--labels", type=_path, default=None, metavar="FILE",
                    help="CSV of record id and true cluster: print pairwise precision, recall, F1")
    ap.add_argument("--report", type=_path, default=None, metavar="DIR",
                    help="write Splink's HTML views (match weights, lowest-confidence clusters) to DIR")
    a = ap.parse_args(argv)
    try:
        with signals_as_exceptions():
            try:
                run(Path(a.input), a.output, Path(a.settings), a.format, a.threads, verbose=a.verbose,
                    incremental=a.incremental, retrain=a.retrain, model_file=a.model and Path(a.model),
                    labels_file=a.labels and Path(a.labels), report=a.report and Path(a.report))
            except Exception:
                if received_signal():  # DuckDB or Splink wrapped our Interrupted in their own error
                    raise Interrupted(received_signal()) from None
                raise
    except (InputError, SettingsFileError, LabelsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Interrupted as e:
        name = signal.Signals(e.signum).name
        state = "the new output was published first" if e.published else "the output folder is as it was before this run"
        print(f"interrupted ({name}); {state}", file=sys.stderr)
        return 128 + e.signum
    except OSError as e:  # the machine, not the input: a full disk, a folder removed under the run
        where = f" ({e.filename})" if e.filename else ""
        print(f"error: {e.strerror or e}{where}; the output folder is as it was before this run", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
