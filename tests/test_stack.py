"""The dev stack of Pulumi.dev.yaml under mocks: the components exist and are wired together."""

from __future__ import annotations

import json

import pytest
from conftest import ACCOUNT, REGION, assert_provider_names, render_stack, stack_config

from builders import policies
from builders.workflow_definition import service_calls

COMPONENTS = {
    "etl-ttt-demo:audit:Trail",
    "etl-ttt-demo:catalog:Crawler",
    "etl-ttt-demo:dedup:DedupJob",
    "etl-ttt-demo:orchestration:Workflow",
    "etl-ttt-demo:trigger:TriggerRule",
}


def _definition(stack) -> dict:
    return json.loads(stack.one("aws:sfn/stateMachine:StateMachine").inputs["definition"])


def test_all_five_components_are_composed(dev_stack):
    assert COMPONENTS <= {r.typ for r in dev_stack.resources}


def test_rule_targets_the_state_machine_through_its_invoke_role(dev_stack):
    target = dev_stack.one("aws:cloudwatch/eventTarget:EventTarget")
    machine = dev_stack.one("aws:sfn/stateMachine:StateMachine")
    role = dev_stack.one("aws:iam/role:Role", "trigger-role")
    assert target.inputs["arn"] == machine.outputs["arn"]
    assert target.inputs["roleArn"] == role.outputs["arn"]
    assert target.inputs["rule"] == dev_stack.one("aws:cloudwatch/eventRule:EventRule").outputs["name"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    grant = json.loads(dev_stack.one("aws:iam/rolePolicy:RolePolicy", "trigger-policy").inputs["policy"])
    assert grant["Statement"] == [policies.allow("StartDedupWorkflow", ["states:StartExecution"], machine.outputs["arn"])]


def test_state_machine_runs_the_stacks_job_and_crawler(dev_stack):
    definition = _definition(dev_stack)
    job = dev_stack.one("aws:glue/job:Job")
    crawler = dev_stack.one("aws:glue/crawler:Crawler")
    names = {
        state["Parameters"].get("JobName") or state["Parameters"].get("Name")
        for state in definition["States"].values()
        if state.get("Resource", "").startswith("arn:aws:states:::glue") or ":glue:" in state.get("Resource", "")
    }
    assert names == {job.outputs["name"], crawler.outputs["name"]}
    machine = dev_stack.one("aws:sfn/stateMachine:StateMachine")
    assert machine.inputs["type"] == "STANDARD"
    assert machine.inputs["tracingConfiguration"]["enabled"] is True
    log_group = dev_stack.one("aws:cloudwatch/logGroup:LogGroup", "workflow-logs")
    assert machine.inputs["loggingConfiguration"]["logDestination"] == f"{log_group.outputs['arn']}:*"
    assert machine.inputs["loggingConfiguration"]["level"] == stack_config("dev")["logLevel"]


def test_crawler_reads_the_output_folder_into_the_database(dev_stack):
    crawler = dev_stack.one("aws:glue/crawler:Crawler")
    bucket = dev_stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]
    assert crawler.inputs["s3Targets"] == [
        {"path": f"s3://{bucket}/etl-ttt-demo/output/data_analytics_team_folder/top-customers/"}
    ]
    assert crawler.inputs["databaseName"] == dev_stack.one("aws:glue/catalogDatabase:CatalogDatabase").outputs["name"]
    assert crawler.inputs["tablePrefix"] == "ml_final_"


def test_trail_records_writes_under_the_watched_folder_only(dev_stack):
    trail = dev_stack.one("aws:cloudtrail/trail:Trail")
    bucket = dev_stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]
    (selector,) = trail.inputs["advancedEventSelectors"]
    fields = {f["field"]: f for f in selector["fieldSelectors"]}
    assert fields["resources.ARN"]["startsWiths"] == [f"arn:aws:s3:::{bucket}/etl-ttt-demo/data_analytics_team_folder/"]
    assert fields["eventCategory"]["equals"] == ["Data"]
    assert set(fields["eventName"]["equals"]) == {"PutObject", "CompleteMultipartUpload", "CopyObject"}
    assert trail.inputs["s3BucketName"] != bucket, "trail logs must not land in the watched bucket"
    assert trail.inputs["enableLogFileValidation"] is True
    # The log bucket lets CloudTrail write for this trail only.
    log_policy = json.loads(dev_stack.one("aws:s3/bucketPolicy:BucketPolicy", "trail-logs-policy").inputs["policy"])
    write = next(s for s in log_policy["Statement"] if s["Sid"] == "CloudTrailWrite")
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == (
        f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{trail.inputs['name']}"
    )


