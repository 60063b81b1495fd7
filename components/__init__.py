"""Reusable Pulumi components of the dedup pipeline; each wires pure builders to resources."""

from components.crawler import Crawler, CrawlerArgs
from components.dedup_job import DedupJob, DedupJobArgs
from components.secure_bucket import SecureBucket, SecureBucketArgs
from components.trail import Trail, TrailArgs
from components.trigger_rule import TriggerRule, TriggerRuleArgs
from components.workflow import Workflow, WorkflowArgs

__all__ = [
    "Crawler",
    "CrawlerArgs",
    "DedupJob",
    "DedupJobArgs",
    "SecureBucket",
    "SecureBucketArgs",
    "Trail",
    "TrailArgs",
    "TriggerRule",
    "TriggerRuleArgs",
    "Workflow",
    "WorkflowArgs",
]
