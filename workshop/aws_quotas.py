"""Optional: the account's quotas and current usage, read with boto3 (``preflight --from-aws``).

Quotas come from Service Quotas, matched by the quota names of
``workshop.preflight.QUOTAS`` (a quota not found keeps AWS's default); usage
from each service's list calls. Needs credentials that may call the List/Get
APIs below; anything it cannot read is left out and reported on stderr.
"""

from __future__ import annotations

import sys

from workshop.preflight import QUOTAS


def _count(client, operation: str, key: str, **kwargs) -> int:
    paginator = client.get_paginator(operation)
    return sum(len(page.get(key, [])) for page in paginator.paginate(**kwargs))


def read_usage(session, region: str) -> dict[str, int]:
    usage: dict[str, int] = {}
    readers = {
        # A multi-region trail counts in every region, so shadow trails are included.
        "trails": lambda: len(session.client("cloudtrail", region_name=region)
                              .describe_trails(includeShadowTrails=True)["trailList"]),
        "rules": lambda: _count(session.client("events", region_name=region), "list_rules", "Rules",
                                EventBusName="default"),
        "roles": lambda: _count(session.client("iam"), "list_roles", "Roles"),
        "glue_jobs": lambda: _count(session.client("glue", region_name=region), "get_jobs", "Jobs"),
        "crawlers": lambda: _count(session.client("glue", region_name=region), "get_crawlers", "Crawlers"),
        "buckets": lambda: len(session.client("s3").list_buckets().get("Buckets", [])),
    }
    for key, read in readers.items():
        try:
            usage[key] = read()
        except Exception as error:  # noqa: BLE001 - a missing permission must not stop the preflight
            print(f"preflight: could not read usage of {key}: {error}", file=sys.stderr)
    return usage


# IAM and S3 quotas are global: Service Quotas serves them from us-east-1.
GLOBAL_SERVICES = {"iam": "us-east-1", "s3": "us-east-1"}


def read_quotas(session, region: str) -> dict[str, int]:
    """Applied quota values by name; a quota not found keeps AWS's default, and says so."""
    quotas: dict[str, int] = {}
    for service in sorted({q.service_code for q in QUOTAS.values()}):
        wanted = {q.name.lower(): q.key for q in QUOTAS.values() if q.service_code == service}
        client = session.client("service-quotas", region_name=GLOBAL_SERVICES.get(service, region))
        try:
            for page in client.get_paginator("list_service_quotas").paginate(ServiceCode=service):
                for quota in page.get("Quotas", []):
                    key = wanted.get(quota.get("QuotaName", "").lower())
                    if key:
                        quotas[key] = int(quota["Value"])
        except Exception as error:  # noqa: BLE001
            print(f"preflight: could not read {service} quotas ({error}); using AWS defaults", file=sys.stderr)
            continue
        for name, key in sorted(wanted.items()):
            if key not in quotas:
                print(f"preflight: {service} quota {name!r} not found in Service Quotas; "
                      f"using the default {QUOTAS[key].default}", file=sys.stderr)
    return quotas


def read_account(region: str) -> tuple[dict[str, int], dict[str, int]]:
    import boto3

    session = boto3.Session(region_name=region)
    return read_usage(session, region), read_quotas(session, region)
