"""Incremental runs: match a new file against the published sets, keep every published match_id.

Like FindMatches' ``FindIncrementalMatches``. Inputs are two tables in the
engine: the new records (raw input columns, strings) and the published matches
(the same columns plus ``match_id`` and ``match_confidence``). Splink scores

- new against published records and
- new against new records (the candidate pairs of a full run's blocking that
  hold a new record, ``glue_jobs.blocking.blocked_pairs_sql``),

with the saved model (or one trained on published + new records). Then:

1. new records linked to each other at the threshold form *components*
   (connected components, Splink's clustering);
2. a component linked at the threshold to no published record is a new
   cluster; its ``match_id`` is its lowest record id (``glue_jobs.confidence``);
3. a component linked to one published cluster joins it and takes its
   ``match_id``;
4. **a component linked to two or more published clusters joins the one with
   the strongest link (highest Splink match weight, which unlike the
   probability does not round to 1.0; ties: the lowest ``match_id``); the published
   clusters are never merged**, so no published ``match_id`` ever changes. Each
   such case is listed in the run's summary (``linked_clusters``) for a person
   to review.

The published sets then hold every record of every run: the published matches
unchanged (``match_confidence`` updated where new records touch them, see
``incremental_confidence_sql``) plus the new ones, and one survivor per
``match_id`` over all of them. New record ids must not be published ids.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from glue_jobs.confidence import PAIR_FLOOR

MATCH_ID, CONFIDENCE = "match_id", "match_confidence"
# the standardised published records, kept next to the model (locally) for the next incremental run
# the standardised records of a full run, then one part per incremental run (its new records),
# numbered in the order the runs published them, then named by run id
STD_CACHE, STD_CACHE_PART, STD_CACHE_INFO = "standardised.parquet", "standardised-{:06d}-{}.parquet", "standardised.json"
PUBLISHED_COLUMNS = (MATCH_ID, CONFIDENCE)
MATCHES_INTERNAL, SURVIVORS_INTERNAL = "__incr_matches_internal", "__incr_survivors_internal"
CLUSTERED_INTERNAL = "__incr_clustered_internal"  # every record and its match_id, no confidence


@dataclass
class IncrementalResult:
    matches_table: str
    survivors_table: str
    records_in: int
    records_published_before: int
    records_total: int
    clusters: int
    new_clusters: int
    records_joined: int
    duplicates_removed: int
    linked_clusters: list[dict] = field(default_factory=list)
    model: Any = None
    timings: dict[str, float] = field(default_factory=dict)
    linker: Any = None
    predictions: Any = None
    std_table: str = "__incr_std_all"
    std_new_table: str = "__incr_std_new"
    confidence_table: str = "__incr_conf_all"
    summary: dict = field(default_factory=dict)
    used_std_cache: bool = False


def check_layout(engine, cfg, new_table: str, published_table: str, source: str) -> list[str]:
    """The new file must have the published set's input columns and only new ids; returns the columns."""
    from glue_jobs.standardise import nullif_blank
    from glue_jobs.validation import InputError

    pub = engine.columns(published_table)
    missing_pub = [c for c in PUBLISHED_COLUMNS if c not in pub]
    if missing_pub:
        raise InputError(f"{source}: the published matches have no {missing_pub} column(s) (written by an "
                         "older version of the job); run once without incremental mode to republish them")
    empty = int(engine.scalar(f"SELECT count(*) FROM {published_table} "
                              f"WHERE {nullif_blank(engine, engine.quote(MATCH_ID))} IS NULL"))
    if empty:
        raise InputError(f"{source}: {empty} published record(s) have an empty '{MATCH_ID}' (the published "
                         "matches were edited or damaged); run once without incremental mode to republish them")
    pub_in = [c for c in pub if c not in PUBLISHED_COLUMNS]
    new = engine.columns(new_table)
    missing, extra = [c for c in pub_in if c not in new], [c for c in new if c not in pub_in]
    if missing or extra:
        raise InputError(f"{source}: an incremental run adds records with the published set's columns; "
                         f"missing {missing}, not in the published set {extra}")
    q = engine.quote(cfg.id_column)
    clash = engine.rows(f"""SELECT CAST(n.{q} AS STRING) FROM {new_table} n
        JOIN {published_table} p ON CAST(n.{q} AS STRING) = CAST(p.{q} AS STRING) LIMIT 6""")
    if clash:
        ids = [r[0] for r in clash]
        raise InputError(f"{source}: record id(s) {ids[:5]}{' ...' if len(ids) > 5 else ''} in "
                         f"'{cfg.id_column}' are already published; an incremental run adds new records "
                         "only (run without incremental mode to replace the published sets)")
    return pub_in


