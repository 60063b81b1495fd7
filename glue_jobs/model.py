"""The model: Splink settings from the settings file, training, prediction, clustering.

Unsupervised, no labels:

1. prior: ``probability_two_random_records_match`` estimated from the data with
   deterministic rules (settings ``training.prior_rules``) and an assumed recall
   (``training.prior_recall``), so it shrinks as the file grows;
2. u probabilities from random pairs, the rare name levels' from a sample of the
   pairs sharing a name (``glue_jobs/u_estimate.py``; exact-match levels: counted
   from value frequencies), m probabilities by EM on the settings'
   ``training.em_blocking_rules``; term frequencies on names, e-mail user names
   and categories, so a shared common name is weak evidence;
3. predict on the union of ``blocking_rules`` (the pairs found by the job's own
   joins on hashed keys, ``blocked_pairs_sql``, the same pairs Splink's blocking
   finds, registered with Splink; on DuckDB found while the model trains,
   ``start_blocking``); keep pairs with
   ``match_probability >= threshold_match_probability``; connected components.

Training runs on the settings without term-frequency columns (it ignores them)
and every edit distance is guarded by the length difference (``length_guarded``):
both only spare work, neither changes a result.

Comparisons use only ``levenshtein`` and plain SQL, both native in DuckDB and
Spark, so no Splink UDF jar is needed on Glue. The SQL runs in an engine
(``glue_jobs/engines.py``) on the standardised table (``glue_jobs/standardise.py``).
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from glue_jobs.config import SWAPPED_NAMES, DedupConfig, Field
from glue_jobs.engines import Background, Engine
from glue_jobs.standardise import RID

CLUSTER_TABLE = "__dedup_clusters"
RULE_PAIRS_TABLE = "__dedup_rule_pairs"
BLOCKED_PAIRS_TABLE = "__dedup_blocked_pairs"
BLOCKING_KEYS_TABLE = "__dedup_blocking_keys"
NODES_TABLE = "__dedup_nodes"


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


# Both first names given and wholly unlike: more than two edits apart, not
# nicknames of one another, not starting alike ("Chris" / "Christopher", a typed
# "Mie" for "Mike"), and neither within two edits of the other record's last name
# (names swapped, perhaps with a typo)
FIRST_NAMES_UNLIKE = ("first_name_l IS NOT NULL AND first_name_r IS NOT NULL"
                      " AND levenshtein(first_name_l, first_name_r) > 2"
                      " AND substr(first_name_l, 1, 2) <> substr(first_name_r, 1, 2)"
                      " AND instr(coalesce(first_name_nicks_l, ''), concat(',', first_name_r, ',')) = 0"
                      " AND coalesce(levenshtein(first_name_l, last_name_r), 9) > 2"
                      " AND coalesce(levenshtein(last_name_l, first_name_r), 9) > 2")


def _inside_other(c: str) -> str:
    """One value, three letters or more, is part of the other: Liv / Olivia, Moretti / Parisi-Moretti."""
    return f"(length({c}_l) >= 3 AND instr({c}_r, {c}_l) > 0) OR (length({c}_r) >= 3 AND instr({c}_l, {c}_r) > 0)"


FIRST_NAME_INSIDE_OTHER = _inside_other("first_name")


def _comparison(f: Field, name_pair: bool = False, birth_date: str | None = None) -> dict:
    """Splink comparison of one field; ``birth_date``: the name of the file's date field, if any."""
    c = f.name
    if f.kind == "name":
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact", tf=c),
                  _lvl(_lev(c, 1), "one edit"), _lvl(_lev(c, 2), "two edits"), _lvl("ELSE", "else")]
    elif f.kind == "email":
        u, dg = f"{c}_user", f"{c}_digits"
        # "mary.daniels@x" / "marydaniels@x" / "mary_daniels@x" (outside Gmail): one
        # person retyping, or namesakes at one provider; as common as each
        # other, so such a pair counts as null (no evidence either way)
        separators_only = f"{c}_alnum_l = {c}_alnum_r AND {c}_l <> {c}_r"
        null = f"{_null(c)} OR ({separators_only})"
        label = "null, or the same but for dots, '_' or '-'"
        if name_pair:
            # one address or user name for two people with unlike first names: a
            # family's shared address, as likely as one person's; no evidence. Not
            # when the two were born on the same day: one person whose first name
            # is a short form the nickname list lacks (Liv / Olivia), or badly typed
            # (Jlspeh / Joseph), far more often than a family member
            # (compared part by part: a comparison that reads the date column itself
            # is left out of the EM session blocked on the date, and never trained)
            same_day = " AND ".join(f"{birth_date}_{p}_l = {birth_date}_{p}_r" for p in "ymd")
            born = f" AND NOT coalesce({same_day}, false)" if birth_date else ""
            null += f" OR (({c}_l = {c}_r OR {u}_l = {u}_r) AND {FIRST_NAMES_UNLIKE}{born})"
            # "juliadavidson@yahoo.co.uk" / "juliadavidson@gmail.com": two
            # namesakes as often as one person; the name comparison has it already
            null += f" OR ({u}_l = {u}_r AND {c}_l <> {c}_r AND {c}_from_name_l)"
            label += ", shared by unlike first names, or a user name that is only the name"
        levels = [
            _lvl(null, label, null=True),
            _lvl(f"{c}_l = {c}_r", "exact address"),
            _lvl(f"{u}_l = {u}_r", "same user name, other domain", tf=u),
            # the digits first: they differ on most pairs, and the distance of two
            # whole addresses is the dearest test of the comparison (same truth value)
            _lvl(f"{dg}_l = {dg}_r AND {_lev(c, 1)}", "one typo, same digits"),
            _lvl("ELSE", "else"),
        ]
    elif f.kind in ("date", "date_parts"):
        y, m, d = (f"{c}_{p}" for p in "ymd")
        eq = lambda x: f"{x}_l = {x}_r"  # noqa: E731
        two_equal = f"({eq(y)} AND {eq(m)}) OR ({eq(y)} AND {eq(d)}) OR ({eq(m)} AND {eq(d)})"
        off_by_one = (f"({eq(y)} AND {eq(m)} AND abs({d}_l - {d}_r) = 1)"
                      f" OR ({eq(y)} AND {eq(d)} AND abs({m}_l - {m}_r) = 1)"
                      f" OR ({eq(m)} AND {eq(d)} AND abs({y}_l - {y}_r) = 1)")
        swap = f"{eq(y)} AND {m}_l = {d}_r AND {d}_l = {m}_r"
        both = lambda x: f"CASE WHEN {x}_l IS NOT NULL AND {x}_r IS NOT NULL THEN 1 ELSE 0 END"  # noqa: E731
        levels = [
            # a date with a part missing is still compared on the two others
            _lvl(f"({_null(c)}) AND {both(y)} + {both(m)} + {both(d)} < 2", "null", null=True),
            _lvl(f"{c}_l = {c}_r", "exact"),
            _lvl(f"({swap}) OR {off_by_one}", "one part off by one, or day/month swapped"),
            _lvl(f"({_null(c)}) AND ({two_equal})", "two parts equal, the third missing"),
            # any other one-character difference: a typed digit (1975 / 1985), or two
            # people born some years apart (1992 / 1998), common among a million
            # records with one name: its own weight, learned from the file
            _lvl(_lev(c, 1), "one character otherwise"),
            _lvl("ELSE", "else"),
        ]
    elif f.kind == "identifier":
        # "jsmith" / "jsmith7": a login changed on a new account, or a namesake's
        # login made unique with a number; both are common, so the pair says
        # nothing either way and counts as null
        stem = f"{c}_stem_l = {c}_stem_r AND {c}_l <> {c}_r"
        levels = [_lvl(f"{_null(c)} OR ({stem})", "null, or the same but for digits at the end", null=True),
                  _lvl(f"{c}_l = {c}_r", "exact"), _lvl("ELSE", "else")]
    elif f.kind == "code":
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact"),
                  _lvl(_lev(c, 1), "one edit"), _lvl("ELSE", "else")]
    elif f.kind == "category":
        # no term-frequency adjustment: a rare category (a small country) goes with
        # names that are rare in the file as a whole, so it would count twice
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact"),
                  _lvl("ELSE", "else")]
    else:  # text
        levels = [_lvl(_null(c), "null", null=True), _lvl(f"{c}_l = {c}_r", "exact", tf=c),
                  _lvl(_lev(c, 2), "two edits"), _lvl("ELSE", "else")]
    return {"output_column_name": c, "comparison_levels": levels}


