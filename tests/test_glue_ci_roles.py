"""The CI roles' policies in docs/iam/: linted like the stack's own, and covering what the stack renders.

The preview role must validate a changed state machine (Terraform-based providers call
states:ValidateStateMachineDefinition at plan time); the deploy role must pass each service
role to its service only, and manage the stack's resources by their names.
"""
from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string

from tests.conftest import ACCOUNT, REPO
from tests.iam_eval import Request, allowed

DOCS = REPO / "docs" / "iam"
FILES = ("preview-role-policy.json", "deploy-role-policy.json")


def _policy(name: str) -> dict:
    return json.loads((DOCS / name).read_text().replace("${aws:PrincipalAccount}", ACCOUNT))


@pytest.mark.parametrize("name", FILES)
def test_parliament_finds_nothing(name):
    """Linted as IAM evaluates it (the account variable resolved). The deploy role writes the
    buckets' policies, so parliament's "could grant itself object access through PutBucketPolicy"
    is inherent to it, and accepted for the stack's buckets only."""
    findings = analyze_policy_string(json.dumps(_policy(name))).findings
    stack_buckets = ("arn:aws:s3:::etl-ttt-demo-*", "arn:aws:s3:::trail-logs-*", "arn:aws:s3:::access-logs-*")
    inherent = [f for f in findings if f.issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION"
                and any(b in str(f.detail) for b in stack_buckets)]
    assert [(f.issue, f.detail) for f in findings if f not in inherent] == []


def test_workflow_header_names_both_policies():
    header = [line for line in (REPO / ".github/workflows/infrastructure.yml").read_text().splitlines()
              if line.startswith("#")]
    for name in FILES:
        assert any(f"docs/iam/{name}" in line for line in header), name


def test_preview_and_deploy_may_validate_a_state_machine():
    for name in FILES:
        assert allowed(_policy(name), Request("states:ValidateStateMachineDefinition", "*"))


def test_deploy_passes_each_rendered_role_to_its_own_service_only(dev_stack):
    policy = _policy("deploy-role-policy.json")
    roles = dev_stack.of_type("aws:iam/role:Role")
    assert len(roles) == 4
    services = {"glue.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com", "lambda.amazonaws.com"}
    for role in roles:
        trust = json.loads(role.inputs["assumeRolePolicy"])
        (own,) = {s["Principal"]["Service"] for s in trust["Statement"]}
        for service in services:
            request = Request("iam:PassRole", role.outputs["arn"], (("iam:PassedToService", service),))
            assert allowed(policy, request) is (service == own), (role.outputs["name"], service)
    other = Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Admin", (("iam:PassedToService", "glue.amazonaws.com"),))
    assert not allowed(policy, other)


def test_deploy_manages_the_rendered_named_resources(dev_stack):
    policy = _policy("deploy-role-policy.json")
    region = "eu-west-1"
    job = dev_stack.one("aws:glue/job:Job").inputs["name"]
    crawler = dev_stack.one("aws:glue/crawler:Crawler").inputs["name"]
    database = dev_stack.one("aws:glue/catalogDatabase:CatalogDatabase").inputs["name"]
    machine = dev_stack.one("aws:sfn/stateMachine:StateMachine").outputs["arn"]
    rule = dev_stack.one("aws:cloudwatch/eventRule:EventRule").outputs["arn"]
    bucket = dev_stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]
    glue = f"arn:aws:glue:{region}:{ACCOUNT}"
    needed = [
        Request("glue:UpdateJob", f"{glue}:job/{job}"),
        Request("glue:UpdateCrawler", f"{glue}:crawler/{crawler}"),
        Request("glue:CreateDatabase", f"{glue}:database/{database}"),
        Request("glue:CreateSecurityConfiguration", "*"),
        Request("states:UpdateStateMachine", machine),
        Request("events:PutTargets", rule),
        Request("s3:PutBucketPolicy", f"arn:aws:s3:::{bucket}"),
        Request("s3:PutObject", f"arn:aws:s3:::{bucket}/_pipeline/scripts/glue_jobs/glue_entry.py"),
        *[Request("logs:PutRetentionPolicy", g.outputs["arn"]) for g in dev_stack.of_type("aws:cloudwatch/logGroup:LogGroup")],
    ]
    assert [r.describe() for r in needed if not allowed(policy, r)] == []
    outside = [Request("s3:PutObject", f"arn:aws:s3:::{bucket}/etl-ttt-demo/data_analytics_team_folder/x.csv"),
               Request("glue:DeleteJob", f"{glue}:job/someone-elses-job"),
               Request("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/Admin"),
               Request("kms:ScheduleKeyDeletion", f"arn:aws:kms:{region}:{ACCOUNT}:key/x")]
    assert [r.describe() for r in outside if allowed(policy, r)] == []


def test_deploy_manages_the_access_log_bucket_when_enabled():
    from tests.conftest import render_stack, stack_config

    stack = render_stack({**stack_config("dev"), "dataAccessLogs": True}, stack="dev")
    policy = _policy("deploy-role-policy.json")
    data = stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]
    # The log bucket is auto-named: Pulumi appends 7 random hex characters to the logical name.
    logs = [b for b in stack.of_type("aws:s3/bucket:Bucket") if b.name == "access-logs"]
    assert len(logs) == 1
    needed = [Request("s3:CreateBucket", "arn:aws:s3:::access-logs-0a1b2c3"),
              Request("s3:PutBucketPolicy", "arn:aws:s3:::access-logs-0a1b2c3"),
              Request("s3:PutBucketLogging", f"arn:aws:s3:::{data}")]
    assert [r.describe() for r in needed if not allowed(policy, r)] == []
