"""The Glue crawler that catalogs the published customers as one table (lab: ``ml-final-crawler``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_aws as aws

from builders import policies
from builders.arns import Arns
from builders.layout import BucketLayout
from components._iam import glue_role, policy_document
from components.encryption import EncryptionRefs


@dataclass
class CrawlerArgs:
    crawler_name: str
    role_name: str
    arns: Arns
    bucket: str
    layout: BucketLayout
    """Crawls ``output`` only."""
    database: pulumi.Input[str]
    database_name: str
    encryption: EncryptionRefs
    """Its security configuration; the stack key for its logs, the data key to read SSE-KMS objects."""
    table_prefix: str = "ml_final_"
    tags: dict[str, str] = field(default_factory=dict)


# One table for the whole folder, even when a run writes several files.
CRAWLER_CONFIGURATION = {
    "Version": 1.0,
    "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
    "CrawlerOutput": {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}},
}


class Crawler(pulumi.ComponentResource):
    crawler: aws.glue.Crawler
    role: aws.iam.Role

    def __init__(self, name: str, args: CrawlerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("etl-ttt-demo:catalog:Crawler", name, None, opts)
        output_prefix, keys = args.layout.output, args.encryption
        policy = policy_document(
            partial(policies.crawler_policy, args.arns, bucket=args.bucket, output_prefix=output_prefix,
                    database=args.database_name),
            **keys.policy_keys(),
        )
        self.role, role_policy = glue_role(
            name,
            role_name=args.role_name,
            policy=policy,
            parent=self,
            description=f"Glue crawler {args.crawler_name}: reads s3://{args.bucket}/{output_prefix}",
        )
        self.crawler = aws.glue.Crawler(
            name,
            name=args.crawler_name,
            role=self.role.arn,
            database_name=args.database,
            table_prefix=args.table_prefix,
            s3_targets=[{"path": f"s3://{args.bucket}/{output_prefix}"}],
            schema_change_policy={"update_behavior": "UPDATE_IN_DATABASE", "delete_behavior": "LOG"},
            recrawl_policy={"recrawl_behavior": "CRAWL_EVERYTHING"},
            configuration=json.dumps(CRAWLER_CONFIGURATION),
            security_configuration=keys.security_configuration,
            tags=args.tags or None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.register_outputs({"crawler_name": self.crawler.name, "role_arn": self.role.arn})
