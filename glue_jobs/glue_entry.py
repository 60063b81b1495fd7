"""Glue entry point of the dedup job: read input → dedup → stage → publish → summary.

Thin on purpose: the data logic is ``glue_jobs.dedup_core``, S3 in and out
``glue_jobs.glue_io`` (boto3 on the driver, the job's only S3 access), the
publish step ``glue_jobs.publish`` (all shipped in the ``--extra-py-files``
zip). Arguments (see ``glue_jobs/contract.py``):

  --output_bucket --output_prefix --matches_prefix --staging_prefix
  --settings_uri --output_format csv|parquet --job_engine auto|duckdb|spark
  --source_bucket --source_key  per run, from the workflow (the uploaded object)
  [--source_key_encoding url]   the key as S3 event notifications write it (URL-encoded)
  [--dedup_mode replace|incremental] [--model_prefix]  incremental: match the upload against the
                                published matches and model (``glue_jobs/incremental.py``)
  [--model_source auto|retrain|s3://<bucket>/<key>.json]   which model (local: --retrain, --model FILE)
  [--labels_uri s3://<bucket>/<key>.csv|none]   score the run on labels (local: --labels FILE)
  [--incremental_max_records N]  an incremental run holding more published + new records is refused
                                (the driver's memory; ``contract.incremental_max_records``)
  --JOB_NAME --JOB_RUN_ID       from Glue

Engines: ``duckdb`` deduplicates on the Glue driver; ``spark`` on the cluster
(Splink's Spark backend); ``auto`` picks DuckDB up to
``contract.DUCKDB_MAX_INPUT_BYTES``. Both give the same clusters.

A user's mistake (bad CSV, wrong columns, missing object, bad settings) ends
the run with ``InputError`` / ``SettingsFileError`` and its message, which Glue
shows as the job run's error and the workflow passes to the failure
notification; nothing is published, staging is removed.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REQUIRED = ["JOB_NAME", "JOB_RUN_ID", "output_bucket", "output_prefix", "matches_prefix", "staging_prefix",
            "settings_uri", "output_format", "job_engine", "source_bucket", "source_key"]
OPTIONAL = ["source_key_encoding", "dedup_mode", "model_prefix", "model_source", "labels_uri",
            "incremental_max_records"]


def resolve_args(argv):
    from awsglue.utils import getResolvedOptions

    from glue_jobs.contract import decode_source_key

    args = getResolvedOptions(argv, REQUIRED)
    present = [o for o in OPTIONAL if f"--{o}" in argv]
    if present:
        args.update(getResolvedOptions(argv, present))
    args["source_key"] = decode_source_key(args["source_key"], args.get("source_key_encoding", "none"))
    return args


def _split_s3(uri: str):
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def load_settings(s3, uri: str):
    from glue_jobs.config import SettingsFileError, parse_config

    bucket, key = _split_s3(uri)
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SettingsFileError(f"{uri}: not valid JSON ({e})") from None
    return parse_config(data, uri)


def spark_input(glue, duck, table: str, checkpoint_uri: str):
    """The input as a Spark view, for Splink on Spark; returns (engine, view)."""
    from glue_jobs.dedup_core import SparkEngine
    from glue_jobs.glue_io import to_spark

    spark = glue.spark_session
    spark.sparkContext.setCheckpointDir(checkpoint_uri)
    to_spark(spark, duck, table, "input_raw_spark")
    return SparkEngine(spark), "input_raw_spark"


def check_incremental_size(duck, published: str, table: str, limit_arg: str, source: str) -> None:
    """Refuse an incremental run the driver's memory may not hold (before any matching)."""
    from glue_jobs.validation import InputError

    if not limit_arg.isdigit() or int(limit_arg) < 1:
        raise InputError(f"--incremental_max_records {limit_arg!r}: not a positive whole number of records")
    limit = int(limit_arg)
    n_old, n_new = duck.scalar(f"SELECT count(*) FROM {published}"), duck.scalar(f"SELECT count(*) FROM {table}")
    if n_old + n_new > limit:
        raise InputError(
            f"{source}: an incremental run would add {n_new} records to the {n_old} published ones, "
            f"{n_old + n_new} in all on the Glue driver's DuckDB; this job's workers hold at most {limit} "
            "(--incremental_max_records, from jobWorkerType: README 'Incremental runs on Glue: how large'). "
            "Nothing was published. Use a larger jobWorkerType, or dedupMode replace with the whole set "
            "(jobEngine spark runs it on the cluster)")


