"""Training the model: the prior, u and m, without labels (see ``glue_jobs/model.py``).

u of exact-match levels counted from value frequencies (exact), the other u from
random pairs (``glue_jobs/u_estimate.py``), m by EM on the settings' ``training.em_blocking_rules``, a floor
on every disagreement's m. Trained on the settings without term-frequency
columns (the training ignores them) and handed back with them.
"""
from __future__ import annotations

import functools
import logging
import time
from typing import Any, Callable

from glue_jobs.config import DedupConfig
from glue_jobs.engines import Engine
from glue_jobs.model import EXACT_LEVEL, SWAPPED_EXACT, ModelReport, _rule, new_linker, splink_settings
from glue_jobs.u_estimate import estimate_u


def equal_pairs_sql(table: str, keys: tuple[str, ...], hash64: Callable[[list[str]], str] | None = None) -> str:
    """``(pairs, records)``: the pairs of distinct records of ``table`` equal on every
    key expression, and the records with no key NULL.

    ``hash64`` (``Engine.hash64``): group by a 64-bit hash of the keys instead of the
    keys, a quarter less CPU (1M records, seven key sets: 1.4 -> 1.1 s); the same
    counts unless two distinct values share a hash (about 1 in 30 million for a
    million values), which would count their records as equal.
    """
    present = " AND ".join(f"({k}) IS NOT NULL" for k in keys)
    group = hash64([f"({k})" for k in keys]) if hash64 else ", ".join(f"({k})" for k in keys)
    return (f"SELECT CAST(coalesce(sum(c * (c - 1) / 2), 0) AS DOUBLE), CAST(coalesce(sum(c), 0) AS DOUBLE) "
            f"FROM (SELECT CAST(count(*) AS DOUBLE) AS c FROM {table} WHERE {present} GROUP BY {group}) t")


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


class EqualPairs:
    """``(pairs, records)`` of ``equal_pairs_sql`` per key set, each counted once a run:
    the prior and the exact-match u both need the e-mail's."""

    def __init__(self, engine: Engine, table: str):
        self.engine, self.table, self._seen = engine, table, {}

    def __call__(self, keys: tuple[str, ...]) -> tuple[float, float]:
        keys = tuple(dict.fromkeys(keys))
        if keys not in self._seen:
            pairs, records = self.engine.row(equal_pairs_sql(self.table, keys, self.engine.hash64))
            self._seen[keys] = (float(pairs or 0), float(records or 0))
        return self._seen[keys]


# Inclusion-exclusion over 2^k - 1 key sets: beyond this many rules Splink counts them.
MAX_COUNTED_PRIOR_RULES = 4


def prior_pairs(rules, equal_pairs: EqualPairs) -> float | None:
    """The number of record pairs that agree on at least one of ``rules``, from value
    counts; ``None`` unless every rule is a conjunction of equalities the same both
    ways round (``l.x = r.x``; ``glue_jobs.blocking.rule_keys``).

    The count Splink's ``estimate_probability_two_random_records_match`` makes by
    joining the table to itself once per rule and testing each earlier rule on
    every pair. Pairs equal on the keys of every rule in a set S are the pairs
    equal on the union of their keys, so the union of the rules' pairs is the sum,
    over the non-empty sets S, of (-1)^(|S|+1) times that count.
    """
    from itertools import combinations

    from glue_jobs.blocking import rule_keys

    keys = [rule_keys(r) for r in rules]
    if not keys or len(keys) > MAX_COUNTED_PRIOR_RULES or any(k is None or k[0] != k[1] for k in keys):
        return None
    total = 0.0
    for size in range(1, len(keys) + 1):
        for subset in combinations(keys, size):
            total += (1 if size % 2 else -1) * equal_pairs(tuple(e for k in subset for e in k[0]))[0]
    return total


