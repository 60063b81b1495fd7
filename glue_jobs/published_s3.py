"""What the stack publishes on S3, read back for an incremental run; the model staged for publishing.

By boto3 on the driver (the job's only S3 access): the published matches
objects under ``matches_prefix`` are downloaded into the run's work folder and
loaded into the driver's DuckDB; the model is ``<model_prefix>splink_model-<run id>.json``.
The model and the run's summary (``run_summary-<run id>.json``) are staged under
``<staging>model/`` and published with the two data sets by
``publish.publish_all`` (all or nothing). The names carry the run id because
``publish_all`` copies the new objects next to the old ones before deleting
those, and refuses a name that is already published.
"""
from __future__ import annotations

import json
from pathlib import Path

import glue_jobs.model_store as model_store
from glue_jobs.incremental import load_published_files
from glue_jobs.publish import _is_data, list_keys


def read_published(s3, duck, bucket: str, matches_prefix: str, workdir: Path) -> str | None:
    """The published matches as DuckDB table ``published_raw``; None if nothing is published."""
    keys = [k for k in list_keys(s3, bucket, matches_prefix) if _is_data(k)]
    files = []
    folder = workdir / "published"
    folder.mkdir(parents=True, exist_ok=True)
    for i, key in enumerate(sorted(keys)):
        suffix = Path(key).suffix if Path(key).suffix in (".csv", ".parquet") else ".csv"
        local = folder / f"part-{i:05d}{suffix}"
        s3.download_file(bucket, key, str(local))
        files.append(local)
    return load_published_files(duck, files, f"s3://{bucket}/{matches_prefix}")


def _named(name: str, run_id: str) -> str:
    stem, ext = name.rsplit(".", 1)
    return f"{stem}-{run_id}.{ext}"


def read_model(s3, bucket: str, model_prefix: str) -> tuple[dict, str] | None:
    """The published model and its description, or None if there is none.

    Normally one ``splink_model-<run id>.json``; if a failed delete left two, the newest.
    """
    stem = model_store.MODEL_FILE.rsplit(".", 1)[0]
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=model_prefix + stem):
        found += [(o["LastModified"], o["Key"]) for o in page.get("Contents", []) if o["Key"].endswith(".json")]
    if not found:
        return None
    key = max(found)[1]
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return model_store.parse_model(body, f"s3://{bucket}/{key}"), f"published model s3://{bucket}/{key}"


def stage_model(s3, bucket: str, staging: str, run_id: str, summary: dict, model_json: dict | None) -> str:
    """Upload the run's model and summary under ``<staging>model/``; returns that prefix."""
    prefix = f"{staging}model/"
    s3.put_object(Bucket=bucket, Key=prefix + _named(model_store.SUMMARY_FILE, run_id),
                  Body=(json.dumps(summary, indent=2, default=str) + "\n").encode(), ContentType="application/json")
    if model_json is not None:
        s3.put_object(Bucket=bucket, Key=prefix + _named(model_store.MODEL_FILE, run_id),
                      Body=model_store.model_bytes(model_json),
                      ContentType="application/json")
    return prefix