def assign_sql(components: str, cross: str, published_ids: str, threshold: float) -> str:
    """``(unique_id, match_id, joined)`` of every new record, by the rule in the module docstring.

    ``components``: (unique_id, cluster_id) of new records; ``cross``: (new_id,
    old_id, p); ``published_ids``: (unique_id, match_id) of published records.
    """
    return f"""
        WITH links AS (
          SELECT c.cluster_id AS comp, o.match_id, max(x.w) AS w
          FROM {cross} x JOIN {components} c ON x.new_id = c.unique_id
          JOIN {published_ids} o ON x.old_id = o.unique_id
          WHERE x.p >= {threshold!r} GROUP BY c.cluster_id, o.match_id),
        ranked AS (
          SELECT comp, match_id, row_number() OVER (PARTITION BY comp ORDER BY w DESC, match_id ASC) AS rn
          FROM links)
        SELECT c.unique_id,
               coalesce(r.match_id, min(c.unique_id) OVER (PARTITION BY c.cluster_id)) AS match_id,
               r.match_id IS NOT NULL AS joined
        FROM {components} c LEFT JOIN (SELECT * FROM ranked WHERE rn = 1) r ON c.cluster_id = r.comp"""


def linked_clusters_sql(components: str, cross: str, published_ids: str, assigned: str, threshold: float) -> str:
    """Rows (new unique_id, joined match_id, other match_id, p, w) where a component links 2+ clusters."""
    return f"""
        WITH links AS (
          SELECT c.cluster_id AS comp, o.match_id, max(x.p) AS p, max(x.w) AS w
          FROM {cross} x JOIN {components} c ON x.new_id = c.unique_id
          JOIN {published_ids} o ON x.old_id = o.unique_id
          WHERE x.p >= {threshold!r} GROUP BY c.cluster_id, o.match_id),
        multi AS (SELECT comp FROM links GROUP BY comp HAVING count(*) > 1)
        SELECT c.unique_id, a.match_id, l.match_id, l.p, l.w
        FROM multi m JOIN links l ON l.comp = m.comp JOIN {components} c ON c.cluster_id = m.comp
        JOIN {assigned} a ON a.unique_id = c.unique_id
        ORDER BY 1, 5 DESC, 3"""


def incremental_confidence_sql(labels: str, edges: str) -> str:
    """``(unique_id, match_id, match_confidence)`` for every record, published and new.

    ``labels``: (unique_id, match_id, is_new, c_old) with ``c_old`` the published
    confidence (NULL for new records); ``edges``: (a, b, p) in both directions,
    every new-published and new-new pair Splink kept. The definition of
    ``glue_jobs.confidence``, updated from the new pairs only: a cluster of 2+
    published records keeps its published value as its floor (its members' links
    can only have grown), new members and formerly single records bring their
    best link inside the cluster; a record still alone gets
    min(published value, 1 - best new pair).
    """
    return f"""
        WITH best AS (
          SELECT e.a, max(CASE WHEN la.match_id = lb.match_id THEN e.p END) AS best_in,
                      max(CASE WHEN la.match_id <> lb.match_id THEN e.p END) AS best_out
          FROM {edges} e JOIN {labels} la ON e.a = la.unique_id JOIN {labels} lb ON e.b = lb.unique_id
          GROUP BY e.a),
        g AS (
          SELECT l.unique_id, l.match_id, l.is_new, l.c_old, b.best_in, b.best_out,
                 count(*) OVER (PARTITION BY l.match_id) AS n,
                 sum(CASE WHEN l.is_new THEN 0 ELSE 1 END) OVER (PARTITION BY l.match_id) AS n_old
          FROM {labels} l LEFT JOIN best b ON l.unique_id = b.a),
        h AS (
          SELECT g.*, min(CASE WHEN n_old >= 2 AND NOT is_new THEN c_old
                               WHEN n >= 2 THEN coalesce(best_in, 0.0) END)
                      OVER (PARTITION BY match_id) AS weakest
          FROM g)
        SELECT unique_id, match_id,
               CAST(least(1.0, greatest(0.0, CASE WHEN n = 1
                    THEN least(coalesce(c_old, 1.0), 1.0 - coalesce(best_out, 0.0))
                    ELSE weakest END)) AS DOUBLE) AS {CONFIDENCE}
        FROM h"""


