"""``python -m ops smoke --stack NAME [--keep] [--timeout MINUTES]``: does the deployed stack work?

Stages, one line each with its duration:

  upload   the bundled sample (glue_jobs/sample/customers.csv) under a unique key in the
           watched folder, as the stack's upload_command does (``aws s3 cp``: one PutObject
           up to 8 MB, multipart above)
  trigger  the execution that upload started (CloudTrail delivers in minutes: it says so)
  job      the Glue job run that execution started, followed to its end
  crawl    the crawl after it
  workflow the execution's end: run summary read, completion event put
  table    the catalog table under the stack's database and prefix: expected columns,
           and as many rows as records in minus duplicates removed
  cleanup  the uploaded object and the run's summary removed (unless --keep)

Exit 0 only when the table is right; 1 when a stage failed (named, with the AWS error
verbatim and the likely causes); 2 for a usage mistake.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, TextIO
from urllib.parse import unquote_plus

from boto3.s3.transfer import TransferConfig

from ops.aws import AWS_ERRORS, clients, error_text, execution_input, executions, region_of
from ops.smoke_causes import likely_causes
from ops.stack_outputs import require

SAMPLE = Path(__file__).resolve().parent.parent / "glue_jobs" / "sample" / "customers.csv"
# `aws s3 cp`: multipart from 8 MB on, in 8 MB parts (AWS CLI S3 configuration).
CLI_TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
NEEDED = ("upload_uri", "state_machine_arn", "job_name", "crawler_name", "database_name", "table_name",
          "output_uri", "run_summaries_uri", "trigger_source")
_NOT_DATA = ("_SUCCESS", "$folder$", ".crc")
JOB_ENDED = {"SUCCEEDED", "FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED"}
EXECUTION_ENDED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class StageFailed(Exception):
    def __init__(self, message: str, *, aws: str = ""):
        super().__init__(message)
        self.aws = aws


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def sample_records(path: Path = SAMPLE) -> tuple[list[str], int]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], len(rows) - 1


class Smoke:
    def __init__(self, outputs: dict, *, s3, sfn, glue, sqs=None, out: TextIO, keep: bool = False,
                 timeout_minutes: float = 30, poll_seconds: float = 15, sample: Path = SAMPLE,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.o, self.s3, self.sfn, self.glue, self.sqs, self.out = outputs, s3, sfn, glue, sqs, out
        self.keep, self.timeout, self.poll, self.sample = keep, timeout_minutes * 60, poll_seconds, sample
        self.clock, self.sleep, self.now = clock, sleep, now
        self.deadline = clock() + self.timeout
        self.bucket, self.folder = split_s3(outputs["upload_uri"])
        self.key = ""
        self.execution: dict = {}
        self.job_run: dict = {}
        self.summary: dict = {}
        self.added: list[tuple[str, str]] = []
        self._entered = 0

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def wait(self, what: str) -> None:
        if self.clock() >= self.deadline:
            raise StageFailed(f"{what} after {self.timeout / 60:g} minutes (--timeout)")
        self.sleep(self.poll)
        self._follow()

    def _follow(self) -> None:
        """Print each state the execution entered since the last look, as it goes."""
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=self.execution["executionArn"])
        entered = [e["stateEnteredEventDetails"]["name"] for page in pages for e in page["events"]
                   if "stateEnteredEventDetails" in e]
        for name in entered[self._entered:]:
            self.say(f"         state: {name}")
        self._entered = len(entered)

    # --- stages ---------------------------------------------------------------

    def upload(self) -> str:
        stamp = self.now().strftime("%Y%m%dT%H%M%SZ")
        self.key = f"{self.folder}smoke-{stamp}-{uuid.uuid4().hex[:8]}.csv"
        self.started_after = self.now() - timedelta(minutes=2)  # clock skew between here and AWS
        self.s3.upload_file(str(self.sample), self.bucket, self.key, Config=CLI_TRANSFER)
        self.added.append((self.bucket, self.key))
        return f"s3://{self.bucket}/{self.key} ({sample_records(self.sample)[1]} records)"

    def trigger(self) -> str:
        if self.o["trigger_source"] == "cloudtrail":
            self.say("         waiting for the trigger: CloudTrail hands data events to EventBridge "
                     "best effort, usually within 5 minutes")
        else:
            self.say("         waiting for the trigger: S3 event notifications, usually seconds")
        seen: set[str] = set()
        start, said = self.clock(), 0
        while True:
            waited = int((self.clock() - start) // 300) * 5  # every five minutes
            if waited > said:
                said = waited
                self.say(f"         still waiting for the execution ({waited} min)")
            for execution in executions(self.sfn, self.o["state_machine_arn"], started_since=self.started_after):
                if execution["executionArn"] in seen:
                    continue
                seen.add(execution["executionArn"])
                _, upload = execution_input(self.sfn, execution["executionArn"])
                if upload.get("bucket") == self.bucket and self.key in (upload.get("key"), unquote_plus(upload.get("key") or "")):
                    self.execution = {**execution, "input": upload}
                    return execution["executionArn"]
            if self.clock() >= self.deadline:
                raise StageFailed(f"no execution started within {self.timeout / 60:g} minutes")
            self.sleep(self.poll)

    def job(self) -> str:
        job_name, key = self.o["job_name"], self.execution["input"]["key"]
        while not self.job_run:
            runs = self.glue.get_job_runs(JobName=job_name)["JobRuns"]
            self.job_run = next((r for r in runs if (r.get("Arguments") or {}).get("--source_key") == key), {})
            if not self.job_run:
                self._execution_still_running("the workflow ended before it started the job")
                self.wait("no job run started")
        self.say(f"         job run {self.job_run['Id']} {self.job_run['JobRunState']}")
        while self.job_run["JobRunState"] not in JOB_ENDED:
            self.wait(f"job run {self.job_run['Id']} still {self.job_run['JobRunState']}")
            state = self.job_run["JobRunState"]
            self.job_run = self.glue.get_job_run(JobName=job_name, RunId=self.job_run["Id"])["JobRun"]
            if self.job_run["JobRunState"] != state:
                self.say(f"         job run {self.job_run['Id']} {self.job_run['JobRunState']}")
        if self.job_run["JobRunState"] != "SUCCEEDED":
            raise StageFailed(f"job run {self.job_run['Id']} {self.job_run['JobRunState']}",
                              aws=self.job_run.get("ErrorMessage", "(Glue gave no error message)"))
        return f"{self.job_run['Id']} SUCCEEDED"

    def crawl(self) -> str:
        ended = self.job_run.get("CompletedOn")
        while True:
            crawler = self.glue.get_crawler(Name=self.o["crawler_name"])["Crawler"]
            last = crawler.get("LastCrawl") or {}
            ours = last and (not ended or last.get("StartTime") is None or last["StartTime"] >= ended)
            if ours and crawler.get("State") == "READY" and last.get("Status"):
                break
            self._execution_still_running("the workflow ended before the crawl finished")
            self.wait(f"crawler {crawler.get('State')}, last crawl {last.get('Status', 'none')}")
        if last["Status"] != "SUCCEEDED":
            raise StageFailed(f"crawl {last['Status']}", aws=last.get("ErrorMessage", "(Glue gave no error message)"))
        return "SUCCEEDED"

    def workflow(self) -> str:
        while (described := self.sfn.describe_execution(executionArn=self.execution["executionArn"]))["status"] == "RUNNING":
            self.wait("the execution still RUNNING")
        self._follow()
        self._raise_if_unsuccessful(described)
        state = json.loads(described.get("output") or "{}")
        self.summary = (state.get("run") or {}).get("summary") or {}
        missing = [k for k in ("records_in", "duplicates_removed") if not isinstance(self.summary.get(k), int)]
        if missing:
            raise StageFailed(f"the execution's output has no run summary counts ({', '.join(missing)})")
        entries = (state.get("completionEvent") or {}).get("entries") or [{}]
        event = entries[0].get("EventId", "none")
        return f"SUCCEEDED, completion event {event}"

    def table(self) -> str:
        database, name = self.o["database_name"], self.o["table_name"]
        try:
            table = self.glue.get_table(DatabaseName=database, Name=name)["Table"]
        except AWS_ERRORS as error:
            raise StageFailed(f"no table {database}.{name}", aws=error_text(error)) from None
        header, records = sample_records(self.sample)
        if self.summary["records_in"] != records:
            raise StageFailed(f"the job read {self.summary['records_in']} records; the sample has {records}")
        expected_columns = [c.lower() for c in header]
        columns = [c["Name"] for c in table.get("StorageDescriptor", {}).get("Columns", [])]
        if columns != expected_columns:
            lost, extra = sorted(set(expected_columns) - set(columns)), sorted(set(columns) - set(expected_columns))
            raise StageFailed(f"{database}.{name} has other columns than the sample: missing {lost}, "
                              f"unexpected {extra}" if lost or extra else f"{database}.{name}: columns out of order")
        expected_rows = records - self.summary["duplicates_removed"]
        rows = self._count_rows()
        if rows != expected_rows:
            raise StageFailed(f"{database}.{name} has {rows} rows; expected {expected_rows} "
                              f"({records} in minus {self.summary['duplicates_removed']} duplicates removed)")
        return (f"{database}.{name}: {len(columns)} columns, {rows} rows "
                f"({records} in minus {self.summary['duplicates_removed']} duplicates removed)")

    def cleanup(self) -> str:
        if self.keep:
            return "kept (--keep): " + ", ".join(f"s3://{b}/{k}" for b, k in self.added)
        removed = []
        for bucket, key in self.added:
            self.s3.delete_object(Bucket=bucket, Key=key)
            removed.append(f"s3://{bucket}/{key}")
        return "removed " + ", ".join(removed) if removed else "nothing to remove"

    # --- helpers --------------------------------------------------------------

    def _execution_still_running(self, what: str) -> None:
        described = self.sfn.describe_execution(executionArn=self.execution["executionArn"])
        if described["status"] != "RUNNING":
            self._raise_if_unsuccessful(described, what)

    def _raise_if_unsuccessful(self, described: dict, what: str = "") -> None:
        if described["status"] == "SUCCEEDED" and not what:
            return
        aws = self._failed_task() or ": ".join(x for x in (described.get("error"), described.get("cause")) if x)
        raise StageFailed(what or f"execution {described['status']}", aws=aws or "(no error given)")

    def _failed_task(self) -> str:
        """The last task that failed, from the execution's history: ``<state>: <error>: <cause>``."""
        state, failure = "", ""
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=self.execution["executionArn"])
        for event in (e for page in pages for e in page["events"]):
            if "stateEnteredEventDetails" in event:
                state = event["stateEnteredEventDetails"]["name"]
            details = event.get("taskFailedEventDetails")
            if details:
                failure = ": ".join(x for x in (state, details.get("error"), details.get("cause")) if x)
        return failure

    def _count_rows(self) -> int:
        bucket, prefix = split_s3(self.o["output_uri"])
        rows = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                name = obj["Key"].rsplit("/", 1)[-1]
                if not name or name.startswith(("_", ".")) or name.endswith(_NOT_DATA):
                    continue
                body = self.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                if name.endswith(".parquet"):
                    import pyarrow.parquet as pq

                    rows += pq.ParquetFile(io.BytesIO(body)).metadata.num_rows
                else:
                    rows += max(0, sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8")))) - 1)
        return rows

    def _summary_uri(self) -> tuple[str, str] | None:
        if not self.job_run:
            return None
        bucket, prefix = split_s3(self.o["run_summaries_uri"])
        return bucket, f"{prefix}{self.job_run['Id']}.json"

    # --- the run --------------------------------------------------------------

    def run(self) -> int:
        failed: tuple[str, StageFailed] | None = None
        for stage in ("upload", "trigger", "job", "crawl", "workflow", "table"):
            if not self._stage(stage):
                failed = (stage, self._failure)
                break
        summary = self._summary_uri()
        if summary:
            self.added.append(summary)
        cleaned = self._stage("cleanup")
        if failed:
            stage, error = failed
            self.say(f"FAILED at stage {stage}: {error}" + (f"\n  AWS said: {error.aws}" if error.aws else ""))
            self.say("likely causes:")
            for cause in likely_causes(stage, self.o, self.sqs, error):
                self.say(f"  - {cause}")
            return 1
        if not cleaned:
            self.say("the table is right, but cleanup failed: remove the objects above by hand")
            return 1
        self.say("PASS: the stack works end to end")
        return 0

    def _stage(self, stage: str) -> bool:
        start = self.clock()
        try:
            detail = getattr(self, stage)()
        except StageFailed as error:
            self._failure = error
        except AWS_ERRORS as error:
            self._failure = StageFailed(f"an AWS call failed in stage {stage}", aws=error_text(error))
        else:
            self.say(f"{stage:<8} ok     {self.clock() - start:7.1f} s  {detail}")
            return True
        self.say(f"{stage:<8} FAILED {self.clock() - start:7.1f} s  {self._failure}")
        return False


def _main(args: argparse.Namespace, outputs: dict, out: TextIO) -> int:
    missing = require(outputs, *NEEDED)
    if missing:
        print(f"error: the stack exports no {', '.join(missing)}; run `pulumi up` with this version first",
              file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print("error: --timeout must be a positive number of minutes", file=sys.stderr)
        return 2
    c = clients(region_of(args, outputs), "s3", "stepfunctions", "glue", "sqs")
    return Smoke(outputs, s3=c["s3"], sfn=c["stepfunctions"], glue=c["glue"], sqs=c["sqs"], out=out,
                 keep=args.keep, timeout_minutes=args.timeout).run()


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("smoke", help="upload the sample and follow it to the catalog table",
                              description=__doc__.split("\n\n", 1)[1],
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keep", action="store_true", help="leave the uploaded sample and the run summary in place")
    p.add_argument("--timeout", type=float, default=30, metavar="MINUTES",
                   help="give up after this many minutes in all (default 30)")
    p.set_defaults(func=_main)
    return p
