"""Preflight quota arithmetic; what one student stack creates is counted from a real render."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import render_stack

from workshop import preflight
from workshop.cli import main
from workshop.preflight import ClassShape, demand

COUNTED = {
    "trails": "aws:cloudtrail/trail:Trail",
    "rules": "aws:cloudwatch/eventRule:EventRule",
    "roles": "aws:iam/role:Role",
    "glue_jobs": "aws:glue/job:Job",
    "crawlers": "aws:glue/crawler:Crawler",
    "buckets": "aws:s3/bucket:Bucket",
}


@pytest.mark.parametrize("mode, config", [
    ("per-stack", {}),
    ("shared", {"trailMode": "shared", "sharedTrailName": "etl-ttt-demo-class-trail"}),
    ("none", {"trailMode": "none", "triggerSource": "s3-eventbridge"}),
])
def test_per_student_counts_match_what_the_program_creates(mode, config):
    mocks = render_stack({**config, "jobMaxConcurrentRuns": 3}, stack="student-count-me")
    created = Counter(r.typ for r in mocks.resources)
    one_student = demand(ClassShape(1, mode, config.get("triggerSource", "cloudtrail"), 3))
    class_trail = preflight.CLASS_TRAIL if mode == "shared" else {}
    for key, typ in COUNTED.items():
        assert one_student[key] - class_trail.get(key, 0) == created[typ], key
    job = mocks.one("aws:glue/job:Job")
    assert one_student["job_runs"] == job.inputs["executionProperty"]["maxConcurrentRuns"]


def _by_key(findings):
    return {f.quota.key: f for f in findings}


def test_sixth_per_stack_trail_fails_and_names_the_fix():
    findings = _by_key(preflight.preflight(ClassShape(6, "per-stack")))
    trails = findings["trails"]
    assert (trails.needed, trails.limit, trails.status) == (6, 5, "FAIL")
    assert "--trail-mode shared" in trails.fix and "s3-eventbridge" in trails.fix
    assert preflight.preflight(ClassShape(5, "per-stack"))[0].status != "FAIL"
    # Existing trails count: two in use leave room for three students.
    assert _by_key(preflight.preflight(ClassShape(4, "per-stack"), usage={"trails": 2}))["trails"].status == "FAIL"


def test_sixty_students_fit_with_a_shared_trail_unless_the_region_is_full():
    findings = preflight.preflight(ClassShape(60, "shared"))
    assert preflight.passed(findings)
    by_key = _by_key(findings)
    assert by_key["trails"].needed == 1 and by_key["roles"].needed == 240 and by_key["rules"].needed == 60
    full = _by_key(preflight.preflight(ClassShape(60, "shared"), usage={"trails": 5}))["trails"]
    assert full.status == "FAIL" and "delete an unused trail" in full.fix
    assert _by_key(preflight.preflight(ClassShape(60, "none", "s3-eventbridge"), usage={"trails": 5}))["trails"].status == "ok"


def test_adjustable_quotas_suggest_an_increase_to_the_total_needed():
    by_key = _by_key(preflight.preflight(ClassShape(60, "shared"), usage={"rules": 250, "roles": 700}))
    assert by_key["rules"].status == "FAIL" and by_key["rules"].total == 310
    assert "'Rules per event bus' (Amazon EventBridge, Service Quotas) to at least 310" in by_key["rules"].fix
    assert by_key["roles"].status == "WARN"  # 940 of 1000
    raised = _by_key(preflight.preflight(ClassShape(60, "shared"), usage={"rules": 250}, quotas={"rules": 500}))
    assert raised["rules"].status == "ok"


def test_concurrent_job_runs_point_at_the_setting():
    runs = _by_key(preflight.preflight(ClassShape(60, "shared", job_max_concurrent_runs=40)))["job_runs"]
    assert (runs.needed, runs.status) == (2400, "FAIL")
    assert "jobMaxConcurrentRuns" in runs.fix


def test_unknown_quota_key_is_refused():
    with pytest.raises(ValueError, match="unknown quota 'trail'"):
        preflight.preflight(ClassShape(1), usage={"trail": 1})


def test_cli_preflight_and_up_refuse_a_class_that_does_not_fit(tmp_path):
    out: list[str] = []
    assert main(["preflight", "--students", "6", "--trail-mode", "per-stack"], out=out.append) == 2
    assert "FAIL: fix the lines marked FAIL" in out[-1]
    assert main(["preflight", "--students", "60"], out=out.append) == 0
    assert main(["preflight", "--students", "60", "--usage", "rules=290"], out=out.append) == 2
    assert main(["preflight", "--students", "60", "--usage", "rules=290", "--quota", "rules=400"], out=out.append) == 0
    # Invalid combination: no trail, yet CloudTrail as the trigger source.
    assert main(["preflight", "--students", "3", "--trail-mode", "none"], out=out.append) == 2
    assert "triggerSource 'cloudtrail' would never fire" in out[-1]

    class Untouchable:
        def up(self, spec, log):
            raise AssertionError("preflight should have stopped the class")

    roster = tmp_path / "class.csv"
    roster.write_text("name,email\n" + "".join(f"S{i},s{i}@example.com\n" for i in range(6)))
    assert main(["up", "--roster", str(roster), "--trail-mode", "per-stack"], backend=Untouchable(), out=out.append) == 2
    assert "nothing created" in out[-1]