def test_job_runs_the_uploaded_script_on_glue_5(dev_stack):
    job = dev_stack.one("aws:glue/job:Job")
    script = dev_stack.one("aws:s3/bucketObjectv2:BucketObjectv2", "dedup-job-glue_jobs-glue_entry-py")
    assert job.inputs["command"]["scriptLocation"] == f"s3://{script.inputs['bucket']}/{script.inputs['key']}"
    assert job.inputs["glueVersion"] == "5.0"
    args = job.inputs["defaultArguments"]
    assert args["--job-bookmark-option"] == "job-bookmark-disable"
    assert args["--output_prefix"] == "etl-ttt-demo/output/data_analytics_team_folder/top-customers/"
    # the model next to the matches, outside the crawled folder; replace unless the stack says incremental
    assert args["--model_prefix"] == "etl-ttt-demo/output/data_analytics_team_folder/top-customers-model/"
    assert args["--dedup_mode"] == "replace"
    # With an encrypting security configuration Glue logs to /aws-glue/jobs-<role>-<config>/error
    # and /output: exactly the stack's two groups, with a retention and the key.
    config = dev_stack.one("aws:glue/securityConfiguration:SecurityConfiguration").outputs["name"]
    assert job.inputs["securityConfiguration"] == config
    role = dev_stack.one("aws:iam/role:Role", "dedup-job-role").outputs["name"]
    job_groups = {g.inputs["name"]: g for g in dev_stack.of_type("aws:cloudwatch/logGroup:LogGroup")
                  if g.inputs["name"].startswith("/aws-glue/")}
    assert set(job_groups) == {f"/aws-glue/jobs-{role}-{config}/{s}" for s in ("error", "output")}
    assert all(g.inputs["retentionInDays"] == 30 and g.inputs["kmsKeyId"] for g in job_groups.values())


def test_workflow_role_grants_exactly_what_the_definition_calls(dev_stack):
    """Actions derived from the rendered definition, each granted on the exact ARN; nothing more."""
    definition = _definition(dev_stack)
    grants = json.loads(dev_stack.one("aws:iam/rolePolicy:RolePolicy", "workflow-policy").inputs["policy"])
    granted: dict[str, set] = {}
    for statement in grants["Statement"]:
        for action in statement["Action"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            granted.setdefault(action, set()).update(resources)
    job = dev_stack.one("aws:glue/job:Job").outputs["name"]
    crawler = dev_stack.one("aws:glue/crawler:Crawler").outputs["name"]
    topic = dev_stack.one("aws:sns/topic:Topic").outputs["arn"]
    bucket = dev_stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]
    exact = {
        "glue": {
            "StartJobRun": f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{job}",
            "GetJobRun": f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{job}",
            "GetJobRuns": f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{job}",
            "BatchStopJobRun": f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{job}",
            "StartCrawler": f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/{crawler}",
            "GetCrawler": f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/{crawler}",
        },
        "sns": {"Publish": topic},
        "s3": {"GetObject": f"arn:aws:s3:::{bucket}/etl-ttt-demo/output/data_analytics_team_folder/top-customers-staging/summaries/*"},
        "events": {"PutEvents": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"},
    }
    (bus,) = [s for s in grants["Statement"] if "events:PutEvents" in s["Action"]]
    assert bus["Condition"] == {"StringEquals": {"events:source": "etl-ttt-demo.dedup"}}
    needed = service_calls(definition)
    assert needed, "no service calls found in the definition"
    for service, action in needed:
        assert granted.get(f"{service}:{action}") == {exact[service][action]}, f"{service}:{action}"
    service_actions = {a for a in granted if a.split(":")[0] in ("glue", "sns", "states", "s3", "events")}
    assert service_actions == {f"{s}:{a}" for s, a in needed}, "grants beyond what the definition calls"
    assert not [a for a in granted if a == "*" or a.endswith(":*")]


@pytest.mark.parametrize("protect", [True, False])
def test_protect_data_decides_what_destroy_may_remove(protect):
    stack = render_stack({**stack_config("dev"), "protectData": protect})
    data = stack.one("aws:s3/bucket:Bucket", "data")
    assert data.inputs.get("forceDestroy", False) is (not protect)
    logs = stack.one("aws:s3/bucket:Bucket", "trail-logs")
    assert logs.inputs.get("forceDestroy", False) is (not protect)


def test_upload_command_targets_the_watched_folder(dev_stack):
    bucket = dev_stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]
    uri = dev_stack.program["upload_uri"]
    assert uri == f"s3://{bucket}/etl-ttt-demo/data_analytics_team_folder/"
    assert dev_stack.program["upload_command"].split()[:3] == ["aws", "s3", "cp"]
    assert dev_stack.program["upload_command"].endswith(uri)


