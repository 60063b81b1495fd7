"""``python -m ops redrive --stack NAME [--failed-since WHEN] [--dry-run]``

1. Every event in the trigger's dead-letter queue is handed to the workflow again,
   with the input the rule's input transformer would have given
   (``builders.event_patterns.target_input``). A message is deleted only once its
   execution started (or an earlier one for the same upload did).
2. With ``--failed-since``, executions that failed, timed out or were aborted since
   WHEN are redriven with Step Functions' RedriveExecution (from the failed state on;
   the job is not re-run if it had succeeded).

Safe to run twice. An upload whose trigger event already has a succeeded or running
execution is not processed again (same ``eventId``, or same bucket, key and event
time). A dead letter starts an execution named ``redrive-<eventId>``: Step Functions
refuses a second execution of that name for 90 days, so even two redrives at once
start it once. ``--dry-run`` lists what would be done and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, TextIO

from builders.event_patterns import target_input
from ops.aws import AWS_ERRORS, clients, error_code, error_text, execution_input, executions, region_of, same_upload
from ops.stack_outputs import require

UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "ABORTED")
REDRIVE_WINDOW = timedelta(days=14)  # RedriveExecution: executions started within the last 14 days
_DURATION = re.compile(r"^(\d+)([mhd])$")


class UsageError(ValueError):
    pass


def parse_since(text: str, now: datetime) -> datetime:
    """``90m``, ``6h``, ``2d`` ago, or an ISO 8601 date/time (UTC unless it says otherwise)."""
    match = _DURATION.match(text.strip())
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return now - timedelta(**{unit: int(match[1])})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--failed-since {text!r}: give a duration (90m, 6h, 2d) or an ISO date/time "
                         "(2026-11-28 or 2026-11-28T09:00:00Z)") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def apply_input_transformer(event: dict, input_paths: dict[str, str], template: str) -> dict:
    """What EventBridge's input transformer makes of ``event``: each ``<name>`` of the template
    replaced by the JSON value at its path (``$.a.b``); a path that isn't there gives null."""
    text = template
    for name, path in input_paths.items():
        value: object = event
        for part in path.removeprefix("$.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        text = text.replace(f"<{name}>", json.dumps(value))
    return json.loads(text)


def execution_name(event_id: str) -> str:
    """``redrive-<eventId>``: letters, digits, '-' and '_' only, at most 80 characters."""
    return ("redrive-" + re.sub(r"[^A-Za-z0-9_-]", "-", event_id))[:80]


def _where(upload: dict) -> str:
    return f"s3://{upload.get('bucket')}/{upload.get('key')}"


@dataclass
class Tally:
    started: int = 0
    skipped: int = 0
    failed: int = 0


class Redrive:
    def __init__(self, sqs, sfn, outputs: dict, *, dry_run: bool, out: TextIO,
                 now: Callable[[], datetime], wait_seconds: int = 2):
        self.sqs, self.sfn, self.out, self.now = sqs, sfn, out, now
        self.dry_run, self.wait_seconds = dry_run, wait_seconds
        self.machine = outputs["state_machine_arn"]
        self.queue_url = outputs["dead_letter_queue_url"]
        self.input_paths, self.template = target_input(outputs["trigger_source"])
        self.tally = Tally()
        self._processed: list[tuple[dict, dict]] | None = None

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def processed(self) -> list[tuple[dict, dict]]:
        """``(execution, input)`` of every succeeded or running execution within the redrive window."""
        if self._processed is None:
            since = self.now() - REDRIVE_WINDOW
            self._processed = [
                (execution, execution_input(self.sfn, execution["executionArn"])[1])
                for status in ("SUCCEEDED", "RUNNING")
                for execution in executions(self.sfn, self.machine, status=status, started_since=since)
            ]
        return self._processed

    def already(self, upload: dict) -> dict | None:
        return next((e for e, seen in self.processed() if same_upload(upload, seen)), None)

    # --- the dead-letter queue ------------------------------------------------

    def dead_letters(self) -> None:
        seen: set[str] = set()
        self.say(f"dead-letter queue {self.queue_url}")
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds,
                # A dry run only looks: the messages stay visible to others.
                VisibilityTimeout=0 if self.dry_run else 300, MessageAttributeNames=["All"],
            ).get("Messages", [])
            new = [m for m in batch if m["MessageId"] not in seen]
            if not new:
                break
            for message in new:
                seen.add(message["MessageId"])
                self.dead_letter(message)
        if not seen:
            self.say("  empty")

    def dead_letter(self, message: dict) -> None:
        try:
            event = json.loads(message["Body"])
            if not isinstance(event, dict) or "detail" not in event:
                raise ValueError
        except ValueError:
            self.say(f"  left     message {message['MessageId']}: not an EventBridge event; look at it by hand")
            self.tally.failed += 1
            return
        upload = apply_input_transformer(event, self.input_paths, self.template)
        reason = message.get("MessageAttributes", {}).get("ERROR_CODE", {}).get("StringValue")
        why = f" (parked: {reason})" if reason else ""
        done = self.already(upload)
        if done:
            self.say(f"  skip     {_where(upload)}{why}: already {done['status']} as {done['executionArn']}"
                     + ("; would delete the message" if self.dry_run else "; message deleted"))
            self.tally.skipped += 1
            self._delete(message)
            return
        name = execution_name(str(upload.get("eventId") or message["MessageId"]))
        if self.dry_run:
            self.say(f"  would start {name} for {_where(upload)}{why}")
            self.tally.started += 1
            return
        try:
            started = self.sfn.start_execution(stateMachineArn=self.machine, name=name, input=json.dumps(upload))
        except AWS_ERRORS as error:
            if error_code(error) != "ExecutionAlreadyExists":
                self.say(f"  FAILED   {_where(upload)}: {error_text(error)}; message kept")
                self.tally.failed += 1
                return
            arn = self.machine.replace(":stateMachine:", ":execution:") + f":{name}"
            status = self.sfn.describe_execution(executionArn=arn)["status"]
            self.say(f"  skip     {_where(upload)}: already started as {arn} ({status}); message deleted"
                     + ("; redrive it with --failed-since" if status in UNSUCCESSFUL else ""))
            self.tally.skipped += 1
            self._delete(message)
            return
        self.say(f"  started  {_where(upload)}{why} as {started['executionArn']}; message deleted")
        self.tally.started += 1
        self._processed = None
        self._delete(message)

    def _delete(self, message: dict) -> None:
        if not self.dry_run:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    # --- failed executions ----------------------------------------------------

    def failed_executions(self, since: datetime) -> None:
        self.say(f"executions failed, timed out or aborted since {since.isoformat(timespec='seconds')}")
        found = [
            e for status in UNSUCCESSFUL
            for e in executions(self.sfn, self.machine, status=status, started_since=since - REDRIVE_WINDOW)
            # AWS gives every closed execution a stopDate; should one lack it, its start decides.
            if (e.get("stopDate") or e["startDate"]) >= since
        ]
        for execution in sorted(found, key=lambda e: e.get("stopDate") or e["startDate"]):
            self.failed_execution(execution)
        if not found:
            self.say("  none")

    def failed_execution(self, execution: dict) -> None:
        arn = execution["executionArn"]
        described, upload = execution_input(self.sfn, arn)
        done = self.already(upload)
        if done:
            self.say(f"  skip     {arn} ({_where(upload)}): processed since by {done['executionArn']} ({done['status']})")
            self.tally.skipped += 1
            return
        if described.get("redriveStatus") == "NOT_REDRIVABLE":
            self.say(f"  cannot   {arn}: {described.get('redriveStatusReason', 'not redrivable')}")
            self.tally.failed += 1
            return
        if self.dry_run:
            self.say(f"  would redrive {arn} ({execution['status']}, {_where(upload)})")
            self.tally.started += 1
            return
        try:
            self.sfn.redrive_execution(executionArn=arn)
        except AWS_ERRORS as error:
            self.say(f"  FAILED   {arn}: {error_text(error)}")
            self.tally.failed += 1
            return
        self.say(f"  redriven {arn} ({_where(upload)})")
        self.tally.started += 1