SWAPPED_EXACT = "first_name_l = last_name_r AND last_name_l = first_name_r"


def _name_pair_comparison() -> dict:
    fn, ln = "first_name", "last_name"
    both = lambda k: f"{_lev(fn, k)} AND {_lev(ln, k)}"  # noqa: E731
    levels = [
        _lvl(f"({_null(fn)}) AND ({_null(ln)})", "null", null=True),
        _lvl("full_name_l = full_name_r", "exact full name", tf="full_name"),
        _lvl(SWAPPED_EXACT, "first and last swapped"),
        _lvl(f"({fn}_l = {fn}_r AND {_lev(ln, 1)}) OR ({ln}_l = {ln}_r AND {_lev(fn, 1)})",
             "one exact, other one edit"),
        _lvl(f"{_lev(ln, 1)} AND instr({fn}_nicks_l, concat(',', {fn}_r, ',')) > 0",
             "first names a nickname of one another, last within one edit"),
        _lvl(f"({fn}_l = {ln}_r AND levenshtein({ln}_l, {fn}_r) <= 2)"
             f" OR ({ln}_l = {fn}_r AND levenshtein({fn}_l, {ln}_r) <= 2)",
             "first and last swapped, one within two edits"),
        # two edits is a typo or another name (Martin / Martinez, Mark / Marie); a double
        # or particle surname written in part (Parisi-Moretti / Moretti, van den Berg /
        # Berg) is the part inside the whole once standardised: as close a form
        _lvl(f"({fn}_l = {fn}_r AND ({_lev(ln, 2)} OR {_inside_other(ln)})) OR ({ln}_l = {ln}_r AND {_lev(fn, 2)})",
             "one exact, other two edits or a part of it"),
        # ... or swapped, each within two edits of the other's (Stwphens Merrdith /
        # Meredith Stephens: a swap with a typo, and another typo)
        _lvl(f"({both(2)}) OR (levenshtein({fn}_l, {ln}_r) <= 2 AND levenshtein({ln}_l, {fn}_r) <= 2)",
             "both within two edits, as given or swapped"),
        # one name missing: the other is all there is to compare
        _lvl(f"{ln}_l = {ln}_r AND ({_null(fn)})", "last name equal, first name missing", tf=ln),
        _lvl(f"{fn}_l = {fn}_r AND ({_null(ln)})", "first name equal, last name missing", tf=fn),
        # a short form the nickname list lacks, inside the full name (Liv / Olivia,
        # Jon / Jonathan, Tina / Christina): one person far more often than twins,
        # whose names are two names; a level apart so each gets its own weight
        _lvl(f"{ln}_l = {ln}_r AND ({FIRST_NAME_INSIDE_OTHER})", "last name equal, one first name inside the other"),
        # both given, one wholly different: relatives (twins, spouses) more than one
        # person; a rare shared last name is not more evidence of the same person
        # here, so no term-frequency adjustment
        _lvl(f"{ln}_l = {ln}_r", "last name equal, first names differ"),
        _lvl(f"{fn}_l = {fn}_r", "first name equal, last names differ"),
        _lvl("ELSE", "else"),
    ]
    return {"output_column_name": "name", "comparison_levels": levels}


