"""What the Pulumi DedupJob component needs to know about the job. Stdlib only.

- ``GLUE_ENTRY_POINT``: the script Glue runs (``script_location``).
- ``CORE_MODULE_FILES``: the package the entry point imports. Upload them as ONE
  zip whose members keep these repo-relative paths (``glue_jobs/...``), e.g.
  ``pulumi.AssetArchive({p: pulumi.FileAsset(p) for p in CORE_MODULE_FILES})``,
  and pass its S3 URI in ``--extra-py-files`` (``EXTRA_PY_FILES_ARCHIVE`` names it).
  ``build_core_zip()`` builds the same zip with the stdlib, for tests.
- ``DEFAULT_SETTINGS_FILE``: the column-mapping settings uploaded next to the
  script; its S3 URI goes in ``--settings_uri``.
- ``ADDITIONAL_PYTHON_MODULES``: ``--additional-python-modules`` for Glue 5.0.
- ``job_arguments()``: the job's default arguments, validated.

Per run, the workflow adds ``--source_bucket`` and ``--source_key``; Glue adds
``--JOB_RUN_ID``. Data layout: the deduplicated table goes exactly under
``output_prefix`` (the crawler's only target), every record with its
``match_id`` under ``matches_prefix``, run-scoped work under
``staging_prefix/<run id>/``; the three prefixes never contain one another.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote_plus

GLUE_VERSION = "5.0"
FINDMATCHES_GLUE_VERSION = "2.0"  # end of life 2026-04-01: runs no longer start

GLUE_ENTRY_POINT = "glue_jobs/glue_entry.py"
CORE_MODULE_FILES = [
    "glue_jobs/__init__.py",
    "glue_jobs/config.py",
    "glue_jobs/validation.py",
    "glue_jobs/engines.py",
    "glue_jobs/standardise.py",
    "glue_jobs/model.py",
    "glue_jobs/pipeline.py",
    "glue_jobs/dedup_core.py",
    "glue_jobs/publish.py",
    "glue_jobs/contract.py",
]
EXTRA_PY_FILES_ARCHIVE = "glue_jobs.zip"
DEFAULT_SETTINGS_FILE = "glue_jobs/settings/tpcds_customer.json"
ADDITIONAL_PYTHON_MODULES = "splink==5.0.0,duckdb==2.0.1,sqlglot==30.30.0,pyarrow==26.0.1"

OUTPUT_FORMATS = ("csv", "parquet")
MATCHERS = ("splink", "findmatches")
# arguments the workflow / Glue pass per run (not defaults)
RUN_ARGUMENTS = ("--source_bucket", "--source_key", "--source_key_encoding", "--JOB_RUN_ID")
# How the workflow's --source_key is written: as CloudTrail logs it ("none"), or
# URL-encoded as in S3's event notifications ("url": "a b.csv" arrives as "a+b.csv").
SOURCE_KEY_ENCODINGS = ("none", "url")
# optional per-run alternative input: the lab's catalog table
CATALOG_INPUT_ARGUMENTS = ("--source_database", "--source_table")

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TRANSFORM_ID = re.compile(r"^tfm-[0-9a-f]{32}$")


def _prefix(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty S3 key prefix, got {value!r}")
    if value.startswith("/") or value.startswith("s3://") or "//" in value:
        raise ValueError(f"{name} must be a key prefix inside the bucket (no leading '/', "
                         f"no 's3://', no '//'), got {value!r}")
    if not value.endswith("/"):
        raise ValueError(f"{name} must end with '/', got {value!r}")
    special = sorted(set(value) & set("{}[]*?\\:"))
    if special:  # Spark reads and writes these prefixes as Hadoop paths
        raise ValueError(f"{name} must not contain {special} (Hadoop globs or refuses them), got {value!r}")
    return value


def job_arguments(*, output_bucket: str, output_prefix: str, matches_prefix: str,
                  staging_prefix: str, settings_uri: str, output_format: str = "csv",
                  matcher: str = "splink", transform_id: str | None = None) -> dict[str, str]:
    """The Glue job's ``default_arguments`` (keys with their leading ``--``)."""
    if not isinstance(output_bucket, str) or not _BUCKET.match(output_bucket) or ".." in output_bucket:
        raise ValueError(f"output_bucket must be an S3 bucket name (3-63 lowercase letters, "
                         f"digits, '.', '-'), got {output_bucket!r}")
    prefixes = {
        "output_prefix": _prefix("output_prefix", output_prefix),
        "matches_prefix": _prefix("matches_prefix", matches_prefix),
        "staging_prefix": _prefix("staging_prefix", staging_prefix),
    }
    for a, pa in prefixes.items():
        for b, pb in prefixes.items():
            if a != b and pb.startswith(pa):
                raise ValueError(f"{b} ({pb!r}) must not be inside {a} ({pa!r}): the crawler "
                                 "reads output_prefix and must see exactly one table there")
    if not isinstance(settings_uri, str) or not re.match(r"^s3://[a-z0-9][a-z0-9.-]+/.+\.json$", settings_uri):
        raise ValueError(f"settings_uri must be an s3://bucket/key.json URI, got {settings_uri!r}")
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
    if matcher not in MATCHERS:
        raise ValueError(f"matcher must be one of {MATCHERS}, got {matcher!r}")
    if matcher == "findmatches":
        if not transform_id or not _TRANSFORM_ID.match(transform_id):
            raise ValueError("transform_id must be a Glue ML transform id (tfm-<32 hex>) "
                             f"when matcher='findmatches', got {transform_id!r}")
    elif transform_id is not None:
        raise ValueError("transform_id is only used with matcher='findmatches'")
    args = {
        "--output_bucket": output_bucket,
        "--output_prefix": prefixes["output_prefix"],
        "--matches_prefix": prefixes["matches_prefix"],
        "--staging_prefix": prefixes["staging_prefix"],
        "--settings_uri": settings_uri,
        "--output_format": output_format,
        "--matcher": matcher,
        "--enable-continuous-cloudwatch-log": "true",
        "--job-bookmark-option": "job-bookmark-disable",
        "--job-language": "python",
    }
    if matcher == "splink":
        args["--additional-python-modules"] = ADDITIONAL_PYTHON_MODULES
    if transform_id:
        args["--transform_id"] = transform_id
    return args


def decode_source_key(key: str, encoding: str = "none") -> str:
    """The object key the workflow passed, decoded as its event source wrote it."""
    if encoding == "url":
        return unquote_plus(key)
    if encoding == "none":
        return key
    raise ValueError(f"source_key_encoding must be one of {SOURCE_KEY_ENCODINGS}, got {encoding!r}")


def glue_version(matcher: str) -> str:
    """Glue version for a matcher: 5.0, or 2.0 (end of life) for FindMatches."""
    if matcher not in MATCHERS:
        raise ValueError(f"matcher must be one of {MATCHERS}, got {matcher!r}")
    return FINDMATCHES_GLUE_VERSION if matcher == "findmatches" else GLUE_VERSION


def build_core_zip(repo_root: str | Path = ".") -> bytes:
    """The ``--extra-py-files`` zip: CORE_MODULE_FILES under their repo paths."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in CORE_MODULE_FILES:
            z.write(Path(repo_root) / rel, rel)
    return buf.getvalue()
