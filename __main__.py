"""The dedup pipeline stack: settings once, components composed, outputs exported.

upload → (CloudTrail data event | S3 Object Created) → EventBridge rule
       → Step Functions workflow → Glue dedup job → Glue crawler → catalog table
"""

import pulumi
import pulumi_aws as aws

from builders import policies
from builders.arns import Arns
from builders.completion_event import CompletionEvent, event_bus_arn, table_name
from builders.event_patterns import KEY_ENCODING
from builders.layout import bucket_layout
from builders.names import physical_names
from builders.settings import load_settings
from components import (
    Crawler,
    CrawlerArgs,
    DedupJob,
    DedupJobArgs,
    SecureBucket,
    SecureBucketArgs,
    Trail,
    TrailArgs,
    TriggerRule,
    TriggerRuleArgs,
    Workflow,
    WorkflowArgs,
)
from components.encryption import HASH_PATTERN, Encryption, EncryptionArgs

settings = load_settings()
project, stack = pulumi.get_project(), pulumi.get_stack()

# Every taggable resource gets these through the provider's default tags.
default_tags = {"project": project, "stack": stack, "environment": settings.environment or stack}
if settings.owner:
    default_tags["owner"] = settings.owner
provider = aws.Provider("aws", region=aws.config.region, default_tags={"tags": default_tags})
use_provider = pulumi.ResourceOptions(provider=provider)
invoke = pulumi.InvokeOptions(provider=provider)

identity = aws.get_caller_identity(opts=invoke)
region = aws.get_region(opts=invoke).region
arns = Arns(aws.get_partition(opts=invoke).partition, region, identity.account_id)
names = physical_names(
    stack, identity.account_id, region, data_bucket=settings.data_bucket_name, database=settings.database_name
)
layout = bucket_layout(settings.watched_prefix, settings.output_prefix)
# Production-like stacks keep their data; workshop stacks (protectData=false) leave nothing behind.
keep_data = settings.protect_data

encryption = Encryption(
    "encryption",
    EncryptionArgs(
        arns=arns,
        security_configuration_name=names.security_configuration,
        log_groups=names.log_groups(f"{names.security_configuration}-{HASH_PATTERN}"),
        s3_encryption=settings.encryption,
        s3_kms_key_arn=settings.kms_key_arn or None,
        retain=settings.retain_stack_key,
        trail_arns=[arns.trail(names.trail)] if settings.trail_encrypted else [],
    ),
    opts=use_provider,
)
keys = encryption.refs

# Who uploaded what: S3 server access logs of the data bucket (dataAccessLogs), in a log
# bucket of their own (the trail's may be SSE-KMS, which access logging can't write to).
ACCESS_LOG_PREFIX = "s3-access/"
access_logs = None
if settings.data_access_logs:
    access_logs = SecureBucket(
        "access-logs",
        SecureBucketArgs(
            expiration_days=settings.data_access_log_expiration_days,
            noncurrent_expiration_days=min(settings.data_access_log_expiration_days, 30),
            force_destroy=not keep_data,
            policy=lambda bucket_arn: policies.access_log_bucket_policy(
                bucket_arn, source_bucket_arn=arns.bucket(names.data_bucket), account_id=identity.account_id,
                prefix=ACCESS_LOG_PREFIX,
            ),
        ),
        opts=use_provider,
    )
data_bucket = SecureBucket(
    "data",
    SecureBucketArgs(
        bucket=names.data_bucket,
        versioning=True,
        kms_key_arn=keys.data_key_arn,
        force_destroy=not keep_data,
        retain=keep_data,
        noncurrent_expiration_days=settings.noncurrent_version_expiration_days,
        access_log_bucket=access_logs.name if access_logs else None,
        access_log_prefix=ACCESS_LOG_PREFIX,
    ),
    opts=use_provider,
)
database = aws.glue.CatalogDatabase(
    "database",
    name=names.database,
    description="Deduplicated customers of the etl-ttt-demo workshop (ml_final_* tables)",
    opts=pulumi.ResourceOptions(provider=provider, protect=keep_data, retain_on_delete=keep_data),
)
on_data_bucket = pulumi.ResourceOptions(provider=provider, depends_on=[data_bucket])

