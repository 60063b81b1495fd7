"""AWS plumbing shared by the commands: clients, verbatim errors, executions and their inputs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterator

import boto3
from botocore.exceptions import BotoCoreError, ClientError

AWS_ERRORS = (ClientError, BotoCoreError)


def clients(region: str | None, *services: str) -> dict[str, Any]:
    session = boto3.session.Session(region_name=region)
    return {service: session.client(service) for service in services}


def region_of(args, outputs: dict) -> str | None:
    return getattr(args, "region", None) or outputs.get("region") or None


def error_text(error: Exception) -> str:
    """The AWS error as AWS gave it: ``Code: message`` for service errors, botocore's text otherwise."""
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": ")
    return str(error)


def error_code(error: Exception) -> str:
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


def executions(sfn, state_machine_arn: str, *, status: str | None = None,
               started_since: datetime | None = None) -> Iterator[dict]:
    """The state machine's executions, newest first, down to ``started_since``."""
    kwargs = {"stateMachineArn": state_machine_arn, **({"statusFilter": status} if status else {})}
    for page in sfn.get_paginator("list_executions").paginate(**kwargs):
        for execution in page["executions"]:
            if started_since and execution["startDate"] < started_since:
                return
            yield execution


def execution_input(sfn, execution_arn: str) -> tuple[dict, dict]:
    """``(description, input)`` of an execution; an input that isn't a JSON object reads as ``{}``."""
    described = sfn.describe_execution(executionArn=execution_arn)
    try:
        data = json.loads(described.get("input") or "{}")
    except json.JSONDecodeError:
        data = {}
    return described, data if isinstance(data, dict) else {}


def same_upload(a: dict, b: dict) -> bool:
    """Two workflow inputs describe the same upload: the same trigger event, or the same write
    (bucket, key and event time) delivered twice as two events."""
    if a.get("eventId") and a.get("eventId") == b.get("eventId"):
        return True
    keys = ("bucket", "key", "eventTime")
    return all(a.get(k) for k in keys) and all(a.get(k) == b.get(k) for k in keys)
