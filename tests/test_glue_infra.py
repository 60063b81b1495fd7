"""The Glue side of the stack as rendered: security configuration, log groups, key policy, wheels."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from glue_jobs import contract
from tests.conftest import render_stack, stack_config
from tests.iam_eval import Request, allowed

SC = "aws:glue/securityConfiguration:SecurityConfiguration"
USER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def _config(stack) -> tuple[str, dict]:
    sc = stack.one(SC)
    return sc.outputs["name"], sc.inputs["encryptionConfiguration"]


@pytest.fixture(scope="module")
def stacks():
    base = stack_config("dev")
    return {
        "sse-s3": render_stack(base),
        "sse-s3 again": render_stack(base),
        "sse-kms": render_stack({**base, "encryption": "sse-kms"}),
        "sse-kms user key": render_stack({**base, "encryption": "sse-kms", "kmsKeyArn": USER_KEY}),
    }


def test_a_settings_change_gives_the_security_configuration_a_new_name(stacks):
    """Glue can't update a security configuration: a changed one must be a new one, under a new
    name (create-before-delete), so the job and crawler move to it before the old one goes."""
    names = {label: _config(stack)[0] for label, stack in stacks.items()}
    settings = {label: json.dumps(_config(stack)[1], sort_keys=True) for label, stack in stacks.items()}
    assert names["sse-s3"] == names["sse-s3 again"], "same settings, same name: no needless replacement"
    assert len({names["sse-s3"], names["sse-kms"], names["sse-kms user key"]}) == 3
    assert len({settings["sse-s3"], settings["sse-kms"], settings["sse-kms user key"]}) == 3
    for label, stack in stacks.items():
        name = names[label]
        assert re.fullmatch(r"etl-ttt-demo-glue-security-dev-[0-9a-f]{8}", name)
        assert stack.one("aws:glue/job:Job").inputs["securityConfiguration"] == name
        assert stack.one("aws:glue/crawler:Crawler").inputs["securityConfiguration"] == name
        assert len(name) <= 255


def test_job_log_groups_follow_the_configuration_and_nothing_else_is_created(stacks):
    for stack in stacks.values():
        name = _config(stack)[0]
        role = stack.one("aws:iam/role:Role", "dedup-job-role").outputs["name"]
        groups = {g.inputs["name"] for g in stack.of_type("aws:cloudwatch/logGroup:LogGroup")}
        glue_groups = {g for g in groups if g.startswith("/aws-glue/")}
        assert glue_groups == set(contract.job_log_groups(role, name))
        assert not [g for g in groups if g.startswith("/aws-glue/jobs/")], "groups Glue would leave empty"


def _key_policy(stack) -> dict:
    return json.loads(stack.one("aws:kms/key:Key").inputs["policy"])


def _logs_may_use_key(policy: dict, group_arn: str) -> bool:
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsEncrypt"]
    request = Request("kms:GenerateDataKey", "*", (("kms:EncryptionContext:aws:logs:arn", group_arn),))
    return allowed({"Statement": [{**statement, "Resource": "*"}]}, request)


def test_only_the_stacks_own_log_groups_may_use_the_key(stacks):
    for stack in stacks.values():
        policy = _key_policy(stack)
        for group in stack.of_type("aws:cloudwatch/logGroup:LogGroup"):
            if group.inputs.get("kmsKeyId"):
                assert _logs_may_use_key(policy, group.outputs["arn"]), group.inputs["name"]
        role = stack.one("aws:iam/role:Role", "crawler-role").outputs["name"]
        crawler_group = f"arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/crawlers-role/{role}-{_config(stack)[0]}"
        assert _logs_may_use_key(policy, crawler_group)
        for other in ["/aws-glue/jobs/error", "/aws-glue/jobs-someone-else-cfg/error", "/aws/lambda/x",
                      f"/aws-glue/jobs-{role}-other-config/error"]:
            assert not _logs_may_use_key(policy, f"arn:aws:logs:eu-west-1:123456789012:log-group:{other}"), other


def test_job_role_may_write_only_its_own_log_groups(stacks):
    stack = stacks["sse-s3"]
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "dedup-job-policy").inputs["policy"])
    groups = [g for g in stack.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs["name"].startswith("/aws-glue/")]
    for g in groups:
        assert allowed(policy, Request("logs:PutLogEvents", f"{g.outputs['arn']}:log-stream:jr_1-driver"))
    for other in ["/aws-glue/jobs/error", "/aws-glue/jobs/output", "/aws-glue/jobs-x/error", "/aws-glue/crawlers"]:
        arn = f"arn:aws:logs:eu-west-1:123456789012:log-group:{other}:log-stream:jr_1-driver"
        assert not allowed(policy, Request("logs:PutLogEvents", arn)), other


# --- the crawler's calls, as AWS documents them -----------------------------------------------


def test_crawler_role_allows_what_an_s3_crawler_calls(stacks):
    """An S3 crawler lists and reads its target, reads and writes its database's tables and
    partitions, and logs (AWS Glue guide, "Step 3: Configure security settings" and the
    AWSGlueServiceRole managed policy); nothing outside its folder and database."""
    stack = stacks["sse-s3"]
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", "crawler-policy").inputs["policy"])
    crawler = stack.one("aws:glue/crawler:Crawler").inputs
    bucket, _, prefix = crawler["s3Targets"][0]["path"].removeprefix("s3://").partition("/")
    database = crawler["databaseName"]
    glue = "arn:aws:glue:eu-west-1:123456789012"
    table = f"{glue}:table/{database}/ml_final_top_customers"
    calls = [
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", prefix),)),
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}part-jr_1.csv"),
        *[Request(f"glue:{a}", r) for a in ("GetDatabase",) for r in (f"{glue}:catalog", f"{glue}:database/{database}")],
        *[Request(f"glue:{a}", r) for a in ("GetTable", "GetTables", "CreateTable", "UpdateTable", "GetPartitions",
                                             "BatchCreatePartition", "BatchGetPartition")
          for r in (f"{glue}:catalog", f"{glue}:database/{database}", table)],
        Request("logs:CreateLogStream", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/crawlers:log-stream:x"),
        Request("logs:PutLogEvents", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/crawlers:log-stream:x"),
    ]
    assert [c.describe() for c in calls if not allowed(policy, c)] == []
    for outside in [Request("s3:GetObject", f"arn:aws:s3:::{bucket}/etl-ttt-demo/data_analytics_team_folder/x.csv"),
                    Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{prefix}x.csv"),
                    Request("glue:CreateTable", f"{glue}:table/other_db/t"),
                    Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", ""),))]:
        assert not allowed(policy, outside), outside.describe()


# --- --additional-python-modules on Glue 5.0's platform --------------------------------------


def test_every_additional_module_has_a_wheel_for_glue_5():
    """Glue 5.0 installs --additional-python-modules with pip on CPython 3.11, x86_64, glibc 2.34:
    each pin must resolve to a binary wheel for that platform (asks PyPI; CI reaches it)."""
    specs = contract.ADDITIONAL_PYTHON_MODULES.split(",")
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--ignore-installed",
           "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
           "--platform", "manylinux_2_34_x86_64", "--platform", "manylinux_2_28_x86_64",
           "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
           "--target", "/nonexistent-glue-target", "--report", "-", *specs]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    got = {i["metadata"]["name"].lower(): i["download_info"]["url"].rsplit("/", 1)[-1] for i in report["install"]}
    for spec in specs:
        name, version = spec.split("==")
        wheel = got[name.lower()]
        assert wheel.endswith(".whl") and f"-{version}-" in wheel, wheel
        assert re.search(r"-(py3-none-any|cp311-cp311-manylinux[\w.]*x86_64|cp311-abi3-manylinux[\w.]*x86_64"
                         r"|py2\.py3-none-any|cp3\d?-abi3-manylinux[\w.]*x86_64)\.whl$", wheel), wheel


def test_the_wheel_check_fails_for_a_module_without_a_glue_wheel():
    """The same command refuses a pin that has no binary wheel (an sdist-only release)."""
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--ignore-installed",
           "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
           "--platform", "manylinux_2_34_x86_64", "--target", "/nonexistent-glue-target", "pyspark==3.5.4"]
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=300).returncode != 0


def test_local_spark_is_glue_5s_spark():
    """Glue 5.0 runs Spark 3.5.4 (AWS Glue release notes): the tests run the same."""
    import pyspark

    from tests.conftest import REPO

    pins = dict(line.split("==") for line in (REPO / "requirements-bench.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins["pyspark"] == pyspark.__version__ == "3.5.4"
