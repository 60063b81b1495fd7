"""What the job reads from S3 besides the upload, and the model staged for publishing.

A team's model and labels objects (``--model_source s3://…``, ``--labels_uri``,
the stack's ``modelObjectKey`` / ``labelsObjectKey``): read by
``read_model_source`` and ``read_labels``, a missing or malformed object ends
the run with an ``InputError`` naming its URI before any work (nothing is
published). What the stack publishes on S3, read back for an incremental run:

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

from botocore.exceptions import ClientError

import glue_jobs.model_store as model_store
from glue_jobs.contract import MODEL_CHOICES, NO_LABELS
from glue_jobs.incremental import load_published_files
from glue_jobs.publish import _is_data, list_keys
from glue_jobs.validation import InputError

_MISSING = {"404", "NoSuchKey", "NotFound", "403", "AccessDenied", "Forbidden"}


def _object_uri(bucket: str, uri: str, what: str, argument: str) -> str:
    """The key of ``uri`` in the stack's ``bucket``; anything else is refused naming the argument."""
    if not uri.startswith(f"s3://{bucket}/") or uri == f"s3://{bucket}/":
        raise InputError(f"{argument} {uri!r}: not an object in the stack's bucket s3://{bucket}/ (the job "
                         f"role reads {what} only there; set the stack's {what} key or pass s3://{bucket}/<key>)")
    return uri.removeprefix(f"s3://{bucket}/")


def _get(s3, bucket: str, key: str, what: str, setting: str) -> bytes:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        code = str(e.response.get("Error", {}).get("Code", ""))
        if code in _MISSING:  # without s3:ListBucket there, S3 answers a missing key with 403 too
            raise InputError(f"s3://{bucket}/{key}: {what} object not found or not readable by the job role "
                             f"(the role may read the object of the stack's {setting} setting only)") from None
        raise


def read_model_source(s3, bucket: str, source: str) -> tuple[tuple[dict, str] | None, bool]:
    """``--model_source``: (the given model and its description, or None; retrain?)."""
    if source in MODEL_CHOICES and source != "object":
        return None, source == "retrain"
    if not source.startswith("s3://"):
        raise InputError(f"--model_source {source!r}: must be auto, retrain or s3://{bucket}/<key>.json")
    key = _object_uri(bucket, source, "modelObjectKey", "--model_source")
    uri = f"s3://{bucket}/{key}"
    return (model_store.parse_model(_get(s3, bucket, key, "model", "modelObjectKey"), uri),
            f"given model {uri}"), False


def read_labels(s3, bucket: str, uri: str | None, id_column: str, workdir: Path):
    """``--labels_uri``: the labels frame (``glue_jobs.evaluate.load_labels``), or None."""
    from glue_jobs.evaluate import LabelsError, load_labels

    if uri in (None, NO_LABELS):
        return None
    key = _object_uri(bucket, uri, "labelsObjectKey", "--labels_uri")
    local = workdir / "labels.csv"
    local.write_bytes(_get(s3, bucket, key, "labels", "labelsObjectKey"))
    try:
        return load_labels(local, id_column)
    except LabelsError as e:  # name the object, not the driver's temporary file
        raise InputError(str(e).replace(str(local), f"s3://{bucket}/{key}")) from None


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
