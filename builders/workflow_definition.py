"""The Step Functions definition of the dedup workflow (Amazon States Language). Pure.

    Run dedup job (glue:startJobRun.sync) → Start crawler → Wait → Get crawler
      → READY and last crawl SUCCEEDED: (with ``completion``) read the run summary,
        announce the update on the default bus (events:putEvents) → Succeed
      → READY otherwise: crawl failed
      → still crawling: count the poll, give up after ``max_polls``
    Any failure → Notify failure (SNS) → Fail

Execution input (from the trigger rule): ``{"bucket", "key", "trigger", "eventId", "eventTime"}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from builders.completion_event import DETAIL_TYPE, SOURCE, CompletionEvent, intrinsic_string

JOB_TASK = "Run dedup job"
START_THROTTLED = "Job start throttled?"
COUNT_START = "Count job starts"
FIRST_RESTART = "First job restart"
NEXT_RESTART = "Next job restart"
WAIT_RESTART = "Wait before job restart"
START_FAILED = "Job start failed"
START_CRAWLER = "Start crawler"
INIT_POLL = "Start polling crawler"
WAIT_CRAWL = "Wait for crawl"
GET_CRAWLER = "Get crawler state"
CRAWL_DONE = "Crawl finished?"
COUNT_POLL = "Count poll"
POLL_LIMIT = "Polled too long?"
CRAWL_FAILED = "Crawl failed"
CRAWL_TIMED_OUT = "Crawl timed out"
NOTIFY = "Notify failure"
SUCCEEDED = "Catalog updated"
FAILED = "Dedup workflow failed"
READ_SUMMARY = "Read run summary"
ANNOUNCE = "Announce catalog update"

GLUE_JOB_SYNC = "arn:aws:states:::glue:startJobRun.sync"
GLUE_START_CRAWLER = "arn:aws:states:::aws-sdk:glue:startCrawler"
GLUE_GET_CRAWLER = "arn:aws:states:::aws-sdk:glue:getCrawler"
SNS_PUBLISH = "arn:aws:states:::sns:publish"
S3_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"
EVENTS_PUT = "arn:aws:states:::events:putEvents"


def glue_errors(*names: str) -> list[str]:
    """Step Functions names Glue's errors ``Glue.<Name>``."""
    return [f"Glue.{name}" for name in names]


@dataclass(frozen=True)
class RetryPolicy:
    interval_seconds: int
    max_attempts: int
    backoff_rate: float
    max_delay_seconds: int
    jitter: str = "FULL"
    """FULL: each wait is random between 0 and its backoff (spreads retries); NONE: exactly the backoff."""

    def total_wait_seconds(self) -> float:
        """What all retries together wait: exactly (NONE), or on average (FULL jitter halves it)."""
        backoff = sum(
            min(self.interval_seconds * self.backoff_rate**attempt, self.max_delay_seconds)
            for attempt in range(self.max_attempts)
        )
        return backoff if self.jitter == "NONE" else backoff / 2

    def as_asl(self, errors: list[str]) -> dict:
        return {
            "ErrorEquals": errors,
            "IntervalSeconds": self.interval_seconds,
            "MaxAttempts": self.max_attempts,
            "BackoffRate": self.backoff_rate,
            "MaxDelaySeconds": self.max_delay_seconds,
            "JitterStrategy": self.jitter,
        }


# A burst of ten uploads with one concurrent run allowed: the tenth execution
# waits for nine job runs (a few minutes each). 20 attempts, 60 s doubling,
# capped at 5 min, no jitter (it would halve the wait on average): 92 min in
# all, room for nine 8-minute runs. The executions' own start times spread them.
CONCURRENT_RUNS_RETRY = RetryPolicy(
    interval_seconds=60, max_attempts=20, backoff_rate=2.0, max_delay_seconds=300, jitter="NONE"
)
# Another crawl (a schedule, a person, a second execution) holds the crawler.
CRAWLER_RUNNING_RETRY = RetryPolicy(interval_seconds=30, max_attempts=10, backoff_rate=2.0, max_delay_seconds=300)
# Throttling and transient service errors of any AWS call.
TRANSIENT_RETRY = RetryPolicy(interval_seconds=5, max_attempts=4, backoff_rate=2.0, max_delay_seconds=60)
TRANSIENT_ERRORS = glue_errors("ThrottlingException", "InternalServiceException", "OperationTimeoutException")