def incremental_deduplicate(engine, cfg, new_table: str, published_table: str, *,
                            linker_for: Callable[[str, int], tuple[Any, Any]],
                            source: str = "input", published_std: str | None = None) -> IncrementalResult:
    """Add the records of ``new_table`` to the published matches in ``published_table``.

    ``linker_for(std_all_table, n_records)`` returns ``(linker, model_report)``:
    a Splink linker over the standardised published + new records, loaded from
    the saved model or trained (the caller decides). Creates the matches and
    survivors tables of the job (every record, one survivor per match_id).
    """
    import glue_jobs.pipeline as core
    from glue_jobs.blocking import blocking_keys_sql
    from glue_jobs.columns import generated_names, renamed_view
    from glue_jobs.standardise import create_standardised
    from glue_jobs.validation import check_column_names

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    check_column_names(engine.columns(new_table), source)
    n_new = core.check_records(engine, cfg, new_table, source)
    cols = check_layout(engine, cfg, new_table, published_table, source)
    n_old = int(engine.scalar(f"SELECT count(*) FROM {published_table}"))
    # the SQL below never sees the input's column names (as a full run): generated names in the
    # published order, the input's names back only in the two output views
    internal = generated_names(cols)
    icfg, icols = cfg.renamed(internal), list(internal.values())
    renamed_view(engine, new_table, "__incr_new_in", internal)
    renamed_view(engine, published_table, "__incr_pub_in", internal, keep=PUBLISHED_COLUMNS)
    q = icfg.id_column
    cached = bool(published_std and _cache_matches(engine, published_std, "__incr_pub_in", q))
    if cached:  # the previous run's standardised records: the same ids, the same standardisation
        engine.view("__incr_std_old", f"SELECT * FROM {published_std}")
    else:
        create_standardised(engine, icfg, "__incr_pub_in", "__incr_std_old")
    # the published records' blocking keys, found while the new records are standardised (a
    # batch under 122,880 records is one DuckDB row group, standardised on one core)
    keys_old = engine.create_meanwhile([("__incr_keys_old", blocking_keys_sql(engine, cfg, "__incr_std_old"))])
    try:
        # Splink scores new and published records together: their keys (RID) differ
        create_standardised(engine, icfg, "__incr_new_in", "__incr_std_new", keyed_apart_from="__incr_std_old")
        if engine.columns("__incr_std_old") != engine.columns("__incr_std_new"):  # the cache's fingerprint says no
            raise RuntimeError(f"the standardised published records have columns {engine.columns('__incr_std_old')}, "
                               f"the new ones {engine.columns('__incr_std_new')}")
        engine.view("__incr_std_all", "SELECT * FROM __incr_std_old UNION ALL SELECT * FROM __incr_std_new")
        engine.view("__incr_pub_ids", f"""SELECT CAST({q} AS STRING) AS unique_id, {MATCH_ID},
            CAST({CONFIDENCE} AS DOUBLE) AS c_old FROM __incr_pub_in""")
        timings["standardise"] = time.perf_counter() - t0

        linker, report = linker_for("__incr_std_all", n_old + n_new)
        t = time.perf_counter()
        if linker is None:  # nothing to learn from (no pair agrees on a prior rule): no links
            for name in ("__incr_cross", "__incr_within"):
                engine.create(name, "SELECT unique_id AS new_id, unique_id AS old_id, CAST(1.0 AS DOUBLE) AS p, "
                              "CAST(1.0 AS DOUBLE) AS w, "
                              "unique_id AS unique_id_l, unique_id AS unique_id_r, CAST(1.0 AS DOUBLE) AS "
                              "match_probability FROM __incr_std_new WHERE 1 = 0")
            engine.create("__incr_comp", "SELECT unique_id, unique_id AS cluster_id FROM __incr_std_new")
            cross = None
        else:
            cross = _score_new(engine, cfg, linker, keys_old)
        timings["predict_cluster"] = time.perf_counter() - t
    finally:
        keys_old.stop()

    t = time.perf_counter()
    threshold = cfg.threshold_match_probability
    engine.create("__incr_assign", assign_sql("__incr_comp", "__incr_cross", "__incr_pub_ids", threshold))
    links = engine.rows(linked_clusters_sql("__incr_comp", "__incr_cross", "__incr_pub_ids",
                                            "__incr_assign", threshold))
    engine.create("__incr_edges", """
        SELECT new_id AS a, old_id AS b, p FROM __incr_cross UNION ALL SELECT old_id, new_id, p FROM __incr_cross
        UNION ALL SELECT unique_id_l, unique_id_r, match_probability FROM __incr_within
        UNION ALL SELECT unique_id_r, unique_id_l, match_probability FROM __incr_within""")
    # only clusters the new records touch (joined, or paired with) change confidence: score those
    engine.create("__incr_touched", """
        SELECT DISTINCT o.match_id FROM (SELECT DISTINCT a FROM __incr_edges) e
        JOIN __incr_pub_ids o ON e.a = o.unique_id
        UNION SELECT match_id FROM __incr_assign""")
    engine.create("__incr_labels", """
        SELECT unique_id, match_id, true AS is_new, CAST(NULL AS DOUBLE) AS c_old FROM __incr_assign
        UNION ALL SELECT o.unique_id, o.match_id, false AS is_new, o.c_old
        FROM __incr_pub_ids o JOIN __incr_touched t ON o.match_id = t.match_id""")
    engine.create("__incr_conf", incremental_confidence_sql("__incr_labels", "__incr_edges"))
    engine.view("__incr_conf_all", f"""
        SELECT o.unique_id, o.match_id, coalesce(c.{CONFIDENCE}, o.c_old) AS {CONFIDENCE}
        FROM __incr_pub_ids o LEFT JOIN __incr_conf c ON o.unique_id = c.unique_id
        UNION ALL SELECT c.unique_id, c.match_id, c.{CONFIDENCE} FROM __incr_conf c
        JOIN __incr_assign a ON c.unique_id = a.unique_id""")
    plain = ", ".join(icols)
    qcols = lambda a: ", ".join(f"{a}.{c}" for c in icols)  # noqa: E731
    engine.view(MATCHES_INTERNAL, f"""
        SELECT {qcols('p')}, p.{MATCH_ID} AS {core.INTERNAL_MATCH_ID},
               coalesce(c.{CONFIDENCE}, CAST(p.{CONFIDENCE} AS DOUBLE)) AS {core.INTERNAL_CONFIDENCE}
        FROM __incr_pub_in p LEFT JOIN __incr_conf c ON CAST(p.{q} AS STRING) = c.unique_id
        UNION ALL
        SELECT {qcols('n')}, c.{MATCH_ID}, c.{CONFIDENCE}
        FROM (SELECT {plain} FROM __incr_new_in) n JOIN __incr_conf c ON CAST(n.{q} AS STRING) = c.unique_id""")
    engine.view(CLUSTERED_INTERNAL, f"""
        SELECT {plain}, {MATCH_ID} AS {core.INTERNAL_MATCH_ID} FROM __incr_pub_in
        UNION ALL
        SELECT {qcols('n')}, a.{MATCH_ID} FROM __incr_new_in n JOIN __incr_assign a ON CAST(n.{q} AS STRING) = a.unique_id""")
    n_losers = core.survivors_and_output_views(engine, icfg, internal, MATCHES_INTERNAL, SURVIVORS_INTERNAL,
                                               clustered=CLUSTERED_INTERNAL)
    n_clusters = n_old + n_new - n_losers
    joined, new_clusters = engine.rows(
        "SELECT sum(CASE WHEN joined THEN 1 ELSE 0 END), count(DISTINCT CASE WHEN NOT joined "
        "THEN match_id END) FROM __incr_assign")[0]
    timings["assign_survivors"] = time.perf_counter() - t
    cases: dict[str, dict] = {}
    for new_id, joined_id, other, p, w in links:
        case = cases.setdefault(new_id, {"record": new_id, "joined": joined_id, "links": []})
        case["links"].append({"match_id": other, "match_probability": round(float(p), 6),
                              "match_weight": round(float(w), 3)})
    total = n_old + n_new
    return IncrementalResult(core.MATCHES_TABLE, core.SURVIVORS_TABLE, n_new, n_old, total, n_clusters,
                             int(new_clusters or 0), int(joined or 0), total - n_clusters,
                             list(cases.values()), report, timings, linker=linker, predictions=cross,
                             used_std_cache=cached)


