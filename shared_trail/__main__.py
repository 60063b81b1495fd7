"""The class trail: one CloudTrail trail recording uploads into every student's bucket.

Five trails per region per account is a hard limit, so a class of sixty shares
this one. Its selectors hold a single ``resources.ARN`` StartsWith value, the
start of every student bucket name (``arn:aws:s3:::etl-ttt-demo-student-``),
so their size does not grow with the class. The price: it also records the
pipeline's own writes to other folders of those buckets (job output, scripts),
a few data events per run; see ``python -m workshop cost``. Each student's
EventBridge rule still matches only its own bucket and watched folder.

The trail's log bucket is auto-named ``class-trail-logs-...``, outside that
prefix, so the trail never records its own log deliveries.
"""

import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from builders.arns import Arns  # noqa: E402
from builders.names import check_bucket_name  # noqa: E402
from components.trail import Trail, TrailArgs  # noqa: E402

config = pulumi.Config()
trail_name = config.get("trailName") or "etl-ttt-demo-class-trail"
bucket_prefix = config.get("bucketNamePrefix") or "etl-ttt-demo-student-"
log_expiration_days = config.get_int("logExpirationDays") or 30
# A prefix of a valid bucket name: check it as the shortest name it can start.
check_bucket_name(bucket_prefix.rstrip("-") + "-x")
if not 1 <= log_expiration_days <= 3650:
    raise ValueError(f"logExpirationDays: {log_expiration_days} is not from 1 to 3650")

project, stack = pulumi.get_project(), pulumi.get_stack()
provider = aws.Provider(
    "aws",
    region=aws.config.region,
    default_tags={"tags": {"project": project, "stack": stack, "environment": "workshop"}},
)
invoke = pulumi.InvokeOptions(provider=provider)
identity = aws.get_caller_identity(opts=invoke)
arns = Arns(aws.get_partition(opts=invoke).partition, aws.get_region(opts=invoke).region, identity.account_id)

trail = Trail(
    "class-trail",
    TrailArgs(
        trail_name=trail_name,
        arns=arns,
        object_arn_prefixes=[arns.bucket(bucket_prefix)],
        log_expiration_days=log_expiration_days,
        # Class logs are disposable: destroy empties the log bucket.
        force_destroy=True,
    ),
    opts=pulumi.ResourceOptions(provider=provider),
)

pulumi.export("trail_name", trail.trail.name)
pulumi.export("trail_arn", trail.trail.arn)
pulumi.export("log_bucket", trail.log_bucket.name)
pulumi.export("watched_bucket_prefix", bucket_prefix)
