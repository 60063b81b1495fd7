"""u probabilities from random pairs, with a stratum sampled apart for the rare name levels.

u of a level is the chance that two records of different customers fall in it,
estimated from random pairs (nearly all of which are different customers).
Splink's ``estimate_u_using_random_sampling`` draws about a million pairs. Some
levels of the name comparison hold one pair in a million or fewer ("first names
a nickname of one another" with the same last name): a million pairs see them 0
to 4 times, and their weights moved by up to 2.3 bits from one equally valid
draw to the next (third_1m, three draws: F1 0.9838-0.9870; with those u from 20
million pairs: 0.9864-0.9871).

Nearly all of those pairs share a first or a last name. So two samples are
drawn, each the pairs among the records kept by a hash of their key (which
pairs are drawn depends on the keys only, not on the file's order):

- **R**, random pairs: every pair among about sqrt(2 x ``random_pairs``) records;
- **S**, for a comparison with a *stratum* (the name pair: the pairs equal on
  the last name or on the first name, ``STRATA``): the pairs of the stratum
  among a larger share of the records, about ``stratum_pairs`` of them.

A sample of k of n records holds each pair with probability k(k-1) / n(n-1).
The number of pairs in level L is estimated as w_S x (S pairs in L) + w_R x
(R pairs in L outside the stratum), each w the inverse of that probability
(Horvitz-Thompson), and u(L) is that over the sum for the comparison's non-null
levels, as Splink normalises it. A level no pair was seen in gets the u of one R
pair, about Splink's value for an unobserved level (1e-6 at a million pairs),
unless EM sees no true pair in it either (``training.settle_untrained_levels``).
Levels whose u is fixed (exact matches, counted from value counts,
``glue_jobs.training``) are left alone. Where a target covers every pair, the
sample is every record and the u are exact.
"""
from __future__ import annotations

import math
from typing import Any

from glue_jobs.standardise import RID

# comparison (output column) -> the keys whose equal pairs are its stratum, each key a tuple of columns
STRATA: dict[str, tuple[tuple[str, ...], ...]] = {"name": (("last_name",), ("first_name",))}
RANDOM_PAIRS = 1e6
STRATUM_PAIRS = 3e5
R_SAMPLE, R_PAIRS, S_SAMPLE = "__dedup_u_random", "__dedup_u_random_pairs", "__dedup_u_stratum"


def _equal(keys: tuple[str, ...]) -> str:
    return " AND ".join(f"l.{k} = r.{k}" for k in keys)


def records_for(pairs: float, n: int) -> int:
    """How many of ``n`` records hold about ``pairs`` pairs (all ``n`` where they hold fewer)."""
    return min(n, math.ceil((1 + math.sqrt(1 + 8 * max(pairs, 0.0))) / 2))


def sample_sql(engine, table: str, share: float, salt: int) -> str:
    """The records of ``table`` a hash of their key keeps, about ``share`` of them."""
    if share >= 1:
        return f"SELECT * FROM {table}"
    return f"SELECT * FROM {table} WHERE {engine.uniform([RID, str(int(salt))])} < {share!r}"


def random_pairs_sql(sample: str, pairs: str, columns: list[str], cases: list[str], gammas: list[str],
                     in_stratum: str) -> str:
    """Counts of the pairs of ``sample`` by their comparison vector (``cases``: Splink's CASE
    expressions, naming the columns ``gammas``) and whether they are in the stratum.

    ``pairs``: the pairs' keys (``pair_keys_sql``). Joining the records onto a table
    of a million pairs spreads the comparisons over every core; the join of the
    small sample with itself runs on one (1M records: 1.6 s -> 0.75 s).
    """
    g = ", ".join(gammas)
    return (f"SELECT {g}, __in_stratum, count(*) AS __n FROM ("
            f"SELECT {', '.join(cases)}, __in_stratum FROM ("
            f"SELECT {', '.join(columns)}, {in_stratum} AS __in_stratum FROM {pairs} p "
            f"JOIN {sample} l ON l.{RID} = p.{RID}_l JOIN {sample} r ON r.{RID} = p.{RID}_r) p) g "
            f"GROUP BY {g}, __in_stratum")


def pair_keys_sql(sample: str) -> str:
    """Every pair of ``sample`` once, as its two records' keys."""
    return f"SELECT l.{RID} AS {RID}_l, r.{RID} AS {RID}_r FROM {sample} l JOIN {sample} r ON l.{RID} < r.{RID}"


