"""The dedup core: standardise -> block -> compare -> score -> cluster -> survivors.

Plain SQL over a table in an *engine* (DuckDB locally, Spark on Glue), with
Splink as the matcher. No Glue imports: the same functions run on a laptop, in
pytest (DuckDB and PySpark local mode) and inside the Glue wrapper.

Model (unsupervised, no labels):

1. prior: ``probability_two_random_records_match`` estimated from the data with
   deterministic rules (settings ``training.prior_rules``) and an assumed recall
   (``training.prior_recall``), so it shrinks as the file grows;
2. u probabilities from random pairs, m probabilities by EM on the settings'
   ``training.em_blocking_rules``; term frequencies on names, e-mail user names
   and categories, so a shared common name is weak evidence;
3. predict on the union of ``blocking_rules``; keep pairs with
   ``match_probability >= threshold_match_probability``; connected components.

Comparisons use only ``levenshtein`` and plain SQL, both native in DuckDB and
Spark, so no Splink UDF jar is needed on Glue.

Survivor rule, one per ``match_id``: the most complete record (most non-empty
input columns), ties broken by the lowest id (string order).
"""
from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

try:
    from typing import Protocol
except ImportError:  # Python 3.7 (Glue 2.0, the FindMatches path imports this module)
    Protocol = object  # type: ignore[assignment,misc]

from glue_jobs.config import SWAPPED_NAMES, DedupConfig, Field

logger = logging.getLogger("glue_jobs.dedup")

STD_TABLE = "__dedup_std"
CLUSTER_TABLE = "__dedup_clusters"
MATCHES_TABLE = "__dedup_matches"
SURVIVORS_TABLE = "__dedup_survivors"
MATCH_ID = "match_id"


class Engine(Protocol):
    dialect: str

    def create(self, name: str, sql: str) -> None: ...
    def columns(self, name: str) -> list[str]: ...
    def scalar(self, sql: str) -> Any: ...
    def splink_api(self) -> Any: ...
    def to_sql_name(self, splink_df: Any) -> str: ...


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, con=None, threads: int | None = None):
        import duckdb

        self.con = con or duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._api = None

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def columns(self, name: str) -> list[str]:
        return [d[0] for d in self.con.execute(f"SELECT * FROM {name} LIMIT 0").description]

    def scalar(self, sql: str) -> Any:
        return self.con.execute(sql).fetchall()[0][0]  # fetch fully: Splink shares the connection

    def splink_api(self):
        from splink import DuckDBAPI

        if self._api is None:
            self._api = DuckDBAPI(connection=self.con)
        return self._api

    def to_sql_name(self, splink_df) -> str:
        return splink_df.physical_name


class SparkEngine:
    """Spark tables as checkpointed temp views.

    Lineage is cut at every step (Splink: ``break_lineage_method='checkpoint'``,
    ours: ``DataFrame.checkpoint``): with ``persist`` alone the plans of EM and
    connected components grow until the driver runs out of memory printing them.
    Needs ``sparkContext.setCheckpointDir(...)`` (the Glue wrapper uses the
    run's staging prefix).
    """

    dialect = "spark"

    def __init__(self, spark, break_lineage_method: str = "checkpoint", num_partitions: int | None = None):
        self.spark = spark
        self.break_lineage_method = break_lineage_method
        self.num_partitions = num_partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
        self._api = None

    def create(self, name: str, sql: str) -> None:
        df = self.spark.sql(sql)
        df = df.checkpoint(eager=True) if self.break_lineage_method == "checkpoint" else df.persist()
        df.createOrReplaceTempView(name)

    def splink_api(self):
        from splink import SparkAPI

        if self._api is None:
            self._api = SparkAPI(spark_session=self.spark, register_udfs_automatically=False,
                                 break_lineage_method=self.break_lineage_method,
                                 num_partitions_on_repartition=self.num_partitions)
        return self._api

    def columns(self, name: str) -> list[str]:
        return self.spark.table(name).columns

    def scalar(self, sql: str) -> Any:
        return self.spark.sql(sql).collect()[0][0]


    def to_sql_name(self, splink_df) -> str:
        return splink_df.physical_name


