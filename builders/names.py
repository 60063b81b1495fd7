"""Physical names for one stack: the lab's names, made unique per stack and valid for AWS.

Pure: plain strings in, plain strings out, no Pulumi. The state machine must
know the job and crawler names before they exist, and sixty student stacks
share one account, so every name that AWS scopes to an account or region gets
the stack's suffix. A suffix that had to be normalised or shortened carries a
short hash of the stack name, so that two stacks can never end up with the
same physical name (``Bob_Smith`` and ``bob-smith`` differ by their hash).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from glue_jobs.contract import job_log_groups

HASH_LENGTH = 6

# AWS limits (service quotas / API models): maximum name lengths.
S3_BUCKET_MAX = 63
IAM_ROLE_MAX = 64
EVENTBRIDGE_RULE_MAX = 64
STATE_MACHINE_MAX = 80
GLUE_NAME_MAX = 255
TRAIL_NAME_MAX = 128

# The lab's names (../shared/DESIGN.md section 2).
LAB_BUCKET_PREFIX = "etl-ttt-demo"
LAB_TRAIL = "etl-ttt-demo-trail"
LAB_DATABASE = "glue_ttt_demo_db"
LAB_CRAWLER = "ml-final-crawler"
LAB_JOB = "ml-lab-notebook-job"
LAB_STATE_MACHINE = "findmatches-ML-dedup-workflow"
LAB_RULE = "find-matches-rule"
LAB_GLUE_ROLE = "AWSGlueServiceRole-etl-ttt-demo"
LAB_CRAWLER_ROLE = "AWSGlueCrawlerRole-etl-ttt-demo"
LAB_STATES_ROLE = "AWSStepFunctionRole-etl-ttt-demo"
LAB_EVENTS_ROLE = "AWSEventBridgeInvokeRole-etl-ttt-demo"
GLUE_SECURITY_CONFIGURATION = "etl-ttt-demo-glue-security"

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_STACK_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def short_hash(text: str, length: int = HASH_LENGTH) -> str:
    """A stable lowercase hex digest prefix (sha256), the same on every machine."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _slug(text: str, separator: str) -> str:
    """Lowercase, every run of other characters becomes one separator."""
    slug = re.sub(r"[^a-z0-9]+", separator, text.lower())
    return slug.strip(separator)


def suffixed(base: str, stack: str, max_len: int, separator: str = "-") -> str:
    """``<base><sep><stack>`` within ``max_len``, unique per stack.

    The stack part is the stack name lowercased with other characters turned
    into ``separator``. When that changed the stack name, or the result would
    be too long, the stack part is cut and followed by a hash of the original
    stack name, so distinct stacks keep distinct names.
    """
    if not stack or not _STACK_RE.match(stack):
        raise ValueError(
            f"stack name {stack!r} is not a Pulumi stack name "
            "(letters, digits, '-', '_' and '.')"
        )
    # A stack name already made of lowercase letters, digits and '-' maps one to
    # one onto its suffix; any other needs the hash to stay unique.
    exact = _slug(stack, "-") == stack
    slug = (_slug(stack, "-") or "stack").replace("-", separator)
    room = max_len - len(base) - len(separator)
    if exact and len(slug) <= room:
        return f"{base}{separator}{slug}"
    digest = short_hash(stack)
    keep = room - len(separator) - len(digest)
    if keep < 1:
        raise ValueError(f"base name {base!r} leaves no room for a stack suffix within {max_len} characters")
    head = slug[:keep].rstrip(separator)
    return f"{base}{separator}{head}{separator}{digest}" if head else f"{base}{separator}{digest}"


def bucket_name(base: str, stack: str, account_id: str, region: str) -> str:
    """``<base>-<stack>-<account>-<region>``: the lab's bucket shape, unique per stack."""
    tail = f"-{account_id}-{region}"
    name = suffixed(base, stack, S3_BUCKET_MAX - len(tail)) + tail
    check_bucket_name(name)
    return name


def check_bucket_name(name: str) -> None:
    """Raise ValueError naming the rule an S3 bucket name breaks."""
    problems = []
    if not _BUCKET_RE.match(name):
        problems.append("3-63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit")
    if ".." in name or "--" in name[:4] or name.startswith("xn--") or name.startswith("sthree-"):
        problems.append("no 'xn--'/'sthree-' prefix")
    if name.endswith(("-s3alias", "--ol-s3", "--x-s3", "--table-s3")):
        problems.append("no reserved suffix (-s3alias, --ol-s3, --x-s3, --table-s3)")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        problems.append("not an IP address")
    if problems:
        raise ValueError(f"S3 bucket name {name!r} is invalid: needs " + "; ".join(problems))


@dataclass(frozen=True)
class PhysicalNames:
    """Every name that must be known before the resource exists."""

    data_bucket: str
    database: str
    trail: str
    crawler: str
    job: str
    state_machine: str
    rule: str
    glue_job_role: str
    crawler_role: str
    states_role: str
    events_role: str
    security_configuration: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)

    def log_groups(self, security_configuration: str) -> list[str]:
        """The stack's log groups for a security configuration name (or ``ArnLike`` pattern): the
        job's two (``contract.job_log_groups``), the crawler's, the workflow's."""
        return [
            *job_log_groups(self.glue_job_role, security_configuration),
            f"/aws-glue/crawlers-role/{self.crawler_role}-{security_configuration}",
            state_machine_log_group(self.state_machine),
        ]


def state_machine_log_group(state_machine: str) -> str:
    """The log group the workflow's executions are logged to (created by ``Workflow``)."""
    return f"/aws/vendedlogs/states/{state_machine}"


def physical_names(
    stack: str,
    account_id: str,
    region: str,
    *,
    bucket_base: str = LAB_BUCKET_PREFIX,
    data_bucket: str | None = None,
    database: str | None = None,
) -> PhysicalNames:
    """The names of one stack. ``data_bucket`` / ``database`` override the derived ones."""
    if data_bucket:
        check_bucket_name(data_bucket)
    return PhysicalNames(
        data_bucket=data_bucket or bucket_name(bucket_base, stack, account_id, region),
        # Glue/Athena identifiers: lowercase, digits and '_' only.
        database=database or suffixed(LAB_DATABASE, stack, GLUE_NAME_MAX, separator="_"),
        trail=suffixed(LAB_TRAIL, stack, TRAIL_NAME_MAX),
        crawler=suffixed(LAB_CRAWLER, stack, GLUE_NAME_MAX),
        job=suffixed(LAB_JOB, stack, GLUE_NAME_MAX),
        state_machine=suffixed(LAB_STATE_MACHINE, stack, STATE_MACHINE_MAX),
        rule=suffixed(LAB_RULE, stack, EVENTBRIDGE_RULE_MAX),
        glue_job_role=suffixed(LAB_GLUE_ROLE, stack, IAM_ROLE_MAX),
        crawler_role=suffixed(LAB_CRAWLER_ROLE, stack, IAM_ROLE_MAX),
        states_role=suffixed(LAB_STATES_ROLE, stack, IAM_ROLE_MAX),
        events_role=suffixed(LAB_EVENTS_ROLE, stack, IAM_ROLE_MAX),
        security_configuration=suffixed(GLUE_SECURITY_CONFIGURATION, stack, GLUE_NAME_MAX),
    )
