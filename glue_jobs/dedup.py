"""Deduplicate a customer CSV on this machine (DuckDB backend, no AWS).

    python -m glue_jobs.dedup [INPUT.csv] [--output DIR] [--settings FILE] [--format csv|parquet]
        [--incremental] [--retrain | --model FILE] [--labels FILE] [--report DIR]

Defaults: the bundled sample ``glue_jobs/sample/customers.csv``, output ``./out/``.
Writes ``DIR/deduplicated/<name>.csv`` (one survivor per match_id) and
``DIR/matches/<name>.csv`` (every input record with its match_id and
match_confidence) and ``DIR/model/`` (Splink's model JSON and the run's
summary). ``--incremental`` adds the file to what DIR already publishes
(published match_ids never change; ``glue_jobs/incremental.py``). All three are
written under ``DIR/_staging/<run id>/`` first and moved into place only when
the run succeeded (a failed run removes its staging folder); the input file is
only read, and an input inside DIR/deduplicated, DIR/matches or DIR/_staging is
refused (the run would replace it).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import glue_jobs.model_store as model_store
import glue_jobs.runner as runner
from glue_jobs.config import DedupConfig, SettingsFileError, load_config
from glue_jobs.contract import OUTPUT_FORMATS
from glue_jobs.engines import DuckDBEngine
from glue_jobs.evaluate import LabelsError, PairScores, load_labels
from glue_jobs.incremental import STD_CACHE, STD_CACHE_INFO, load_published_local, load_std_cache, std_cache_info
from glue_jobs.model_store import read_model_file
from glue_jobs.pipeline import DedupResult
from glue_jobs.validation import SAMPLE_BYTES, InputError, check_header, check_utf8, iter_file

HERE = Path(__file__).resolve().parent
DEFAULT_INPUT = HERE / "sample" / "customers.csv"
DEFAULT_SETTINGS = HERE / "settings" / "tpcds_customer.json"
OUTPUT_FOLDERS = ("deduplicated", "matches", "model")


def load_csv(engine: DuckDBEngine, path: Path, cfg: DedupConfig, table: str = "input_raw") -> str:
    """Validate ``path`` and load it as all-string columns into ``table``."""
    source = str(path)
    if not path.exists():
        raise InputError(f"{source}: input file not found")
    if not path.is_file():
        raise InputError(f"{source}: input is not a file")
    size = path.stat().st_size
    with path.open("rb") as f:
        check_header(f.read(SAMPLE_BYTES), source, cfg.required_columns, cfg.delimiter, total_size=size)
    lit = str(path).replace("'", "''")
    delim = cfg.delimiter.replace("'", "''")
    try:
        engine.con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_csv('{lit}', header = true, "
            f"all_varchar = true, delim = '{delim}', quote = '\"', escape = '\"', "
            f"strict_mode = true, null_padding = false)")
    except Exception as e:  # duckdb.InvalidInputException and friends
        first = str(e).strip().splitlines()[0]
        if "unicode" in str(e).lower() or "utf" in str(e).lower():
            # past the first 64 KB checked above: find the line for the message
            with path.open("rb") as f:
                check_utf8(iter_file(f), source)
        raise InputError(f"{source}: malformed CSV ({first})") from None
    return table


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def write_outputs(engine: DuckDBEngine, result: DedupResult, output: Path, name: str,
                  fmt: str, cfg: DedupConfig, run_id: str | None = None,
                  model_files: dict[str, bytes] | None = None,
                  std_cache: str | None = None) -> dict[str, Path]:
    """Write the outputs run-scoped, then publish them over ``output``.

    ``std_cache``: the standardised records of everything published, kept in
    ``model/`` so that the next incremental run need not standardise them again.
    """
    run_id = run_id or new_run_id()
    staging = output / "_staging" / run_id
    opts = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER true, DELIMITER ',')"
    ext = "parquet" if fmt == "parquet" else "csv"
    try:
        for folder, table in zip(OUTPUT_FOLDERS, (result.survivors_table, result.matches_table)):
            (staging / folder).mkdir(parents=True, exist_ok=True)
            target = str(staging / folder / f"{name}.{ext}").replace("'", "''")
            # no ORDER BY: sorting a million rows twice costs seconds and the crawler doesn't care
            engine.con.execute(f"COPY {table} TO '{target}' {opts}")
        (staging / "model").mkdir(parents=True, exist_ok=True)
        for fname, data in (model_files or {}).items():
            (staging / "model" / fname).write_bytes(data)
        if std_cache:
            target = str(staging / "model" / STD_CACHE).replace("'", "''")
            engine.con.execute(f"COPY {std_cache} TO '{target}' (FORMAT parquet)")
        return publish_local(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(output / "_staging")
        raise


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def check_input_outside_output(input_path: Path, output: Path) -> None:
    """The input must not live where a run writes or replaces files."""
    inp, out = input_path.resolve(), output.resolve()
    for folder in (*OUTPUT_FOLDERS, "_staging"):
        if inp.is_relative_to(out / folder):
            raise InputError(f"{input_path}: the input is inside the output folder {out / folder}, "
                             "which this run replaces; move it or choose another --output")


def publish_local(staging: Path, output: Path) -> dict[str, Path]:
    """Replace each published folder by its staged version; then drop the staging dir."""
    published = {}
    for folder in OUTPUT_FOLDERS:
        dest, new = output / folder, staging / folder
        old = output / "_staging" / f"{staging.name}-old-{folder}"
        if dest.exists():
            os.replace(dest, old)
        os.replace(new, dest)
        shutil.rmtree(old, ignore_errors=True)
        published[folder] = dest
    shutil.rmtree(staging, ignore_errors=True)
    _remove_if_empty(output / "_staging")
    return published


def run(input_path: Path, output: Path, settings: Path, fmt: str = "csv", threads: int | None = None,
        quiet: bool = False, verbose: bool = False, *, incremental: bool = False, retrain: bool = False,
        model_file: Path | None = None, labels_file: Path | None = None, report: Path | None = None):
    t0 = time.perf_counter()
    cfg = load_config(settings)
    check_input_outside_output(input_path, output)
    if report is not None and any(report.resolve().is_relative_to(output.resolve() / f)
                                  for f in (*OUTPUT_FOLDERS, "_staging")):
        raise InputError(f"--report {report}: inside the published output under {output}; choose another folder")
    labels = load_labels(labels_file, cfg.id_column) if labels_file else None
    given = (read_model_file(model_file), f"--model {model_file}") if model_file else None
    engine = DuckDBEngine(threads=threads)
    table = load_csv(engine, input_path, cfg)
    mode, published, saved, published_std = runner.REPLACE, None, None, None
    if incremental:
        mode = runner.INCREMENTAL
        published = load_published_local(engine, output)
        published_std = load_std_cache(engine, cfg, output / "model") if published else None
        saved_path = output / "model" / model_store.MODEL_FILE
        if published and saved_path.is_file():
            saved = (model_store.read_model_file(saved_path), f"published model {saved_path}")
    run_id = new_run_id()
    outcome = runner.execute(engine, cfg, table, source=str(input_path), mode=mode, published_table=published,
                             choice=runner.ModelChoice.pick(given=given, published=saved, mode=mode,
                                                            retrain=retrain),
                             labels=labels, run_id=run_id, published_std=published_std)
    result, summary = outcome.result, outcome.summary
    files = {model_store.SUMMARY_FILE: (json.dumps(summary, indent=2, default=str) + "\n").encode()}
    if outcome.model_json is not None:
        files[model_store.MODEL_FILE] = model_store.model_bytes(outcome.model_json)
    files[STD_CACHE_INFO] = std_cache_info(engine, cfg)
    written = write_outputs(engine, result, output, input_path.stem, fmt, cfg, run_id=run_id, model_files=files,
                            std_cache=result.std_table)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m glue_jobs.dedup", description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", type=Path, default=DEFAULT_INPUT,
                    help="customer CSV (default: the bundled sample)")
    ap.add_argument("--output", type=Path, default=Path("out"), help="output folder (default: ./out)")
    ap.add_argument("--settings", type=Path, default=DEFAULT_SETTINGS,
                    help="column-mapping settings JSON (default: TPC-DS customer)")
    ap.add_argument("--format", choices=OUTPUT_FORMATS, default="csv")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    ap.add_argument("--verbose", action="store_true", help="print the model's training warnings")
    ap.add_argument("--incremental", action="store_true",
                    help="add the file to what --output already publishes; published match_ids never change")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--retrain", action="store_true",
                       help="train a new model even if --output publishes one (incremental runs reuse it)")
    which.add_argument("--model", type=Path, default=None, metavar="FILE",
                       help="use this Splink model JSON (e.g. DIR/model/splink_model.json) instead of training")
    ap.add_argument("--labels", type=Path, default=None, metavar="FILE",
                    help="CSV of record id and true cluster: print pairwise precision, recall, F1")
    ap.add_argument("--report", type=Path, default=None, metavar="DIR",
                    help="write Splink's HTML views (match weights, lowest-confidence clusters) to DIR")
    a = ap.parse_args(argv)
    try:
        run(a.input, a.output, a.settings, a.format, a.threads, verbose=a.verbose, incremental=a.incremental,
            retrain=a.retrain, model_file=a.model, labels_file=a.labels, report=a.report)
    except (InputError, SettingsFileError, LabelsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