def set_prior(linker, cfg: DedupConfig, n_records: int, equal_pairs: EqualPairs) -> None:
    """The prior, as Splink's ``estimate_probability_two_random_records_match`` sets it
    (the pairs that agree on a prior rule, over ``prior_recall``, over all pairs),
    counted from value counts where the rules allow (``prior_pairs``: 1M records,
    1.2 s -> 0.5 s CPU, the same value)."""
    observed = prior_pairs(cfg.prior_rules, equal_pairs)
    if observed is None:
        linker.training.estimate_probability_two_random_records_match(
            [_rule(r) for r in cfg.prior_rules], recall=cfg.prior_recall)
        return
    total = n_records * (n_records - 1) / 2
    if observed > total * cfg.prior_recall:  # Splink's own check, in its words
        raise ValueError("Deterministic matching rules led to more observed matches than is consistent with "
                         f"supplied recall. With these rules, recall must be at least {observed / total:,.2f}.")
    linker._settings_obj._probability_two_random_records_match = observed / cfg.prior_recall / total


def _set_exact_match_u(engine: Engine, settings: dict, std_table: str, equal_pairs: EqualPairs) -> None:
    """Fix u of every exact-match level to its exact value instead of a sample.

    Random sampling of a few million pairs sees no agreeing pair on a near-unique
    column (e-mail, login) in a big file, and Splink then falls back to a default
    u (~1e-3) that makes an exact e-mail match almost worthless. Counting values
    is cheap and exact.
    """
    @functools.cache
    def exact_u(sql_condition: str) -> float | None:
        if sql_condition == SWAPPED_EXACT:
            same, total = (float(v or 0) for v in engine.row(swapped_names_u_sql(std_table)))
        elif m := EXACT_LEVEL.match(sql_condition):
            pairs, total = equal_pairs((m.group(1),))
            same = 2 * pairs  # ordered pairs
        else:
            return None
        ordered = total * (total - 1)
        return max(same, 1.0) / ordered if ordered > 0 else 0.5

    for comp in settings["comparisons"]:
        for lvl in comp["comparison_levels"]:
            u = exact_u(lvl["sql_condition"])
            if u is not None:
                lvl["u_probability"] = min(u, 0.5)
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


def settle_untrained_levels(comparisons, u_unseen: set[tuple[str, str]]) -> list[str]:
    """Write out the m and u Splink uses for a level EM saw no pair in, so that the saved
    model is the one that ran. Returns the levels' names.

    Splink gives such a level a default m by its place in its comparison (and a
    default u where no random pair was seen either, ``u_unseen``: (comparison,
    level label)), but leaves them out of the saved model. The job scores with a
    linker made from that JSON, so these defaults are what it always used; an
    incremental run on the saved model now reads them there too. (A u of one
    random pair under a default m would instead be 12 bits of evidence for a level
    nothing was learned about: a first name missing with the same last name.)
    """
    settled = []
    for cc in comparisons:
        for cl in cc.comparison_levels:
            if cl.is_null_level or cl._m_is_trained:
                continue
            cl.m_probability = cl.default_m_probability
            if (cc.output_column_name, cl.label_for_charts) in u_unseen and not cl._fix_u_probability:
                cl.u_probability = cl.default_u_probability
            settled.append(f"{cc.output_column_name}: {cl.label_for_charts}")
    return settled


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
    from splink.internals.exceptions import EMTrainingException

    rep = ModelReport()
    final_settings = splink_settings(cfg)
    equal_pairs = EqualPairs(engine, std_table)
    _set_exact_match_u(engine, final_settings, std_table, equal_pairs)
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
        linker = new_linker(sdf, settings)
        set_prior(linker, cfg, n_records, equal_pairs)
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
        # u from random pairs, and the name levels that only a pair in a million
        # reaches from a second sample of the pairs sharing a first or last name
        # (``glue_jobs.u_estimate``): the same figures from any draw (F1 over three
        # draws, third_1m 0.9838-0.9870 -> 0.9870-0.9871, indep_1m 0.9850-0.9885 ->
        # 0.9888-0.9894), and 2.3 s of CPU at 1M where Splink's sampling took 2.6.
        u_unseen = estimate_u(engine, linker, std_table, n_records, random_pairs=u_max_pairs, seed=seed)
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
        settled = settle_untrained_levels(linker._settings_obj.comparisons, u_unseen)
        if settled:
            collector.messages.append(f"no true pair seen in level(s) {settled}: Splink's default m by their place")
        linker = new_linker(sdf, with_tf(linker.misc.save_model_to_json(), final_settings))
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