# ---------------------------------------------------------------- standardise

def _quote(engine: Engine, col: str) -> str:
    if engine.dialect == "spark":
        return "`" + col.replace("`", "``") + "`"
    return '"' + col.replace('"', '""') + '"'


def _replace_all(engine: Engine, expr: str, pattern: str, repl: str) -> str:
    if engine.dialect == "duckdb":
        return f"regexp_replace({expr}, '{pattern}', '{repl}', 'g')"
    # Spark unescapes backslashes in string literals; DuckDB keeps them
    pattern = pattern.replace("\\", "\\\\")
    return f"regexp_replace({expr}, '{pattern}', '{repl}')"


def _try_int(engine: Engine, expr: str) -> str:
    # NULL for "x" or "" in both; Spark's plain CAST fails instead when ANSI mode is on
    return f"TRY_CAST({expr} AS INTEGER)" if engine.dialect == "duckdb" else f"TRY_CAST({expr} AS INT)"


def _nullif_blank(expr: str) -> str:
    return f"NULLIF(trim({expr}), '')"


def _std_expressions(engine: Engine, f: Field) -> dict[str, str]:
    """Standardised column(s) for one field, as SQL over the raw input."""
    q = lambda role: _quote(engine, f.columns[role])  # noqa: E731
    ra = lambda e, p, r: _replace_all(engine, e, p, r)  # noqa: E731
    if f.kind == "name":
        return {f.name: _nullif_blank(ra(f"lower({q('column')})", r"[^\p{L}]", ""))}
    if f.kind == "email":
        # lower case, "+tag" dropped; dots dropped only where the provider ignores
        # them (Gmail): elsewhere "a.b@x" and "ab@x" are two mailboxes
        e = f"lower(trim({q('column')}))"
        raw_user = ra(ra(f"split_part({e}, '@', 1)", r"\+.*$", ""), r"[^\p{L}\p{N}._-]", "")
        dom = f"split_part({e}, '@', 2)"
        gmail = f"{dom} IN ('gmail.com', 'googlemail.com')"
        user = f"CASE WHEN {gmail} THEN replace({raw_user}, '.', '') ELSE {raw_user} END"
        valid = f"{e} LIKE '%_@_%'"
        return {
            f.name: f"CASE WHEN {valid} THEN {_nullif_blank(f'concat({user}, {chr(39)}@{chr(39)}, {dom})')} END",
            f"{f.name}_user": f"CASE WHEN {valid} THEN {_nullif_blank(user)} END",
            f"{f.name}_nodots": f"CASE WHEN {valid} THEN concat(replace({raw_user}, '.', ''), '@', {dom}) END",
            f"{f.name}_digits": ra(raw_user, "[^0-9]", ""),
        }
    if f.kind == "date_parts":
        # "7", " 07 " and "7.0" (a spreadsheet's float) are all 7; anything else is NULL
        d, m, y = (_try_int(engine, ra(f"trim({q(r)})", r"\.0*$", "")) for r in ("day", "month", "year"))
        ok = f"{d} BETWEEN 1 AND 31 AND {m} BETWEEN 1 AND 12 AND {y} BETWEEN 1000 AND 2999"
        s = lambda x, n: f"lpad(CAST({x} AS STRING), {n}, '0')"  # noqa: E731
        return {f.name: f"CASE WHEN {ok} THEN concat({s(y, 4)}, '-', {s(m, 2)}, '-', {s(d, 2)}) END"}
    if f.kind == "date":
        digits = ra(q("column"), "[^0-9]", "")
        pos = {"YYYYMMDD": (1, 5, 7), "YYYY-MM-DD": (1, 5, 7),
               "DD/MM/YYYY": (5, 3, 1), "MM/DD/YYYY": (5, 1, 3)}[f.date_format]
        y, m, d = (f"substr({digits}, {p}, {n})" for p, n in zip(pos, (4, 2, 2)))
        return {f.name: f"CASE WHEN length({digits}) = 8 THEN concat({y}, '-', {m}, '-', {d}) END"}
    if f.kind == "identifier":
        return {f.name: _nullif_blank(f"lower({q('column')})")}
    if f.kind == "code":
        return {f.name: _nullif_blank(ra(f"lower({q('column')})", r"[^\p{L}\p{N}]", ""))}
    # category, text
    return {f.name: _nullif_blank(ra(f"lower({q('column')})", r"\s+", " "))}


