"""Publish run-scoped output to the folder the crawler reads, on S3 (boto3).

A run writes under ``<staging_prefix><run id>/``; only when everything is
written does ``publish`` copy the staged objects under the published prefix and
then delete what was there before. A failure before publishing leaves the
published folder untouched; a failure while copying removes the copies made
so far and leaves the old objects in place. Kept Python 3.7-compatible: the
FindMatches path runs on Glue 2.0.
"""
from __future__ import annotations

import logging
from typing import Iterable, List

logger = logging.getLogger("glue_jobs.publish")

# Spark/Hadoop bookkeeping objects that are not data
_NOT_DATA = ("_SUCCESS", "_committed_", "_started_", "$folder$", ".crc")


class PublishError(RuntimeError):
    pass


def list_keys(s3, bucket: str, prefix: str) -> List[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def _is_data(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return bool(name) and "/_temporary/" not in key and not any(
        name.startswith(m) or name.endswith(m) for m in _NOT_DATA)


def delete_keys(s3, bucket: str, keys: Iterable[str]) -> None:
    keys = list(keys)
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
        if resp.get("Errors"):
            raise PublishError(f"could not delete {len(resp['Errors'])} object(s), first: {resp['Errors'][0]}")


def check_layout(source_bucket: str, source_key: str, output_bucket: str, prefixes: Iterable[str]) -> None:
    """The input must not live where the job writes or replaces objects."""
    if source_bucket != output_bucket:
        return
    for p in prefixes:
        if source_key.startswith(p):
            raise ValueError(f"input s3://{source_bucket}/{source_key} is inside the job's output "
                             f"prefix {p!r}; publishing would replace it. Upload it elsewhere.")


def publish(s3, bucket: str, staged_prefix: str, dest_prefix: str) -> List[str]:
    """Replace the objects under ``dest_prefix`` by the data objects under ``staged_prefix``.

    Returns the published keys. Both prefixes end with '/'.
    """
    if not staged_prefix.endswith("/") or not dest_prefix.endswith("/"):
        raise ValueError("prefixes must end with '/'")
    if dest_prefix.startswith(staged_prefix) or staged_prefix.startswith(dest_prefix):
        raise ValueError(f"staging {staged_prefix!r} and destination {dest_prefix!r} overlap")
    staged = [k for k in list_keys(s3, bucket, staged_prefix) if _is_data(k)]
    if not staged:
        raise PublishError(f"nothing to publish under s3://{bucket}/{staged_prefix}")
    old = list_keys(s3, bucket, dest_prefix)
    targets = [dest_prefix + k[len(staged_prefix):] for k in staged]
    clash = set(targets) & set(old)
    if clash:
        raise PublishError(f"staged names collide with published objects: {sorted(clash)[:3]}")
    copied: List[str] = []
    try:
        for src, dst in zip(staged, targets):
            s3.copy({"Bucket": bucket, "Key": src}, bucket, dst)
            copied.append(dst)
    except Exception:
        logger.error("publish to s3://%s/%s failed; removing %d partial copies", bucket, dest_prefix, len(copied))
        delete_keys(s3, bucket, copied)
        raise
    delete_keys(s3, bucket, old)
    logger.info("published %d object(s) to s3://%s/%s, removed %d old", len(targets), bucket, dest_prefix, len(old))
    return targets


def cleanup(s3, bucket: str, prefix: str) -> None:
    """Best-effort removal of a run's staging prefix."""
    try:
        delete_keys(s3, bucket, list_keys(s3, bucket, prefix))
    except Exception as e:  # noqa: BLE001 - staging leftovers are harmless, outputs are published
        logger.warning("could not clean up s3://%s/%s: %s", bucket, prefix, e)
