"""S3 in and out of the Glue job, by boto3 on the driver: the job's only S3 access.

Neither engine touches S3 through Hadoop or EMRFS: the pinned input object is
downloaded by the driver and parsed by DuckDB (the same parser and checks as
the local run); the results are written by DuckDB to local files and uploaded
under the run's staging prefix, then published by ``glue_jobs.publish``. So the
job's S3 calls are exactly the ones a test can record (HeadObject, GetObject,
PutObject / multipart upload, ListObjectsV2, CopyObject, DeleteObjects), and the
job role grants exactly those (``builders/policies.py``).

With the Spark engine, the DuckDB table goes to Spark through Arrow and the
results come back the same way; Spark's own checkpoints (lineage cuts) go under
the run's staging prefix (``spark_checkpoint_uri``), the one place Spark writes.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from botocore.exceptions import ClientError

from glue_jobs.validation import InputError

# What S3 answers when a conditional GetObject/CopyObject finds another version.
_PRECONDITION_FAILED = {"PreconditionFailed", "412"}
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "Forbidden"}
OUTPUT_SETS = ("deduplicated", "matches")


def error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def head_input(s3, bucket: str, key: str) -> dict:
    """HeadObject of the upload; a missing or unreadable object is the user's problem."""
    source = f"s3://{bucket}/{key}"
    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if error_code(e) in _NOT_FOUND:
            raise InputError(f"{source}: input object not found") from None
        if error_code(e) in _DENIED:
            # the role has no s3:ListBucket on the upload folder, so S3 answers a missing key with 403 too
            raise InputError(f"{source}: not found or not readable") from None
        raise


def download_pinned(s3, bucket: str, key: str, etag: str, dest: Path) -> None:
    """Download the version with ``etag`` (``IfMatch``): a re-upload during the run is an error, not a mix."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"]
    except ClientError as e:
        if error_code(e) in _PRECONDITION_FAILED:
            raise InputError(f"s3://{bucket}/{key}: the object changed while the job was reading it "
                             f"(its ETag is no longer {etag}); the new upload starts its own run") from None
        raise
    with dest.open("wb") as f:
        shutil.copyfileobj(body, f, 8 * 1024 * 1024)


def read_input(s3, engine, bucket: str, key: str, etag: str, cfg, workdir: Path) -> str:
    """The upload as table ``input_raw`` of ``engine`` (a DuckDBEngine), checked like a local run."""
    from glue_jobs.dedup import load_csv

    source = f"s3://{bucket}/{key}"
    local = workdir / "input.csv"
    download_pinned(s3, bucket, key, etag, local)
    try:  # load_csv checks size, encoding, delimiter and header first
        return load_csv(engine, local, cfg)
    except InputError as e:  # name the object, not the driver's temporary file
        raise InputError(str(e).replace(str(local), source)) from None


def write_outputs(s3, duck, tables: dict[str, str], bucket: str, staging: str, fmt: str,
                  name: str, workdir: Path) -> None:
    """COPY each DuckDB table to a local file, upload it to ``<staging><set>/<name>.<ext>``."""
    opts = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER true, DELIMITER ',')"
    ext = "parquet" if fmt == "parquet" else "csv"
    for out_set, table in tables.items():
        local = workdir / f"{out_set}.{ext}"
        duck.con.execute(f"COPY {table} TO '{str(local).replace(chr(39), chr(39) * 2)}' {opts}")
        s3.upload_file(str(local), bucket, f"{staging}{out_set}/{name}.{ext}")


def spark_checkpoint_uri(bucket: str, staging: str) -> str:
    """Where Spark cuts lineage: under the run's staging prefix, the one place Spark writes.
    Hadoop's S3 file systems add ``<dir>_$folder$`` markers next to it (still under staging)."""
    return f"s3://{bucket}/{staging}spark-checkpoints/"


def to_spark(spark, duck, table: str, view: str):
    """A DuckDB table as a Spark temp view of string columns (through Arrow)."""
    from pyspark.sql.types import StringType, StructField, StructType

    frame = duck.con.execute(f"SELECT * FROM {table}").fetch_df()
    schema = StructType([StructField(c, StringType(), True) for c in frame.columns])
    rows = frame.astype(object).where(frame.notna(), None)
    df = spark.createDataFrame(rows, schema=schema).persist()
    df.count()
    df.createOrReplaceTempView(view)
    return df


def from_spark(spark, duck, view: str, table: str) -> str:
    """A Spark view back into DuckDB (the driver writes the output files)."""
    frame = spark.table(view).toPandas()
    duck.con.register(f"{table}_df", frame)
    duck.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table}_df")
    duck.con.unregister(f"{table}_df")
    return table