def standardise_sql(engine: Engine, cfg: DedupConfig, input_table: str) -> str:
    exprs: dict[str, str] = {"unique_id": f"CAST({_quote(engine, cfg.id_column)} AS STRING)"}
    for f in cfg.fields:
        exprs.update(_std_expressions(engine, f))
    inner = ",\n  ".join(f"{e} AS {name}" for name, e in exprs.items())
    extra = ""
    if cfg.has_name_pair:
        extra = (", CASE WHEN first_name IS NOT NULL AND last_name IS NOT NULL "
                 "THEN concat(first_name, ' ', last_name) END AS full_name")
    return f"SELECT *{extra} FROM (SELECT\n  {inner}\nFROM {input_table}) s"


# ------------------------------------------------------------------- model

def _lvl(sql: str, label: str, tf: str | None = None, null: bool = False) -> dict:
    d: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        d["is_null_level"] = True
    if tf:
        d["tf_adjustment_column"] = tf
        d["tf_adjustment_weight"] = 1.0
    return d


def _null(c: str) -> str:
    return f"{c}_l IS NULL OR {c}_r IS NULL"


def _lev(c: str, k: int) -> str:
    return f"levenshtein({c}_l, {c}_r) <= {k}"


def _comparison(f: Field) -> dict:
    c = f.name
    if f.kind == "name":
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact", tf=c),
                  _lvl(_lev(c, 1), "one edit"), _lvl(_lev(c, 2), "two edits"), _lvl("ELSE", "else")]
    elif f.kind == "email":
        u, dg = f"{c}_user", f"{c}_digits"
        levels = [
            _lvl(_null(c), "null", null=True),
            _lvl(f"{c}_l = {c}_r", "exact address"),
            _lvl(f"{c}_nodots_l = {c}_nodots_r", "same address but for dots"),
            _lvl(f"{u}_l = {u}_r", "same user name, other domain", tf=u),
            _lvl(f"{_lev(c, 1)} AND {dg}_l = {dg}_r", "one typo, same digits"),
            _lvl("ELSE", "else"),
        ]
    elif f.kind in ("date", "date_parts"):
        swap = (f"substr({c}_l, 1, 4) = substr({c}_r, 1, 4) AND substr({c}_l, 6, 2) = substr({c}_r, 9, 2)"
                f" AND substr({c}_l, 9, 2) = substr({c}_r, 6, 2)")
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact"),
                  _lvl(f"{_lev(c, 1)} OR ({swap})", "one character or day/month swapped"),
                  _lvl("ELSE", "else")]
    elif f.kind == "identifier":
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact"),
                  _lvl("ELSE", "else")]
    elif f.kind == "code":
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact"),
                  _lvl(_lev(c, 1), "one edit"), _lvl("ELSE", "else")]
    elif f.kind == "category":
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact", tf=c),
                  _lvl("ELSE", "else")]
    else:  # text
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact", tf=c),
                  _lvl(_lev(c, 2), "two edits"), _lvl("ELSE", "else")]
    return {"output_column_name": c, "comparison_levels": levels}