# glue:startJobRun.sync reports a throttled StartJobRun as Glue.AWSGlueException,
# the throttling only in the cause: "Rate exceeded (Service: AWSGlue; Status Code:
# 400; Error Code: ThrottlingException; ...)" (AWS Knowledge Center, "Glue
# throttling rate exceeded"). A Retrier can't look at the cause, so the job task
# catches AWSGlueException and a Choice restarts it only when the cause says
# throttling, at most START_THROTTLE_RESTARTS times, each after a random 5-60 s.
# A run that started and failed is States.TaskFailed: never caught here.
START_THROTTLE_ERROR = "Glue.AWSGlueException"
START_THROTTLE_CAUSES = ("*Error Code: ThrottlingException*", "Rate exceeded*")
START_THROTTLE_RESTARTS = 6
START_THROTTLE_WAIT_SECONDS = (5, 60)


@dataclass(frozen=True)
class WorkflowSpec:
    job_name: str
    crawler_name: str
    topic_arn: str
    crawl_timeout_minutes: int = 30
    poll_seconds: int = 30
    source_key_encoding: str = "none"
    """How the trigger writes the key: ``none`` (CloudTrail) or ``url`` (S3 event notifications)."""
    completion: CompletionEvent | None = None
    """Announce each catalog update on the default bus (builders/completion_event.py); ``None``: don't."""
    comment: str = "Deduplicate an uploaded customer file and catalog the result (AWS Glue workshop, Step Functions lab)"

    @property
    def max_polls(self) -> int:
        return max(1, math.ceil(self.crawl_timeout_minutes * 60 / self.poll_seconds))


def _catch_all() -> list[dict]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": NOTIFY}]


def _job_start_restarts() -> dict:
    """The states that restart a throttled job start (see START_THROTTLE_ERROR)."""
    low, high = START_THROTTLE_WAIT_SECONDS
    return {
        START_THROTTLED: {
            "Type": "Choice",
            "Comment": "Only a throttled StartJobRun is started again: no run exists yet",
            "Choices": [
                {
                    "Or": [{"Variable": "$.startError.Cause", "StringMatches": c} for c in START_THROTTLE_CAUSES],
                    "Next": COUNT_START,
                }
            ],
            "Default": START_FAILED,
        },
        COUNT_START: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.startRestarts", "IsPresent": False, "Next": FIRST_RESTART},
                {"Variable": "$.startRestarts.count", "NumericLessThan": START_THROTTLE_RESTARTS, "Next": NEXT_RESTART},
            ],
            "Default": START_FAILED,
        },
        FIRST_RESTART: {
            "Type": "Pass",
            "Parameters": {"count": 1, "wait.$": f"States.MathRandom({low}, {high})"},
            "ResultPath": "$.startRestarts",
            "Next": WAIT_RESTART,
        },
        NEXT_RESTART: {
            "Type": "Pass",
            "Parameters": {
                "count.$": "States.MathAdd($.startRestarts.count, 1)",
                "wait.$": f"States.MathRandom({low}, {high})",
            },
            "ResultPath": "$.startRestarts",
            "Next": WAIT_RESTART,
        },
        WAIT_RESTART: {"Type": "Wait", "SecondsPath": "$.startRestarts.wait", "Next": JOB_TASK},
        START_FAILED: {
            "Type": "Pass",
            "Parameters": {"Error.$": "$.startError.Error", "Cause.$": "$.startError.Cause"},
            "ResultPath": "$.error",
            "Next": NOTIFY,
        },
    }


