"""Physical names: sixty student stacks side by side in one account, every name valid and unique."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from builders import names

ACCOUNT, REGION = "123456789012", "ap-southeast-2"  # a long region name leaves the least room
LIMITS = {
    "data_bucket": names.S3_BUCKET_MAX,
    "database": names.GLUE_NAME_MAX,
    "trail": names.TRAIL_NAME_MAX,
    "crawler": names.GLUE_NAME_MAX,
    "job": names.GLUE_NAME_MAX,
    "state_machine": names.STATE_MACHINE_MAX,
    "rule": names.EVENTBRIDGE_RULE_MAX,
    "glue_job_role": names.IAM_ROLE_MAX,
    "crawler_role": names.IAM_ROLE_MAX,
    "states_role": names.IAM_ROLE_MAX,
    "events_role": names.IAM_ROLE_MAX,
    "security_configuration": names.GLUE_NAME_MAX,
}
CHARSETS = {
    "data_bucket": r"[a-z0-9][a-z0-9-]*[a-z0-9]",
    "database": r"[a-z0-9_]+",
    "rule": r"[.\-_A-Za-z0-9]+",
    "state_machine": r"[A-Za-z0-9_-]+",
    "trail": r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]",
}
ROLE = r"[\w+=,.@-]+"

CLASS = (
    [f"student-{i:02d}" for i in range(1, 61)]
    + ["maria.garcia", "Maria.Garcia", "maria-garcia", "maria_garcia", "Bob_Smith", "bob-smith", "bob.smith"]
    + ["the-data-analytics-team-of-the-northern-region-50", "x" * 50, "x" * 49 + "y", "dev", "prod", "a"]
)


@pytest.fixture(scope="module")
def all_names():
    return {stack: names.physical_names(stack, ACCOUNT, REGION) for stack in CLASS}


def test_every_name_meets_aws_limits(all_names):
    for stack, physical in all_names.items():
        for kind, value in physical.as_dict().items():
            assert len(value) <= LIMITS[kind], (stack, kind, value)
            pattern = CHARSETS.get(kind, ROLE if kind.endswith("role") else r"[A-Za-z0-9_.-]+")
            assert re.fullmatch(pattern, value), (stack, kind, value)
        names.check_bucket_name(physical.data_bucket)


def test_no_two_stacks_share_a_physical_name(all_names):
    for kind in LIMITS:
        counts = Counter(getattr(p, kind) for p in all_names.values())
        assert [n for n, c in counts.items() if c > 1] == [], kind
    # Names AWS compares case-insensitively (role names) are unique ignoring case too.
    roles = Counter(p.events_role.lower() for p in all_names.values())
    assert max(roles.values()) == 1


def test_lab_names_stay_recognisable():
    physical = names.physical_names("student-07", ACCOUNT, "eu-west-1")
    assert physical.job == "ml-lab-notebook-job-student-07"
    assert physical.crawler == "ml-final-crawler-student-07"
    assert physical.state_machine == "findmatches-ML-dedup-workflow-student-07"
    assert physical.rule == "find-matches-rule-student-07"
    assert physical.data_bucket == "etl-ttt-demo-student-07-123456789012-eu-west-1"
    assert physical.database == "glue_ttt_demo_db_student_07"


def test_long_names_are_hashed_not_truncated_into_collisions():
    a = names.physical_names("x" * 50, ACCOUNT, REGION)
    b = names.physical_names("x" * 49 + "y", ACCOUNT, REGION)
    assert a.events_role != b.events_role and len(a.events_role) <= 64


def test_names_are_stable_across_runs():
    assert names.suffixed("AWSEventBridgeInvokeRole-etl-ttt-demo", "Bob_Smith", 64) == (
        "AWSEventBridgeInvokeRole-etl-ttt-demo-bob-smith-" + names.short_hash("Bob_Smith")
    )


@pytest.mark.parametrize("bad", ["", "has space", "slash/stack"])
def test_invalid_stack_names_are_refused(bad):
    with pytest.raises(ValueError, match="stack name"):
        names.physical_names(bad, ACCOUNT, REGION)


@pytest.mark.parametrize("bad", ["Upper", "a..b", "xn--abc", "ends-", "bucket-s3alias", "192.168.1.1"])
def test_bucket_rules(bad):
    with pytest.raises(ValueError, match="S3 bucket name"):
        names.check_bucket_name(bad)