def _name_pair_comparison() -> dict:
    fn, ln = "first_name", "last_name"
    both = lambda k: f"{_lev(fn, k)} AND {_lev(ln, k)}"  # noqa: E731
    levels = [
        _lvl(f"({_null(fn)}) AND ({_null(ln)})", "null", null=True),
        _lvl("full_name_l = full_name_r", "exact full name", tf="full_name"),
        _lvl(f"{fn}_l = {ln}_r AND {ln}_l = {fn}_r", "first and last swapped"),
        _lvl(f"({fn}_l = {fn}_r AND {_lev(ln, 2)}) OR ({ln}_l = {ln}_r AND {_lev(fn, 2)})",
             "one exact, other within two edits"),
        _lvl(both(2), "both within two edits"),
        _lvl(f"{ln}_l = {ln}_r", "last name only", tf=ln),
        _lvl(f"{fn}_l = {fn}_r", "first name only", tf=fn),
        _lvl("ELSE", "else"),
    ]
    return {"output_column_name": "name", "comparison_levels": levels}


def _rule(rule: Any) -> Any:
    """A settings-file rule as Splink takes it: SQL string or ``block_on``."""
    from splink import block_on

    if rule == SWAPPED_NAMES:
        return "l.first_name = r.last_name AND l.last_name = r.first_name"
    if isinstance(rule, str):
        return rule
    return block_on(*rule)


def splink_settings(cfg: DedupConfig) -> dict:
    comparisons = []
    names_done = False
    for f in cfg.fields:
        if cfg.has_name_pair and f.name in ("first_name", "last_name"):
            if not names_done:
                comparisons.append(_name_pair_comparison())
                names_done = True
            continue
        comparisons.append(_comparison(f))
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-4,  # replaced by the estimate
        "blocking_rules_to_generate_predictions": [_rule(r) for r in cfg.blocking_rules],
        "comparisons": comparisons,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


_EXACT = re.compile(r"^(\w+)_l = \1_r$")


def exact_match_u_sql(table: str, col: str) -> str:
    """u of "<col> equal" among all non-null pairs, from value counts: sum c(c-1) / M(M-1)."""
    return f"""SELECT CAST(sum(c * (c - 1)) AS DOUBLE), CAST(sum(c) AS DOUBLE) FROM (
        SELECT CAST(count(*) AS DOUBLE) AS c FROM {table} WHERE {col} IS NOT NULL GROUP BY {col}) t"""


def _set_exact_match_u(engine: Engine, settings: dict, std_table: str) -> None:
    """Fix u of every exact-match level to its exact value instead of a sample.

    Random sampling of a few million pairs sees no agreeing pair on a near-unique
    column (e-mail, login) in a big file, and Splink then falls back to a default
    u (~1e-3) that makes an exact e-mail match almost worthless. Counting values
    is cheap and exact.
    """
    cache: dict[str, float] = {}
    for comp in settings["comparisons"]:
        for lvl in comp["comparison_levels"]:
            m = _EXACT.match(lvl["sql_condition"])
            if not m:
                continue
            col = m.group(1)
            if col not in cache:
                same, total = _row(engine, exact_match_u_sql(std_table, col))
                same, total = float(same or 0), float(total or 0)
                pairs = total * (total - 1)
                cache[col] = max(same, 1.0) / pairs if pairs > 0 else 0.5
            lvl["u_probability"] = min(cache[col], 0.5)
            lvl["fix_u_probability"] = True


@dataclass
class ModelReport:
    prior: float = math.nan
    n_pairs_scored: int = 0
    n_pairs_matched: int = 0
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    match_weights: dict[str, dict[str, float]] = field(default_factory=dict)


class _WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        msg = record.getMessage()
        if "default value for `max_pairs`" not in msg:
            self.messages.append(msg)


