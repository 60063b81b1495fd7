"""``python -m ops policy --stack NAME [--command smoke|redrive]``: the exact IAM policy a person
needs to run that command on that stack, from the stack's outputs (attach it to the
person's role or user; parliament lints it in the tests).

With SSE-KMS data (``encryption: sse-kms``), smoke also needs ``kms:GenerateDataKey`` and
``kms:Decrypt`` on the data key, which the outputs don't name: add them by hand.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TextIO

from builders.policies import allow, document
from ops.smoke import split_s3
from ops.stack_outputs import require

_SMOKE = ("upload_uri", "output_uri", "run_summaries_uri", "state_machine_arn", "job_name", "crawler_name",
          "database_name", "table_name")
_REDRIVE = ("state_machine_arn", "dead_letter_queue_url")


def _context(outputs: dict) -> dict:
    partition, region, account, machine = re.fullmatch(
        r"arn:([^:]+):states:([^:]+):(\d{12}):stateMachine:(.+)", outputs["state_machine_arn"]).groups()
    glue = f"arn:{partition}:glue:{region}:{account}"
    queue = outputs.get("dead_letter_queue_url", "").rstrip("/").rsplit("/", 1)[-1]
    return {
        "machine": outputs["state_machine_arn"],
        "executions": f"arn:{partition}:states:{region}:{account}:execution:{machine}:*",
        "glue": glue,
        "queue": f"arn:{partition}:sqs:{region}:{account}:{queue}" if queue else "",
        "s3": f"arn:{partition}:s3:::",
    }


def smoke_policy(outputs: dict) -> dict:
    c = _context(outputs)
    bucket, watched = split_s3(outputs["upload_uri"])
    _, output = split_s3(outputs["output_uri"])
    _, summaries = split_s3(outputs["run_summaries_uri"])
    database, table = outputs["database_name"], outputs["table_name"]
    objects = f"{c['s3']}{bucket}/"
    statements = [
        # PutObject also authorizes the multipart calls `aws s3 cp` makes above 8 MB.
        allow("UploadSample", ["s3:PutObject"], f"{objects}{watched}smoke-*"),
        allow("RemoveSampleAndRunSummary", ["s3:DeleteObject"], [f"{objects}{watched}smoke-*", f"{objects}{summaries}*"]),
        allow("ReadPublishedCustomers", ["s3:GetObject"], f"{objects}{output}*"),
        allow("ListPublishedCustomers", ["s3:ListBucket"], f"{c['s3']}{bucket}",
              {"StringLike": {"s3:prefix": [f"{output}*"]}}),
        allow("FindExecution", ["states:ListExecutions"], c["machine"]),
        allow("FollowExecution", ["states:DescribeExecution", "states:GetExecutionHistory"], c["executions"]),
        allow("FollowJobRun", ["glue:GetJobRun", "glue:GetJobRuns"], f"{c['glue']}:job/{outputs['job_name']}"),
        allow("FollowCrawl", ["glue:GetCrawler"], f"{c['glue']}:crawler/{outputs['crawler_name']}"),
        allow("CheckTable", ["glue:GetTable"], [f"{c['glue']}:catalog", f"{c['glue']}:database/{database}",
                                                f"{c['glue']}:table/{database}/{table}"]),
    ]
    if c["queue"]:
        statements.append(allow("HintDeadLetters", ["sqs:GetQueueAttributes"], c["queue"]))
    return document(*statements)


def redrive_policy(outputs: dict) -> dict:
    c = _context(outputs)
    return document(
        allow("ReadAndDeleteDeadLetters", ["sqs:ReceiveMessage", "sqs:DeleteMessage"], c["queue"]),
        allow("StartAndListExecutions", ["states:StartExecution", "states:ListExecutions"], c["machine"]),
        allow("ReadAndRedriveExecutions", ["states:DescribeExecution", "states:RedriveExecution"], c["executions"]),
    )


POLICIES = {"smoke": (smoke_policy, _SMOKE), "redrive": (redrive_policy, _REDRIVE)}


def _main(args: argparse.Namespace, outputs: dict, out: TextIO) -> int:
    build, needed = POLICIES[args.command_name]
    missing = require(outputs, *needed)
    if missing:
        import sys

        print(f"error: the stack exports no {', '.join(missing)}; run `pulumi up` with this version first",
              file=sys.stderr)
        return 2
    print(json.dumps(build(outputs), indent=2), file=out)
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("policy", help="print the IAM policy the smoke or redrive command needs",
                              description=__doc__.split("\n\n", 1)[1])
    p.add_argument("--command", dest="command_name", choices=sorted(POLICIES), default="smoke")
    p.set_defaults(func=_main)
    return p
