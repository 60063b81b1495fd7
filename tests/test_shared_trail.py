"""The class trail (shared_trail/): one trail whose selectors cover every student's
watched folder at constant size, and student stacks that then create no trail."""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi
import pytest
import yaml
from conftest import ACCOUNT, REGION, RecordingMocks, render_stack

from builders.names import physical_names
from builders.settings import Settings
from builders.trail_selectors import MAX_SELECTOR_VALUES, selector_value_count
from workshop.plan import ClassOptions, class_bucket_prefix, plan_class, student_settings, trail_settings
from workshop.roster import load_roster

REPO = Path(__file__).resolve().parent.parent
PROGRAM = REPO / "shared_trail"
PROJECT = yaml.safe_load((PROGRAM / "Pulumi.yaml").read_text())["name"]
ROSTER = REPO / "examples" / "students.csv"
WATCHED = Settings().watched_prefix
WRITES = ("PutObject", "CompleteMultipartUpload", "CopyObject")


def render_trail(config: dict[str, str] | None = None, stack: str = "class") -> RecordingMocks:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    values = {f"{PROJECT}:{k}": str(v) for k, v in (config or {}).items()}
    values["aws:region"] = REGION
    pulumi.runtime.set_all_config(values)

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(PROGRAM / "__main__.py"), run_name="__main__")

    run()
    return mocks


def _snake(selector: dict) -> dict:
    """Mock inputs are camelCase (``startsWiths``); CloudTrail's names are StartsWith etc."""
    keys = {"startsWiths": "starts_with", "equals": "equals", "field": "field", "endsWiths": "ends_with",
            "notEquals": "not_equals", "notStartsWiths": "not_starts_with", "notEndsWiths": "not_ends_with"}
    return {keys[k]: v for k, v in selector.items()}


def records(selectors: list[dict], event: dict) -> bool:
    """CloudTrail's advanced selector semantics: a selector records an event when every one of
    its field conditions holds; a condition holds when any of its values matches; the trail
    records the event when any selector does."""
    def holds(condition: dict) -> bool:
        value = event[condition["field"]]
        if "equals" in condition:
            return value in condition["equals"]
        if "starts_with" in condition:
            return any(value.startswith(v) for v in condition["starts_with"])
        if "not_starts_with" in condition:
            return not any(value.startswith(v) for v in condition["not_starts_with"])
        raise AssertionError(f"operator not modelled: {condition}")

    return any(all(holds(_snake(c)) for c in s["fieldSelectors"]) for s in selectors)


def s3_write(bucket: str, key: str, name: str = "PutObject") -> dict:
    return {"eventCategory": "Data", "resources.type": "AWS::S3::Object", "eventName": name,
            "resources.ARN": f"arn:aws:s3:::{bucket}/{key}"}


@pytest.fixture(scope="module")
def class_of_sixty():
    students = load_roster(ROSTER)
    plan = plan_class(students, ClassOptions(account=ACCOUNT, region=REGION))
    trail = render_trail({k.split(":", 1)[1]: v for k, v in plan.trail.config.items() if not k.startswith("aws:")})
    return students, plan, trail


def test_roster_is_a_class_of_sixty(class_of_sixty):
    students, plan, _ = class_of_sixty
    assert len(students) == 60
    assert len(plan.students) == 60 and plan.trail is not None


def test_selectors_stay_within_cloudtrail_limits_and_cover_every_student(class_of_sixty):
    students, _, mocks = class_of_sixty
    trail = mocks.one("aws:cloudtrail/trail:Trail")
    selectors = trail.inputs["advancedEventSelectors"]
    as_cloudtrail_counts = [{"field_selectors": [_snake(c) for c in s["fieldSelectors"]]} for s in selectors]
    assert selector_value_count(as_cloudtrail_counts) <= MAX_SELECTOR_VALUES
    assert len(selectors) <= 5  # CloudTrail: at most 5 advanced event selectors per trail
    for student in students:
        bucket = physical_names(student.stack, ACCOUNT, REGION).data_bucket
        for name in WRITES:
            assert records(selectors, s3_write(bucket, f"{WATCHED}customers.csv", name)), (student, name)
        # The trade-off the cost estimate charges for: the job's own writes elsewhere in the bucket are recorded too.
        assert records(selectors, s3_write(bucket, f"{Settings().output_prefix}part-0000.csv"))
        # Reads and deletes are not data events worth paying for here.
        assert not records(selectors, s3_write(bucket, f"{WATCHED}customers.csv", "GetObject"))


def test_selector_size_does_not_grow_with_the_class(class_of_sixty):
    _, _, mocks = class_of_sixty
    selectors = mocks.one("aws:cloudtrail/trail:Trail").inputs["advancedEventSelectors"]
    arn_values = [v for s in selectors for c in s["fieldSelectors"] if c["field"] == "resources.ARN"
                  for v in c.get("startsWiths", [])]
    assert arn_values == [f"arn:aws:s3:::{class_bucket_prefix()}"]
    # ... and that one value covers students of any name and any count, e.g. the 500th.
    bucket = physical_names("student-someone-joining-late-500", ACCOUNT, "ap-southeast-2").data_bucket
    assert records(selectors, s3_write(bucket, f"{WATCHED}x.csv"))


def test_trail_does_not_record_its_own_logs_or_other_stacks(class_of_sixty):
    _, _, mocks = class_of_sixty
    selectors = mocks.one("aws:cloudtrail/trail:Trail").inputs["advancedEventSelectors"]
    trail = mocks.one("aws:cloudtrail/trail:Trail")
    log_bucket = trail.inputs["s3BucketName"]
    assert log_bucket.startswith("class-trail-logs")
    assert not records(selectors, s3_write(log_bucket, f"AWSLogs/{ACCOUNT}/CloudTrail/x.json.gz"))
    # A team's dev stack in the same account is not a student: its uploads are not recorded by the class trail.
    dev_bucket = physical_names("dev", ACCOUNT, REGION).data_bucket
    assert not records(selectors, s3_write(dev_bucket, f"{WATCHED}x.csv"))


def test_students_reference_the_trail_the_program_creates(class_of_sixty):
    _, plan, mocks = class_of_sixty
    trail_name = mocks.one("aws:cloudtrail/trail:Trail").inputs["name"]
    names = {spec.config["etl-ttt-demo-dedup:sharedTrailName"] for spec in plan.students}
    assert names == {trail_name}
    assert trail_name == trail_settings(plan.options)["trailName"]


def test_a_shared_mode_student_stack_creates_no_trail():
    students = load_roster(ROSTER)
    config = student_settings(students[0], ClassOptions(account=ACCOUNT, region=REGION))
    mocks = render_stack(config, stack=students[0].stack)
    assert mocks.of_type("aws:cloudtrail/trail:Trail") == []
    # Its rule still watches only its own bucket, which the class trail covers.
    rule = mocks.json_input("aws:cloudwatch/eventRule:EventRule", "eventPattern")
    assert rule["detail"]["requestParameters"]["bucketName"] == [physical_names(students[0].stack, ACCOUNT, REGION).data_bucket]


def test_bad_bucket_prefix_is_refused():
    with pytest.raises(Exception, match="bucket name"):
        render_trail({"bucketNamePrefix": "Etl_TTT"})
