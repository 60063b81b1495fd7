"""Settings: Pulumi.yaml and the settings module agree; bad values stop the program early."""

from __future__ import annotations

import dataclasses

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


def test_bad_config_stops_before_the_first_resource(monkeypatch):
    """The program raises while reading settings; the recorder saw no resource."""
    seen = []
    original = RecordingMocks.new_resource
    monkeypatch.setattr(RecordingMocks, "new_resource", lambda self, args: seen.append(args.typ) or original(self, args))
    with pytest.raises(Exception, match="jobWorkers"):
        render_stack({"jobWorkers": "-3"})
    assert seen == []


def test_settings_fields_have_plain_types():
    for f in dataclasses.fields(Settings):
        assert f.type in ("str", "int", "bool"), f.name


def test_a_misspelt_key_in_the_stack_config_is_reported():
    with pytest.raises(Exception, match="jobWorkerTyp: unknown setting"):
        render_stack({**stack_config("dev"), "jobWorkerTyp": "G.2X"})