trail = None
if settings.per_stack_trail:
    trail = Trail(
        "trail",
        TrailArgs(
            trail_name=names.trail,
            arns=arns,
            object_arn_prefixes=[f"{arns.bucket(names.data_bucket)}/{layout.watched}"],
            log_expiration_days=settings.trail_log_expiration_days,
            force_destroy=not keep_data,
            kms_key_arn=keys.key_arn if settings.trail_encrypted else None,
        ),
        opts=on_data_bucket,
    )

crawler = Crawler(
    "crawler",
    CrawlerArgs(
        crawler_name=names.crawler,
        role_name=names.crawler_role,
        arns=arns,
        bucket=names.data_bucket,
        layout=layout,
        database=database.name,
        database_name=names.database,
        encryption=keys,
    ),
    opts=on_data_bucket,
)
job = DedupJob(
    "dedup-job",
    DedupJobArgs(
        job_name=names.job,
        role_name=names.glue_job_role,
        arns=arns,
        bucket=names.data_bucket,
        layout=layout,
        encryption=keys,
        job_engine=settings.job_engine,
        output_format=settings.output_format,
        dedup_mode=settings.dedup_mode,
        model_choice=settings.model_choice,
        model_object_key=settings.model_object_key,
        labels_object_key=settings.labels_object_key,
        worker_type=settings.job_worker_type,
        workers=settings.job_workers,
        timeout_minutes=settings.job_timeout_minutes,
        max_concurrent_runs=settings.job_max_concurrent_runs,
        execution_class=settings.job_execution_class,
        log_retention_days=settings.log_retention_days,
    ),
    opts=on_data_bucket,
)
workflow = Workflow(
    "workflow",
    WorkflowArgs(
        state_machine_name=names.state_machine,
        role_name=names.states_role,
        arns=arns,
        job_name=names.job,
        crawler_name=names.crawler,
        encryption=keys,
        crawl_timeout_minutes=settings.crawl_timeout_minutes,
        source_key_encoding=KEY_ENCODING[settings.trigger_source],
        log_level=settings.log_level,
        log_retention_days=settings.log_retention_days,
        notification_email=settings.notification_email,
        completion=CompletionEvent(
            bucket=names.data_bucket,
            staging_prefix=layout.staging,
            database=names.database,
            table=table_name(layout.output),
            event_bus_arn=event_bus_arn(arns.partition, region, identity.account_id),
        ),
    ),
    opts=pulumi.ResourceOptions(provider=provider, depends_on=[job, crawler]),
)
trigger = TriggerRule(
    "trigger",
    TriggerRuleArgs(
        rule_name=names.rule,
        role_name=names.events_role,
        arns=arns,
        source=settings.trigger_source,
        bucket=names.data_bucket,
        watched_prefix=layout.watched,
        state_machine_arn=workflow.state_machine.arn,
        max_event_age_seconds=settings.trigger_max_event_age_seconds,
        retry_attempts=settings.trigger_retry_attempts,
        alarm_topic_arn=workflow.topic.arn,
    ),
    opts=on_data_bucket,
)

upload_uri = f"s3://{names.data_bucket}/{layout.watched}"
pulumi.export("data_bucket", data_bucket.name)
pulumi.export("upload_uri", upload_uri)
upload_command = f"aws s3 cp full-top-customer.csv {upload_uri}"
pulumi.export("upload_command", upload_command)
pulumi.export("output_uri", f"s3://{names.data_bucket}/{layout.output}")
pulumi.export("state_machine_arn", workflow.state_machine.arn)
pulumi.export("job_name", job.job.name)
pulumi.export("crawler_name", crawler.crawler.name)
pulumi.export("database_name", database.name)
pulumi.export("table_prefix", crawler.crawler.table_prefix)
pulumi.export("failure_topic_arn", workflow.topic.arn)
pulumi.export("dead_letter_queue_url", trigger.dead_letter_queue.url)
pulumi.export("trigger_source", settings.trigger_source)
pulumi.export("table_name", table_name(layout.output))
pulumi.export("run_summaries_uri", f"s3://{names.data_bucket}/{layout.staging}summaries/")
pulumi.export("region", region)
pulumi.export("rule_name", trigger.rule.name)
pulumi.export("access_logs_uri", pulumi.Output.concat("s3://", access_logs.name, f"/{ACCESS_LOG_PREFIX}") if access_logs else None)
pulumi.export("trail_name", trail.trail.name if trail else settings.shared_trail_name or None)
