"""The Glue job that deduplicates the customers (lab: ``ml-lab-notebook-job``).

Its script and modules come from ``glue_jobs/`` and are uploaded as assets, so
a change to them changes the objects' hashes and redeploys. Glue 5.0 (Spark
3.5, Python 3.11) with Splink by default; ``matcher=findmatches`` keeps the
lab's FindMatches ML transform on Glue 2.0, which reached end of life on
2026-04-01 (its runs can no longer start), and only then creates the transform.
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
    matcher: str = "splink"
    output_format: str = "csv"
    dedup_mode: str = "replace"
    worker_type: str = "G.1X"
    workers: int = 2
    timeout_minutes: int = 60
    max_concurrent_runs: int = 1
    execution_class: str = "STANDARD"
    security_configuration: pulumi.Input[str] | None = None
    kms_key_arn: pulumi.Input[str] | None = None
    data_key_arn: pulumi.Input[str] | None = None
    """The key of the bucket's SSE-KMS encryption, when it has one."""
    """Encrypts the job's log groups; the job may use it for its S3 writes."""
    log_retention_days: int = 30
    findmatches_table: str | None = None
    """The catalog table FindMatches learns from (``matcher=findmatches`` only)."""
    database_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class DedupJob(pulumi.ComponentResource):
    job: aws.glue.Job
    role: aws.iam.Role
    script: aws.s3.BucketObjectv2
    ml_transform: aws.glue.MLTransform | None = None

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

        write_prefixes = [args.output_prefix, args.matches_prefix, args.staging_prefix]
        if args.model_prefix:
            write_prefixes.insert(2, args.model_prefix)
        read_prefixes = [args.watched_prefix, args.scripts_prefix]
        policy = pulumi.Output.all(args.kms_key_arn, args.data_key_arn).apply(
            lambda keys: json.dumps(
                policies.glue_job_policy(
                    arns,
                    bucket=args.bucket,
                    read_prefixes=read_prefixes,
                    write_prefixes=write_prefixes,
                    kms_key_arn=keys[0],
                    data_key_arn=keys[1],
                    # The lab's catalog-table input (--source_database/--source_table): the stack's own database.
                    database=args.database_name,
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

        # Glue 5.0 writes to <prefix>/error and <prefix>/output; created here so they have a retention.
        log_prefix = f"/aws-glue/jobs/{args.job_name}"
        self.log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{stream}-logs",
                name=f"{log_prefix}/{stream}",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.kms_key_arn,
                tags=tags,
                opts=child,
            )
            for stream in ("error", "output")
        ]

        transform_id = None
        if args.matcher == "findmatches":
            self.ml_transform = self._find_matches_transform(name, args)
            transform_id = self.ml_transform.id

        default_arguments = pulumi.Output.from_input(transform_id).apply(
            lambda tid: {
                **contract.job_arguments(
                    output_bucket=args.bucket,
                    output_prefix=args.output_prefix,
                    matches_prefix=args.matches_prefix,
                    staging_prefix=args.staging_prefix,
                    settings_uri=s3_uri(contract.DEFAULT_SETTINGS_FILE),
                    output_format=args.output_format,
                    matcher=args.matcher,
                    transform_id=tid,
                    model_prefix=args.model_prefix,
                    dedup_mode=args.dedup_mode,
                ),
                "--extra-py-files": s3_uri(contract.EXTRA_PY_FILES_ARCHIVE),
                "--enable-metrics": "true",
                "--custom-logGroup-prefix": log_prefix,
            }
        )
        self.job = aws.glue.Job(
            name,
            name=args.job_name,
            role_arn=self.role.arn,
            glue_version=contract.glue_version(args.matcher),
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

    def _find_matches_transform(self, name: str, args: DedupJobArgs) -> aws.glue.MLTransform:
        """The lab's FindMatches transform (Glue 2.0, end of life): it still needs labels to be trained."""
        if not (args.database_name and args.findmatches_table):
            raise ValueError("matcher 'findmatches' needs the catalog database and table it learns from")
        return aws.glue.MLTransform(
            f"{name}-findmatches",
            name=f"{args.job_name}-findmatches",
            role_arn=self.role.arn,
            glue_version="2.0",
            worker_type=args.worker_type,
            number_of_workers=args.workers,
            input_record_tables=[{"database_name": args.database_name, "table_name": args.findmatches_table}],
            parameters={
                "transform_type": "FIND_MATCHES",
                "find_matches_parameters": {
                    "primary_key_column_name": "c_customer_id",
                    "precision_recall_trade_off": 0.9,
                    "accuracy_cost_trade_off": 0.5,
                    "enforce_provided_labels": False,
                },
            },
            tags=args.tags or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