def dedup(s3, duck, cfg, table: str, source: str, args: dict, workdir: Path, *, spark=None,
          given=None, retrain: bool = False, labels=None):
    """Replace or incremental run: (outcome, {set: DuckDB table}); the same ``runner.execute`` as a local run.

    Incremental (DuckDB on the driver): the published matches and model are read back from S3 first.
    ``spark``: (SparkEngine, view) to run on; the result tables come back into ``duck`` for writing.
    """
    import glue_jobs.runner as runner
    from glue_jobs.evaluate import LabelsError
    from glue_jobs.published_s3 import read_model, read_published
    from glue_jobs.validation import InputError

    mode, published, saved = args.get("dedup_mode", "replace"), None, None
    if mode == runner.INCREMENTAL:
        published = read_published(s3, duck, args["output_bucket"], args["matches_prefix"], workdir)
        if published and args.get("incremental_max_records"):
            check_incremental_size(duck, published, table, args["incremental_max_records"], source)
        saved = read_model(s3, args["output_bucket"], args["model_prefix"]) if published and not retrain \
            and given is None else None
    choice = runner.ModelChoice.pick(given=given, published=saved, mode=mode, retrain=retrain)
    engine, view = spark or (duck, table)
    try:
        outcome = runner.execute(engine, cfg, view, source=source, mode=mode, published_table=published,
                                 choice=choice, labels=labels, run_id=args["JOB_RUN_ID"],
                                 labels_source=args.get("labels_uri", "labels"))
    except LabelsError as e:  # a labelled id not in the output: the user's labels, not the job
        raise InputError(str(e)) from None
    res = outcome.result
    if spark is None:
        return outcome, {"deduplicated": res.survivors_table, "matches": res.matches_table}
    from glue_jobs.glue_io import from_spark

    return outcome, {"deduplicated": from_spark(engine.spark, duck, res.survivors_table, "spark_survivors"),
                     "matches": from_spark(engine.spark, duck, res.matches_table, "spark_matches")}


def run(args: dict, s3, glue) -> dict:
    """One job run; returns its summary. Everything written goes under staging until publish."""
    from glue_jobs.contract import choose_engine, run_summary_key
    from glue_jobs.dedup_core import MATCH_ID, DuckDBEngine
    from glue_jobs.glue_io import head_input, read_input, spark_checkpoint_uri, write_outputs
    from glue_jobs.publish import check_layout, cleanup, publish_all
    from glue_jobs.published_s3 import read_labels, read_model_source, stage_model

    t0 = time.time()
    cfg = load_settings(s3, args["settings_uri"])
    bucket, run_id, fmt = args["output_bucket"], args["JOB_RUN_ID"], args["output_format"]
    src_bucket, src_key = args["source_bucket"], args["source_key"]
    source = f"s3://{src_bucket}/{src_key}"
    staging = f"{args['staging_prefix']}{run_id}/"
    mode, model_prefix = args.get("dedup_mode", "replace"), args.get("model_prefix")
    if mode == "incremental" and not model_prefix:
        raise ValueError("--dedup_mode incremental needs --model_prefix (where the published model is kept)")
    check_layout(src_bucket, src_key, bucket, [args["output_prefix"], args["matches_prefix"], args["staging_prefix"],
                                               *([model_prefix] if model_prefix else [])])
    head = head_input(s3, src_bucket, src_key)
    # an incremental run adds a batch to the published set on the driver's DuckDB
    engine = "duckdb" if mode == "incremental" else choose_engine(args["job_engine"], head["ContentLength"])
    workdir = Path(tempfile.mkdtemp(prefix="dedup-"))
    try:  # from here on everything written goes under staging, removed in finally
        # a team's model and labels first: a missing or malformed object ends the run before any work
        given, retrain = read_model_source(s3, bucket, args.get("model_source", "auto"))
        labels = read_labels(s3, bucket, args.get("labels_uri"), cfg.id_column, workdir)
        duck = DuckDBEngine()
        table = read_input(s3, duck, src_bucket, src_key, head["ETag"], cfg, workdir)       # read input
        spark = spark_input(glue, duck, table, spark_checkpoint_uri(bucket, staging)) if engine == "spark" else None
        outcome, tables = dedup(s3, duck, cfg, table, source, args, workdir, spark=spark,  # dedup
                                given=given, retrain=retrain, labels=labels)
        res, model_json, run_summary = outcome.result, outcome.model_json, outcome.summary
        expected = getattr(res, "records_total", res.records_in)  # incremental: published + new
        n_matches = duck.scalar(f"SELECT count(*) FROM {tables['matches']}")
        n_ids = duck.scalar(f"SELECT count(DISTINCT {MATCH_ID}) FROM {tables['matches']}")
        n_survivors = duck.scalar(f"SELECT count(*) FROM {tables['deduplicated']}")
        if n_matches != expected or n_ids != n_survivors:  # never lose a customer
            raise RuntimeError(f"{source}: {expected} records in, {n_matches} in the matches output, "
                               f"{n_ids} match ids but {n_survivors} survivors; nothing published")
        write_outputs(s3, duck, tables, bucket, staging, fmt, f"part-{run_id}", workdir)     # stage
        sets = [(f"{staging}deduplicated/", args["output_prefix"]), (f"{staging}matches/", args["matches_prefix"])]
        if model_prefix:  # the model and the run's summary, published with the sets
            sets.append((stage_model(s3, bucket, staging, run_id, {**run_summary, "engine": engine}, model_json), model_prefix))
        publish_all(s3, bucket, sets)                                                       # publish
    finally:
        cleanup(s3, bucket, staging)
        shutil.rmtree(workdir, ignore_errors=True)
    summary = {**run_summary,
               "records_in": res.records_in, "clusters": res.clusters, "duplicates_removed": res.duplicates_removed,
               "engine": engine, "input_bytes": head["ContentLength"],
               "model_warnings": res.model.warnings[:20], "seconds": round(time.time() - t0, 1)}
    s3.put_object(Bucket=bucket, Key=run_summary_key(args["staging_prefix"], run_id),              # summary
                  Body=json.dumps(summary).encode(), ContentType="application/json")
    return summary


def main(argv=None) -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    argv = sys.argv if argv is None else argv
    args = resolve_args(argv)
    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    summary = run(args, boto3.client("s3"), glue)
    print("dedup summary: " + json.dumps(summary))
    job.commit()


if __name__ == "__main__":
    main()