def stratum_pairs_sql(sample: str, columns: list[str], case: str, gamma: str,
                      strata: tuple[tuple[str, ...], ...]) -> str:
    """Counts of the stratum's pairs of ``sample`` by the comparison's vector value: pairs
    equal on a stratum key (and not on an earlier one, so each pair once)."""
    parts = []
    for i, keys in enumerate(strata):
        earlier = "".join(f" AND NOT coalesce({_equal(k)}, false)" for k in strata[:i])
        parts.append(f"SELECT {', '.join(columns)} FROM {sample} l JOIN {sample} r "
                     f"ON {_equal(keys)} AND l.{RID} < r.{RID}{earlier}")
    return f"SELECT {gamma}, count(*) AS __n FROM (SELECT {case} FROM ({' UNION ALL '.join(parts)}) p) g GROUP BY {gamma}"


def estimate_u(engine, linker: Any, std_table: str, n_records: int, *,
               random_pairs: float = RANDOM_PAIRS, stratum_pairs: float = STRATUM_PAIRS,
               seed: int = 1) -> set[tuple[str, str]]:
    """Set u of every level of ``linker`` whose u is not fixed (see the module docstring).
    Returns the levels no pair was seen in, as (comparison, level label)."""
    comparisons = linker._settings_obj.comparisons
    have = set(engine.columns(std_table))
    strata = {cc.output_column_name: STRATA[cc.output_column_name] for cc in comparisons
              if cc.output_column_name in STRATA and {k for key in STRATA[cc.output_column_name] for k in key} <= have}
    stratum_keys = list(dict.fromkeys(k for keys in strata.values() for k in keys))
    cases, gammas = [cc._case_statement for cc in comparisons], [cc._gamma_column_name for cc in comparisons]
    columns = lambda ccs: list(dict.fromkeys(c for cc in ccs for c in cc._columns_to_select_for_blocking()))  # noqa: E731
    ordered_pairs = float(n_records) * (n_records - 1)

    k = records_for(random_pairs, n_records)
    engine.create(R_SAMPLE, sample_sql(engine, std_table, k / n_records, 2 * seed))
    k = int(engine.scalar(f"SELECT count(*) FROM {R_SAMPLE}"))
    w_random = ordered_pairs / max(k * (k - 1), 1)
    in_stratum = " OR ".join(f"coalesce({_equal(key)}, false)" for key in stratum_keys) or "false"
    engine.create(R_PAIRS, pair_keys_sql(R_SAMPLE))
    r_rows = engine.rows(random_pairs_sql(R_SAMPLE, R_PAIRS, columns(comparisons), cases, gammas, in_stratum))

    if strata:
        # a share q of the records holds about q^2 of the stratum's pairs, counted in R
        stratum_in_r = sum(int(row[-1]) for row in r_rows if row[-2])
        share = math.sqrt(min(1.0, stratum_pairs / max(stratum_in_r * w_random, 1.0)))
        engine.create(S_SAMPLE, sample_sql(engine, std_table, share, 2 * seed + 1))
        k = int(engine.scalar(f"SELECT count(*) FROM {S_SAMPLE}"))
        w_stratum = ordered_pairs / max(k * (k - 1), 1)
    unseen: set[tuple[str, str]] = set()
    for i, cc in enumerate(comparisons):
        stratified = cc.output_column_name in strata
        # whole counts first: the same sums in whatever order the engine returns the rows
        in_r: dict[int, int] = {}
        for row in r_rows:
            if not (stratified and row[-2]):
                in_r[int(row[i])] = in_r.get(int(row[i]), 0) + int(row[-1])
        in_s: dict[int, int] = {}
        if stratified:
            sql = stratum_pairs_sql(S_SAMPLE, columns([cc]), cases[i], gammas[i], strata[cc.output_column_name])
            in_s = {int(gamma): int(n) for gamma, n in engine.rows(sql)}
        pairs = {g: w_random * in_r.get(g, 0) + (w_stratum * in_s.get(g, 0) if stratified else 0.0)
                 for g in {*in_r, *in_s}}
        unseen |= {(cc.output_column_name, label) for label in _set_u(cc, pairs, w_random)}
    return unseen


def _set_u(comparison: Any, pairs_by_gamma: dict[int, float], one_pair: float) -> list[str]:
    """u of each non-null level of ``comparison`` whose u is not fixed: its estimated pairs over
    those of all non-null levels (``one_pair`` where none was seen). Returns the labels of
    the levels no pair was seen in."""
    levels = [cl for cl in comparison.comparison_levels if not cl.is_null_level]
    total = sum(pairs_by_gamma.get(cl.comparison_vector_value, 0.0) for cl in levels)
    unseen = [cl.label_for_charts for cl in levels if not pairs_by_gamma.get(cl.comparison_vector_value)]
    if total <= 0:
        return unseen  # no pair outside the null level: Splink's defaults stand, and its warning says so
    for cl in levels:
        if not cl._fix_u_probability:
            cl.u_probability = min(1.0, max(pairs_by_gamma.get(cl.comparison_vector_value, 0.0), one_pair) / total)
    return unseen