def _rule(rule: Any) -> Any:
    """A settings-file rule as Splink takes it: SQL string or ``block_on``."""
    from splink import block_on

    from glue_jobs.blocking import rule_sql

    if rule == SWAPPED_NAMES or isinstance(rule, str):
        return rule_sql(rule)
    return block_on(*rule)


_LEVENSHTEIN_AT_MOST = re.compile(r"levenshtein\((\w+), (\w+)\) <= (\d+)", re.IGNORECASE)
_GUARDED = re.compile(r"\(abs\(length\((\w+)\) - length\((\w+)\)\) <= (\d+) AND (levenshtein\(\1, \2\) <= \3)\)",
                      re.IGNORECASE)


def length_guarded(sql: str) -> str:
    """``levenshtein(a, b) <= k`` as ``(abs(length(a) - length(b)) <= k AND levenshtein(a, b) <= k)``.

    The same truth value, NULLs included (the distance is at least the length
    difference), but the engine skips the distance for most pairs: random and
    blocked pairs seldom have names or addresses of nearly equal length. u
    training at 1M records: 10.6 s -> 7.7 s on one thread.
    """
    bare = _GUARDED.sub(r"\4", sql)  # idempotent: a guarded condition is guarded once
    return _LEVENSHTEIN_AT_MOST.sub(
        lambda m: f"(abs(length({m[1]}) - length({m[2]})) <= {m[3]} AND levenshtein({m[1]}, {m[2]}) <= {m[3]})", bare)