def build_definition(spec: WorkflowSpec) -> dict:
    """The state machine definition as a dict, ready for ``json.dumps``."""
    crawler = {"Name": spec.crawler_name}
    return {
        "Comment": spec.comment,
        "StartAt": JOB_TASK,
        "States": {
            JOB_TASK: {
                "Type": "Task",
                "Comment": "Deduplicate the uploaded file; .sync waits for the job run to end",
                "Resource": GLUE_JOB_SYNC,
                "Parameters": {
                    "JobName": spec.job_name,
                    "Arguments": {
                        "--source_bucket.$": "$.bucket",
                        "--source_key.$": "$.key",
                        "--source_key_encoding": spec.source_key_encoding,
                    },
                },
                "ResultSelector": {"JobRunId.$": "$.Id", "JobRunState.$": "$.JobRunState"},
                "ResultPath": "$.jobRun",
                # A run that started and failed is States.TaskFailed: not retried.
                "Retry": [
                    CONCURRENT_RUNS_RETRY.as_asl(glue_errors("ConcurrentRunsExceededException")),
                    TRANSIENT_RETRY.as_asl(TRANSIENT_ERRORS),
                ],
                "Catch": [
                    {"ErrorEquals": [START_THROTTLE_ERROR], "ResultPath": "$.startError", "Next": START_THROTTLED},
                    *_catch_all(),
                ],
                "Next": START_CRAWLER,
            },
            **_job_start_restarts(),
            START_CRAWLER: {
                "Type": "Task",
                "Comment": "Catalog the published customers",
                "Resource": GLUE_START_CRAWLER,
                "Parameters": crawler,
                "ResultPath": None,
                "Retry": [
                    CRAWLER_RUNNING_RETRY.as_asl(glue_errors("CrawlerRunningException")),
                    TRANSIENT_RETRY.as_asl(TRANSIENT_ERRORS),
                ],
                "Catch": _catch_all(),
                "Next": INIT_POLL,
            },
            INIT_POLL: {"Type": "Pass", "Result": {"count": 0}, "ResultPath": "$.poll", "Next": WAIT_CRAWL},
            WAIT_CRAWL: {"Type": "Wait", "Seconds": spec.poll_seconds, "Next": GET_CRAWLER},
            GET_CRAWLER: {
                "Type": "Task",
                "Resource": GLUE_GET_CRAWLER,
                "Parameters": crawler,
                "ResultSelector": {"Crawler.$": "$.Crawler"},
                "ResultPath": "$.crawler",
                "Retry": [TRANSIENT_RETRY.as_asl(TRANSIENT_ERRORS)],
                "Catch": _catch_all(),
                "Next": CRAWL_DONE,
            },
            CRAWL_DONE: {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.crawler.Crawler.State", "StringEquals": "READY"},
                            {"Variable": "$.crawler.Crawler.LastCrawl.Status", "IsPresent": True},
                            {"Variable": "$.crawler.Crawler.LastCrawl.Status", "StringEquals": "SUCCEEDED"},
                        ],
                        "Next": READ_SUMMARY if spec.completion else SUCCEEDED,
                    },
                    {"Variable": "$.crawler.Crawler.State", "StringEquals": "READY", "Next": CRAWL_FAILED},
                ],
                "Default": COUNT_POLL,
            },
            COUNT_POLL: {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd($.poll.count, 1)"},
                "ResultPath": "$.poll",
                "Next": POLL_LIMIT,
            },
            POLL_LIMIT: {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.poll.count", "NumericGreaterThanEquals": spec.max_polls, "Next": CRAWL_TIMED_OUT}
                ],
                "Default": WAIT_CRAWL,
            },
            CRAWL_FAILED: {
                "Type": "Pass",
                "Parameters": {
                    "Error": "CrawlFailed",
                    "Cause": "The crawler is READY again but its last crawl did not succeed",
                    "Crawler.$": "$.crawler.Crawler",
                },
                "ResultPath": "$.error",
                "Next": NOTIFY,
            },
            CRAWL_TIMED_OUT: {
                "Type": "Pass",
                "Parameters": {
                    "Error": "CrawlTimedOut",
                    "Cause": f"The crawl did not finish within {spec.crawl_timeout_minutes} minutes",
                    "Crawler.$": "$.crawler.Crawler",
                },
                "ResultPath": "$.error",
                "Next": NOTIFY,
            },
            NOTIFY: {
                "Type": "Task",
                "Comment": "Tell a person: which execution, which file, what went wrong",
                "Resource": SNS_PUBLISH,
                "Parameters": {
                    "TopicArn": spec.topic_arn,
                    "Subject": "Dedup workflow failed",
                    "Message": {
                        "execution.$": "$$.Execution.Id",
                        "stateMachine.$": "$$.StateMachine.Name",
                        "input.$": "$$.Execution.Input",
                        "error.$": "$.error",
                    },
                },
                "ResultPath": None,
                "Retry": [TRANSIENT_RETRY.as_asl(["SNS.ThrottledException", "SNS.InternalErrorException"])],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.notifyError", "Next": FAILED}],
                "Next": FAILED,
            },
            **(_completion_states(spec.completion, spec.source_key_encoding) if spec.completion else {}),
            SUCCEEDED: {"Type": "Succeed"},
            FAILED: {
                "Type": "Fail",
                "Error": "DedupWorkflowFailed",
                "Cause": "See the failure notification and the execution history",
            },
        },
    }


