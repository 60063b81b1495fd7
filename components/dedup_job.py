"""The Glue job that deduplicates the customers (lab: ``ml-lab-notebook-job``).

Its script and modules come from ``glue_jobs/`` and are uploaded as assets, so
a change to them changes the objects' hashes and redeploys. Glue
``contract.GLUE_VERSION`` (5.0: Spark 3.5, Python 3.11) with Splink; ``job_engine``
picks DuckDB on the driver or Spark (``contract.choose_engine``).

Logs: with the security configuration encrypting CloudWatch logs, Glue writes to
``/aws-glue/jobs-<role>-<configuration>/error`` and ``/output``
(``contract.job_log_groups``); the component creates exactly these two, with the
stack's retention and key, and the role may write only there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from builders import policies
from builders.arns import Arns
from components._iam import glue_role
from glue_jobs import contract

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class DedupJobArgs:
    job_name: str
    role_name: str
    arns: Arns
    bucket: str
    watched_prefix: str
    output_prefix: str
    matches_prefix: str
    staging_prefix: str
    scripts_prefix: str
    model_prefix: str | None = None
    """Where the job keeps the trained model and the last run's summary (needed by dedup_mode incremental)."""
    job_engine: str = "auto"
    output_format: str = "csv"
    dedup_mode: str = "replace"
    worker_type: str = "G.1X"
    workers: int = 2
    timeout_minutes: int = 60
    max_concurrent_runs: int = 1
    execution_class: str = "STANDARD"
    security_configuration: pulumi.Input[str] = ""
    """Its name; Glue names the job's log groups after it."""
    kms_key_arn: pulumi.Input[str] | None = None
    """Encrypts the job's log groups (and the configuration's bookmarks)."""
    data_key_arn: pulumi.Input[str] | None = None
    """The key of the bucket's SSE-KMS encryption, when it has one."""
    log_retention_days: int = 30
    tags: dict[str, str] = field(default_factory=dict)


class DedupJob(pulumi.ComponentResource):
    job: aws.glue.Job
    role: aws.iam.Role
    script: aws.s3.BucketObjectv2
    log_groups: list[aws.cloudwatch.LogGroup]

    def __init__(self, name: str, args: DedupJobArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("etl-ttt-demo:dedup:DedupJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags or None
        arns = args.arns

        def s3_uri(path: str) -> str:
            return f"s3://{args.bucket}/{args.scripts_prefix}{path}"

        def upload(path: str, source: pulumi.Asset | pulumi.Archive) -> aws.s3.BucketObjectv2:
            return aws.s3.BucketObjectv2(
                f"{name}-{path.replace('/', '-').replace('.', '-')}",
                bucket=args.bucket,
                key=f"{args.scripts_prefix}{path}",
                source=source,
                tags=tags,
                opts=child,
            )

        # The asset hashes change with the files, so an edited script redeploys.
        self.script = upload(contract.GLUE_ENTRY_POINT, pulumi.FileAsset(str(REPO_ROOT / contract.GLUE_ENTRY_POINT)))
        uploads = [
            self.script,
            upload(contract.DEFAULT_SETTINGS_FILE, pulumi.FileAsset(str(REPO_ROOT / contract.DEFAULT_SETTINGS_FILE))),
            upload(
                contract.EXTRA_PY_FILES_ARCHIVE,
                pulumi.AssetArchive({p: pulumi.FileAsset(str(REPO_ROOT / p)) for p in contract.CORE_MODULE_FILES}),
            ),
        ]

        log_names = pulumi.Output.from_input(args.security_configuration).apply(
            lambda sc: contract.job_log_groups(args.role_name, sc)
        )
        policy = pulumi.Output.all(args.kms_key_arn, args.data_key_arn, log_names).apply(
            lambda v: json.dumps(
                policies.glue_job_policy(
                    arns,
                    bucket=args.bucket,
                    input_prefix=args.watched_prefix,
                    scripts_prefix=args.scripts_prefix,
                    staging_prefix=args.staging_prefix,
                    publish_prefixes=[args.output_prefix, args.matches_prefix,
                                      *([args.model_prefix] if args.model_prefix else [])],
                    log_groups=v[2],
                    # an incremental run reads back what the job published: the matches and the model
                    read_published_prefixes=[args.matches_prefix, args.model_prefix]
                    if args.dedup_mode == "incremental" and args.model_prefix else None,
                    kms_key_arn=v[0],
                    data_key_arn=v[1],
                )
            )
        )
        self.role, role_policy = glue_role(
            name,
            role_name=args.role_name,
            policy=policy,
            parent=self,
            description=f"Glue job {args.job_name}: reads s3://{args.bucket}/{args.watched_prefix}, "
            f"writes s3://{args.bucket}/{args.output_prefix}",
        )

        self.log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{stream}-logs",
                name=log_names.apply(lambda names, i=i: names[i]),
                retention_in_days=args.log_retention_days,
                kms_key_id=args.kms_key_arn,
                tags=tags,
                opts=child,
            )
            for i, stream in enumerate(("error", "output"))
        ]

        default_arguments = {
            **contract.job_arguments(
                output_bucket=args.bucket,
                output_prefix=args.output_prefix,
                matches_prefix=args.matches_prefix,
                staging_prefix=args.staging_prefix,
                settings_uri=s3_uri(contract.DEFAULT_SETTINGS_FILE),
                output_format=args.output_format,
                job_engine=args.job_engine,
                model_prefix=args.model_prefix,
                dedup_mode=args.dedup_mode,
            ),
            "--extra-py-files": s3_uri(contract.EXTRA_PY_FILES_ARCHIVE),
            "--enable-metrics": "true",
        }
        self.job = aws.glue.Job(
            name,
            name=args.job_name,
            role_arn=self.role.arn,
            glue_version=contract.GLUE_VERSION,
            command={"name": "glueetl", "script_location": s3_uri(contract.GLUE_ENTRY_POINT), "python_version": "3"},
            default_arguments=default_arguments,
            worker_type=args.worker_type,
            number_of_workers=args.workers,
            timeout=args.timeout_minutes,
            max_retries=0,
            execution_property={"max_concurrent_runs": args.max_concurrent_runs},
            execution_class=args.execution_class,
            security_configuration=args.security_configuration,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, *uploads, *self.log_groups]),
        )
        self.register_outputs({"job_name": self.job.name, "role_arn": self.role.arn})
