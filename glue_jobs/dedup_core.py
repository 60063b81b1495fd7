"""Kept for importers of the old single module; the code lives in:

- ``glue_jobs.engines``: DuckDB and Spark, with the SQL dialect differences as
  engine methods;
- ``glue_jobs.standardise``: the input's columns as comparable columns;
- ``glue_jobs.model``: Splink settings, prediction, clustering;
- ``glue_jobs.training``: the prior, u and m;
- ``glue_jobs.blocking``: the candidate pairs;
- ``glue_jobs.pipeline``: ``deduplicate`` (checks, matches, survivors).

New code imports from those modules.
"""
from glue_jobs.engines import DuckDBEngine, Engine, SparkEngine
from glue_jobs.model import CLUSTER_TABLE, ModelReport, run_splink, splink_settings
from glue_jobs.pipeline import (
    MATCH_ID,
    MATCHES_TABLE,
    STD_TABLE,
    SURVIVORS_TABLE,
    DedupResult,
    deduplicate,
    losers_sql,
    survivors_sql,
)
from glue_jobs.standardise import standardise_sql
from glue_jobs.training import equal_pairs_sql

__all__ = ["CLUSTER_TABLE", "MATCH_ID", "MATCHES_TABLE", "STD_TABLE", "SURVIVORS_TABLE", "DedupResult",
    "DuckDBEngine", "Engine", "ModelReport", "SparkEngine", "deduplicate", "equal_pairs_sql",
    "losers_sql", "run_splink", "splink_settings", "standardise_sql", "survivors_sql"]
