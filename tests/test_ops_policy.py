"""The IAM policies ``python -m ops policy`` prints, linted by parliament, and checked against what
the commands call on moto (a call the policy doesn't cover fails the test)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import parliament
import pytest
from parliament import analyze_policy_string

from ops import cli
from ops.policy import redrive_policy, smoke_policy

OUTPUTS = {
    "upload_uri": "s3://etl-ttt-demo-dev-123456789012-eu-west-1/etl-ttt-demo/data_analytics_team_folder/",
    "output_uri": "s3://etl-ttt-demo-dev-123456789012-eu-west-1/etl-ttt-demo/output/data_analytics_team_folder/top-customers/",
    "run_summaries_uri": "s3://etl-ttt-demo-dev-123456789012-eu-west-1/etl-ttt-demo/output/data_analytics_team_folder/top-customers-staging/summaries/",
    "state_machine_arn": "arn:aws:states:eu-west-1:123456789012:stateMachine:findmatches-ML-dedup-workflow-dev",
    "job_name": "ml-lab-notebook-job-dev", "crawler_name": "ml-final-crawler-dev",
    "database_name": "glue_ttt_demo_db_dev", "table_name": "ml_final_top_customers",
    "dead_letter_queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/trigger-dead-letters-1234567",
}


_IAM = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())


def _alternatives(action: str) -> list[re.Pattern]:
    """ARN patterns of the action's starred resource types, from parliament's own database."""
    prefix, name = action.split(":")
    (service,) = [s for s in _IAM if s["prefix"] == prefix]
    (privilege,) = [p for p in service["privileges"] if p["privilege"] == name]
    starred = {r["resource_type"].rstrip("*").lower() for r in privilege["resource_types"] if r["resource_type"].endswith("*")}
    return [re.compile(re.sub(r"\\\$\\\{[^}]+\\\}", ".+", re.escape(r["arn"])) + "$")
            for r in service["resources"] if r["resource"].lower() in starred]


def _findings(policy: dict) -> list[str]:
    """parliament's findings, less one false positive: where AWS lists two starred resource types for an
    action (states:ListExecutions: a state machine or a map run), they are alternatives (Service
    Authorization Reference), but parliament requires the resource to be both."""
    kept = []
    for finding in analyze_policy_string(json.dumps(policy)).findings:
        if finding.issue == "RESOURCE_MISMATCH" and len(finding.detail) == 1:
            action = finding.detail[0]["action"]
            resources = [r for st in policy["Statement"] if action in st["Action"]
                         for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])]
            patterns = _alternatives(action)
            if len(patterns) > 1 and all(any(p.match(r) for p in patterns) for r in resources):
                continue
        kept.append(f"{finding.issue} {finding.detail}")
    return kept


@pytest.mark.parametrize("build", [smoke_policy, redrive_policy])
def test_parliament_finds_nothing(build):
    assert _findings(build(OUTPUTS)) == []


def test_the_filter_keeps_a_real_resource_mismatch():
    wrong = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["states:ListExecutions"], "Resource": "arn:aws:sqs:eu-west-1:123456789012:q"}]}
    assert _findings(wrong)


def _grants(policy: dict) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for s in policy["Statement"]:
        for action in s["Action"]:
            granted.setdefault(action, set()).update(s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    return granted


def test_smoke_may_write_only_its_own_sample_and_the_run_summaries():
    granted = _grants(smoke_policy(OUTPUTS))
    bucket = "arn:aws:s3:::etl-ttt-demo-dev-123456789012-eu-west-1/"
    assert granted["s3:PutObject"] == {f"{bucket}etl-ttt-demo/data_analytics_team_folder/smoke-*"}
    assert granted["s3:DeleteObject"] == {
        f"{bucket}etl-ttt-demo/data_analytics_team_folder/smoke-*",
        f"{bucket}etl-ttt-demo/output/data_analytics_team_folder/top-customers-staging/summaries/*"}
    assert not [a for a in granted if a.endswith("*") or a.split(":")[1].startswith(("Create", "Update", "Put"))
                and a != "s3:PutObject"]
    assert granted["glue:GetTable"] >= {
        "arn:aws:glue:eu-west-1:123456789012:table/glue_ttt_demo_db_dev/ml_final_top_customers"}


def test_redrive_policy():
    granted = _grants(redrive_policy(OUTPUTS))
    assert granted["sqs:DeleteMessage"] == {"arn:aws:sqs:eu-west-1:123456789012:trigger-dead-letters-1234567"}
    assert granted["states:RedriveExecution"] == {
        "arn:aws:states:eu-west-1:123456789012:execution:findmatches-ML-dedup-workflow-dev:*"}


def test_cli_prints_it(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    out = io.StringIO()
    assert cli.main(["policy", "--stack", "dev", "--outputs", str(path), "--command", "redrive"], out=out) == 0
    assert json.loads(out.getvalue()) == redrive_policy(OUTPUTS)
