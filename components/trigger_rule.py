"""The EventBridge rule that starts the workflow for each upload into the watched folder.

The target hands the workflow the uploaded object's bucket and key, retries a
bounded number of times for a bounded time, and parks what it could not
deliver in an encrypted dead-letter queue only this rule may write to; an alarm
on that queue tells a person.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from builders import event_patterns, policies
from builders.arns import Arns
from components._iam import service_role


@dataclass
class TriggerRuleArgs:
    rule_name: str
    role_name: str
    arns: Arns
    source: str
    """``cloudtrail`` or ``s3-eventbridge`` (see builders/event_patterns.py)."""
    bucket: str
    watched_prefix: str
    state_machine_arn: pulumi.Input[str]
    max_event_age_seconds: int
    retry_attempts: int
    alarm_topic_arn: pulumi.Input[str] | None
    """Where the dead-letter alarm goes; ``None``: no alarm."""
    tags: dict[str, str] = field(default_factory=dict)


class TriggerRule(pulumi.ComponentResource):
    rule: aws.cloudwatch.EventRule
    target: aws.cloudwatch.EventTarget
    role: aws.iam.Role
    dead_letter_queue: aws.sqs.Queue

    def __init__(self, name: str, args: TriggerRuleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("etl-ttt-demo:trigger:TriggerRule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags or None
        rule_arn = args.arns.rule(args.rule_name)

        if args.source == event_patterns.S3_EVENTBRIDGE:
            # S3 sends "Object Created" events to EventBridge only once switched on per bucket.
            aws.s3.BucketNotification(f"{name}-s3-events", bucket=args.bucket, eventbridge=True, opts=child)

        self.rule = aws.cloudwatch.EventRule(
            name,
            name=args.rule_name,
            description=f"Uploads into s3://{args.bucket}/{args.watched_prefix} ({args.source})",
            event_pattern=json.dumps(event_patterns.upload_pattern(args.source, args.bucket, args.watched_prefix)),
            tags=tags,
            opts=child,
        )
        self.role, role_policy = service_role(
            name,
            role_name=args.role_name,
            service="events.amazonaws.com",
            policy=pulumi.Output.from_input(args.state_machine_arn).apply(
                lambda arn: json.dumps(policies.events_invoke_policy(arn))
            ),
            parent=self,
            description=f"EventBridge rule {args.rule_name}: starts the dedup workflow",
            account_id=args.arns.account_id,
            source_arn=rule_arn,
        )
        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dead-letters",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600,
            tags=tags,
            opts=child,
        )
        dlq_policy = aws.sqs.QueuePolicy(
            f"{name}-dead-letters-policy",
            queue_url=self.dead_letter_queue.url,
            policy=self.dead_letter_queue.arn.apply(
                lambda arn: json.dumps(policies.dead_letter_queue_policy(arn, rule_arn))
            ),
            opts=child,
        )
        input_paths, input_template = event_patterns.target_input(args.source)
        self.target = aws.cloudwatch.EventTarget(
            f"{name}-workflow",
            rule=self.rule.name,
            target_id="dedup-workflow",
            arn=args.state_machine_arn,
            role_arn=self.role.arn,
            input_transformer={"input_paths": input_paths, "input_template": input_template},
            retry_policy={
                "maximum_event_age_in_seconds": args.max_event_age_seconds,
                "maximum_retry_attempts": args.retry_attempts,
            },
            dead_letter_config={"arn": self.dead_letter_queue.arn},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, dlq_policy]),
        )
        if args.alarm_topic_arn is not None:
            aws.cloudwatch.MetricAlarm(
                f"{name}-undelivered",
                alarm_description=f"Uploads that {args.rule_name} could not hand to the workflow (dead-letter queue)",
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": self.dead_letter_queue.name},
                statistic="Maximum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[args.alarm_topic_arn],
                tags=tags,
                opts=child,
            )
        self.register_outputs({"rule_arn": self.rule.arn, "dead_letter_queue_url": self.dead_letter_queue.url})