def run_splink(engine: Engine, cfg: DedupConfig, std_table: str, n_records: int, *,
               u_max_pairs: float = 2e6, em_max_pairs: float = 1e6,
               seed: int = 1) -> tuple[str, ModelReport]:
    """Train the model, score the blocked pairs and cluster them.

    Returns the name of a table (unique_id, cluster_id) in the engine and a report
    of the model's own estimates.
    """
    from splink import Linker
    from splink.internals.exceptions import EMTrainingException

    rep = ModelReport()
    settings = splink_settings(cfg)
    _set_exact_match_u(engine, settings, std_table)
    api = engine.splink_api()
    sdf = api.register(std_table)
    collector = _WarningCollector()
    splink_logger = logging.getLogger("splink")
    splink_logger.addHandler(collector)
    try:
        linker = Linker(sdf, settings, log_level=None)
        t = time.perf_counter()
        linker.training.estimate_probability_two_random_records_match(
            [_rule(r) for r in cfg.prior_rules], recall=cfg.prior_recall)
        rep.prior = linker._settings_obj._probability_two_random_records_match
        if not rep.prior > 0:
            # No pair agrees on any prior rule (a clean file, a small one, the job's
            # own output): nothing says the file holds duplicates. A prior of 0 is
            # a weight of -inf (EM fails), and EM on pairs that are all non-matches
            # learns look-alikes as matches (a floored prior still gave 3 false
            # pairs in 2,000 clean records). Every record is its own cluster.
            collector.messages.append("no record pair agrees on a prior rule "
                                      f"{list(cfg.prior_rules)}: no duplicates assumed, Splink not run")
            rep.prior = 0.0
            engine.create(CLUSTER_TABLE, f"SELECT unique_id, unique_id AS cluster_id FROM {std_table}")
            rep.timings["train"] = time.perf_counter() - t
            return CLUSTER_TABLE, rep
        # never below one match among all pairs
        floor = 1.0 / max(1.0, n_records * (n_records - 1) / 2)
        if rep.prior < floor:
            rep.prior = floor
            linker._settings_obj._probability_two_random_records_match = floor
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        # EM on a hash sample of the blocked pairs when the file is big; the
        # sampler's probe needs a few thousand records to see any pair at all
        sample = {} if n_records < 50_000 else {
            "max_pairs": em_max_pairs, "record_sample_proportion": min(1.0, 20_000 / n_records)}
        for r in cfg.em_blocking_rules:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    _rule(r), estimate_without_term_frequencies=True, **sample)
            except EMTrainingException as e:
                # a small or clean file: no pair for this rule; the other sessions
                # (or Splink's default m) stand in, and the warning says so
                first = str(e).strip().splitlines()[0]
                collector.messages.append(f"EM session on {r!r} skipped, not fully trained: {first}")
        rep.timings["train"] = time.perf_counter() - t
        t = time.perf_counter()
        pred = linker.inference.predict(threshold_match_probability=cfg.threshold_match_probability)
        rep.n_pairs_matched = int(engine.scalar(f"SELECT count(*) FROM {engine.to_sql_name(pred)}"))
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            pred, threshold_match_probability=cfg.threshold_match_probability)
        engine.create(CLUSTER_TABLE, f"SELECT unique_id, cluster_id FROM {engine.to_sql_name(clusters)}")
        rep.timings["predict_cluster"] = time.perf_counter() - t
        for cc in linker._settings_obj.comparisons:
            rep.match_weights[cc.output_column_name] = {
                cl.label_for_charts: (round(cl._log2_bayes_factor, 2), cl.m_probability, cl.u_probability)
                for cl in cc.comparison_levels if not cl.is_null_level
            }
    finally:
        splink_logger.removeHandler(collector)
        rep.warnings = collector.messages
    return CLUSTER_TABLE, rep


# ------------------------------------------------------------------ pipeline

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
    qid = _quote(engine, cfg.id_column)
    stats = f"SELECT count(*), count({qid}), count(DISTINCT {qid}) FROM {input_table}"
    row = _row(engine, stats)
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
    qcols = ", ".join(f"i.{_quote(engine, c)}" for c in cols)
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
    qid = _quote(engine, cfg.id_column)
    filled = " + ".join(
        f"CASE WHEN {_nullif_blank(f'CAST({_quote(engine, c)} AS STRING)')} IS NULL THEN 0 ELSE 1 END"
        for c in cols)
    plain = ", ".join(_quote(engine, c) for c in cols)
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


def _row(engine: Engine, sql: str) -> tuple:
    if engine.dialect == "duckdb":
        return engine.con.execute(sql).fetchall()[0]
    return tuple(engine.spark.sql(sql).collect()[0])
