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
- ``GLUE_VERSION``: the one Glue version the job runs on (5.0: Spark 3.5.4,
  Python 3.11, Amazon Linux 2023).
- ``job_arguments()``: the job's default arguments, validated.
- ``job_log_groups()``: the two log groups Glue 5.0 writes the job's logs to.
- ``prefix_problem()``: the one rule for an S3 folder prefix (settings and job arguments).
- ``choose_engine()``: DuckDB on the driver up to ``DUCKDB_MAX_INPUT_BYTES``, Spark above.

Per run, the workflow adds ``--source_bucket`` and ``--source_key``; Glue adds
``--JOB_RUN_ID``. Data layout: the deduplicated table goes exactly under
``output_prefix`` (the crawler's only target), every record with its
``match_id`` under ``matches_prefix``, the trained Splink model
(``splink_model.json``) and the last run's summary (``run_summary.json``)
under ``model_prefix``, run-scoped work under ``staging_prefix/<run id>/``; the
prefixes never contain one another. ``--dedup_mode incremental`` matches the
upload against the published matches and model instead of replacing them.
``--model_source`` (``auto`` | ``retrain`` | ``s3://<bucket>/<key>.json``) and
``--labels_uri`` (``s3://<bucket>/<key>.csv`` | ``none``) are the local command's
``--retrain`` / ``--model FILE`` / ``--labels FILE``; the objects must be in
``output_bucket`` (``object_key_problem`` for their keys).
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote_plus

GLUE_VERSION = "5.0"

GLUE_ENTRY_POINT = "glue_jobs/glue_entry.py"
CORE_MODULE_FILES = [
    "glue_jobs/__init__.py",
    "glue_jobs/config.py",
    "glue_jobs/validation.py",
    "glue_jobs/columns.py",
    "glue_jobs/engines.py",
    "glue_jobs/standardise.py",
    "glue_jobs/name_variants.py",
    "glue_jobs/model.py",
    "glue_jobs/training.py",
    "glue_jobs/u_estimate.py",
    "glue_jobs/blocking.py",
    "glue_jobs/pipeline.py",
    "glue_jobs/confidence.py",
    "glue_jobs/incremental.py",
    "glue_jobs/model_store.py",
    "glue_jobs/runner.py",
    "glue_jobs/evaluate.py",
    "glue_jobs/published_s3.py",
    "glue_jobs/report.py",
    "glue_jobs/dedup_core.py",
    "glue_jobs/dedup.py",
    "glue_jobs/local_output.py",
    "glue_jobs/glue_io.py",
    "glue_jobs/publish.py",
    "glue_jobs/contract.py",
]
EXTRA_PY_FILES_ARCHIVE = "glue_jobs.zip"
DEFAULT_SETTINGS_FILE = "glue_jobs/settings/tpcds_customer.json"
ADDITIONAL_PYTHON_MODULES = "splink==5.0.0,duckdb==2.0.1,sqlglot==30.30.0,pyarrow==26.0.1,nicknames==1.0.1"

OUTPUT_FORMATS = ("csv", "parquet")
DEDUP_MODES = ("replace", "incremental")
MODEL_FILE = "splink_model.json"
SUMMARY_FILE = "run_summary.json"
JOB_ENGINES = ("auto", "duckdb", "spark")
# Which model a run uses (``--model_source``), as the local command's flags choose it:
# ``auto`` (an incremental run reuses the published model, a replace run trains),
# ``retrain`` (always train: ``--retrain``), or ``s3://<the stack's bucket>/<key>.json``
# (that model: ``--model FILE``). The stack setting is ``modelChoice`` (+ ``modelObjectKey``).
MODEL_CHOICES = ("auto", "retrain", "object")
# ``--labels_uri``: ``s3://<the stack's bucket>/<key>.csv`` (``--labels FILE``) or ``none``.
NO_LABELS = "none"
# ``auto`` deduplicates inputs up to this size with DuckDB on the Glue driver, larger
# ones with Spark. Measured (README, "Which engine"): the 1,001,172-record generated
# set is 128 MiB and peaked at 2 GiB with DuckDB on 2 cores; a G.1X driver has 16 GB
# and 4 vCPU. 256 MiB (about 2 million such records) keeps DuckDB's peak near a
# quarter of the driver's memory.
DUCKDB_MAX_INPUT_BYTES = 256 * 1024 * 1024
# An incremental run adds an upload to the published set on the driver's DuckDB whatever
# ``job_engine`` says. Measured (README, "Incremental runs on Glue: how large"): peak memory
# 1.84 GiB at 1.2 million published + new records and 3.45 GiB at 2.2 million (about 1.6 GiB
# per million); 2.5 million keeps the peak near 4 GiB, a quarter of a G.1X driver's 16 GB
# (the rule ``DUCKDB_MAX_INPUT_BYTES`` follows: a 2-million-record full run peaked at 3.96 GiB).
INCREMENTAL_MAX_RECORDS_PER_16_GB = 2_500_000
DRIVER_MEMORY_GB = {"G.1X": 16, "G.2X": 32, "G.4X": 64, "G.8X": 128}
# arguments the workflow / Glue pass per run (not defaults)
RUN_ARGUMENTS = ("--source_bucket", "--source_key", "--source_key_encoding", "--JOB_RUN_ID")
# How the workflow's --source_key is written: as CloudTrail logs it ("none"), or
# URL-encoded as in S3's event notifications ("url": "a b.csv" arrives as "a+b.csv").
SOURCE_KEY_ENCODINGS = ("none", "url")

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


# The one rule for an S3 folder prefix, for the stack's settings (builders/settings.py) and
# the job's arguments. A folder segment: S3's "safe characters" (letters, digits, ! _ . ' ( ) = -)
# without '*', which IAM reads as a wildcard in the job role's grants (and Hadoop as a glob), and
# never '.' or '..' alone (S3 keeps them literally; paths and consoles collapse them).
_SEGMENT = re.compile(r"[A-Za-z0-9!_.'()=-]+")
PREFIX_MAX_BYTES = 512  # leaves room for the file names under it within S3's 1,024-byte keys


def shown(value: object) -> str:
    """A value for a message: repr, so that a newline or a control character is visible."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def prefix_problem(value: object) -> str | None:
    """What is wrong with ``value`` as an S3 folder prefix (``team/folder/``), or ``None``."""
    text = str(value)
    segments = text[:-1].split("/") if text.endswith("/") else []
    if text.startswith("/"):
        return f"{shown(text)} starts with '/'; S3 keys have none (e.g. 'team/folder/')"
    if not text.endswith("/"):
        return f"{shown(text)} needs a trailing '/' so that it names a folder (e.g. '{text.strip()}/')"
    if any(seg in (".", "..") for seg in segments):
        return f"{shown(text)} has a '.' or '..' folder; name every folder (e.g. 'team/folder/')"
    if len(text.encode()) > PREFIX_MAX_BYTES:
        return f"{len(text.encode())} bytes; at most {PREFIX_MAX_BYTES} (S3 keys are at most 1,024)"
    if not all(_SEGMENT.fullmatch(seg) for seg in segments):
        bad = sorted({c for c in text if c != "/" and not _SEGMENT.fullmatch(c)})
        what = f" ({', '.join(map(repr, bad))} not allowed)" if bad else ""
        return (f"{shown(text)} is not a folder path of letters, digits and !_.'()=- "
                f"separated by single '/'{what}; '*' would be a wildcard in IAM grants")
    return None


def object_key_problem(value: object, suffix: str) -> str | None:
    """What is wrong with ``value`` as the key of an object in the stack's bucket that the job reads
    (a model ``.json``, a labels ``.csv``), or ``None``. Its folder follows ``prefix_problem``; its
    name the same characters; not a URI (the job reads the stack's bucket only)."""
    text = str(value)
    if text.startswith("s3://") or text.startswith("arn:"):
        return (f"{shown(text)} is a URI; give the object's key in the stack's data bucket "
                f"(e.g. 'etl-ttt-demo/models/splink_model{suffix}'): the job role reads only that bucket")
    folder, _, name = text.rpartition("/")
    if folder or text.startswith("/"):
        problem = prefix_problem(folder + "/")
        if problem:
            return f"folder {problem}"
    if not name.endswith(suffix) or name == suffix or not _SEGMENT.fullmatch(name):
        return (f"{shown(text)} must name a {suffix} object: a file name of letters, digits and !_.'()=- "
                f"ending in {suffix} (e.g. 'etl-ttt-demo/models/splink_model{suffix}')")
    if len(text.encode()) > 1024:
        return f"{len(text.encode())} bytes; S3 keys are at most 1,024"
    return None


def _require_prefix(name: str, value: str) -> str:
    problem = prefix_problem(value)
    if problem:
        raise ValueError(f"{name}: {problem}")
    return value


def job_arguments(*, output_bucket: str, output_prefix: str, matches_prefix: str,
                  staging_prefix: str, settings_uri: str, output_format: str,
                  job_engine: str, dedup_mode: str, model_prefix: str | None = None,
                  model_source: str = "auto", labels_uri: str | None = None,
                  incremental_max_records: int | None = None) -> dict[str, str]:
    """The Glue job's ``default_arguments`` (keys with their leading ``--``).

    ``model_source``: ``auto``, ``retrain`` or ``s3://<output_bucket>/<key>.json``;
    ``labels_uri``: ``s3://<output_bucket>/<key>.csv`` or None (``--labels_uri`` left out).
    """
    if not isinstance(output_bucket, str) or not _BUCKET.match(output_bucket) or ".." in output_bucket:
        raise ValueError(f"output_bucket must be an S3 bucket name (3-63 lowercase letters, "
                         f"digits, '.', '-'), got {output_bucket!r}")
    prefixes = {
        "output_prefix": _require_prefix("output_prefix", output_prefix),
        "matches_prefix": _require_prefix("matches_prefix", matches_prefix),
        "staging_prefix": _require_prefix("staging_prefix", staging_prefix),
    }
    if model_prefix is not None:
        prefixes["model_prefix"] = _require_prefix("model_prefix", model_prefix)
    for a, pa in prefixes.items():
        for b, pb in prefixes.items():
            if a != b and pb.startswith(pa):
                raise ValueError(f"{b} ({pb!r}) must not be inside {a} ({pa!r}): the crawler "
                                 "reads output_prefix and must see exactly one table there")
    if not isinstance(settings_uri, str) or not re.match(r"^s3://[a-z0-9][a-z0-9.-]+/.+\.json$", settings_uri):
        raise ValueError(f"settings_uri must be an s3://bucket/key.json URI, got {settings_uri!r}")
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
    if job_engine not in JOB_ENGINES:
        raise ValueError(f"job_engine must be one of {JOB_ENGINES}, got {job_engine!r}")
    if dedup_mode not in DEDUP_MODES:
        raise ValueError(f"dedup_mode must be one of {DEDUP_MODES}, got {dedup_mode!r}")
    if dedup_mode == "incremental" and model_prefix is None:
        raise ValueError("dedup_mode='incremental' needs a model_prefix (where the published model is kept)")
    for name, value, suffix, plain in (("model_source", model_source, ".json", ("auto", "retrain")),
                                       ("labels_uri", labels_uri, ".csv", (None,))):
        if value in plain:
            continue
        problem = None
        if not isinstance(value, str) or not value.startswith(f"s3://{output_bucket}/"):
            problem = f"must be {' or '.join(map(str, plain))} or s3://{output_bucket}/<key>{suffix}"
        else:
            problem = object_key_problem(value.removeprefix(f"s3://{output_bucket}/"), suffix)
        if problem:
            raise ValueError(f"{name}: {shown(value)}: {problem}")
    args = {
        "--output_bucket": output_bucket,
        "--output_prefix": prefixes["output_prefix"],
        "--matches_prefix": prefixes["matches_prefix"],
        "--staging_prefix": prefixes["staging_prefix"],
        "--settings_uri": settings_uri,
        "--output_format": output_format,
        "--job_engine": job_engine,
        "--job-bookmark-option": "job-bookmark-disable",
        "--job-language": "python",
        "--additional-python-modules": ADDITIONAL_PYTHON_MODULES,
        "--dedup_mode": dedup_mode,
        "--model_source": model_source,
    }
    if labels_uri is not None:
        args["--labels_uri"] = labels_uri
    if incremental_max_records is not None:
        if not isinstance(incremental_max_records, int) or incremental_max_records < 1:
            raise ValueError(f"incremental_max_records must be a positive whole number, got {incremental_max_records!r}")
        args["--incremental_max_records"] = str(incremental_max_records)
    if model_prefix is not None:
        args["--model_prefix"] = prefixes["model_prefix"]
    return args


def job_log_groups(role_name: str, security_configuration: str) -> list[str]:
    """The log groups Glue writes a job run's logs to when its security configuration
    encrypts CloudWatch logs: ``JobRun.LogGroupName`` is then
    ``/aws-glue/jobs-<role>-<security configuration>/`` (AWS Glue API, JobRun), and
    Glue 5.0 writes system and Spark logs to ``<that>error``, stdout/stderr to
    ``<that>output`` ("Logging for AWS Glue jobs"). Not verified on an account."""
    base = f"/aws-glue/jobs-{role_name}-{security_configuration}/"
    return [f"{base}error", f"{base}output"]


RUN_SUMMARY_FOLDER = "summaries/"
"""Under the staging prefix, beside the run folders (``<staging><run id>/``, removed at the end of a
run); Glue run ids are ``jr_<hex>``, so no run folder is called ``summaries``."""


def run_summary_key(staging_prefix: str, job_run_id: str) -> str:
    """``<staging_prefix>summaries/<job run id>.json``: the run's summary, written after publishing
    (``records_in``, ``clusters``, ``duplicates_removed``, ...); the workflow's completion event reads it."""
    return f"{staging_prefix}{RUN_SUMMARY_FOLDER}{job_run_id}.json"


def incremental_max_records(worker_type: str) -> int:
    """Published + new records an incremental run may hold on the driver of ``worker_type``."""
    return INCREMENTAL_MAX_RECORDS_PER_16_GB * DRIVER_MEMORY_GB[worker_type] // 16


def choose_engine(job_engine: str, input_bytes: int) -> str:
    """``duckdb`` or ``spark`` for an input of ``input_bytes``."""
    if job_engine not in JOB_ENGINES:
        raise ValueError(f"job_engine must be one of {JOB_ENGINES}, got {job_engine!r}")
    if job_engine != "auto":
        return job_engine
    return "duckdb" if input_bytes <= DUCKDB_MAX_INPUT_BYTES else "spark"


def decode_source_key(key: str, encoding: str = "none") -> str:
    """The object key the workflow passed, decoded as its event source wrote it."""
    if encoding == "url":
        return unquote_plus(key)
    if encoding == "none":
        return key
    raise ValueError(f"source_key_encoding must be one of {SOURCE_KEY_ENCODINGS}, got {encoding!r}")


def build_core_zip(repo_root: str | Path = ".") -> bytes:
    """The ``--extra-py-files`` zip: CORE_MODULE_FILES under their repo paths."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in CORE_MODULE_FILES:
            z.write(Path(repo_root) / rel, rel)
    return buf.getvalue()
