"""Publish run-scoped output to the folders the crawler reads, on S3 (boto3).

A run writes under ``<staging_prefix><run id>/``; only when everything is
written does ``publish_all`` copy the staged objects of *both* sets
(deduplicated and matches) under their published prefixes, and then delete what
was there before. A failure before publishing leaves the published folders
untouched; a failure while copying removes every copy made so far, in both
sets, and leaves the old objects in place. Deletes of the old objects are
retried; if some still remain, ``PublishError`` lists them (the new data is
published; the leftovers must be deleted by hand or by the next run).

Not atomic: S3 has no rename. Between the last copy and the delete of the old
objects (normally well under a second), a reader of a published prefix sees
both the old and the new files.
"""
from __future__ import annotations

import logging
import time
from typing import Iterable, List, Sequence, Tuple

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
    failed = _delete_once(s3, bucket, list(keys))
    if failed:
        raise PublishError(f"could not delete {len(failed)} object(s), first: {failed[0]}")


def _delete_once(s3, bucket: str, keys: List[str]) -> List[dict]:
    """Delete ``keys``; return the per-key errors S3 reported (a call that fails counts for its chunk)."""
    errors: List[dict] = []
    for i in range(0, len(keys), 1000):
        chunk = keys[i:i + 1000]
        try:
            resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
            errors += resp.get("Errors", [])
        except Exception as e:  # noqa: BLE001 - retried by the caller
            errors += [{"Key": k, "Message": str(e)} for k in chunk]
    return errors


def delete_with_retries(s3, bucket: str, keys: Iterable[str], attempts: int = 4,
                        pause: float = 1.0, sleep=time.sleep) -> List[str]:
    """Delete ``keys``, retrying the failed ones; return the keys that could not be deleted."""
    todo = list(keys)
    for attempt in range(attempts):
        if not todo:
            break
        if attempt:
            sleep(pause * 2 ** (attempt - 1))
        todo = [e["Key"] for e in _delete_once(s3, bucket, todo)]
    return todo


def check_layout(source_bucket: str, source_key: str, output_bucket: str, prefixes: Iterable[str]) -> None:
    """The input must not live where the job writes or replaces objects (a user error)."""
    from glue_jobs.validation import InputError

    if source_bucket != output_bucket:
        return
    for p in prefixes:
        if source_key.startswith(p):
            raise InputError(f"input s3://{source_bucket}/{source_key} is inside the job's output "
                             f"prefix {p!r}; publishing would replace it. Upload it elsewhere.")


def _plan(s3, bucket: str, staged_prefix: str, dest_prefix: str) -> Tuple[List[str], List[str], List[str]]:
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
    return staged, targets, old


def publish_all(s3, bucket: str, sets: Sequence[Tuple[str, str]], sleep=time.sleep) -> List[str]:
    """Replace, for every ``(staged_prefix, dest_prefix)``, the objects under ``dest_prefix``
    by the data objects under ``staged_prefix``: all sets or none.

    Returns the published keys. Every prefix ends with '/'.
    """
    dests = [d for _, d in sets]
    for i, a in enumerate(dests):
        for b in dests[i + 1:]:
            if a.startswith(b) or b.startswith(a):
                raise ValueError(f"destinations {a!r} and {b!r} overlap")
    plans = [_plan(s3, bucket, staged, dest) for staged, dest in sets]
    copied: List[str] = []
    try:
        for staged, targets, _ in plans:
            for src, dst in zip(staged, targets):
                s3.copy({"Bucket": bucket, "Key": src}, bucket, dst)
                copied.append(dst)
    except Exception:
        logger.error("publish to s3://%s failed; removing %d partial copies", bucket, len(copied))
        left = delete_with_retries(s3, bucket, copied, sleep=sleep)
        if left:
            logger.error("could not remove %d partial copies, first: %s", len(left), left[:3])
        raise
    old = [k for _, _, o in plans for k in o]
    left = delete_with_retries(s3, bucket, old, sleep=sleep)
    published = [t for _, targets, _ in plans for t in targets]
    if left:
        raise PublishError(
            f"new output published, but {len(left)} old object(s) could not be deleted and sit next "
            f"to it (readers see both): {left[:5]}; delete them: aws s3 rm s3://{bucket}/<key>")
    logger.info("published %d object(s) to %s in s3://%s, removed %d old",
                len(published), dests, bucket, len(old))
    return published


def publish(s3, bucket: str, staged_prefix: str, dest_prefix: str) -> List[str]:
    """``publish_all`` for one set."""
    return publish_all(s3, bucket, [(staged_prefix, dest_prefix)])


def cleanup(s3, bucket: str, prefix: str) -> None:
    """Best-effort removal of a run's staging prefix."""
    try:
        delete_keys(s3, bucket, list_keys(s3, bucket, prefix))
    except Exception as e:  # noqa: BLE001 - staging leftovers are harmless, outputs are published
        logger.warning("could not clean up s3://%s/%s: %s", bucket, prefix, e)