def splink_settings(cfg: DedupConfig) -> dict:
    comparisons = []
    names_done = False
    birth_date = next((f.name for f in cfg.fields if f.kind in ("date", "date_parts")), None)
    for f in cfg.fields:
        if cfg.has_name_pair and f.name in ("first_name", "last_name"):
            if not names_done:
                comparisons.append(_name_pair_comparison())
                names_done = True
            continue
        comparisons.append(_comparison(f, cfg.has_name_pair, birth_date))
    for comp in comparisons:
        for lvl in comp["comparison_levels"]:
            lvl["sql_condition"] = length_guarded(lvl["sql_condition"])
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": RID,
        "probability_two_random_records_match": 1e-4,  # replaced by the estimate
        "blocking_rules_to_generate_predictions": [_rule(r) for r in cfg.blocking_rules],
        "comparisons": comparisons,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


@dataclass
class ModelReport:
    prior: float = math.nan
    n_pairs_scored: int = 0
    n_pairs_matched: int = 0
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    match_weights: dict[str, dict[str, float]] = field(default_factory=dict)
    fallback: str = ""  # why the model was not used, when it was not (then clusters follow the prior rules)
    linker: Any = field(default=None, repr=False, compare=False)
    predictions: Any = field(default=None, repr=False, compare=False)


def new_linker(table: Any, settings: dict) -> Any:
    """``splink.Linker(table, settings)``: every linker of the job is made here.

    Without Splink's settings validation, which parses every level's SQL to log
    columns the input lacks (0.5 s per linker, two or three linkers per run):
    the job's settings are written for the standardised table the job makes
    (``tests/test_dedup_model.py`` runs that validation on it and expects nothing).
    """
    from splink import Linker

    remember_exact_match_levels(settings)
    return Linker(table, settings, log_level=None, validate_settings=False)


# the form of every exact-match level the settings builders write (``_lvl(f"{c}_l = {c}_r", ...)``)
EXACT_LEVEL = re.compile(r"^(\w+)_l = \1_r$")


