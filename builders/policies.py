"""IAM policy documents for every role, bucket and queue of the stack. Pure.

Every statement names its actions one by one (never ``*``) and scopes them to
the exact ARNs and folders the stack uses. Where AWS allows no narrower
resource than ``*`` (log delivery, X-Ray), the statement says so.
"""

from __future__ import annotations

from builders.arns import Arns

VERSION = "2012-10-17"


def document(*statements: dict) -> dict:
    return {"Version": VERSION, "Statement": list(statements)}


def allow(sid: str, actions: list[str], resources: list[str] | str, condition: dict | None = None) -> dict:
    statement = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def service_allow(sid: str, service: str, actions: list[str] | str, resources: list[str] | str, condition: dict) -> dict:
    """An AWS service may do ``actions`` on ``resources`` (resource and key policies), under ``condition``."""
    return {"Sid": sid, "Effect": "Allow", "Principal": {"Service": service}, "Action": actions, "Resource": resources,
            "Condition": condition}


def assume_role_policy(service: str, account_id: str | None = None, source_arn: str | None = None) -> dict:
    """Trust policy for an AWS service, optionally limited to one account / source ARN (confused deputy)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    condition: dict = {}
    if account_id:
        condition.setdefault("StringEquals", {})["aws:SourceAccount"] = account_id
    if source_arn:
        condition.setdefault("ArnLike", {})["aws:SourceArn"] = source_arn
    if condition:
        statement["Condition"] = condition
    return document(statement)


def deny_insecure_transport(bucket_arn: str) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _list_prefixes(arns: Arns, bucket: str, prefixes: list[str]) -> dict:
    return allow(
        "ListOwnFolders",
        ["s3:ListBucket"],
        arns.bucket(bucket),
        {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
    )


def _kms(*key_arns: str | None) -> list[dict]:
    """Use of the given keys (the stack key for logs, the data key for SSE-KMS objects)."""
    keys = sorted({k for k in key_arns if k})
    if not keys:
        return []
    return [allow("UseKeys", ["kms:Decrypt", "kms:GenerateDataKey"], keys if len(keys) > 1 else keys[0])]


def _log_group(arns: Arns, name: str) -> str:
    """The ARN of exactly one log group (``Arns.log_groups`` is a prefix pattern)."""
    return arns.log_groups(name).removesuffix("*")


def glue_job_policy(
    arns: Arns,
    *,
    bucket: str,
    input_prefix: str,
    scripts_prefix: str,
    staging_prefix: str,
    publish_prefixes: list[str],
    log_groups: list[str],
    kms_key_arn: str | None = None,
    data_key_arn: str | None = None,
    read_published_prefixes: list[str] | None = None,
    read_objects: list[str] | None = None,
) -> dict:
    """The dedup job, derived from what it calls (``tests/test_glue_run_path.py`` records
    every call of a run on both engines and evaluates it against this document):

    * the upload: HeadObject, GetObject (``IfMatch``, the version it validated);
    * its script, module zip (Glue loads them with the role) and settings: GetObject;
    * the run's staging prefix: PutObject (uploads, multipart included), HeadObject
      (copy source), DeleteObject (cleanup), ListBucket; Spark's checkpoints there too,
      and the ``<dir>_$folder$`` markers Hadoop's S3 file systems write, the staging
      folder's own marker included;
    * the published folders: ListBucket, CopyObject (PutObject), DeleteObject;
    * with ``dedupMode: incremental`` only, the published matches and model
      (``read_published_prefixes``): GetObject (``tests/test_dedup_incremental_glue.py``);
    * a team's model and labels objects (``modelObjectKey``, ``labelsObjectKey``), only when set:
      GetObject on exactly those keys (``tests/test_glue_model_labels.py``);
    * its two log groups (``contract.job_log_groups``); PutMetricData (``--enable-metrics``);
    * the keys of its security configuration (AWS Glue guide, "Setting up encryption":
      the role uses the CloudWatch and bookmark key) and of SSE-KMS data.

    No ListBucket on the upload folder: a missing upload is then a 403, which the job
    reports as "not found or not readable".
    """
    staging = arns.objects(bucket, staging_prefix)
    statements = [
        allow("ReadUpload", ["s3:GetObject"], arns.objects(bucket, input_prefix)),
        allow("ReadScriptModulesSettings", ["s3:GetObject"], arns.objects(bucket, scripts_prefix)),
        allow(
            "StageRun",
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            [staging, f"{arns.bucket(bucket)}/{staging_prefix.rstrip('/')}_$folder$"],
        ),
        allow(
            "PublishOutputs",
            ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            [arns.objects(bucket, p) for p in publish_prefixes],
        ),
        _list_prefixes(arns, bucket, [*publish_prefixes, staging_prefix]),
        *([allow("ReadPublishedState", ["s3:GetObject"], [arns.objects(bucket, p) for p in read_published_prefixes])]
          if read_published_prefixes else []),
        *([allow("ReadModelAndLabels", ["s3:GetObject"], [f"{arns.bucket(bucket)}/{k}" for k in read_objects])]
          if read_objects else []),
        allow(
            "JobLogs",
            ["logs:CreateLogGroup", "logs:AssociateKmsKey", "logs:CreateLogStream", "logs:PutLogEvents"],
            [arn for g in log_groups for arn in (_log_group(arns, g), f"{_log_group(arns, g)}:*")],
        ),
        # --enable-metrics; PutMetricData takes no resource, the namespace condition narrows it.
        allow("JobMetrics", ["cloudwatch:PutMetricData"], "*", {"StringEquals": {"cloudwatch:namespace": "Glue"}}),
    ]
    statements.extend(_kms(kms_key_arn, data_key_arn))
    return document(*statements)


def crawler_policy(
    arns: Arns,
    *,
    bucket: str,
    output_prefix: str,
    database: str,
    kms_key_arn: str | None = None,
    data_key_arn: str | None = None,
) -> dict:
    """The crawler: read the published folder, maintain its tables in the database, log.

    Its calls are those AWS documents for an S3 crawler (``tests/test_glue_run_path.py``
    evaluates them against this document): ListObjectsV2 and GetObject on the target,
    Get/Create/Update of tables and partitions in its database, its log streams, and
    the stack key for its encrypted logs (security configuration)."""
    return document(
        allow("ReadPublishedCustomers", ["s3:GetObject"], arns.objects(bucket, output_prefix)),
        _list_prefixes(arns, bucket, [output_prefix]),
        allow(
            "MaintainTables",
            [
                "glue:GetDatabase",
                "glue:GetTable",
                "glue:GetTables",
                "glue:CreateTable",
                "glue:UpdateTable",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:BatchGetPartition",
                "glue:BatchCreatePartition",
                "glue:UpdatePartition",
                "glue:BatchUpdatePartition",
            ],
            [arns.glue_catalog(), arns.glue_database(database), arns.glue_tables(database)],
        ),
        allow(
            "CrawlerLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
            [arns.log_groups("/aws-glue/crawlers")],
        ),
        *_kms(kms_key_arn, data_key_arn),
    )


# Which of the workflow's resources each called service acts on; the actions
# themselves come from the definition (``service_calls``), never from a list here.
def _states_resource(service: str, action: str, r: dict) -> str | None:
    if service == "glue":
        return r["crawler"] if "Crawler" in action else r["job"]
    return {"sns": r["topic"], "s3": r.get("summaries"), "events": r.get("bus")}.get(service)


_STATES_SIDS = {"job": "RunDedupJob", "crawler": "RunCrawler", "topic": "NotifyFailure",
                "summaries": "ReadRunSummary", "bus": "AnnounceCatalogUpdate"}


def states_policy(
    calls: set[tuple[str, str]],
    *,
    job_arn: str,
    crawler_arn: str,
    topic_arn: str,
    summary_objects_arn: str | None = None,
    event_bus_arn: str | None = None,
    event_source: str | None = None,
    kms_key_arn: str | None = None,
    data_key_arn: str | None = None,
) -> dict:
    """The workflow: exactly the ``calls`` of its definition (``service_calls``), each on its
    exact ARN, plus logs and X-Ray. Events go only to ``event_bus_arn`` with ``event_source``
    (``events:source`` on PutEvents: EventBridge User Guide, "Using IAM policy conditions in
    Amazon EventBridge"). A call with no resource here is an error, not a silent gap."""
    resources = {"job": job_arn, "crawler": crawler_arn, "topic": topic_arn,
                 "summaries": summary_objects_arn, "bus": event_bus_arn}
    by_resource: dict[str, list[str]] = {}
    for service, action in sorted(calls):
        resource = _states_resource(service, action, resources)
        if not resource:
            raise ValueError(f"the definition calls {service}:{action}, and states_policy has no resource for it")
        by_resource.setdefault(resource, []).append(f"{service}:{action}")
    if event_bus_arn in by_resource and not event_source:
        raise ValueError("events:PutEvents needs event_source, so the role may put only the pipeline's own events")
    statements = []
    for key, sid in _STATES_SIDS.items():
        arn = resources[key]
        if arn in by_resource:
            condition = {"StringEquals": {"events:source": event_source}} if key == "bus" else None
            statements.append(allow(sid, by_resource.pop(arn), arn, condition))
    statements += [
        # Step Functions log delivery and X-Ray accept no narrower resource (AWS
        # "Logging using CloudWatch Logs" and "X-Ray" pages of the Step Functions guide).
        allow(
            "DeliverExecutionLogs",
            [
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ],
            "*",
        ),
        allow(
            "XRayTracing",
            ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
            "*",
        ),
    ]
    # The stack key (encrypted topic); the data key when the summary is SSE-KMS encrypted.
    statements.extend(_kms(kms_key_arn, data_key_arn if ("s3", "GetObject") in calls else None))
    return document(*statements)


def events_invoke_policy(state_machine_arn: str) -> dict:
    return document(allow("StartDedupWorkflow", ["states:StartExecution"], state_machine_arn))


def dead_letter_queue_policy(queue_arn: str, rule_arn: str) -> dict:
    """Only this rule's failed deliveries may land in the queue."""
    return document(
        service_allow(
            "RuleDeadLetters",
            "events.amazonaws.com",
            "sqs:SendMessage",
            queue_arn,
            {"ArnEquals": {"aws:SourceArn": rule_arn}},
        )
    )


def bucket_tls_policy(bucket_arn: str) -> dict:
    return document(deny_insecure_transport(bucket_arn))


def trail_bucket_policy(bucket_arn: str, *, account_id: str, trail_arns: list[str], log_prefix: str = "") -> dict:
    """CloudTrail may write its logs here, for the named trails only (aws:SourceArn)."""
    prefix = f"{log_prefix.rstrip('/')}/" if log_prefix else ""
    source = {"StringEquals": {"aws:SourceArn": trail_arns if len(trail_arns) > 1 else trail_arns[0]}}
    return document(
        service_allow("CloudTrailAclCheck", "cloudtrail.amazonaws.com", "s3:GetBucketAcl", bucket_arn, source),
        service_allow(
            "CloudTrailWrite",
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            f"{bucket_arn}/{prefix}AWSLogs/{account_id}/*",
            {
                "StringEquals": {**source["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"},
            },
        ),
        deny_insecure_transport(bucket_arn),
    )


def access_log_bucket_policy(bucket_arn: str, *, source_bucket_arn: str, account_id: str, prefix: str) -> dict:
    """S3 server access logs of ``source_bucket_arn`` may be written under ``prefix``, by S3's
    logging service for that bucket of this account only (S3 User Guide, "Enabling Amazon S3
    server access logging": bucket-policy grant to logging.s3.amazonaws.com with
    aws:SourceArn and aws:SourceAccount)."""
    return document(
        service_allow(
            "S3ServerAccessLogs",
            "logging.s3.amazonaws.com",
            "s3:PutObject",
            f"{bucket_arn}/{prefix}*",
            {
                "ArnLike": {"aws:SourceArn": source_bucket_arn},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        ),
        deny_insecure_transport(bucket_arn),
    )


KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:Create*", "kms:Decrypt", "kms:Delete*", "kms:Describe*",
    "kms:Disable*", "kms:Enable*", "kms:Encrypt", "kms:GenerateDataKey*", "kms:Get*",
    "kms:ImportKeyMaterial", "kms:List*", "kms:Put*", "kms:ReEncrypt*", "kms:ReplicateKey",
    "kms:RetireGrant", "kms:Revoke*", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:Update*",
]


def kms_key_policy(arns: Arns, *, log_groups: list[str], trail_arns: list[str] | None = None) -> dict:
    """The stack key. The account administers it through IAM; AWS services that must
    encrypt with it may, each with the condition AWS documents for it:

    * CloudWatch Logs: only for the stack's own log groups, ``log_groups`` (names,
      ``*``/``?`` allowed), through the encryption context ``aws:logs:arn``.
    * CloudWatch alarms publishing to the encrypted failure topic: this account only.
    * CloudTrail, when trail logs are encrypted: only for the named trails.
    """
    statements = [
        {
            "Sid": "AccountAdministersThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": arns.root()},
            # AWS's default key policy grants "kms:*"; the key's own actions, named by group.
            "Action": KEY_ADMIN_ACTIONS,
            "Resource": "*",
        },
        service_allow(
            "CloudWatchLogsEncrypt",
            f"logs.{arns.region}.amazonaws.com",
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "*",
            {"StringLike": {"kms:EncryptionContext:aws:logs:arn": [_log_group(arns, g) for g in log_groups]}},
        ),
        service_allow(
            "CloudWatchAlarmsPublish",
            "cloudwatch.amazonaws.com",
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            "*",
            {"StringEquals": {"aws:SourceAccount": arns.account_id}},
        ),
    ]
    if trail_arns:
        source = {"aws:SourceArn": trail_arns if len(trail_arns) > 1 else trail_arns[0]}
        statements += [
            service_allow(
                "CloudTrailEncryptLogs",
                "cloudtrail.amazonaws.com",
                "kms:GenerateDataKey*",
                "*",
                {
                    "StringEquals": source,
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{arns.partition}:cloudtrail:*:{arns.account_id}:trail/*"
                    },
                },
            ),
            {
                # DescribeKey, and Decrypt because the log bucket uses an S3 Bucket Key
                # (CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail").
                "Sid": "CloudTrailDescribeKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": source},
            },
        ]
    return document(*statements)