def _cache_matches(engine, std: str, published: str, q: str) -> bool:
    """The cached standardised records are exactly the published ones (count and an id checksum),
    each with its own key (``RID``); ``q``: the id column of ``published``. (The columns are
    the fingerprint's, ``std_cache_info``.)"""
    from glue_jobs.standardise import RID

    if not {"unique_id", RID} <= set(engine.columns(std)):
        return False
    n, ids, keys = engine.row(f"SELECT count(*), sum(hash(unique_id)), count(DISTINCT {RID}) FROM {std}")
    return (n, ids) == tuple(engine.row(f"SELECT count(*), sum(hash(CAST({q} AS STRING))) FROM {published}")) \
        and keys == n


def std_cache_info(engine, cfg) -> bytes:
    """What the cache was made with: the standardisation SQL's fingerprint."""
    import hashlib
    import json

    from glue_jobs.standardise import RID, standardise_sql

    sql = standardise_sql(engine, cfg, "__input")
    key = engine.key62("unique_id")
    return json.dumps({"standardise_sql_sha256": hashlib.sha256(sql.encode()).hexdigest(), RID: key}).encode()


def std_cache_files(folder) -> list:
    """The cache's files in ``folder``, oldest first: the full run's, then each incremental run's
    part in the order they were published (``STD_CACHE_PART``); empty without the full run's file.
    A stray file of that name adds rows the published set lacks: the cache is then not used
    (``_cache_matches`` counts them)."""
    full = folder / STD_CACHE
    if not full.is_file():
        return []
    parts = sorted(p for p in folder.glob("standardised-*.parquet") if p.is_file())
    return [full, *parts]


