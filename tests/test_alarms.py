"""The stack's two alarms, as rendered under Pulumi mocks: what each watches, when it fires, whom it tells.

An alarm on a metric AWS never emits for that resource stays in OK (missing data
is "not breaching") and tells nobody: the metric names are checked against the
metrics AWS documents for the namespace and dimension:

* AWS/States, dimension StateMachineArn: Step Functions User Guide, "Monitoring
  Step Functions metrics using CloudWatch", execution metrics.
* AWS/SQS, dimension QueueName: SQS Developer Guide, "Available CloudWatch
  metrics for Amazon SQS". Values are reported while the queue is active (it
  holds a message or was called within six hours), so a parked event keeps its
  queue reporting. NumberOfMessagesSent is not counted for messages SQS moves
  to a dead-letter queue itself (same page); the queue's depth is what says
  "something is parked" whoever put it there.
"""

from __future__ import annotations

import pytest

# What AWS emits, per (namespace, dimension) the alarms use.
EMITTED = {
    ("AWS/States", "StateMachineArn"): {
        "ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsAborted",
        "ExecutionsTimedOut", "ExecutionThrottled", "ExecutionsRedriven", "ExecutionTime",
        "RedrivenExecutionsSucceeded", "RedrivenExecutionsFailed", "RedrivenExecutionsAborted",
        "RedrivenExecutionsTimedOut",
    },
    ("AWS/SQS", "QueueName"): {
        "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesVisible",
        "NumberOfEmptyReceives", "NumberOfMessagesDeleted", "NumberOfMessagesReceived",
        "NumberOfMessagesSent", "SentMessageSize",
    },
}


def emitted(namespace: str, dimensions: dict) -> set[str]:
    (dimension,) = dimensions
    return EMITTED.get((namespace, dimension), set())


def _alarm(stack, name):
    return stack.one("aws:cloudwatch/metricAlarm:MetricAlarm", name).inputs


def _topic(stack):
    return stack.one("aws:sns/topic:Topic").outputs["arn"]


def test_failed_executions_alarm(dev_stack):
    alarm = _alarm(dev_stack, "workflow-failed-executions")
    machine = dev_stack.one("aws:sfn/stateMachine:StateMachine").outputs["arn"]
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    metrics = {q["metric"]["metricName"]: q["metric"] for q in queries.values() if "metric" in q}
    assert set(metrics) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for name, metric in metrics.items():
        assert metric["namespace"] == "AWS/States"
        assert metric["dimensions"] == {"StateMachineArn": machine}, "watches this stack's state machine"
        assert name in emitted(metric["namespace"], metric["dimensions"])
        assert (metric["stat"], metric["period"]) == ("Sum", 300)
    (result,) = [q for q in queries.values() if q.get("returnData")]
    # Each metric filled with 0 when it has no point, so one failure alone is enough.
    assert result["expression"] == " + ".join(f"FILL({q}, 0)" for q in queries if q != result["id"])
    assert (alarm["comparisonOperator"], alarm["threshold"], alarm["evaluationPeriods"]) == (
        "GreaterThanOrEqualToThreshold", 1, 1)
    assert alarm["treatMissingData"] == "notBreaching"
    assert alarm["alarmActions"] == [_topic(dev_stack)]


def test_dead_letter_alarm(dev_stack):
    alarm = _alarm(dev_stack, "trigger-undelivered")
    queue = dev_stack.one("aws:sqs/queue:Queue")
    target = dev_stack.one("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["deadLetterConfig"]["arn"] == queue.outputs["arn"], "the queue the alarm watches is the DLQ"
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": queue.outputs["name"]}
    assert alarm["metricName"] in emitted(alarm["namespace"], alarm["dimensions"])
    assert (alarm["statistic"], alarm["period"]) == ("Maximum", 300)
    assert (alarm["comparisonOperator"], alarm["threshold"], alarm["evaluationPeriods"]) == (
        "GreaterThanOrEqualToThreshold", 1, 1)
    assert alarm["treatMissingData"] == "notBreaching"
    assert alarm["alarmActions"] == [_topic(dev_stack)]


def test_every_alarm_of_the_stack_watches_an_emitted_metric_and_tells_the_topic(dev_stack):
    alarms = dev_stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert {a.name for a in alarms} == {"workflow-failed-executions", "trigger-undelivered"}
    for alarm in alarms:
        inputs = alarm.inputs
        metrics = [q["metric"] for q in inputs.get("metricQueries", []) if "metric" in q] or [
            {"namespace": inputs["namespace"], "metricName": inputs["metricName"], "dimensions": inputs["dimensions"]}
        ]
        for metric in metrics:
            assert metric["metricName"] in emitted(metric["namespace"], metric["dimensions"]), alarm.name
        assert inputs["alarmActions"] == [_topic(dev_stack)], alarm.name


@pytest.mark.parametrize("namespace,dimensions,metric", [
    ("AWS/SQS", {"QueueName": "q"}, "NumberOfMessagesMovedToDLQ"),
    ("AWS/States", {"StateMachineArn": "arn"}, "ExecutionsFailedCount"),
    ("AWS/States", {"ActivityArn": "arn"}, "ExecutionsFailed"),
])
def test_the_check_rejects_a_metric_aws_does_not_emit(namespace, dimensions, metric):
    assert metric not in emitted(namespace, dimensions)
