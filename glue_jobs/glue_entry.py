"""Glue entry point of the dedup job: arguments, S3 in, core, S3 out, publish.

Thin on purpose: the data logic is ``glue_jobs.dedup_core`` (shipped in the
``--extra-py-files`` zip), the publish step ``glue_jobs.publish``. Arguments
(see ``glue_jobs/contract.py``):

  --output_bucket --output_prefix --matches_prefix --staging_prefix
  --settings_uri --output_format csv|parquet --matcher splink|findmatches
  [--transform_id]              FindMatches only (Glue 2.0, end of life)
  --source_bucket --source_key  per run, from the workflow (the uploaded object)
  [--source_key_encoding url]   the key as S3 event notifications write it (URL-encoded)
  or --source_database --source_table  the lab's catalog table, as an option
  --JOB_RUN_ID                  from Glue

Runs on Glue 5.0 with matcher=splink. matcher=findmatches needs Glue 2.0,
which reached end of life on 2026-04-01: kept for reference, its runs no
longer start on AWS. This file stays Python 3.7-compatible for that reason.
"""
from __future__ import annotations

import json
import sys
import time

REQUIRED = ["JOB_NAME", "JOB_RUN_ID", "output_bucket", "output_prefix", "matches_prefix",
            "staging_prefix", "settings_uri", "output_format", "matcher"]
OPTIONAL = ["source_bucket", "source_key", "source_key_encoding", "source_database", "source_table", "transform_id"]


def _split_s3(uri: str):
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def resolve_args(argv):
    from awsglue.utils import getResolvedOptions

    args = getResolvedOptions(argv, REQUIRED)
    present = [o for o in OPTIONAL if f"--{o}" in argv]
    if present:
        args.update(getResolvedOptions(argv, present))
    has_object = bool(args.get("source_bucket") and args.get("source_key"))
    has_table = bool(args.get("source_database") and args.get("source_table"))
    if has_object == has_table:
        raise ValueError("pass either --source_bucket and --source_key (the uploaded object) "
                         "or --source_database and --source_table (a catalog table)")
    if has_object:
        from glue_jobs.contract import decode_source_key

        args["source_key"] = decode_source_key(args["source_key"], args.get("source_key_encoding", "none"))
    return args


def validate_object(s3, bucket: str, key: str, cfg) -> str:
    """Check the uploaded CSV (existence, size, encoding, delimiter, columns); return its ETag.

    The sample is read with ``IfMatch``: what is checked is the version the job pins.
    """
    from glue_jobs.validation import SAMPLE_BYTES, InputError, check_header

    source = f"s3://{bucket}/{key}"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchKey", "NotFound"):
            raise InputError(f"{source}: input object not found") from None
        if code in ("403", "AccessDenied", "Forbidden"):
            # without s3:ListBucket, S3 answers a missing key with 403 too
            raise InputError(f"{source}: not found or not readable") from None
        raise
    size, etag = head["ContentLength"], head["ETag"]
    sample = b"" if size == 0 else s3.get_object(
        Bucket=bucket, Key=key, IfMatch=etag, Range=f"bytes=0-{SAMPLE_BYTES - 1}")["Body"].read()
    check_header(sample, source, cfg.required_columns, cfg.delimiter, total_size=size)
    return etag


_HADOOP_SPECIAL = set("{}[]*?\\:")


def pinned_input_key(staging: str) -> str:
    """Where the run keeps its copy of the input: a key Hadoop reads literally (no glob, no ':')."""
    key = f"{staging}input/source.csv"
    bad = sorted(set(key) & _HADOOP_SPECIAL)
    if bad:
        raise ValueError(f"staging key {key!r} has character(s) {bad} that Hadoop paths glob or refuse")
    return key


def read_object(spark, s3, bucket: str, key: str, cfg, staging_bucket: str, staging: str):
    """Validate the upload, pin the validated version under the run's staging prefix,
    read that copy once (checkpointed): every later step sees the same records."""
    from glue_jobs.publish import pin_input

    source = f"s3://{bucket}/{key}"
    etag = validate_object(s3, bucket, key, cfg)
    pinned = pinned_input_key(staging)
    pin_input(s3, bucket, key, etag, staging_bucket, pinned)
    df = csv_reader(spark, cfg).csv(f"s3://{staging_bucket}/{pinned}")
    return load_checked(df, source, checkpoint=True)


def csv_reader(spark, cfg):
    """The job's CSV read options: header, all strings, RFC 4180 quotes, fail on a bad row.

    ``multiLine``: a quoted field may hold a line break (an address, a note);
    without it Spark splits the record in two and FAILFAST aborts the job.
    """
    return (spark.read.option("header", True).option("sep", cfg.delimiter).option("quote", '"')
            .option("escape", '"').option("encoding", "UTF-8").option("mode", "FAILFAST")
            .option("multiLine", True).option("inferSchema", False))