def load_std_cache(engine, cfg, folder, table: str = "published_std") -> str | None:
    """The cached standardised records as ``table`` if they were made with this standardisation."""
    files, info = std_cache_files(folder), folder / STD_CACHE_INFO
    if not (files and info.is_file()) or info.read_bytes() != std_cache_info(engine, cfg):
        return None
    engine.create(table, f"SELECT * FROM read_parquet([{_paths_sql(files)}])")
    return table


def _paths_sql(files: list) -> str:
    """File paths as a DuckDB list's items: quoted string literals."""
    return ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)


def _score_new(engine, cfg, linker, keys_old):
    """Score new-published and new-new pairs; cluster new records among themselves.

    Creates __incr_cross (new_id, old_id, p, w), __incr_within and __incr_comp;
    returns Splink's predictions (for the report). ``keys_old``: the published
    records' blocking keys (``__incr_keys_old``), being found.

    The candidate pairs are the job's own blocking (``blocked_pairs_sql``, as a full
    run finds them), restricted to pairs with a new record, scored by the linker over
    published + new records; Splink's ``predict_between`` and ``predict_within``
    found the same pairs with its own joins in twice the time (1M published).
    """
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    from glue_jobs.blocking import blocked_pairs_sql, blocking_keys_sql
    from glue_jobs.model import register_blocked_pairs
    from glue_jobs.standardise import RID

    api = engine.splink_api()
    model = linker.misc.save_model_to_json()
    # term frequencies over published + new records (the linker's input), as a full run has them
    tfs = {col: linker.table_management.compute_tf_table(col) for col in tf_columns(model)}
    engine.create("__incr_keys_new", blocking_keys_sql(engine, cfg, "__incr_std_new"))
    keys_old.wait()  # __incr_keys_old, started by incremental_deduplicate
    engine.create("__incr_blocked", blocked_pairs_sql(cfg, "__incr_keys_old", new_keyed="__incr_keys_new"))
    scorer = paired_records_linker(engine, model, "__incr_std_all", "__incr_blocked", tfs)
    register_blocked_pairs(scorer, api.register("__incr_blocked"))
    threshold = cfg.threshold_match_probability
    pred = scorer.inference.predict(threshold_match_probability=min(PAIR_FLOOR, threshold))
    # Splink scores on the records' keys (RID); the rest of the run works on their ids
    engine.create("__incr_scored", f"""
        SELECT x.{RID}_l, x.{RID}_r, x.match_probability, x.match_weight,
               nl.unique_id AS new_l, nr.unique_id AS new_r
        FROM {engine.to_sql_name(pred)} x LEFT JOIN __incr_std_new nl ON nl.{RID} = x.{RID}_l
        LEFT JOIN __incr_std_new nr ON nr.{RID} = x.{RID}_r""")
    engine.create("__incr_cross", f"""
        SELECT coalesce(x.new_l, x.new_r) AS new_id, o.unique_id AS old_id, x.match_probability AS p,
               x.match_weight AS w
        FROM __incr_scored x JOIN __incr_std_old o
          ON o.{RID} = CASE WHEN x.new_l IS NULL THEN x.{RID}_l ELSE x.{RID}_r END
        WHERE x.new_l IS NULL OR x.new_r IS NULL""")
    # the new-new pairs by key (for the clustering) and by id (for the rest)
    engine.create("__incr_within", f"""
        SELECT {RID}_l, {RID}_r, new_l AS unique_id_l, new_r AS unique_id_r, match_probability
        FROM __incr_scored WHERE new_l IS NOT NULL AND new_r IS NOT NULL""")
    comps = cluster_pairwise_predictions_at_threshold(
        api.register("__incr_std_new"), api.register("__incr_within"), api, RID,
        threshold_match_probability=threshold)
    engine.create("__incr_comp", f"SELECT n.unique_id, c.cluster_id FROM {engine.to_sql_name(comps)} c "
                                 f"JOIN __incr_std_new n ON n.{RID} = c.{RID}")
    return pred


