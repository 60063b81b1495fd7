"""The thin adapters: reading usage and quotas from AWS (moto), and the real backend's
pre-checks. The Automation API calls themselves need the pulumi CLI and are not run here."""

from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws

from workshop import aws_quotas, backend
from workshop.plan import StackSpec
from workshop.preflight import QUOTAS, ClassShape, preflight

REGION = "eu-west-1"


@mock_aws
def test_usage_is_counted_from_the_account():
    session = boto3.Session(region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    s3 = session.client("s3")
    for name in ("logs-a", "logs-b", "data-c"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    trails = session.client("cloudtrail")
    trails.create_trail(Name="one", S3BucketName="logs-a")
    trails.create_trail(Name="two", S3BucketName="logs-b")
    events = session.client("events")
    for i in range(3):
        events.put_rule(Name=f"rule-{i}", EventPattern='{"source": ["aws.s3"]}')
    iam = session.client("iam")
    for i in range(2):
        iam.create_role(RoleName=f"role-{i}", AssumeRolePolicyDocument="{}")
    glue = session.client("glue")
    glue.create_job(Name="job", Role="role-0", Command={"Name": "glueetl", "ScriptLocation": "s3://data-c/x.py"})
    glue.create_crawler(Name="crawler", Role="role-0", Targets={"S3Targets": [{"Path": "s3://data-c/"}]})

    usage = aws_quotas.read_usage(session, REGION)
    assert usage == {"trails": 2, "rules": 3, "roles": 2, "glue_jobs": 1, "crawlers": 1, "buckets": 3}
    # Two trails in use leave room for three per-stack students, not four.
    by_key = {f.quota.key: f for f in preflight(ClassShape(4, "per-stack"), usage)}
    assert by_key["trails"].status == "FAIL"


class _Quotas:
    """Stands in for the service-quotas client: applied values by service code."""

    def __init__(self, applied: dict[str, list[dict]], failing: set[str] = frozenset()):
        self.applied, self.failing = applied, failing

    def get_paginator(self, operation):
        assert operation == "list_service_quotas"
        return self

    def paginate(self, ServiceCode):  # noqa: N803 - boto3's parameter name
        if ServiceCode in self.failing:
            raise RuntimeError("AccessDeniedException")
        return [{"Quotas": self.applied.get(ServiceCode, [])}]


class _Session:
    def __init__(self, client):
        self._client = client
        self.regions: list[str | None] = []

    def client(self, name, region_name=None):
        assert name == "service-quotas"
        self.regions.append(region_name)
        return self._client


def test_quotas_are_matched_by_name_and_missing_ones_keep_the_defaults(capsys):
    client = _Quotas({
        "events": [{"QuotaName": "Rules per event bus", "Value": 500.0}, {"QuotaName": "Targets per rule", "Value": 5.0}],
        "iam": [{"QuotaName": "Roles per account", "Value": 5000.0}],
    }, failing={"glue"})
    session = _Session(client)
    quotas = aws_quotas.read_quotas(session, REGION)
    assert quotas == {"rules": 500, "roles": 5000}
    err = capsys.readouterr().err
    assert "could not read glue quotas" in err
    assert "s3 quota 'general purpose buckets' not found in Service Quotas; using the default 10000" in err
    assert set(quotas) <= set(QUOTAS)
    # IAM and S3 quotas are global, served from us-east-1; the others from the class region.
    services = sorted({q.service_code for q in QUOTAS.values()})
    by_service = dict(zip(services, session.regions, strict=True))
    assert by_service["iam"] == by_service["s3"] == "us-east-1" and by_service["events"] == REGION


def test_real_backend_reports_a_missing_cli_and_virtualenv_once(tmp_path, monkeypatch):
    monkeypatch.setattr(backend.shutil, "which", lambda name: None)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Pulumi.yaml").write_text("name: a\nruntime:\n  name: python\n  options:\n    virtualenv: ../venv\n")
    (tmp_path / "b" / "Pulumi.yaml").write_text("name: b\nruntime:\n  name: python\n  options:\n    virtualenv: ../venv\n")
    specs = [StackSpec("s1", tmp_path / "a", "a", {}), StackSpec("s2", tmp_path / "b", "b", {})]
    problems = backend.AutomationBackend().problems(specs)
    assert len(problems) == 2
    assert "pulumi CLI is not on PATH" in problems[0]
    assert str(tmp_path / "venv") in problems[1]
    (tmp_path / "venv").mkdir()
    monkeypatch.setattr(backend.shutil, "which", lambda name: "/usr/bin/pulumi")
    assert backend.AutomationBackend().problems(specs) == []


def test_shared_trail_program_uses_the_repository_virtualenv():
    import yaml

    repo = Path(__file__).resolve().parent.parent
    root = yaml.safe_load((repo / "Pulumi.yaml").read_text())["runtime"]["options"]["virtualenv"]
    trail = yaml.safe_load((repo / "shared_trail" / "Pulumi.yaml").read_text())["runtime"]["options"]["virtualenv"]
    assert (repo / "shared_trail" / trail).resolve() == (repo / root).resolve()


def test_settings_dropped_from_the_plan_are_removed_from_the_stack():
    from workshop.backend import stale_config_keys

    current = ["aws:region", "etl-ttt-demo-dedup:owner", "etl-ttt-demo-dedup:jobExecutionClass", "other:x"]
    wanted = {"aws:region": "eu-west-1", "etl-ttt-demo-dedup:owner": "Ann"}
    assert stale_config_keys(current, wanted) == ["etl-ttt-demo-dedup:jobExecutionClass"]