def _completion_states(c: CompletionEvent, key_encoding: str) -> dict:
    """Read the job's run summary, then put one event on the bus (after the catalog is updated)."""
    return {
        READ_SUMMARY: {
            "Type": "Task",
            "Comment": "The counts the job wrote: <staging>summaries/<job run id>.json",
            "Resource": S3_GET_OBJECT,
            "Parameters": {
                "Bucket": c.bucket,
                "Key.$": f"States.Format({intrinsic_string(c.summary_prefix)[:-1]}{{}}.json', $.jobRun.JobRunId)",
            },
            # Step Functions returns the object's Body as a string.
            "ResultSelector": {"summary.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.run",
            # Read-only, so a retry is harmless; S3 is strongly consistent, a missing summary stays missing.
            "Retry": [TRANSIENT_RETRY.as_asl(["States.TaskFailed"])],
            "Catch": _catch_all(),
            "Next": ANNOUNCE,
        },
        ANNOUNCE: {
            "Type": "Task",
            "Comment": "Tell downstream rules the table is updated (once: only an entry EventBridge refused is retried)",
            "Resource": EVENTS_PUT,
            "Parameters": {
                "Entries": [
                    {
                        "EventBusName": c.event_bus_arn,
                        "Source": SOURCE,
                        "DetailType": DETAIL_TYPE,
                        "Detail": {
                            "bucket.$": "$.bucket",
                            "key.$": "$.key",
                            "keyEncoding": key_encoding,
                            "database": c.database,
                            "table": c.table,
                            "recordsIn.$": "$.run.summary.records_in",
                            "clusters.$": "$.run.summary.clusters",
                            "duplicatesRemoved.$": "$.run.summary.duplicates_removed",
                            "jobRunId.$": "$.jobRun.JobRunId",
                            "executionArn.$": "$$.Execution.Id",
                        },
                    }
                ]
            },
            "ResultSelector": {"entries.$": "$.Entries"},
            "ResultPath": "$.completionEvent",
            # A refused entry (EventBridge.FailedEntry) was not put: retrying it cannot put it twice.
            # Other errors are not retried: the first put may have landed.
            "Retry": [TRANSIENT_RETRY.as_asl(["EventBridge.FailedEntry"])],
            "Catch": _catch_all(),
            "Next": SUCCEEDED,
        },
    }


def service_calls(definition: dict) -> set[tuple[str, str]]:
    """The (service, API action) pairs the definition's Task states call, e.g. ``("glue", "StartCrawler")``.

    Derived from the definition itself, so a role test can check the role grants
    what the definition really calls.
    """
    calls: set[tuple[str, str]] = set()
    for state in definition["States"].values():
        resource = state.get("Resource", "")
        if state.get("Type") != "Task" or not resource.startswith("arn:aws:states:::"):
            continue
        integration = resource.removeprefix("arn:aws:states:::")
        if integration.startswith("aws-sdk:"):
            _, service, action = integration.split(":", 2)
            calls.add((service, action[0].upper() + action[1:]))
        else:
            service, action = integration.split(":", 1)
            sync = action.endswith(".sync")
            action = action.removesuffix(".sync")
            calls.add((service, action[0].upper() + action[1:]))
            if service == "glue" and action == "startJobRun" and sync:
                # What Step Functions itself calls to wait for and stop the run (AWS docs).
                calls |= {("glue", "GetJobRun"), ("glue", "GetJobRuns"), ("glue", "BatchStopJobRun")}
    return calls
