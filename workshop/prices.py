"""Every price the cost estimate assumes, in one place, with where and when.

These are AWS list prices (on-demand, us-east-1 / eu-west-1, which charge the
same for these items) as transcribed for this estimate. They are assumptions,
not a quote: AWS changes prices, other regions differ, free tiers and credits
are ignored. Check the AWS pricing pages before you promise a budget.
"""

from __future__ import annotations

PRICES_AS_OF = "2026-11-27"
PRICES_REGIONS = "us-east-1 / eu-west-1"
PRICES_SOURCE = "AWS public pricing pages (CloudTrail, Glue, Step Functions, S3, CloudWatch, KMS), transcribed; not re-checked"

CLOUDTRAIL_DATA_EVENTS_PER_100K = 0.10
"""USD per 100,000 data events delivered by a trail."""
GLUE_DPU_HOUR_STANDARD = 0.44
GLUE_DPU_HOUR_FLEX = 0.29
GLUE_JOB_MINIMUM_MINUTES = 1.0
"""Glue 2.0 and later bill per second with a 1-minute minimum per job run."""
GLUE_CRAWLER_DPU_HOUR = 0.44
GLUE_CRAWLER_MINIMUM_MINUTES = 10.0
"""Crawlers bill per second with a 10-minute minimum per crawl."""
STEP_FUNCTIONS_PER_1K_TRANSITIONS = 0.025
"""Standard workflows, USD per 1,000 state transitions (free tier ignored)."""
S3_PUT_PER_1K = 0.005
"""PUT, COPY, POST, LIST requests, S3 Standard."""
S3_GET_PER_1K = 0.0004
S3_STORAGE_GB_MONTH = 0.023
CLOUDWATCH_LOGS_INGEST_PER_GB = 0.50
KMS_KEY_MONTH = 1.00
"""Each customer managed key, prorated hourly; every student stack has one."""
CLOUDWATCH_ALARM_MONTH = 0.10
"""Standard-resolution metric alarm, per alarm-month, prorated."""
SNS_SQS = 0.0
"""A handful of SNS/SQS requests per run: below a cent, counted as zero."""

# The Glue worker types and the DPUs each one is billed as.
DPU_PER_WORKER = {"G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}

ALL = {
    "CloudTrail data events, per 100,000": CLOUDTRAIL_DATA_EVENTS_PER_100K,
    "Glue job DPU-hour, STANDARD": GLUE_DPU_HOUR_STANDARD,
    "Glue job DPU-hour, FLEX": GLUE_DPU_HOUR_FLEX,
    "Glue job minimum billed minutes per run": GLUE_JOB_MINIMUM_MINUTES,
    "Glue crawler DPU-hour": GLUE_CRAWLER_DPU_HOUR,
    "Glue crawler minimum billed minutes per crawl": GLUE_CRAWLER_MINIMUM_MINUTES,
    "Step Functions Standard, per 1,000 state transitions": STEP_FUNCTIONS_PER_1K_TRANSITIONS,
    "S3 PUT/COPY/LIST, per 1,000 requests": S3_PUT_PER_1K,
    "S3 GET, per 1,000 requests": S3_GET_PER_1K,
    "S3 Standard storage, per GB-month": S3_STORAGE_GB_MONTH,
    "CloudWatch Logs ingestion, per GB": CLOUDWATCH_LOGS_INGEST_PER_GB,
    "KMS customer managed key, per month": KMS_KEY_MONTH,
    "CloudWatch metric alarm, per month": CLOUDWATCH_ALARM_MONTH,
    "SNS / SQS (a few requests per run)": SNS_SQS,
}
