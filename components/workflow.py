"""The Step Functions workflow: dedup job, then crawl, failures told to a person.

Children: the state machine (Standard, X-Ray on, logs to an encrypted group
with a retention), its role (exactly the calls of the definition, derived from
it), the SNS topic failures go to (optional e-mail subscription) and a
CloudWatch alarm on failed, timed-out or aborted executions that notifies the
same topic. With ``completion``, a successful run reads the job's run summary
and puts one "Dedup Catalog Updated" event on the default bus; the role may put
only that source on only that bus.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from builders import policies
from builders.arns import Arns
from builders.completion_event import SOURCE, CompletionEvent
from builders.workflow_definition import WorkflowSpec, build_definition, service_calls
from components._iam import service_role


@dataclass
class WorkflowArgs:
    state_machine_name: str
    role_name: str
    arns: Arns
    job_name: str
    crawler_name: str
    kms_key_arn: pulumi.Input[str]
    """Encrypts the failure topic and the log group (CloudWatch alarms need a customer key to publish)."""
    crawl_timeout_minutes: int = 30
    source_key_encoding: str = "none"
    """``url`` when the trigger is S3's own event notifications (see builders/event_patterns.py)."""
    log_level: str = "ERROR"
    log_retention_days: int = 30
    notification_email: str = ""
    completion: CompletionEvent | None = None
    """Announce each catalog update (builders/completion_event.py); ``None``: no event."""
    data_key_arn: pulumi.Input[str] | None = None
    """The data bucket's KMS key, to read the run summary when the bucket is SSE-KMS."""
    tags: dict[str, str] = field(default_factory=dict)


class Workflow(pulumi.ComponentResource):
    state_machine: aws.sfn.StateMachine
    role: aws.iam.Role
    topic: aws.sns.Topic
    log_group: aws.cloudwatch.LogGroup
    alarm: aws.cloudwatch.MetricAlarm

    def __init__(self, name: str, args: WorkflowArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("etl-ttt-demo:orchestration:Workflow", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags or None
        arns = args.arns
        state_machine_arn = arns.state_machine(args.state_machine_name)

        self.topic = aws.sns.Topic(f"{name}-failures", kms_master_key_id=args.kms_key_arn, tags=tags, opts=child)
        if args.notification_email:
            aws.sns.TopicSubscription(
                f"{name}-failures-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.notification_email,
                opts=child,
            )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/vendedlogs/states/{args.state_machine_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.kms_key_arn,
            tags=tags,
            opts=child,
        )
        definition = self.topic.arn.apply(
            lambda topic_arn: build_definition(
                WorkflowSpec(
                    job_name=args.job_name,
                    crawler_name=args.crawler_name,
                    topic_arn=topic_arn,
                    crawl_timeout_minutes=args.crawl_timeout_minutes,
                    source_key_encoding=args.source_key_encoding,
                    completion=args.completion,
                )
            )
        )
        completion = args.completion
        policy = pulumi.Output.all(
            definition=definition, topic=self.topic.arn, key=args.kms_key_arn, data_key=args.data_key_arn
        ).apply(
            lambda v: json.dumps(
                policies.states_policy(
                    service_calls(v["definition"]),
                    job_arn=arns.glue_job(args.job_name),
                    crawler_arn=arns.glue_crawler(args.crawler_name),
                    topic_arn=v["topic"],
                    summary_objects_arn=arns.objects(completion.bucket, completion.summary_prefix) if completion else None,
                    event_bus_arn=completion.event_bus_arn if completion else None,
                    event_source=SOURCE,
                    kms_key_arn=v["key"],
                    data_key_arn=v["data_key"],
                )
            )
        )
        self.role, role_policy = service_role(
            name,
            role_name=args.role_name,
            service="states.amazonaws.com",
            policy=policy,
            parent=self,
            description=f"Step Functions {args.state_machine_name}: runs {args.job_name}, then {args.crawler_name}",
            account_id=arns.account_id,
            source_arn=state_machine_arn,
        )
        self.state_machine = aws.sfn.StateMachine(
            name,
            name=args.state_machine_name,
            type="STANDARD",
            role_arn=self.role.arn,
            definition=pulumi.Output.json_dumps(definition),
            logging_configuration={
                "level": args.log_level,
                "include_execution_data": args.log_level != "OFF",
                "log_destination": self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            },
            tracing_configuration={"enabled": True},
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-failed-executions",
            alarm_description=f"A run of {args.state_machine_name} failed, timed out or was aborted",
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=1,
            threshold=1,
            treat_missing_data="notBreaching",
            metric_queries=[
                *(
                    {
                        "id": metric.lower(),
                        "metric": {
                            "namespace": "AWS/States",
                            "metric_name": metric,
                            "dimensions": {"StateMachineArn": self.state_machine.arn},
                            "period": 300,
                            "stat": "Sum",
                        },
                        "return_data": False,
                    }
                    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
                ),
                {
                    "id": "unsuccessful",
                    # Metrics without data points in the period count as 0, not as "no data".
                    "expression": "FILL(executionsfailed, 0) + FILL(executionstimedout, 0) + FILL(executionsaborted, 0)",
                    "label": "Unsuccessful executions",
                    "return_data": True,
                },
            ],
            alarm_actions=[self.topic.arn],
            tags=tags,
            opts=child,
        )
        self.register_outputs(
            {"state_machine_arn": self.state_machine.arn, "topic_arn": self.topic.arn, "role_arn": self.role.arn}
        )
