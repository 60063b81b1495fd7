"""Pulumi mocks that behave like AWS enough for the program to render, and a recorder.

``render_stack(config, stack=...)`` runs ``__main__.py`` under the mocks and
returns every resource the program registered with its resolved inputs, so
tests assert on what would be sent to AWS, after every ``apply`` has run
(``preview=False``: apply callbacks run; with ``preview=True`` they are skipped).
"""

from __future__ import annotations

import json
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PROJECT = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]
ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"


def _arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def _computed(typ: str, name: str, inputs: dict) -> tuple[str, dict]:
    """A realistic ``(id, outputs)`` for each resource type the program creates."""
    physical = inputs.get("name") or f"{name}-{abs(hash(name)) % 10**7:07d}"
    out: dict = {}
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-{abs(hash(name)) % 10**7:07d}"
        return bucket, {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": REGION}
    if typ == "aws:iam/role:Role":
        out = {"arn": f"arn:aws:iam::{ACCOUNT}:role/{physical}", "name": physical, "uniqueId": "AROAEXAMPLE"}
    elif typ == "aws:glue/job:Job":
        out = {"arn": _arn("glue", f"job/{physical}"), "name": physical}
    elif typ == "aws:glue/crawler:Crawler":
        out = {"arn": _arn("glue", f"crawler/{physical}"), "name": physical}
    elif typ == "aws:glue/catalogDatabase:CatalogDatabase":
        out = {"arn": _arn("glue", f"database/{physical}"), "name": physical}
    elif typ == "aws:sfn/stateMachine:StateMachine":
        out = {"arn": _arn("states", f"stateMachine:{physical}"), "name": physical}
        return out["arn"], out
    elif typ == "aws:cloudwatch/eventRule:EventRule":
        out = {"arn": _arn("events", f"rule/{physical}"), "name": physical}
    elif typ == "aws:cloudtrail/trail:Trail":
        out = {"arn": _arn("cloudtrail", f"trail/{physical}"), "name": physical}
    elif typ == "aws:sns/topic:Topic":
        out = {"arn": _arn("sns", physical), "name": physical}
        return out["arn"], out
    elif typ == "aws:sqs/queue:Queue":
        out = {
            "arn": _arn("sqs", physical),
            "name": physical,
            "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}",
        }
        return out["url"], out
    elif typ == "aws:kms/key:Key":
        key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
        return key_id, {"arn": _arn("kms", f"key/{key_id}"), "keyId": key_id}
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        out = {"arn": _arn("logs", f"log-group:{physical}"), "name": physical}
    elif typ == "aws:glue/mLTransform:MLTransform":
        return "tfm-0123456789abcdef0123456789abcdef", {"arn": _arn("glue", "mlTransform/tfm-0123456789abcdef0123456789abcdef")}
    elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        out = {"arn": _arn("cloudwatch", f"alarm:{physical}"), "name": physical}
    return physical, out


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict
    outputs: dict
    provider: str | None = None


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    resources: list[Registered] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    program: dict = field(default_factory=dict)
    """The program's module globals after it ran (``upload_uri`` and the like)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.typ == "pulumi:providers:aws":
            self.resources.append(Registered(args.typ, args.name, dict(args.inputs), {}, None))
            return args.name, dict(args.inputs)
        resource_id, computed = _computed(args.typ, args.name, args.inputs)
        outputs = {**args.inputs, **computed, "id": resource_id}
        self.resources.append(Registered(args.typ, args.name, dict(args.inputs), outputs, args.provider))
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.calls.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "userId": "AIDAEXAMPLE", "id": ACCOUNT}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com",
                    "description": "Europe (Ireland)"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION,
                    "reverseDnsPrefix": "com.amazonaws"}
        raise NotImplementedError(f"the program made an invoke the mocks don't answer: {args.token}")

    # Look-ups for tests.
    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Registered:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def json_input(self, typ: str, key: str, name: str | None = None) -> dict:
        value = self.one(typ, name).inputs[key]
        return json.loads(value) if isinstance(value, str) else value


# Inputs whose keys are the user's own (maps of tags, job arguments, ...), not provider fields.
FREE_FORM_INPUTS = {"tags", "defaultArguments", "inputPaths", "dimensions", "defaultTags", "assets"}


def assert_provider_names(mocks: RecordingMocks) -> None:
    """Nested inputs reached the provider under its own (camelCase) field names.

    The SDK translates the snake_case keys of an input dict that it knows; a key
    it doesn't know (a typo) passes through as written, underscores and all.
    """
    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                if path and path[-1] in FREE_FORM_INPUTS:
                    continue
                assert "_" not in key or key.startswith("__"), f"unknown input field {'.'.join([*path, key])}"
                walk(item, [*path, key])
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    for resource in mocks.resources:
        if not resource.typ.startswith("pulumi:"):
            walk(resource.inputs, [resource.typ, resource.name])


def stack_config(stack: str = "dev") -> dict[str, str]:
    """The project-namespace config of ``Pulumi.<stack>.yaml`` (keys without the namespace)."""
    data = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    prefix = f"{PROJECT}:"
    return {k.removeprefix(prefix): v for k, v in data.items() if k.startswith(prefix)}


def render_stack(config: dict | None = None, stack: str = "dev", aws_config: dict | None = None) -> RecordingMocks:
    """Run ``__main__.py`` for ``stack`` under the mocks; return what it registered."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    values = {f"{PROJECT}:{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in (config or {}).items()}
    values.update({f"aws:{k}": str(v) for k, v in (aws_config or {"region": REGION}).items()})
    pulumi.runtime.set_all_config(values)

    @pulumi.runtime.test
    def run():
        mocks.program = runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")

    run()
    return mocks


def render_component(build) -> RecordingMocks:
    """Run ``build()`` (which creates one component) under fresh mocks."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="unit", preview=False)
    pulumi.runtime.set_all_config({})

    @pulumi.runtime.test
    def run():
        build()

    run()
    return mocks


@pytest.fixture(scope="session")
def dev_stack() -> RecordingMocks:
    """The dev stack of ``Pulumi.dev.yaml``, rendered once for the session."""
    return render_stack(stack_config("dev"), stack="dev")
