"""The event the workflow puts on the account's default bus once the catalog is updated. Pure.

Downstream rules chain on it the way stage-based pipelines do (see the README,
"When it fails", for its shape and an example rule). The counts come from the
run summary the dedup job writes (``summary_key``); the table name is the
crawler's (``table_name``).

    source       etl-ttt-demo.dedup
    detail-type  Dedup Catalog Updated
    detail       {bucket, key, keyEncoding, database, table, recordsIn, clusters,
                  duplicatesRemoved, jobRunId, executionArn}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SOURCE = "etl-ttt-demo.dedup"
"""Custom sources must not start with ``aws.`` (EventBridge PutEvents reference)."""
DETAIL_TYPE = "Dedup Catalog Updated"
DEFAULT_BUS = "default"

SUMMARY_FOLDER = "summaries/"
"""Under the job's staging prefix, beside (never inside) the run folders ``<staging><run id>/``
that the job removes when it ends. Glue run ids look like ``jr_<hex>``, so no run folder
is called ``summaries``."""
SUMMARY_FIELDS = ("records_in", "clusters", "duplicates_removed")
"""What the job's summary JSON must hold (whole numbers), written before the job ends:
``{"records_in": 535, "clusters": 500, "duplicates_removed": 35, ...}``; more keys are ignored."""

TABLE_PREFIX = "ml_final_"


def summary_prefix(staging_prefix: str) -> str:
    return f"{staging_prefix}{SUMMARY_FOLDER}"


def summary_key(staging_prefix: str, job_run_id: str) -> str:
    """``<staging_prefix>summaries/<job run id>.json``: where the job's run summary lands."""
    return f"{summary_prefix(staging_prefix)}{job_run_id}.json"


def table_name(output_prefix: str, table_prefix: str = TABLE_PREFIX) -> str:
    """The crawler's table: its prefix plus the output folder's name, as Glue spells identifiers
    (lowercase; anything but letters, digits and '_' becomes '_'): ``top-customers/`` -> ``ml_final_top_customers``."""
    folder = output_prefix.rstrip("/").rsplit("/", 1)[-1]
    return table_prefix + re.sub(r"[^a-z0-9_]", "_", folder.lower())


@dataclass(frozen=True)
class CompletionEvent:
    """Where the workflow reads the run summary and what it announces."""

    bucket: str
    staging_prefix: str
    database: str
    table: str
    event_bus_arn: str
    """The account's default bus (``arn:<partition>:events:<region>:<account>:event-bus/default``)."""

    @property
    def summary_prefix(self) -> str:
        return summary_prefix(self.staging_prefix)


def event_bus_arn(partition: str, region: str, account_id: str, bus: str = DEFAULT_BUS) -> str:
    return f"arn:{partition}:events:{region}:{account_id}:event-bus/{bus}"


def example_rule_pattern(database: str | None = None) -> dict:
    """A downstream rule's pattern: every catalog update, or one stack's (its database)."""
    pattern: dict = {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
    if database:
        pattern["detail"] = {"database": [database]}
    return pattern


def intrinsic_string(text: str) -> str:
    """``text`` as a quoted string argument of an intrinsic function (``'``, ``{``, ``}``, ``\\`` escaped)."""
    return "'" + re.sub(r"([\\'{}])", r"\\\1", text) + "'"