def test_every_nested_input_uses_the_providers_field_names(dev_stack):
    assert_provider_names(dev_stack)


USER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def _granted_keys(stack, policy_name: str) -> set[str]:
    policy = json.loads(stack.one("aws:iam/rolePolicy:RolePolicy", policy_name).inputs["policy"])
    (statement,) = [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"]]
    resources = statement["Resource"]
    return set(resources if isinstance(resources, list) else [resources])


def test_a_users_kms_key_is_granted_to_whoever_reads_and_writes_the_data():
    stack = render_stack({**stack_config("dev"), "encryption": "sse-kms", "kmsKeyArn": USER_KEY})
    (rule,) = stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "data-encryption"
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == USER_KEY
    stack_key = stack.one("aws:kms/key:Key").outputs["arn"]
    for policy in ("dedup-job-policy", "crawler-policy"):
        assert _granted_keys(stack, policy) == {USER_KEY, stack_key}, policy
    glue = stack.one("aws:glue/securityConfiguration:SecurityConfiguration").inputs["encryptionConfiguration"]
    assert glue["s3Encryption"] == {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": USER_KEY}


def test_the_stack_key_encrypts_data_when_no_key_is_given():
    stack = render_stack({**stack_config("dev"), "encryption": "sse-kms"})
    stack_key = stack.one("aws:kms/key:Key").outputs["arn"]
    (rule,) = stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "data-encryption"
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == stack_key
    assert _granted_keys(stack, "dedup-job-policy") == {stack_key}


def test_trail_kms_encryption_lets_only_the_stacks_trail_use_the_key():
    stack = render_stack({**stack_config("dev"), "trailKmsEncryption": True})
    trail = stack.one("aws:cloudtrail/trail:Trail")
    key = stack.one("aws:kms/key:Key")
    assert trail.inputs["kmsKeyId"] == key.outputs["arn"]
    statements = json.loads(key.inputs["policy"])["Statement"]
    cloudtrail = [s for s in statements if s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}]
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{trail.inputs['name']}"
    assert cloudtrail and all(s["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn for s in cloudtrail)
    actions = {a for s in cloudtrail for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    # GenerateDataKey to encrypt, DescribeKey to check it, Decrypt because the log bucket uses a Bucket Key.
    assert actions == {"kms:GenerateDataKey*", "kms:DescribeKey", "kms:Decrypt"}
    without = render_stack(stack_config("dev"))
    assert not [s for s in json.loads(without.one("aws:kms/key:Key").inputs["policy"])["Statement"]
                if s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}]


def test_failure_emails_only_when_an_address_is_set(dev_stack):
    assert dev_stack.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    stack = render_stack({**stack_config("dev"), "notificationEmail": "ops@example.com"})
    subscription = stack.one("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["endpoint"] == "ops@example.com"
    assert subscription.inputs["topic"] == stack.one("aws:sns/topic:Topic").outputs["arn"]


def test_job_may_read_only_the_stacks_own_folders(dev_stack):
    """The calls behind each grant: tests/test_glue_run_path.py."""
    policy = json.loads(dev_stack.one("aws:iam/rolePolicy:RolePolicy", "dedup-job-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    bucket = dev_stack.one("aws:s3/bucket:Bucket", "data").inputs["bucket"]
    assert by_sid["ReadUpload"]["Resource"] == f"arn:aws:s3:::{bucket}/etl-ttt-demo/data_analytics_team_folder/*"
    assert by_sid["ReadScriptModulesSettings"]["Resource"] == f"arn:aws:s3:::{bucket}/_pipeline/scripts/*"
    writes = by_sid["StageRun"]["Resource"] + by_sid["PublishOutputs"]["Resource"]
    watched = f"arn:aws:s3:::{bucket}/etl-ttt-demo/data_analytics_team_folder/"
    assert writes and not [r for r in writes if r.startswith(watched)], "the job must never write the uploads"
    assert f"arn:aws:s3:::{bucket}/etl-ttt-demo/output/data_analytics_team_folder/top-customers-model/*" in writes
    assert not [s for s in policy["Statement"] if s["Sid"].startswith("ReadCatalog")], "the job reads no catalog"


def test_dedup_mode_reaches_the_job():
    stack = render_stack({**stack_config("dev"), "dedupMode": "incremental"})
    args = stack.one("aws:glue/job:Job").inputs["defaultArguments"]
    assert args["--dedup_mode"] == "incremental"
    assert args["--model_prefix"].endswith("top-customers-model/")
