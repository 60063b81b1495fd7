"""The dedup pipeline: check -> standardise -> model -> matches -> survivors.

``deduplicate`` runs the whole job on a table already in an engine (DuckDB
locally, Spark on Glue) and leaves two views there: every input record with its
``match_id``, and one survivor per ``match_id`` (the narrow tables they read are
stored; the wide records are read when the outputs are written). No Glue imports: the same code
runs on a laptop, in pytest (DuckDB and PySpark local mode) and inside the Glue
wrapper.

Survivor rule, one per ``match_id``: the most complete record (most non-empty
input columns), ties broken by the lowest id (string order).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from glue_jobs.columns import generated_names, original_names, renamed_view
from glue_jobs.confidence import confidence_sql
from glue_jobs.config import DedupConfig
from glue_jobs.engines import Engine
from glue_jobs.model import ModelReport, run_splink
from glue_jobs.standardise import RID, create_standardised, nullif_blank

STD_TABLE = "__dedup_std"
INPUT_TABLE = "__dedup_input"  # the input under generated column names (a view)
MATCHES_INTERNAL = "__dedup_matches_internal"
SURVIVORS_INTERNAL = "__dedup_survivors_internal"
MATCHES_TABLE = "__dedup_matches"  # views with the input's own column names
SURVIVORS_TABLE = "__dedup_survivors"
PAIRS_TABLE = "__dedup_pairs"
CONFIDENCE_TABLE = "__dedup_confidence"
MATCH_ID = "match_id"
INTERNAL_MATCH_ID = "__dedup_match_id"
INTERNAL_CONFIDENCE = "__dedup_match_confidence"
CONFIDENCE = "match_confidence"
# match_confidence as published: six decimal places, a fixed-point type on both engines. Formatting
# a DOUBLE for the CSV cost 0.6 s of CPU per million records (0.3 s of the run), and its last
# digits differed between two runs of one file (parallel float sums in EM, about 1e-15).
CONFIDENCE_TYPE = "DECIMAL(7, 6)"


@dataclass
class DedupResult:
    matches_table: str
    survivors_table: str
    records_in: int
    clusters: int
    duplicates_removed: int
    model: ModelReport
    std_table: str = STD_TABLE
    confidence_table: str = CONFIDENCE_TABLE
    summary: dict = field(default_factory=dict)

    @property
    def linker(self) -> Any:
        return self.model.linker

    @property
    def predictions(self) -> Any:
        return self.model.predictions


def deduplicate(engine: Engine, cfg: DedupConfig, input_table: str, *, source: str = "input",
                on_standardised=None, **splink_kwargs) -> DedupResult:
    """Deduplicate ``input_table`` (raw input columns, as strings) in ``engine``.

    Leaves the views ``__dedup_matches`` (every input record + ``match_id`` +
    ``match_confidence``, see ``glue_jobs/confidence.py``) and
    ``__dedup_survivors`` (one record per ``match_id``, the input's columns only).
    ``model``: a saved Splink model to use instead of training.
    ``on_standardised(STD_TABLE)``: called once the standardised table is made.

    Whatever the input's column names (SQL words, names this SQL uses such as
    ``rn`` or ``n``, quotes, spaces, unicode), the job's SQL never sees them: it
    works on generated names (``__in_0``, ``__in_1``, ...) and the two results are
    views that give the input's names back.
    """
    from glue_jobs.validation import check_column_names

    cols = engine.columns(input_table)
    check_column_names(cols, source)
    t0 = time.perf_counter()
    n = check_records(engine, cfg, input_table, source)
    internal = generated_names(cols)
    renamed_view(engine, input_table, INPUT_TABLE, internal)
    icfg, icols = cfg.renamed(internal), list(internal.values())
    qid = icfg.id_column

    create_standardised(engine, icfg, INPUT_TABLE, STD_TABLE)
    t_std = time.perf_counter() - t0
    if on_standardised is not None:
        on_standardised(STD_TABLE)
    clusters, rep = run_splink(engine, icfg, STD_TABLE, n, **splink_kwargs)
    rep.timings["standardise"] = t_std

    t = time.perf_counter()
    pred = rep.predictions
    engine.create(PAIRS_TABLE, f"SELECT {RID}_l, {RID}_r, match_probability FROM {engine.to_sql_name(pred)}"
                  if pred is not None else f"SELECT {RID} AS {RID}_l, {RID} AS {RID}_r, "
                  f"CAST(1.0 AS DOUBLE) AS match_probability FROM {STD_TABLE} WHERE 1 = 0")
    engine.create(CONFIDENCE_TABLE, confidence_sql(PAIRS_TABLE, clusters))
    qcols = ", ".join(f"i.{c}" for c in icols)
    engine.view(MATCHES_INTERNAL, f"""
        SELECT {qcols}, c.{MATCH_ID} AS {INTERNAL_MATCH_ID}, c.{CONFIDENCE} AS {INTERNAL_CONFIDENCE}
        FROM {INPUT_TABLE} i JOIN {CONFIDENCE_TABLE} c ON CAST(i.{qid} AS STRING) = c.unique_id""")
    n_losers = survivors_and_output_views(engine, icfg, internal, MATCHES_INTERNAL, SURVIVORS_INTERNAL)
    n_matches = int(engine.scalar(f"SELECT count(*) FROM {MATCHES_INTERNAL}"))
    n_clusters = n - n_losers
    if n_matches != n:  # the join must keep every record: never publish a set with customers missing
        raise RuntimeError(f"{source}: {n} records in but {n_matches} with a match_id; nothing written")
    rep.timings["survivors"] = time.perf_counter() - t
    return DedupResult(MATCHES_TABLE, SURVIVORS_TABLE, n, n_clusters, n - n_clusters, rep)


def survivors_and_output_views(engine: Engine, icfg: DedupConfig, internal: dict[str, str],
                               matches_internal: str, survivors_internal: str,
                               clustered: str | None = None) -> int:
    """View ``survivors_internal`` over ``matches_internal`` (the generated columns of
    ``internal``, ``INTERNAL_MATCH_ID``, ``INTERNAL_CONFIDENCE``; a table or a view), and
    the two output views (``MATCHES_TABLE``, ``SURVIVORS_TABLE``) under the input's own
    column names. Full and incremental runs both end here. ``clustered``: the same
    records with their ``INTERNAL_MATCH_ID`` and no confidence, if that is cheaper to
    read (an incremental run's published records carry their match_id, while their
    confidence is a join): the survivors are found and read from it.

    Only the ids of the records that lose (``losers_sql``) are stored: the wide
    records are read once more when the outputs are written, not copied into a
    table first (1M records: about 1 s less, the same files). Returns their
    number: the clusters are the records less the losers (one survivor each),
    counted without reading the survivors view (0.15 s at 1M).
    """
    icols = list(internal.values())
    losers = f"{survivors_internal}_losers"
    clustered = clustered or matches_internal
    engine.create(losers, losers_sql(engine, icfg, icols, clustered, INTERNAL_MATCH_ID))
    engine.view(survivors_internal, survivors_sql(engine, icfg, icols, clustered, losers))
    back = original_names(engine, internal)
    engine.view(MATCHES_TABLE, f"SELECT {back}, {INTERNAL_MATCH_ID} AS {MATCH_ID}, "
                f"CAST({INTERNAL_CONFIDENCE} AS {CONFIDENCE_TYPE}) AS {CONFIDENCE} FROM {matches_internal}")
    engine.view(SURVIVORS_TABLE, f"SELECT {back} FROM {survivors_internal}")
    return int(engine.scalar(f"SELECT count(*) FROM {losers}"))


def check_records(engine: Engine, cfg: DedupConfig, table: str, source: str) -> int:
    """The input's columns and ids are usable; returns the number of records."""
    from glue_jobs.validation import InputError

    cols = engine.columns(table)
    missing = [c for c in cfg.required_columns if c not in cols]
    if missing:
        raise InputError(f"{source}: missing required column(s) {missing}; the input has {cols[:30]}")
    for added in (MATCH_ID, CONFIDENCE):
        clash = [c for c in cols if c.casefold() == added]
        if clash:
            raise InputError(f"{source}: the input already has a {clash[0]!r} column, the name of a column "
                             f"this job adds (is it the job's own output?); rename it")
    qid = engine.quote(cfg.id_column)
    row = engine.row(f"SELECT count(*), count({qid}), count(DISTINCT {qid}) FROM {table}")
    n, n_ids, n_distinct = int(row[0]), int(row[1]), int(row[2])
    if n == 0:
        raise InputError(f"{source}: header only, the file has no records")
    if n_ids != n:
        raise InputError(f"{source}: id column '{cfg.id_column}' is empty in {n - n_ids} record(s)")
    if n_distinct != n:
        raise InputError(f"{source}: id column '{cfg.id_column}' is not unique "
                         f"({n - n_distinct} repeated value(s)); set 'id_column' to a unique key")
    return n


