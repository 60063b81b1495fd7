"""The cost estimate: transitions counted on the real workflow, prices applied with their minimums."""

from __future__ import annotations

import pytest

from builders import workflow_definition as wd
from workshop import cost, prices
from workshop.cli import main


def _definition(**kwargs):
    return wd.build_definition(wd.WorkflowSpec("job", "crawler", "arn:aws:sns:eu-west-1:123456789012:t", **kwargs))


def test_a_normal_run_ends_in_success_and_each_poll_costs_one_loop():
    definition = _definition()
    fast, end = cost.run_transitions(definition, crawler_polls_running=0)
    assert end == wd.SUCCEEDED
    slow, end = cost.run_transitions(definition, crawler_polls_running=4)
    assert end == wd.SUCCEEDED
    # Wait, Get crawler state, Crawl finished?, Count poll, Polled too long? per extra poll.
    assert slow - fast == 4 * 5
    # Job, start crawler, init poll, wait, get, choice, succeed.
    assert fast == 7


def test_a_crawl_longer_than_the_timeout_ends_in_the_failure_path():
    definition = _definition(crawl_timeout_minutes=1, poll_seconds=30)  # max 2 polls
    _, end = cost.run_transitions(definition, crawler_polls_running=5)
    assert end == wd.FAILED


def test_per_upload_lines_apply_prices_and_minimums():
    run = cost.RunAssumptions(job_minutes=0.5, crawl_minutes=1.0, crawler_dpus=2, pipeline_objects_written=9)
    lines = {line.item.split(" (")[0]: line for line in cost.per_upload(cost.PipelineSettings(), run)}
    # 2 x G.1X = 2 DPU, billed for the 1-minute minimum.
    assert lines["Glue job"].usd == pytest.approx(2 * (1 / 60) * 0.44)
    # Crawler: 10-minute minimum.
    assert lines["Glue crawler"].usd == pytest.approx(2 * (10 / 60) * 0.44)
    # Shared trail: the upload and the job's 9 writes.
    assert lines["CloudTrail data events"].usd == pytest.approx(10 * 0.10 / 100_000)


def _line(estimate: cost.Estimate, item: str) -> float:
    return next(line.usd for line in estimate.upload_lines if line.item.startswith(item))


def test_settings_change_the_estimate_the_right_way():
    base = cost.estimate(60, 5)
    flex = cost.estimate(60, 5, cost.PipelineSettings(job_execution_class="FLEX"))
    assert _line(flex, "Glue job") / _line(base, "Glue job") == pytest.approx(
        prices.GLUE_DPU_HOUR_FLEX / prices.GLUE_DPU_HOUR_STANDARD)
    none = cost.estimate(60, 5, cost.PipelineSettings(trail_mode="none", trigger_source="s3-eventbridge"))
    per_stack = cost.estimate(60, 5, cost.PipelineSettings(trail_mode="per-stack"))
    events = [_line(e, "CloudTrail") for e in (none, per_stack, base)]
    assert events[0] == 0 < events[1] < events[2]
    bigger = cost.estimate(60, 5, cost.PipelineSettings(job_worker_type="G.2X", job_workers=10))
    assert bigger.per_upload_usd > base.per_upload_usd
    assert base.class_day_usd == pytest.approx(60 * (5 * base.per_upload_usd + sum(x.usd for x in base.day_lines)))
    with pytest.raises(ValueError, match="jobWorkerType"):
        cost.estimate(1, 1, cost.PipelineSettings(job_worker_type="G.3X"))


def test_cli_cost_prints_the_total_and_every_assumed_price_with_its_date():
    out: list[str] = []
    assert main(["cost", "--students", "60", "--uploads-per-student", "5"], out=out.append) == 0
    text = out[-1]
    assert "per class-day (60 students): $" in text
    assert f"as of {prices.PRICES_AS_OF}" in text
    for name in prices.ALL:
        assert name in text
    assert main(["cost", "--students", "0"], out=out.append) == 2
    assert main(["cost", "--students", "2", "--trail-mode", "none"], out=out.append) == 2


def test_monthly_items_per_stack_match_what_the_program_creates():
    from conftest import render_stack

    mocks = render_stack({"trailMode": "shared", "sharedTrailName": "etl-ttt-demo-class-trail"}, stack="student-cost")
    assert len(mocks.of_type("aws:kms/key:Key")) == cost.KMS_KEYS_PER_STACK
    assert len(mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == cost.ALARMS_PER_STACK


def test_data_events_follow_what_each_trail_mode_records():
    run = cost.RunAssumptions(pipeline_objects_written=7)
    assert cost.data_events_per_upload(cost.PipelineSettings(trail_mode="shared"), run) == 8
    assert cost.data_events_per_upload(cost.PipelineSettings(trail_mode="per-stack"), run) == 1
    assert cost.data_events_per_upload(
        cost.PipelineSettings(trail_mode="none", trigger_source="s3-eventbridge"), run) == 0


@pytest.mark.parametrize("trail_mode", ["per-stack", "shared", "none"])
def test_cost_takes_every_trail_mode_the_stack_takes(trail_mode):
    """The class trail's name goes with trailMode shared only (the stack refuses it elsewhere)."""
    out: list[str] = []
    args = ["cost", "--students", "3", "--trail-mode", trail_mode, "--trigger-source", "s3-eventbridge"]
    assert main(args, out=out.append) == 0, out
