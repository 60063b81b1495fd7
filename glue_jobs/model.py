"""The model: Splink settings from the settings file, training, prediction, clustering.

Unsupervised, no labels:

1. prior: ``probability_two_random_records_match`` estimated from the data with
   deterministic rules (settings ``training.prior_rules``) and an assumed recall
   (``training.prior_recall``), so it shrinks as the file grows;
2. u probabilities from random pairs (exact-match levels: counted from value
   frequencies), m probabilities by EM on the settings'
   ``training.em_blocking_rules``; term frequencies on names, e-mail user names
   and categories, so a shared common name is weak evidence;
3. predict on the union of ``blocking_rules``; keep pairs with
   ``match_probability >= threshold_match_probability``; connected components.

Comparisons use only ``levenshtein`` and plain SQL, both native in DuckDB and
Spark, so no Splink UDF jar is needed on Glue. The SQL runs in an engine
(``glue_jobs/engines.py``) on the standardised table (``glue_jobs/standardise.py``).
"""
from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from glue_jobs.config import SWAPPED_NAMES, DedupConfig, Field
from glue_jobs.engines import Engine

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


def _comparison(f: Field, name_pair: bool = False) -> dict:
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
            # family's shared address, as likely as one person's; no evidence
            null += f" OR (({c}_l = {c}_r OR {u}_l = {u}_r) AND {FIRST_NAMES_UNLIKE})"
            # "juliadavidson@yahoo.co.uk" / "juliadavidson@gmail.com": two
            # namesakes as often as one person; the name comparison has it already
            null += f" OR ({u}_l = {u}_r AND {c}_l <> {c}_r AND {c}_from_name_l)"
            label += ", shared by unlike first names, or a user name that is only the name"
        levels = [
            _lvl(null, label, null=True),
            _lvl(f"{c}_l = {c}_r", "exact address"),
            _lvl(f"{u}_l = {u}_r", "same user name, other domain", tf=u),
            _lvl(f"{_lev(c, 1)} AND {dg}_l = {dg}_r", "one typo, same digits"),
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
            _lvl(f"{_lev(c, 1)} OR ({swap}) OR {off_by_one}",
                 "one character, one part off by one, or day/month swapped"),
            _lvl(f"({_null(c)}) AND ({two_equal})", "two parts equal, the third missing"),
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
        # two edits is a typo or another name (Martin / Martinez, Mark / Marie)
        _lvl(f"({fn}_l = {fn}_r AND {_lev(ln, 2)}) OR ({ln}_l = {ln}_r AND {_lev(fn, 2)})",
             "one exact, other two edits"),
        _lvl(both(2), "both within two edits"),
        # one name missing: the other is all there is to compare
        _lvl(f"{ln}_l = {ln}_r AND ({_null(fn)})", "last name equal, first name missing", tf=ln),
        _lvl(f"{fn}_l = {fn}_r AND ({_null(ln)})", "first name equal, last name missing", tf=fn),
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

    if rule == SWAPPED_NAMES:
        return "l.first_name = r.last_name AND l.last_name = r.first_name"
    if isinstance(rule, str):
        return rule
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
    for f in cfg.fields:
        if cfg.has_name_pair and f.name in ("first_name", "last_name"):
            if not names_done:
                comparisons.append(_name_pair_comparison())
                names_done = True
            continue
        comparisons.append(_comparison(f, cfg.has_name_pair))
    for comp in comparisons:
        for lvl in comp["comparison_levels"]:
            lvl["sql_condition"] = length_guarded(lvl["sql_condition"])
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


def swapped_names_u_sql(table: str) -> str:
    """u of "first and last swapped" among pairs with both names, from (first, last) counts.

    Ordered pairs (i, j) with first_i = last_j and last_i = first_j, less each
    record paired with itself (first = last), over M(M-1).
    """
    counts = (f"SELECT first_name AS f, last_name AS l, CAST(count(*) AS DOUBLE) AS c FROM {table} "
              "WHERE first_name IS NOT NULL AND last_name IS NOT NULL GROUP BY first_name, last_name")
    return f"""SELECT (SELECT sum(a.c * b.c) FROM ({counts}) a JOIN ({counts}) b ON a.f = b.l AND a.l = b.f)
        - (SELECT coalesce(sum(c), 0) FROM ({counts}) x WHERE f = l),
        (SELECT sum(c) FROM ({counts}) y)"""


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
            if lvl["sql_condition"] == SWAPPED_EXACT:
                col, sql = SWAPPED_EXACT, swapped_names_u_sql(std_table)
            elif m:
                col = m.group(1)
                sql = exact_match_u_sql(std_table, col)
            else:
                continue
            if col not in cache:
                same, total = engine.row(sql)
                same, total = float(same or 0), float(total or 0)
                pairs = total * (total - 1)
                cache[col] = max(same, 1.0) / pairs if pairs > 0 else 0.5
            lvl["u_probability"] = min(cache[col], 0.5)
            lvl["fix_u_probability"] = True


# No single disagreeing field is a veto: at least 1 in 100 true duplicates is
# assumed to disagree on any one field (a new login, a new e-mail, another
# country). EM on files where a field never changed learns an m of ~1e-6 for
# "else", a weight of -19 bits that no agreement elsewhere can outweigh.
MIN_DISAGREEMENT_M = 0.01


def floor_disagreement_m(comparisons, floor: float = MIN_DISAGREEMENT_M) -> None:
    """Raise each comparison's ELSE-level m to ``floor``, scaling its other levels' m to sum to 1."""
    for cc in comparisons:
        levels = [cl for cl in cc.comparison_levels if not cl.is_null_level]
        other = [cl for cl in levels if not cl._is_else_level]
        last = [cl for cl in levels if cl._is_else_level]
        if len(last) != 1 or not other:
            continue
        m_else = last[0].m_probability
        if m_else is None or m_else >= floor:
            continue
        rest = sum(cl.m_probability or 0.0 for cl in other)
        for cl in other:
            cl.m_probability = (cl.m_probability or 0.0) * (1.0 - floor) / rest
        last[0].m_probability = floor


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


class _WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        msg = record.getMessage()
        if "default value for `max_pairs`" not in msg:
            self.messages.append(msg)


def train_linker(engine: Engine, cfg: DedupConfig, std_table: str, n_records: int, *,
                 u_max_pairs: float = 1e6, em_max_pairs: float = 2.5e5,
                 seed: int = 1) -> tuple[Any, ModelReport]:
    """Train a Splink linker on ``std_table``: prior, u, m (see the module docstring).

    Returns ``(None, report)`` when no pair agrees on a prior rule: nothing to learn
    from, every record is its own cluster.
    """
    from splink import Linker
    from splink.internals.exceptions import EMTrainingException

    rep = ModelReport()
    final_settings = splink_settings(cfg)
    _set_exact_match_u(engine, final_settings, std_table)
    # Trained without term-frequency columns: the training ignores them (u
    # sampling drops them, EM runs estimate_without_term_frequencies), but Splink
    # would still join the four frequency tables onto every record for each EM
    # session (2 s CPU at 1M). The trained linker gets them back below.
    settings = without_tf(final_settings)
    sdf = engine.splink_api().register(std_table)
    collector = _WarningCollector()
    splink_logger = logging.getLogger("splink")
    splink_logger.addHandler(collector)
    t = time.perf_counter()
    try:
        linker = Linker(sdf, settings, log_level=None)
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
            return None, rep
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
        floor_disagreement_m(linker._settings_obj.comparisons)
        linker = Linker(sdf, with_tf(linker.misc.save_model_to_json(), final_settings), log_level=None)
    except (ValueError, ArithmeticError) as e:
        # A degenerate file (all records alike, or too few distinct pairs): Splink
        # cannot estimate the prior or the parameters ("Deterministic matching rules
        # led to more observed matches than is consistent with supplied recall",
        # divisions by zero). The prior rules are exact agreements that mean
        # "same customer": records linked by them are one cluster (``run_splink``).
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        rep.fallback = (f"the model cannot be trained on this file ({first}); records that agree on a "
                        f"prior rule {list(cfg.prior_rules)} are one customer")
        collector.messages.append(rep.fallback)
        rep.match_weights.clear()
        return None, rep
    finally:
        splink_logger.removeHandler(collector)
        rep.warnings = collector.messages
        rep.timings["train"] = time.perf_counter() - t
    return linker, rep


def without_tf(settings: dict) -> dict:
    """``settings`` with no term-frequency adjustment on any level."""
    out = {**settings, "comparisons": [
        {**comp, "comparison_levels": [
            {k: v for k, v in lvl.items() if k not in ("tf_adjustment_column", "tf_adjustment_weight")}
            for lvl in comp["comparison_levels"]]}
        for comp in settings["comparisons"]]}
    return out


def with_tf(model: dict, settings: dict) -> dict:
    """A trained ``model`` (Splink's JSON) with the term-frequency adjustments of
    ``settings`` back on its levels (same comparisons, same levels, in order)."""
    comps = []
    for mc, sc in zip(model["comparisons"], settings["comparisons"], strict=True):
        levels = []
        for ml, sl in zip(mc["comparison_levels"], sc["comparison_levels"], strict=True):
            tf = {k: sl[k] for k in ("tf_adjustment_column", "tf_adjustment_weight") if k in sl}
            levels.append({**ml, **tf})
        comps.append({**mc, "comparison_levels": levels})
    return {**model, "comparisons": comps}


def load_linker(engine: Engine, std_table: str, model: dict) -> Any:
    """A linker over ``std_table`` with a saved model (``glue_jobs.model_store.fit_to_settings``)."""
    from splink import Linker

    return Linker(engine.splink_api().register(std_table), model, log_level=None)


def predict_and_cluster(engine: Engine, cfg: DedupConfig, linker: Any, std_table: str,
                        rep: ModelReport) -> tuple[Any, str]:
    """Score the blocked pairs (kept down to ``PAIR_FLOOR``, for the confidence) and
    cluster those at the threshold. Returns (predictions, clusters table)."""
    from glue_jobs.confidence import PAIR_FLOOR

    t = time.perf_counter()
    threshold = cfg.threshold_match_probability
    engine.create(BLOCKING_KEYS_TABLE, blocking_keys_sql(engine, cfg, std_table))
    engine.create(BLOCKED_PAIRS_TABLE, blocked_pairs_sql(engine, cfg, BLOCKING_KEYS_TABLE))
    linker.table_management.register_blocked_pairs_for_predict(engine.splink_api().register(BLOCKED_PAIRS_TABLE))
    pred = linker.inference.predict(threshold_match_probability=min(PAIR_FLOOR, threshold))
    rep.n_pairs_scored = int(engine.scalar(f"SELECT count(*) FROM {engine.to_sql_name(pred)}"))
    # Splink's module-level clustering on the ids alone: the linker's own joins
    # every standardised column back onto the clusters (1.5 s CPU at 1M)
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    api = engine.splink_api()
    engine.create(NODES_TABLE, f"SELECT unique_id FROM {std_table}")
    clusters = cluster_pairwise_predictions_at_threshold(
        api.register(NODES_TABLE), pred, db_api=api, node_id_column_name="unique_id",
        threshold_match_probability=threshold)
    engine.create(CLUSTER_TABLE, f"SELECT unique_id, cluster_id FROM {engine.to_sql_name(clusters)}")
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

    Returns the name of a table (unique_id, cluster_id) in the engine and a report
    of the model's own estimates; ``report.linker`` and ``report.predictions``
    are Splink's objects (None when no duplicates were assumed).
    """
    if n_records < 2:
        # one record: no pair to learn from or to score
        linker, rep = None, ModelReport(prior=0.0, fallback="a single record: it is its own customer, Splink not run")
    elif model is not None:
        linker, rep = load_linker(engine, std_table, model), ModelReport()
        rep.prior = model.get("probability_two_random_records_match", math.nan)
    else:
        linker, rep = train_linker(engine, cfg, std_table, n_records, **train_kwargs)
    if linker is None and rep.fallback and n_records >= 2:
        return rule_clusters(engine, cfg, std_table), rep
    if linker is None:
        engine.create(CLUSTER_TABLE, f"SELECT unique_id, unique_id AS cluster_id FROM {std_table}")
        return CLUSTER_TABLE, rep
    rep.linker = linker
    rep.predictions, clusters = predict_and_cluster(engine, cfg, linker, std_table, rep)
    rep.n_pairs_matched = int(engine.scalar(
        f"SELECT count(*) FROM {engine.to_sql_name(rep.predictions)} "
        f"WHERE match_probability >= {cfg.threshold_match_probability!r}"))
    return clusters, rep


def rule_sql(rule: Any) -> str:
    """A settings-file rule as one SQL condition on ``l.`` and ``r.``."""
    if rule == SWAPPED_NAMES:
        return "l.first_name = r.last_name AND l.last_name = r.first_name"
    if isinstance(rule, str):
        return rule
    return " AND ".join(f"l.{c} = r.{c}" for c in rule)


_SIDE = re.compile(r"\b([lr])\.")


def rule_keys(rule: Any) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The rule as two lists of key expressions, ``(of l, of r)``, when it is a
    conjunction of equalities each between an expression of ``l.`` columns only and
    one of ``r.`` columns only (every rule of the bundled settings files): the rule
    holds exactly when every left key equals its right key, none NULL. ``None`` for
    any other rule (an OR, a comparison other than '=', a literal, parentheses
    around an AND): the job then joins on the rule as written.
    """
    if rule == SWAPPED_NAMES:
        return ("first_name", "last_name"), ("last_name", "first_name")
    if not isinstance(rule, str):
        return tuple(rule), tuple(rule)
    if "'" in rule or re.search(r"\b(OR|NOT|IS|IN|LIKE|BETWEEN|CASE)\b|[<>!]", rule, re.IGNORECASE):
        return None
    left, right = [], []
    for part in re.split(r"\s+AND\s+", rule.strip(), flags=re.IGNORECASE):
        sides = part.split("=")
        if len(sides) != 2 or any(x.count("(") != x.count(")") for x in sides):
            return None
        a, b = (x.strip() for x in sides)
        qa, qb = set(_SIDE.findall(a)), set(_SIDE.findall(b))
        if {frozenset(qa), frozenset(qb)} != {frozenset("l"), frozenset("r")}:
            return None
        if qa == {"r"}:
            a, b = b, a
        left.append(_SIDE.sub("", a))
        right.append(_SIDE.sub("", b))
    return tuple(left), tuple(right)


def blocked_pairs_sql(engine: Engine, cfg: DedupConfig, keyed_table: str) -> str:
    """The pairs ``blocking_rules`` generate, as Splink's blocked-pairs table
    (``match_key``, ``join_key_l`` < ``join_key_r``; ``match_key`` the first rule
    that generates the pair), for ``register_blocked_pairs_for_predict``; over
    ``keyed_table`` (``blocking_keys_sql``).

    The same pairs Splink finds, found with a fraction of the work: Splink joins
    once per rule on the rule's string columns, carrying the string ids, and
    drops the pairs an earlier rule found by testing every earlier rule on each
    (16 conditions on the last rule's pairs). Here each rule joins on one 64-bit
    key carrying integer row numbers, and one GROUP BY drops the repeats. A hash
    collision can only add a candidate pair, which the model scores like any
    other. A rule that is not the same both ways round (``l.first_name =
    r.last_name``) holds, as in Splink, with ``l`` the record of the lower id.
    """
    joins = []
    for i, (rule, keys) in enumerate(zip(cfg.blocking_rules, _keys(cfg))):
        if keys is None:  # as written, on the standardised columns
            on = rule_sql(rule)
        elif keys[0] == keys[1]:
            on = f"l.__dedup_k{i} = r.__dedup_k{i}"
        else:
            on = f"l.__dedup_k{i}_l = r.__dedup_k{i}_r"
        order = "l.__dedup_rid < r.__dedup_rid" if keys is not None and keys[0] == keys[1] \
            else "l.unique_id < r.unique_id"
        joins.append(f"SELECT {i} AS k, least(l.__dedup_rid, r.__dedup_rid) AS a, "
                     f"greatest(l.__dedup_rid, r.__dedup_rid) AS b "
                     f"FROM {keyed_table} l JOIN {keyed_table} r ON {on} WHERE {order}")
    return (f"SELECT CAST(p.k AS STRING) AS match_key, least(l.unique_id, r.unique_id) AS join_key_l, "
            f"greatest(l.unique_id, r.unique_id) AS join_key_r "
            f"FROM (SELECT min(k) AS k, a, b FROM ({' UNION ALL '.join(joins)}) u GROUP BY a, b) p "
            f"JOIN {keyed_table} l ON l.__dedup_rid = p.a JOIN {keyed_table} r ON r.__dedup_rid = p.b")


def _keys(cfg: DedupConfig) -> list[tuple[tuple[str, ...], tuple[str, ...]] | None]:
    return [rule_keys(rule) for rule in cfg.blocking_rules]


def blocking_keys_sql(engine: Engine, cfg: DedupConfig, std_table: str) -> str:
    """``std_table``'s ids with a row number (``__dedup_rid``) and each blocking
    rule's key(s) (``rule_keys``): a 64-bit hash of the key expressions, NULL where
    one of them is NULL (as ``=`` never holds on NULL). Every column too when a
    rule is joined as written."""
    keyed = _keys(cfg)
    # narrow unless a rule is joined as written: a wide copy of the table costs more than the joins
    cols = ["*" if None in keyed else "unique_id", f"{engine.row_number()} AS __dedup_rid"]
    for i, keys in enumerate(keyed):
        if keys is None:
            continue
        sides = [(keys[0], f"__dedup_k{i}")] if keys[0] == keys[1] else \
            [(keys[0], f"__dedup_k{i}_l"), (keys[1], f"__dedup_k{i}_r")]
        for exprs, name in sides:
            present = " AND ".join(f"({e}) IS NOT NULL" for e in exprs)
            cols.append(f"CASE WHEN {present} THEN {engine.hash64([f'({e})' for e in exprs])} END AS {name}")
    return f"SELECT {', '.join(cols)} FROM {std_table}"


def rule_clusters(engine: Engine, cfg: DedupConfig, std_table: str) -> str:
    """Connected components of the pairs that agree on a prior rule (exact, non-null)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    pairs = " UNION ".join(
        f"SELECT l.unique_id AS unique_id_l, r.unique_id AS unique_id_r FROM {std_table} l "
        f"JOIN {std_table} r ON l.unique_id < r.unique_id AND ({rule_sql(rule)})" for rule in cfg.prior_rules)
    engine.create(RULE_PAIRS_TABLE, pairs)
    api = engine.splink_api()
    clusters = cluster_pairwise_predictions_at_threshold(
        api.register(std_table), api.register(RULE_PAIRS_TABLE), db_api=api, node_id_column_name="unique_id")
    engine.create(CLUSTER_TABLE, f"SELECT unique_id, cluster_id FROM {engine.to_sql_name(clusters)}")
    return CLUSTER_TABLE
