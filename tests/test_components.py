"""Each component alone, twice in one stack: children are named from the component, so two never collide."""

from __future__ import annotations

import json

import pytest
from conftest import assert_provider_names, render_component

from builders.arns import Arns
from builders.layout import bucket_layout
from components import (
    Crawler,
    CrawlerArgs,
    DedupJob,
    DedupJobArgs,
    SecureBucket,
    SecureBucketArgs,
    Trail,
    TrailArgs,
    TriggerRule,
    TriggerRuleArgs,
    Workflow,
    WorkflowArgs,
)
from components.encryption import EncryptionRefs

ARNS = Arns("aws", "eu-west-1", "123456789012")
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LAYOUT = bucket_layout("in/", "out/")
KEYS = EncryptionRefs(key_arn=KEY, data_key_arn=None, security_configuration="sc-12345678")


def _crawler(n):
    return Crawler(n, CrawlerArgs(f"crawler-{n}", f"role-{n}", ARNS, "bucket-x", LAYOUT, "db", "db", KEYS))


def _job(n):
    return DedupJob(
        n,
        DedupJobArgs(f"job-{n}", f"role-{n}", ARNS, "bucket-x", LAYOUT, KEYS, job_engine="auto", output_format="csv", dedup_mode="replace",
                     model_choice="auto", model_object_key="", labels_object_key="", worker_type="G.1X", workers=2, timeout_minutes=60, max_concurrent_runs=1,
                     execution_class="STANDARD", log_retention_days=30),
    )


def _workflow(n):
    return Workflow(n, WorkflowArgs(f"sm-{n}", f"role-{n}", ARNS, f"job-{n}", f"crawler-{n}", KEYS,
                                    crawl_timeout_minutes=30, source_key_encoding="none", log_level="ERROR",
                                    log_retention_days=30, notification_email="", completion=None))


def _trail(n):
    return Trail(n, TrailArgs(f"trail-{n}", ARNS, [f"arn:aws:s3:::bucket-x/in-{n}/"], log_expiration_days=90,
                              force_destroy=False))


def _rule(n):
    return TriggerRule(
        n,
        TriggerRuleArgs(
            f"rule-{n}", f"role-{n}", ARNS, "cloudtrail", "bucket-x", "in/",
            f"arn:aws:states:eu-west-1:123456789012:stateMachine:sm-{n}",
            max_event_age_seconds=3600, retry_attempts=8, alarm_topic_arn=None,
        ),
    )


def _bucket(n):
    return SecureBucket(n, SecureBucketArgs())


@pytest.mark.parametrize("make", [_crawler, _job, _workflow, _trail, _rule, _bucket])
def test_two_instances_share_a_stack(make):
    stack = render_component(lambda: [make("first"), make("second")])
    children = [r for r in stack.resources if not r.typ.startswith(("etl-ttt-demo:", "pulumi:"))]
    assert children, "the component created nothing"
    first = [r.name for r in children if r.name.startswith("first")]
    second = [r.name for r in children if r.name.startswith("second")]
    assert len(first) == len(second) == len(children) / 2, "a child is not named from its component"
    assert len({(r.typ, r.name) for r in children}) == len(children)


def test_secure_bucket_defaults_are_the_secure_ones():
    stack = render_component(lambda: _bucket("b"))
    pab = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert stack.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"
    }
    (rule,) = stack.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    policy = json.loads(stack.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert stack.one("aws:s3/bucket:Bucket").inputs.get("forceDestroy", False) is False
    (lifecycle,) = stack.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert lifecycle["abortIncompleteMultipartUpload"]["daysAfterInitiation"] > 0
    assert lifecycle["noncurrentVersionExpiration"]["noncurrentDays"] > 0


def test_job_runs_on_the_one_glue_version_with_no_findmatches_transform():
    from glue_jobs import contract

    stack = render_component(lambda: _job("s"))
    assert stack.of_type("aws:glue/mLTransform:MLTransform") == []
    job = stack.one("aws:glue/job:Job")
    assert job.inputs["glueVersion"] == contract.GLUE_VERSION == "5.0"
    assert "--matcher" not in job.inputs["defaultArguments"]
    assert_provider_names(stack)
