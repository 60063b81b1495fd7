"""A small IAM evaluator for identity policies, and the S3 requests boto3 calls map to.

Understands what the stack's role policies use: Allow and Deny statements,
``Action`` and ``Resource`` with ``*``/``?`` wildcards, and the condition
operators ``StringEquals``, ``StringLike``, ``ArnEquals``, ``ArnLike`` (a key
the request doesn't carry fails the condition, as in IAM). Anything else in a
condition makes the statement not apply (never a silent allow).

``s3_requests(operation, params)`` turns one boto3 S3 call into the
authorisation requests S3 makes for it (Amazon S3 User Guide, "Actions,
resources and condition keys for Amazon S3" and "Required permissions for
Amazon S3 API operations"): e.g. CopyObject needs s3:GetObject on the source
and s3:PutObject on the target; DeleteObjects needs s3:DeleteObject per key;
ListObjectsV2 is s3:ListBucket on the bucket with ``s3:prefix``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple = ()
    """(key, value) pairs of condition keys, e.g. (("s3:prefix", "a/b/"),)."""
    operation: str = ""

    def describe(self) -> str:
        ctx = "".join(f" {k}={v!r}" for k, v in self.context)
        return f"{self.operation}: {self.action} on {self.resource}{ctx}"


def _pattern(glob: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob), re.S)


def _matches(globs, value: str, case_insensitive: bool = False) -> bool:
    flags = re.I if case_insensitive else 0
    return any(re.fullmatch(_pattern(g).pattern, value, flags | re.S) for g in _as_list(globs))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


_OPERATORS = {
    "StringEquals": lambda want, got: got in _as_list(want),
    "StringLike": lambda want, got: _matches(want, got),
    "ArnEquals": lambda want, got: got in _as_list(want),
    "ArnLike": lambda want, got: _matches(want, got),
}


def _condition_holds(condition: dict, context: dict) -> bool:
    for operator, keys in condition.items():
        test = _OPERATORS.get(operator)
        if test is None:
            return False
        for key, want in keys.items():
            if key not in context or not test(want, context[key]):
                return False
    return True


def statement_applies(statement: dict, request: Request) -> bool:
    if not _matches(statement.get("Action", []), request.action, case_insensitive=True):
        return False
    if not _matches(statement.get("Resource", []), request.resource):
        return False
    return _condition_holds(statement.get("Condition", {}), dict(request.context))


def allowed(policy: dict, request: Request) -> bool:
    statements = policy["Statement"]
    if any(s["Effect"] == "Deny" and statement_applies(s, request) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and statement_applies(s, request) for s in statements)


def granting(policy: dict, request: Request) -> list[tuple[str, str]]:
    """(Sid, Resource pattern) pairs of the Allow statements that grant ``request``."""
    found = []
    for s in policy["Statement"]:
        if s["Effect"] != "Allow" or not statement_applies(s, request):
            continue
        for resource in _as_list(s["Resource"]):
            if _matches(resource, request.resource):
                found.append((s.get("Sid", ""), resource))
    return found


def _obj(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


_PUT = {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}


def s3_requests(operation: str, params: dict) -> list[Request]:
    """The authorisation requests behind one S3 call; an operation not listed here is an error."""
    bucket = params.get("Bucket", "")

    def req(action, resource, **ctx):
        return Request(action, resource, tuple(sorted(ctx.items())), operation)

    if operation in ("GetObject", "HeadObject"):
        return [req("s3:GetObject", _obj(bucket, params["Key"]))]
    if operation in _PUT:
        return [req("s3:PutObject", _obj(bucket, params["Key"]))]
    if operation == "AbortMultipartUpload":
        return [req("s3:AbortMultipartUpload", _obj(bucket, params["Key"]))]
    if operation in ("CopyObject", "UploadPartCopy"):
        source = params["CopySource"]
        if isinstance(source, str):
            src_bucket, _, src_key = unquote(source.lstrip("/")).partition("/")
        else:
            src_bucket, src_key = source["Bucket"], source["Key"]
        return [req("s3:GetObject", _obj(src_bucket, src_key)), req("s3:PutObject", _obj(bucket, params["Key"]))]
    if operation in ("ListObjectsV2", "ListObjects"):
        return [req("s3:ListBucket", f"arn:aws:s3:::{bucket}", **{"s3:prefix": params.get("Prefix", "")})]
    if operation == "DeleteObject":
        return [req("s3:DeleteObject", _obj(bucket, params["Key"]))]
    if operation == "DeleteObjects":
        return [req("s3:DeleteObject", _obj(bucket, o["Key"])) for o in params["Delete"]["Objects"]]
    raise AssertionError(f"S3 operation {operation} is not mapped to IAM actions: add it with its AWS reference")


@dataclass
class CallRecorder:
    """Every S3 call of a boto3 session (botocore ``before-parameter-build`` hook)."""

    calls: list[tuple[str, dict]] = field(default_factory=list)

    def __call__(self, params, model, **_):
        self.calls.append((model.name, dict(params)))

    def attach(self, session) -> None:
        session.events.register("before-parameter-build.s3", self)

    def requests(self) -> list[Request]:
        return [r for op, params in self.calls for r in s3_requests(op, params)]