_HELPERS = ("__dedup_cluster", "__dedup_id", "__dedup_filled", "__dedup_best")


def losers_sql(engine: Engine, cfg: DedupConfig, cols: list[str], matches_table: str,
               match_id: str = MATCH_ID) -> str:
    """The ids (``__dedup_id``) of the records that are not their cluster's survivor.

    Survivor rule, one per match_id: the most complete record (most non-empty
    input columns), then the lowest id (string order). Every column is quoted
    and qualified and the helper columns have names no input column has
    (``_HELPERS``, checked), so no input column name can change the result.
    """
    if set(_HELPERS) & set(cols):
        raise ValueError(f"input columns {sorted(set(_HELPERS) & set(cols))} are names the survivor SQL uses")
    q = engine.quote
    qid, mid = q(cfg.id_column), q(match_id)
    filled = " + ".join(
        f"CASE WHEN {nullif_blank(engine, f'CAST(t.{q(c)} AS STRING)')} IS NULL THEN 0 ELSE 1 END" for c in cols)
    # Most clusters are one record, its own survivor. Only the records of the
    # others are looked at, on three values each (id, match_id, filled count): a
    # window over the whole wide table cost 1 s more at 1M records. Each cluster's
    # survivor is found by an aggregate (``min_by``), not by numbering its records
    # in a window: 0.43-0.46 s instead of 0.58-0.72 s (1.1M records, 66k losers).
    return f"""
        WITH shared AS (
          SELECT {mid} AS __dedup_cluster FROM {matches_table} GROUP BY {mid} HAVING count(*) > 1),
        ranked AS (
          SELECT t.{qid} AS __dedup_id, s.__dedup_cluster, ({filled}) AS __dedup_filled
          FROM {matches_table} t JOIN shared s ON t.{mid} = s.__dedup_cluster),
        best AS (
          SELECT __dedup_cluster, {engine.min_by("CAST(__dedup_id AS STRING)",
                                                 ["-__dedup_filled", "CAST(__dedup_id AS STRING)"])} AS __dedup_best
          FROM ranked GROUP BY __dedup_cluster)
        SELECT r.__dedup_id FROM ranked r JOIN best b ON r.__dedup_cluster = b.__dedup_cluster
        WHERE CAST(r.__dedup_id AS STRING) <> b.__dedup_best"""


def survivors_sql(engine: Engine, cfg: DedupConfig, cols: list[str], matches_table: str, losers_table: str) -> str:
    """One record per match_id, the input's columns only: every record of
    ``matches_table`` but those in ``losers_table`` (``losers_sql``)."""
    q = engine.quote
    plain = ", ".join(f"t.{q(c)}" for c in cols)
    return f"""
        SELECT {plain} FROM {matches_table} t
        WHERE NOT EXISTS (SELECT 1 FROM {losers_table} l WHERE l.__dedup_id = t.{q(cfg.id_column)})"""