def run(outputs: dict, *, sqs, sfn, out: TextIO, dry_run: bool = False, failed_since: datetime | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc), wait_seconds: int = 2) -> int:
    redrive = Redrive(sqs, sfn, outputs, dry_run=dry_run, out=out, now=now, wait_seconds=wait_seconds)
    try:
        redrive.dead_letters()
        if failed_since is not None:
            redrive.failed_executions(failed_since)
    except AWS_ERRORS as error:
        print(f"redrive stopped: {error_text(error)}", file=out)
        return 1
    t = redrive.tally
    verb = "would start or redrive" if dry_run else "started or redriven"
    print(f"{t.started} {verb}, {t.skipped} already processed, {t.failed} failed", file=out)
    return 1 if t.failed else 0


def _main(args: argparse.Namespace, outputs: dict, out: TextIO) -> int:
    missing = require(outputs, "state_machine_arn", "dead_letter_queue_url", "trigger_source")
    if missing:
        print(f"error: the stack exports no {', '.join(missing)}; run `pulumi up` with this version first",
              file=sys.stderr)
        return 2
    now = datetime.now(timezone.utc)
    try:
        since = parse_since(args.failed_since, now) if args.failed_since else None
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    c = clients(region_of(args, outputs), "sqs", "stepfunctions")
    return run(outputs, sqs=c["sqs"], sfn=c["stepfunctions"], out=out, dry_run=args.dry_run, failed_since=since)


def register(subparsers) -> argparse.ArgumentParser:
    doc = __doc__.split("\n\n", 1)[1]
    p = subparsers.add_parser("redrive", help="hand dead-lettered uploads and failed runs to the workflow again",
                              description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--failed-since", metavar="WHEN",
                   help="also redrive executions that failed since WHEN (90m, 6h, 2d, or an ISO date/time)")
    p.add_argument("--dry-run", action="store_true", help="list what would be done; change nothing")
    p.set_defaults(func=_main)
    return p