def remember_exact_match_levels(settings: dict | None = None) -> None:
    """Make Splink's "is this level an exact match?" a look-up.

    Splink asks it of every level again for each EM session and for each
    term-frequency adjustment at predict, and answers by parsing the level's SQL
    with sqlglot and normalising it to conjunctive form: 1.5-2 s of single-threaded
    Python per run on this model's name levels, whose ORs of ANDs expand. The
    answer is False for the ELSE level and otherwise depends only on the level's
    SQL and the dialect, so it is kept per those two after Splink's own property (splink
    5.0 ``ComparisonLevel._is_exact_match``) has given it once.

    The levels of ``settings`` (the job's own, from ``splink_settings``) are
    answered from their form, ``EXACT_LEVEL``, without asking Splink even once
    (1 s per run); a test checks that this is Splink's answer for every level
    the builders write. Idempotent.
    """
    from splink.internals.comparison_level import ComparisonLevel

    asked = ComparisonLevel.__dict__["_is_exact_match"]
    if not getattr(asked.fget, "remembers", False):
        answers: dict[tuple[str, str], bool] = {}
        known: dict[str, bool] = {}

        def is_exact_match(level) -> bool:
            if level._is_else_level:
                return False
            if level.sql_condition in known:
                return known[level.sql_condition]
            key = (level.sql_condition, level.sqlglot_dialect)
            if key not in answers:
                answers[key] = asked.fget(level)
            return answers[key]

        is_exact_match.remembers, is_exact_match.asks, is_exact_match.known = True, asked.fget, known
        ComparisonLevel._is_exact_match = property(is_exact_match, doc=asked.__doc__)
        asked = ComparisonLevel.__dict__["_is_exact_match"]
    for comp in (settings or {}).get("comparisons", []):
        for lvl in comp["comparison_levels"]:
            sql = lvl["sql_condition"]
            if sql.strip().upper() != "ELSE":
                asked.fget.known.setdefault(sql, EXACT_LEVEL.match(sql) is not None)


def load_linker(engine: Engine, std_table: str, model: dict) -> Any:
    """A linker over ``std_table`` with a saved model (``glue_jobs.model_store.fit_to_settings``)."""
    return new_linker(engine.splink_api().register(std_table), model)


def start_blocking(engine: Engine, cfg: DedupConfig, std_table: str) -> Background:
    """Start finding the blocked pairs of ``std_table`` (they do not depend on the
    model, so on DuckDB they are found while it trains; Spark finds them when
    ``predict_and_cluster`` waits for them)."""
    from glue_jobs.blocking import blocked_pairs_sql, blocking_keys_sql

    return engine.create_meanwhile([(BLOCKING_KEYS_TABLE, blocking_keys_sql(engine, cfg, std_table)),
                                    (BLOCKED_PAIRS_TABLE, blocked_pairs_sql(cfg, BLOCKING_KEYS_TABLE))])


def register_blocked_pairs(linker: Any, pairs: Any) -> None:
    """Hand Splink the blocked pairs (``register_blocked_pairs_for_predict``) to score
    the way it scores the pairs it finds itself.

    On DuckDB, Splink 5 scores registered pairs by first copying, for each side,
    the records that appear in a pair ("source pruning",
    ``splink/internals/duckdb/pruned_prediction.py``). The job's pairs touch
    nearly every record, so the copies only cost time: 1.4 s of 5.5 s at 1M, the
    same scores. Clearing the flag that asks for it leaves the pairs in Splink's
    cache, where ``predict`` takes them as its own.
    """
    registered = linker.table_management.register_blocked_pairs_for_predict(pairs)
    registered.metadata["registered_for_predict"] = False


def predict_and_cluster(engine: Engine, cfg: DedupConfig, linker: Any, std_table: str,
                        rep: ModelReport, blocking: Background) -> tuple[Any, str]:
    """Score the blocked pairs (kept down to ``PAIR_FLOOR``, for the confidence) and
    cluster those at the threshold. Returns (predictions, clusters table).

    ``blocking``: the pairs already being found (``start_blocking``)."""
    from glue_jobs.confidence import PAIR_FLOOR

    t = time.perf_counter()
    threshold = cfg.threshold_match_probability
    blocking.wait()
    register_blocked_pairs(linker, engine.splink_api().register(BLOCKED_PAIRS_TABLE))
    pred = linker.inference.predict(threshold_match_probability=min(PAIR_FLOOR, threshold))
    rep.n_pairs_scored = int(engine.scalar(f"SELECT count(*) FROM {engine.to_sql_name(pred)}"))
    # Splink's module-level clustering on the ids alone: the linker's own joins
    # every standardised column back onto the clusters (1.5 s CPU at 1M)
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    api = engine.splink_api()
    engine.create(NODES_TABLE, f"SELECT {RID} FROM {std_table}")
    clusters = cluster_pairwise_predictions_at_threshold(
        api.register(NODES_TABLE), pred, db_api=api, node_id_column_name=RID,
        threshold_match_probability=threshold)
    _create_cluster_table(engine, engine.to_sql_name(clusters), std_table)
    rep.timings["predict_cluster"] = time.perf_counter() - t
    for cc in linker._settings_obj.comparisons:
        rep.match_weights[cc.output_column_name] = {
            cl.label_for_charts: (round(cl._log2_bayes_factor, 2), cl.m_probability, cl.u_probability)
            for cl in cc.comparison_levels if not cl.is_null_level
        }
    return pred, CLUSTER_TABLE


