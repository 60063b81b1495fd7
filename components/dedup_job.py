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

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pulumi
import pulumi_aws as aws

from builders import policies
from builders.arns import Arns
from builders.layout import BucketLayout
from components._iam import glue_role, policy_document
from components._logs import log_group
from components.encryption import EncryptionRefs
from glue_jobs import contract

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class DedupJobArgs:
    job_name: str
    role_name: str
    arns: Arns
    bucket: str
    layout: BucketLayout
    """Reads ``watched``, publishes to ``output``, ``matches`` and ``model``, works in ``staging``, runs from ``scripts``."""
    encryption: EncryptionRefs
    """Its security configuration; the stack key encrypts the job's log groups."""
    job_engine: str
    output_format: str
    dedup_mode: str
    """``incremental``: match each upload against the published matches and model (``layout.model``)."""
    model_choice: str
    """``auto``, ``retrain`` or ``object`` (``model_object_key``): the job's ``--model_source``."""
    model_object_key: str
    labels_object_key: str
    """Optional labels CSV: each run scores itself on it (``--labels_uri``)."""
    worker_type: str
    workers: int
    timeout_minutes: int
    max_concurrent_runs: int
    execution_class: str
    log_retention_days: int
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
        layout, keys = args.layout, args.encryption

        def s3_uri(path: str) -> str:
            return f"s3://{args.bucket}/{layout.scripts}{path}"

        def upload(path: str, source: pulumi.Asset | pulumi.Archive) -> aws.s3.BucketObjectv2:
            return aws.s3.BucketObjectv2(
                f"{name}-{path.replace('/', '-').replace('.', '-')}",
                bucket=args.bucket,
                key=f"{layout.scripts}{path}",
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

        model_source = (f"s3://{args.bucket}/{args.model_object_key}" if args.model_choice == "object"
                        else args.model_choice)
        # the job reads exactly these objects of the team's (a given model, labels), nothing around them
        read_objects = [k for k in ((args.model_object_key if args.model_choice == "object" else ""),
                                    args.labels_object_key) if k]

        log_names = pulumi.Output.from_input(keys.security_configuration).apply(
            lambda sc: contract.job_log_groups(args.role_name, sc)
        )
        policy = policy_document(
            partial(policies.glue_job_policy, arns, bucket=args.bucket, input_prefix=layout.watched,
                    scripts_prefix=layout.scripts, staging_prefix=layout.staging,
                    publish_prefixes=[layout.output, layout.matches, layout.model],
                    # an incremental run reads back what the job published: the matches and the model
                    read_published_prefixes=[layout.matches, layout.model] if args.dedup_mode == "incremental" else None,
                    read_objects=read_objects),
            log_groups=log_names,
            **keys.policy_keys(),
        )
        self.role, role_policy = glue_role(
            name,
            role_name=args.role_name,
            policy=policy,
            parent=self,
            description=f"Glue job {args.job_name}: reads s3://{args.bucket}/{layout.watched}, "
            f"writes s3://{args.bucket}/{layout.output}",
        )

        self.log_groups = [
            log_group(
                f"{name}-{stream}-logs",
                name=log_names.apply(lambda names, i=i: names[i]),
                retention_days=args.log_retention_days,
                kms_key_arn=keys.key_arn,
                tags=tags,
                parent=self,
            )
            for i, stream in enumerate(("error", "output"))
        ]

        default_arguments = {
            **contract.job_arguments(
                output_bucket=args.bucket,
                output_prefix=layout.output,
                matches_prefix=layout.matches,
                staging_prefix=layout.staging,
                settings_uri=s3_uri(contract.DEFAULT_SETTINGS_FILE),
                output_format=args.output_format,
                job_engine=args.job_engine,
                model_prefix=layout.model,
                dedup_mode=args.dedup_mode,
                model_source=model_source,
                labels_uri=f"s3://{args.bucket}/{args.labels_object_key}" if args.labels_object_key else None,
                incremental_max_records=contract.incremental_max_records(args.worker_type)
                if args.dedup_mode == "incremental" else None,
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
            security_configuration=keys.security_configuration,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, *uploads, *self.log_groups]),
        )
        self.register_outputs({"job_name": self.job.name, "role_arn": self.role.arn})
