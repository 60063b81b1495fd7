"""What most likely broke a smoke stage, per stage and trigger source: the checks a person runs next."""

from __future__ import annotations


def _dead_letters(sqs, outputs: dict) -> list[str]:
    """The rule fired but could not start the workflow: its events wait in the dead-letter queue."""
    url = outputs.get("dead_letter_queue_url")
    if not (sqs and url):
        return []
    try:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        count = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    except Exception as error:  # noqa: BLE001 - a hint only; say why it is missing
        return [f"(could not read the dead-letter queue: {error})"]
    if not count:
        return []
    return [f"the dead-letter queue holds {count} event(s): the rule fired but could not start the workflow "
            f"(its role, or the state machine); fix that, then `python -m ops redrive --stack <stack>`"]


def likely_causes(stage: str, outputs: dict, sqs, error: Exception) -> list[str]:
    o = outputs
    bucket = o.get("data_bucket") or o.get("upload_uri", "s3://?/").removeprefix("s3://").split("/", 1)[0]
    rule = o.get("rule_name") or "the stack's rule"
    if stage == "upload":
        return [
            f"your credentials lack s3:PutObject on {o.get('upload_uri')}* (README, 'Smoke test permissions')",
            "with encryption sse-kms: they also need kms:GenerateDataKey on the data key",
            "NoSuchBucket: the outputs are of another stack or region (--stack, --region)",
        ]
    if stage == "trigger":
        causes = _dead_letters(sqs, o)
        if o.get("trigger_source") == "cloudtrail":
            trail = o.get("trail_name") or "the trail"
            causes += [
                f"the trail is not logging: `aws cloudtrail get-trail-status --name {trail}` (IsLogging)",
                f"the trail's data-event selectors do not cover {o.get('upload_uri')} "
                f"(`aws cloudtrail get-event-selectors --trail-name {trail}`)",
                f"the rule is disabled or matches another bucket/folder: `aws events describe-rule --name {rule}`",
                "CloudTrail delivery is best effort and sometimes slower: run again with a longer --timeout",
            ]
        else:
            causes += [
                f"the bucket's EventBridge notifications are off: `aws s3api get-bucket-notification-configuration "
                f"--bucket {bucket}` shows no EventBridgeConfiguration",
                f"the rule is disabled or matches another bucket/folder: `aws events describe-rule --name {rule}`",
            ]
        return causes
    if stage == "job":
        return [
            "the job's error message above says what the run met; its logs are in CloudWatch under "
            f"/aws-glue/jobs/{o.get('job_name')}",
            "a workflow that ended before the job: the execution's error above (the state machine role, "
            "Glue.ConcurrentRunsExceededException after all retries)",
            "an input error: the sample's columns do not match the job's settings file",
        ]
    if stage == "crawl":
        return [
            "the crawler's role may not read the output folder or update the database (last-crawl message above)",
            f"its log stream {o.get('crawler_name')} under /aws-glue/crawlers has the details",
            "a crawl still running when the timeout hit: run again with a longer --timeout",
        ]
    if stage == "workflow":
        return [
            "Read run summary failed: the job did not write <staging>summaries/<job run id>.json "
            f"({o.get('run_summaries_uri')}), or the state machine role may not read it",
            "Announce catalog update failed: the role may put only source etl-ttt-demo.dedup on the default bus",
            "the execution's error and cause above name the state",
        ]
    if stage == "table":
        return [
            f"the crawler named the table otherwise: tables of {o.get('database_name')} start with "
            f"{o.get('table_prefix') or 'ml_final_'}; the stack expects {o.get('table_name')}",
            "another upload's run published its own output meanwhile (row count differs)",
            "an older table with other columns: the crawler merges new columns (MergeNewColumns)",
        ]
    return [str(error)]