def load_checked(df, source: str, checkpoint: bool = False):
    """Run the read (the first action on ``df``) and check it; parse errors become InputError.

    ``checkpoint``: read the file once into the checkpoint directory and return
    that (Spark would otherwise re-read the object at every action).
    Spark replaces invalid UTF-8 by U+FFFD instead of failing: look for it.
    """
    from pyspark.sql import functions as F

    from glue_jobs.validation import InputError

    try:
        if checkpoint:
            df = df.checkpoint(eager=True)
        bad = df.filter(F.concat_ws("\u0001", *[F.col(f"`{c}`") for c in df.columns]).contains("\ufffd"))
        found = bad.limit(1).count()
    except Exception as e:  # Py4JJavaError / SparkException: only parse failures are the input's fault
        text = str(e)
        if "Malformed" not in text and "FAILFAST" not in text and "TextParsingException" not in text:
            raise
        lines = text.splitlines()
        detail = next((ln for ln in lines if "Malformed CSV record" in ln),
                      next((ln for ln in lines if "Malformed" in ln), lines[0] if lines else ""))
        detail = detail[detail.find("Malformed"):] if "Malformed" in detail else detail.strip()
        raise InputError(f"{source}: malformed CSV ({detail[:300]})") from None
    if found:
        raise InputError(f"{source}: bad encoding, not UTF-8; save the file as UTF-8")
    return df


def write_staged(spark_df, uri: str, fmt: str) -> None:
    w = spark_df.coalesce(1).write.mode("overwrite")
    if fmt == "parquet":
        w.parquet(uri)
    else:
        # Spark's CSV writer trims values by default: "  Smith " must stay as it came
        (w.option("header", True).option("quote", '"').option("escape", '"')
         .option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False).csv(uri))


def main(argv=None) -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    from glue_jobs.config import parse_config
    from glue_jobs.dedup_core import MATCHES_TABLE, SURVIVORS_TABLE, SparkEngine, deduplicate, survivors_sql
    from glue_jobs.publish import check_layout, cleanup, publish_all

    argv = sys.argv if argv is None else argv
    args = resolve_args(argv)
    t0 = time.time()
    sc = SparkContext.getOrCreate()
    glue = GlueContext(sc)
    spark = glue.spark_session
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    s3 = boto3.client("s3")

    sbucket, skey = _split_s3(args["settings_uri"])
    cfg = parse_config(json.loads(s3.get_object(Bucket=sbucket, Key=skey)["Body"].read()), args["settings_uri"])
    bucket, run_id, fmt = args["output_bucket"], args["JOB_RUN_ID"], args["output_format"]
    staging = f"{args['staging_prefix']}{run_id}/"
    prefixes = [args["output_prefix"], args["matches_prefix"], args["staging_prefix"]]
    if args.get("source_bucket"):
        check_layout(args["source_bucket"], args["source_key"], bucket, prefixes)
    try:  # from here on everything written goes under staging, removed in finally
        sc.setCheckpointDir(f"s3://{bucket}/{staging}_checkpoints/")
        if args.get("source_bucket"):
            source = f"s3://{args['source_bucket']}/{args['source_key']}"
            df = read_object(spark, s3, args["source_bucket"], args["source_key"], cfg, bucket, staging)
        else:
            dyf = glue.create_dynamic_frame.from_catalog(database=args["source_database"],
                                                         table_name=args["source_table"])
            df = dyf.toDF()
            df = df.select([df[c].cast("string").alias(c) for c in df.columns]).checkpoint(eager=True)
            source = f"{args['source_database']}.{args['source_table']}"
        df.createOrReplaceTempView("input_raw")

        engine = SparkEngine(spark, break_lineage_method="checkpoint")
        if args["matcher"] == "findmatches":
            # Glue 2.0 only (end of life): a trained ML transform labels match_id
            from awsglue.dynamicframe import DynamicFrame
            from awsglueml.transforms import FindMatches

            matched = FindMatches.apply(frame=DynamicFrame.fromDF(df, glue, "input"),
                                        transformId=args["transform_id"]).toDF()
            matched.createOrReplaceTempView(MATCHES_TABLE)
            engine.create(SURVIVORS_TABLE, survivors_sql(engine, cfg, df.columns, MATCHES_TABLE))
            summary = {"records_in": df.count()}
        else:
            res = deduplicate(engine, cfg, "input_raw", source=source)
            summary = {"records_in": res.records_in, "clusters": res.clusters,
                       "duplicates_removed": res.duplicates_removed, "prior": res.model.prior,
                       "model_warnings": res.model.warnings[:20]}
        n_matches = spark.table(MATCHES_TABLE).count()
        if n_matches != summary["records_in"]:  # an inner join must never drop a record
            raise RuntimeError(f"{source}: {summary['records_in']} records in but {n_matches} "
                               "in the matches output; nothing published")

        write_staged(spark.table(SURVIVORS_TABLE), f"s3://{bucket}/{staging}deduplicated/", fmt)
        write_staged(spark.table(MATCHES_TABLE), f"s3://{bucket}/{staging}matches/", fmt)
        publish_all(s3, bucket, [(f"{staging}deduplicated/", args["output_prefix"]),
                                 (f"{staging}matches/", args["matches_prefix"])])
    finally:
        cleanup(s3, bucket, staging)
    summary["seconds"] = round(time.time() - t0, 1)
    print("dedup summary: " + json.dumps(summary))
    job.commit()


if __name__ == "__main__":
    main()
