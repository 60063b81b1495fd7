"""Settings: Pulumi.yaml and the settings module agree; bad values stop the program early."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest
import yaml
from conftest import REPO, RecordingMocks, render_stack, stack_config

from builders.settings import CONFIG_KEYS, Settings, SettingsError, parse_settings

DECLARED = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["config"]
TYPES = {str: "string", int: "integer", bool: "boolean"}


def test_every_setting_is_declared_in_pulumi_yaml_with_the_same_default():
    assert set(DECLARED) == set(CONFIG_KEYS), "Pulumi.yaml and builders/settings.py declare different keys"
    defaults = Settings()
    for key, attr in CONFIG_KEYS.items():
        declared = DECLARED[key]
        python_default = getattr(defaults, attr)
        assert declared["type"] == TYPES[type(python_default)], key
        assert declared["default"] == python_default, key
        assert declared.get("description"), f"{key} has no description"


def test_pulumi_yaml_defaults_parse_to_the_default_settings():
    assert parse_settings({k: v["default"] for k, v in DECLARED.items()}) == Settings()


def test_dev_stack_config_is_valid():
    parse_settings(stack_config("dev"))


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        ({"dataBucketName": "My_Bucket"}, "dataBucketName", "lowercase"),
        ({"dataBucketName": "ab"}, "dataBucketName", "3-63"),
        ({"watchedPrefix": "/etl-ttt-demo/data/"}, "watchedPrefix", "starts with '/'"),
        ({"watchedPrefix": "etl-ttt-demo/data"}, "watchedPrefix", "trailing '/'"),
        ({"outputPrefix": "etl-ttt-demo//out/"}, "outputPrefix", "single '/'"),
        # the job's rule too (contract.prefix_problem): Spark would read '*' as a glob
        ({"outputPrefix": "etl-ttt-demo/out*/"}, "outputPrefix", "single '/'"),
        ({"triggerSource": "sqs"}, "triggerSource", "cloudtrail, s3-eventbridge"),
        ({"jobEngine": "pandas"}, "jobEngine", "auto, duckdb, spark"),
        ({"matcher": "findmatches"}, "matcher", "unknown setting"),
        ({"dedupMode": "append"}, "dedupMode", "replace, incremental"),
        ({"jobWorkers": "-1"}, "jobWorkers", "2 to 299"),
        ({"jobWorkers": "two"}, "jobWorkers", "whole number"),
        ({"jobMaxConcurrentRuns": "0"}, "jobMaxConcurrentRuns", "1 to 1000"),
        ({"protectData": "yes"}, "protectData", "true or false"),
        ({"logRetentionDays": "10"}, "logRetentionDays", "14, 30"),
        ({"notificationEmail": "ops-at-example.com"}, "notificationEmail", "name@example.com"),
        ({"outputPrefix": "etl-ttt-demo/data_analytics_team_folder/out/"}, "outputPrefix", "overlaps"),
        ({"trailMode": "none"}, "trailMode", "s3-eventbridge"),
        ({"trailMode": "shared"}, "sharedTrailName", "required"),
        ({"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/abc"}, "kmsKeyArn", "sse-kms"),
        ({"jobWorkerTyp": "G.1X"}, "jobWorkerTyp", "unknown setting"),
        ({"encryption": "sse-kms", "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:alias/data"}, "kmsKeyArn", "alias"),
        ({"jobExecutionClass": "FLEX", "jobWorkerType": "G.4X"}, "jobExecutionClass", "G.1X and G.2X"),
        ({"crawlTimeoutMinutes": "1000"}, "crawlTimeoutMinutes", "1 to 720"),
        ({"trailKmsEncryption": "true", "trailMode": "none", "triggerSource": "s3-eventbridge"},
         "trailKmsEncryption", "creates none"),
        # issue 10: hostile and careless values
        ({"watchedPrefix": "etl-ttt-demo/*/"}, "watchedPrefix", "'*' not allowed"),
        ({"outputPrefix": "out*/"}, "outputPrefix", "wildcard in IAM grants"),
        ({"watchedPrefix": "etl-ttt-demo/../other/"}, "watchedPrefix", "'..'"),
        ({"outputPrefix": "./out/"}, "outputPrefix", "'.' or '..' folder"),
        ({"watchedPrefix": "a?b/"}, "watchedPrefix", "'?' not allowed"),
        ({"watchedPrefix": "x" * 600 + "/"}, "watchedPrefix", "at most 512"),
        ({"owner": "alice\nbob"}, "owner", "'\\n'"),
        ({"owner": "alice\x00"}, "owner", "tag value takes only"),
        ({"owner": "mallory\u202etxt"}, "owner", "tag value takes only"),
        ({"owner": "o'brien"}, "owner", "_ . : / = + - @"),
        ({"owner": "x" * 257}, "owner", "at most 256"),
        ({"environment": "dev;rm"}, "environment", "tag value"),
        ({"trailMode": "per-stack", "sharedTrailName": "class-trail"}, "sharedTrailName", "only with trailMode 'shared'"),
        ({"trailMode": "shared", "sharedTrailName": "$(id);x"}, "sharedTrailName", "not a trail name"),
        ({"trailMode": "shared", "sharedTrailName": "my--trail"}, "sharedTrailName", "no two of"),
        ({"notificationEmail": "ops@example.com\nBcc: x@y.z"}, "notificationEmail", "name@example.com"),
        ({"jobWorkers": "1_0"}, "jobWorkers", "whole number"),
        ({"jobWorkers": "\uff11\uff10"}, "jobWorkers", "whole number"),
        ({"jobWorkerType": "G.2X", "jobWorkers": "200"}, "jobWorkers", "at most 149"),
        ({"encryption": "sse-kms", "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/*"}, "kmsKeyArn", "KMS key ARN"),
        ({"triggerRetryAttempts": "186"}, "triggerRetryAttempts", "0 to 185"),
        # issue 11: the model and labels objects the job reads (Glue parity of --model / --labels)
        ({"modelChoice": "latest"}, "modelChoice", "auto, retrain, object"),
        ({"modelChoice": "object"}, "modelObjectKey", "required when modelChoice is 'object'"),
        ({"modelObjectKey": "etl-ttt-demo/models/m.json"}, "modelObjectKey", "only with modelChoice 'object'"),
        ({"modelChoice": "object", "modelObjectKey": "s3://other-bucket/m.json"}, "modelObjectKey",
         "reads only that bucket"),
        ({"modelChoice": "object", "modelObjectKey": "etl-ttt-demo/models/*.json"}, "modelObjectKey", ".json object"),
        ({"modelChoice": "object", "modelObjectKey": "etl-ttt-demo//m.json"}, "modelObjectKey", "single '/'"),
        ({"modelChoice": "object", "modelObjectKey": "etl-ttt-demo/../m.json"}, "modelObjectKey", "'..'"),
        ({"modelChoice": "object", "modelObjectKey": "/m.json"}, "modelObjectKey", "starts with '/'"),
        ({"modelChoice": "object", "modelObjectKey": "etl-ttt-demo/models/m.csv"}, "modelObjectKey", "ending in .json"),
        ({"modelChoice": "object", "modelObjectKey": "etl-ttt-demo/output/data_analytics_team_folder/"
          "top-customers-model/splink_model-jr_1.json"}, "modelObjectKey", "each run replaces that folder"),
        ({"labelsObjectKey": "etl-ttt-demo/data_analytics_team_folder/labels.csv"}, "labelsObjectKey",
         "starts the workflow"),
        ({"labelsObjectKey": "etl-ttt-demo/output/data_analytics_team_folder/top-customers/l.csv"},
         "labelsObjectKey", "crawler reads"),
        ({"labelsObjectKey": "_pipeline/scripts/labels.csv"}, "labelsObjectKey", "Pulumi owns"),
        ({"labelsObjectKey": "etl-ttt-demo/labels/labels.json"}, "labelsObjectKey", "ending in .csv"),
        ({"labelsObjectKey": "etl-ttt-demo/lab?els/labels.csv"}, "labelsObjectKey", "'?' not allowed"),
    ],
)
def test_bad_value_names_the_key_and_the_accepted_form(raw, key, hint):
    with pytest.raises(SettingsError) as error:
        parse_settings(raw)
    problem = next((p for p in error.value.problems if p.startswith(f"{key}:")), None)
    assert problem is not None, error.value.problems
    assert hint in problem


def test_all_problems_are_reported_at_once():
    with pytest.raises(SettingsError) as error:
        parse_settings({"jobEngine": "x", "jobWorkers": "0", "watchedPrefix": "a"})
    assert len(error.value.problems) == 3


def test_problems_across_keys_come_with_the_single_key_ones():
    """A bad number and a trail name without its mode: both in the first report."""
    with pytest.raises(SettingsError) as error:
        parse_settings({"jobWorkers": "0", "sharedTrailName": "class-trail", "trailMode": "none",
                        "owner": "a\nb", "dataBucketName": "Bad_Bucket"})
    keys = sorted(p.split(":")[0] for p in error.value.problems)
    assert keys == ["dataBucketName", "jobWorkers", "owner", "sharedTrailName", "trailMode"], error.value.problems


def test_a_check_across_keys_is_skipped_when_one_of_its_keys_is_wrong():
    """trailMode 'nope' is reported once; no second message judging the default in its place."""
    with pytest.raises(SettingsError) as error:
        parse_settings({"trailMode": "nope", "sharedTrailName": "class-trail"})
    assert [p.split(":")[0] for p in error.value.problems] == ["trailMode"]


@pytest.mark.parametrize("good", [
    {"owner": "María José Ødegård"}, {"owner": "team-a/ops@example.com"}, {"owner": "大阪 チーム"},
    {"trailMode": "shared", "sharedTrailName": "etl-ttt-demo-class-trail"},
    {"trailMode": "shared", "sharedTrailName": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/class.trail_1"},
    {"watchedPrefix": "team(a)/uploads=1/"},
    {"modelChoice": "object", "modelObjectKey": "etl-ttt-demo/models/splink_model.json",
     "labelsObjectKey": "etl-ttt-demo/labels/customers_truth.csv"},
    {"modelChoice": "retrain"}, {"labelsObjectKey": "labels.csv"},
    {"encryption": "sse-kms", "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"},
])
def test_values_aws_accepts_are_accepted(good):
    parse_settings(good)


def test_bad_config_stops_before_the_first_resource(monkeypatch):
    """The program raises while reading settings; the recorder saw no resource."""
    seen = []
    original = RecordingMocks.new_resource
    monkeypatch.setattr(RecordingMocks, "new_resource", lambda self, args: seen.append(args.typ) or original(self, args))
    with pytest.raises(Exception, match="jobWorkers") as error:
        render_stack({"jobWorkers": "-3"})
    assert seen == []
    # Pulumi's "clean exit" error: the message without the program's traceback
    assert isinstance(error.value, pulumi.RunError), type(error.value)


def test_a_bad_model_key_stops_the_preview_naming_the_key():
    """What ``pulumi preview`` shows: the program stops reading its settings, the key named."""
    with pytest.raises(pulumi.RunError, match=r"modelObjectKey: .*s3://elsewhere/m\.json"):
        render_stack({**stack_config("dev"), "modelChoice": "object", "modelObjectKey": "s3://elsewhere/m.json"})


def test_settings_fields_have_plain_types():
    for f in dataclasses.fields(Settings):
        assert f.type in ("str", "int", "bool"), f.name


def test_a_misspelt_key_in_the_stack_config_is_reported():
    with pytest.raises(Exception, match="jobWorkerTyp: unknown setting"):
        render_stack({**stack_config("dev"), "jobWorkerTyp": "G.2X"})


def test_limits_agree_with_aws_own_service_models():
    """The ranges the settings enforce are the ones botocore's service models carry."""
    import botocore.session

    from builders import settings as s

    session = botocore.session.get_session()
    retry = session.get_service_model("events").shape_for("RetryPolicy").members
    for attr, member in [("trigger_retry_attempts", "MaximumRetryAttempts"),
                         ("trigger_max_event_age_seconds", "MaximumEventAgeInSeconds")]:
        meta = retry[member].metadata
        assert s._INT_RANGES[attr] == (meta["min"], meta["max"]), attr
    assert s._INT_RANGES["job_timeout_minutes"][0] >= session.get_service_model("glue").shape_for("Timeout").metadata["min"]
    assert set(s.WORKER_TYPES) <= set(session.get_service_model("glue").shape_for("WorkerType").enum)
    assert s._TAG_VALUE_MAX == session.get_service_model("iam").shape_for("tagValueType").metadata["max"]
    name = session.get_service_model("glue").shape_for("NameString").metadata
    parse_settings({"databaseName": "d" * name["max"]})
    with pytest.raises(SettingsError):
        parse_settings({"databaseName": "d" * (name["max"] + 1)})