def tf_columns(model: dict) -> list[str]:
    """The columns a Splink model's levels adjust for term frequency."""
    return sorted({lvl["tf_adjustment_column"] for c in model["comparisons"]
                   for lvl in c["comparison_levels"] if lvl.get("tf_adjustment_column")})


def paired_records_linker(engine, model: dict, std_all: str, blocked: str, tfs: dict):
    """A linker of ``model`` (Splink's JSON) over only the records of ``std_all`` in a pair of
    ``blocked`` (Splink's blocked-pairs table), with the term frequencies ``tfs``
    (column -> Splink's table) of every record.

    Splink joins every record of its input onto the term frequencies before it scores
    the pairs. An incremental run's pairs hold a new record each and touch about a
    quarter of the records (1M published, a 10 % batch: 280,000 of 1.1M), so only
    those are scored: predict 1.2-1.3 s -> 0.6-0.8 s, and 0.3 s to make this linker.
    Splink's own pruning (``register_blocked_pairs_for_predict``) copies each side
    apart and cost as much as it saved. The term frequencies must be of every
    record: of the paired ones alone, they would weigh common names as rarer. (The
    job's linkers share one Splink cache, which holds them already; they are
    registered all the same, so that they never depend on it.)
    """
    from glue_jobs.model import load_linker
    from glue_jobs.standardise import RID

    engine.create("__incr_std_paired", f"""SELECT * FROM {std_all} WHERE {RID} IN (
        SELECT join_key_l FROM {blocked} UNION SELECT join_key_r FROM {blocked})""")
    scorer = load_linker(engine, "__incr_std_paired", model)
    for col, tf in tfs.items():
        scorer.table_management.register_term_frequency_lookup(tf, col)
    return scorer


def load_published_local(engine, output, table: str = "published_raw") -> str | None:
    """Load ``output/matches/`` (what a previous local run published) into ``table``; None if nothing is."""
    folder = output / "matches"
    files = sorted(p for p in folder.glob("*") if p.suffix in (".csv", ".parquet")) if folder.is_dir() else []
    return load_published_files(engine, files, str(folder), table)


def load_published_files(engine, files: list, where: str, table: str = "published_raw") -> str | None:
    """Load published matches files (CSV or Parquet) into ``table`` of a DuckDB engine; None if no file.

    Every column as a string, as the new file is read; ``match_confidence`` is cast where used.
    """
    if not files:
        return None
    kinds = {p.suffix for p in files}
    if len(kinds) > 1:
        from glue_jobs.validation import InputError

        raise InputError(f"{where}: holds both CSV and Parquet files; publish one format")
    lits = _paths_sql(files)
    if kinds == {".parquet"}:
        engine.create(table, f"SELECT * FROM read_parquet([{lits}])")
        cols = engine.columns(table)
        casts = ", ".join(f"CAST({engine.quote(c)} AS VARCHAR) AS {engine.quote(c)}" if c != CONFIDENCE
                          else engine.quote(c) for c in cols)
        engine.create(table, f"SELECT {casts} FROM {table}")
    else:
        from pathlib import Path

        engine.create_from_csv(table, f"[{lits}], header = true, all_varchar = true, quote = '\"', escape = '\"', "
                                      "union_by_name = true", None, sum(Path(p).stat().st_size for p in files))
    return table