def run_splink(engine: Engine, cfg: DedupConfig, std_table: str, n_records: int, *,
               model: dict | None = None, **train_kwargs) -> tuple[str, ModelReport]:
    """Train the model (or load ``model``), score the blocked pairs and cluster them.

    Returns the name of a table (``RID``, unique_id, cluster_id) in the engine and a report
    of the model's own estimates; ``report.linker`` and ``report.predictions``
    are Splink's objects (None when no duplicates were assumed).
    """
    if n_records < 2:
        # one record: no pair to learn from or to score
        return _singletons(engine, std_table), ModelReport(
            prior=0.0, fallback="a single record: it is its own customer, Splink not run")
    blocking = start_blocking(engine, cfg, std_table)  # while the model trains
    try:
        if model is not None:
            linker, rep = load_linker(engine, std_table, model), ModelReport()
            rep.prior = model.get("probability_two_random_records_match", math.nan)
        else:
            from glue_jobs.training import train_linker

            linker, rep = train_linker(engine, cfg, std_table, n_records, **train_kwargs)
        if linker is None:
            blocking.stop()
            return (rule_clusters(engine, cfg, std_table) if rep.fallback else _singletons(engine, std_table)), rep
        rep.linker = linker
        rep.predictions, clusters = predict_and_cluster(engine, cfg, linker, std_table, rep, blocking)
    finally:
        blocking.stop()  # a failed or interrupted run does not leave it running
    rep.n_pairs_matched = int(engine.scalar(
        f"SELECT count(*) FROM {engine.to_sql_name(rep.predictions)} "
        f"WHERE match_probability >= {cfg.threshold_match_probability!r}"))
    return clusters, rep


def _create_cluster_table(engine: Engine, clusters: str, std_table: str) -> str:
    """``CLUSTER_TABLE`` from Splink's clusters (``RID``, cluster_id) and the records' ids."""
    engine.create(CLUSTER_TABLE, f"SELECT c.{RID}, s.unique_id, c.cluster_id FROM {clusters} c "
                                 f"JOIN {std_table} s ON s.{RID} = c.{RID}")
    return CLUSTER_TABLE


def _singletons(engine: Engine, std_table: str) -> str:
    engine.create(CLUSTER_TABLE, f"SELECT {RID}, unique_id, {RID} AS cluster_id FROM {std_table}")
    return CLUSTER_TABLE


def rule_clusters(engine: Engine, cfg: DedupConfig, std_table: str) -> str:
    """Connected components of the pairs that agree on a prior rule (exact, non-null)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    from glue_jobs.blocking import rule_sql

    pairs = " UNION ".join(
        f"SELECT l.{RID} AS {RID}_l, r.{RID} AS {RID}_r FROM {std_table} l "
        f"JOIN {std_table} r ON l.{RID} < r.{RID} AND ({rule_sql(rule)})" for rule in cfg.prior_rules)
    engine.create(RULE_PAIRS_TABLE, pairs)
    engine.create(NODES_TABLE, f"SELECT {RID} FROM {std_table}")
    api = engine.splink_api()
    clusters = cluster_pairwise_predictions_at_threshold(
        api.register(NODES_TABLE), api.register(RULE_PAIRS_TABLE), db_api=api, node_id_column_name=RID)
    return _create_cluster_table(engine, engine.to_sql_name(clusters), std_table)
