"""The dedup pipeline: check -> standardise -> model -> matches -> survivors.

``deduplicate`` runs the whole job on a table already in an engine (DuckDB
locally, Spark on Glue) and leaves two tables there: every input record with its
``match_id``, and one survivor per ``match_id``. No Glue imports: the same code
runs on a laptop, in pytest (DuckDB and PySpark local mode) and inside the Glue
wrapper.

Survivor rule, one per ``match_id``: the most complete record (most non-empty
input columns), ties broken by the lowest id (string order).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from glue_jobs.config import DedupConfig
from glue_jobs.engines import Engine
from glue_jobs.model import ModelReport, run_splink
from glue_jobs.standardise import nullif_blank, standardise_sql

STD_TABLE = "__dedup_std"
MATCHES_TABLE = "__dedup_matches"
SURVIVORS_TABLE = "__dedup_survivors"
MATCH_ID = "match_id"


@dataclass
class DedupResult:
    matches_table: str
    survivors_table: str
    records_in: int
    clusters: int
    duplicates_removed: int
    model: ModelReport


def deduplicate(engine: Engine, cfg: DedupConfig, input_table: str, *, source: str = "input",
                **splink_kwargs) -> DedupResult:
    """Deduplicate ``input_table`` (raw input columns, as strings) in ``engine``.

    Creates ``__dedup_matches`` (every input record + ``match_id``) and
    ``__dedup_survivors`` (one record per ``match_id``, the input's columns only).
    """
    from glue_jobs.validation import InputError

    cols = engine.columns(input_table)
    missing = [c for c in cfg.required_columns if c not in cols]
    if missing:
        raise InputError(f"{source}: missing required column(s) {missing}; the input has {cols[:30]}")
    if MATCH_ID in cols:
        raise InputError(f"{source}: the input already has a '{MATCH_ID}' column")
    t0 = time.perf_counter()
    qid = engine.quote(cfg.id_column)
    stats = f"SELECT count(*), count({qid}), count(DISTINCT {qid}) FROM {input_table}"
    row = engine.row(stats)
    n, n_ids, n_distinct = int(row[0]), int(row[1]), int(row[2])
    if n == 0:
        raise InputError(f"{source}: header only, the file has no records")
    if n_ids != n:
        raise InputError(f"{source}: id column '{cfg.id_column}' is empty in {n - n_ids} record(s)")
    if n_distinct != n:
        raise InputError(f"{source}: id column '{cfg.id_column}' is not unique "
                         f"({n - n_distinct} repeated value(s)); set 'id_column' to a unique key")

    engine.create(STD_TABLE, standardise_sql(engine, cfg, input_table))
    t_std = time.perf_counter() - t0
    clusters, rep = run_splink(engine, cfg, STD_TABLE, n, **splink_kwargs)
    rep.timings["standardise"] = t_std

    t = time.perf_counter()
    qcols = ", ".join(f"i.{engine.quote(c)}" for c in cols)
    engine.create(MATCHES_TABLE, f"""
        SELECT {qcols}, c.cluster_id AS {MATCH_ID}
        FROM {input_table} i JOIN {clusters} c ON CAST(i.{qid} AS STRING) = c.unique_id""")
    engine.create(SURVIVORS_TABLE, survivors_sql(engine, cfg, cols, MATCHES_TABLE))
    n_clusters = int(engine.scalar(f"SELECT count(*) FROM {SURVIVORS_TABLE}"))
    rep.timings["survivors"] = time.perf_counter() - t
    return DedupResult(MATCHES_TABLE, SURVIVORS_TABLE, n, n_clusters, n - n_clusters, rep)


def survivors_sql(engine: Engine, cfg: DedupConfig, cols: list[str], matches_table: str) -> str:
    """One record per match_id: the most complete (most non-empty input columns),
    then the lowest id (string order). Returns the input's columns only."""
    qid = engine.quote(cfg.id_column)
    filled = " + ".join(
        f"CASE WHEN {nullif_blank(f'CAST({engine.quote(c)} AS STRING)')} IS NULL THEN 0 ELSE 1 END"
        for c in cols)
    plain = ", ".join(engine.quote(c) for c in cols)
    # most clusters are singletons: rank only the records of clusters with 2+ members
    return f"""
        WITH sized AS (
          SELECT *, count(*) OVER (PARTITION BY {MATCH_ID}) AS n FROM {matches_table})
        SELECT {plain} FROM sized WHERE n = 1
        UNION ALL
        SELECT {plain} FROM (
          SELECT {plain}, row_number() OVER (
            PARTITION BY {MATCH_ID} ORDER BY ({filled}) DESC, CAST({qid} AS STRING) ASC) AS rn
          FROM sized WHERE n > 1) s
        WHERE rn = 1"""
