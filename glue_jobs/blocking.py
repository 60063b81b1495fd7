"""Blocking: the candidate pairs of the settings' ``blocking_rules``, found by the job.

The same pairs (and the same first rule of each) as Splink's own blocking,
handed to Splink with ``register_blocked_pairs_for_predict``; found on one
64-bit key per rule and integer row numbers (``blocked_pairs_sql``).
"""
from __future__ import annotations

import re
from typing import Any

from glue_jobs.config import SWAPPED_NAMES, DedupConfig
from glue_jobs.engines import Engine
from glue_jobs.standardise import RID


def rule_sql(rule: Any) -> str:
    """A settings-file rule as one SQL condition on ``l.`` and ``r.``."""
    if rule == SWAPPED_NAMES:
        return "l.first_name = r.last_name AND l.last_name = r.first_name"
    if isinstance(rule, str):
        return rule
    return " AND ".join(f"l.{c} = r.{c}" for c in rule)


_SIDE = re.compile(r"\b([lr])\.")
_SIDE_COLUMN = re.compile(r"\b[lr]\.(\w+)")


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


def blocked_pairs_sql(cfg: DedupConfig, keyed_table: str, new_keyed: str | None = None) -> str:
    """The pairs ``blocking_rules`` generate, as Splink's blocked-pairs table
    (``match_key``, ``join_key_l`` < ``join_key_r``, the records' ``RID``;
    ``match_key`` the first rule that generates the pair), for
    ``register_blocked_pairs_for_predict``; over ``keyed_table`` (``blocking_keys_sql``).
    With ``new_keyed`` (the same, of other records), only the pairs with at least
    one record of ``new_keyed``, over both tables: an incremental run's batch
    against itself and against the published records (``keyed_table``).

    The same pairs Splink finds, found with a fraction of the work: Splink joins
    once per rule on the rule's columns and drops the pairs an earlier rule found
    by testing every earlier rule on each (16 conditions on the last rule's
    pairs). Here each rule joins on one 64-bit key, and one GROUP BY drops the
    repeats. A hash collision can only add a candidate pair, which the model
    scores like any other. A rule that is not the same both ways round
    (``l.first_name = r.last_name``) holds, as in Splink, with ``l`` the record
    of the lower id.
    """
    # (l, r) table pairs to join: every record with every other, or the new records
    # with each other and with the others, either side
    sides = [(keyed_table, keyed_table)] if new_keyed is None else \
        [(new_keyed, new_keyed), (new_keyed, keyed_table), (keyed_table, new_keyed)]
    joins = []
    for i, (rule, keys) in enumerate(zip(cfg.blocking_rules, _keys(cfg))):
        if keys is None:  # as written, on the standardised columns
            on = rule_sql(rule)
        elif keys[0] == keys[1]:
            on = f"l.__dedup_k{i} = r.__dedup_k{i}"
        else:
            on = f"l.__dedup_k{i}_l = r.__dedup_k{i}_r"
        for left, right in sides:
            joins.append(f"SELECT {i} AS k, least(l.{RID}, r.{RID}) AS a, greatest(l.{RID}, r.{RID}) AS b "
                         f"FROM {left} l JOIN {right} r ON {on} WHERE l.{RID} < r.{RID}")
    return (f"SELECT CAST(min(k) AS STRING) AS match_key, a AS join_key_l, b AS join_key_r "
            f"FROM ({' UNION ALL '.join(joins)}) u GROUP BY a, b")


def _keys(cfg: DedupConfig) -> list[tuple[tuple[str, ...], tuple[str, ...]] | None]:
    return [rule_keys(rule) for rule in cfg.blocking_rules]


def blocking_keys_sql(engine: Engine, cfg: DedupConfig, std_table: str) -> str:
    """``std_table``'s ``RID`` and each blocking rule's key(s) (``rule_keys``): a
    64-bit hash of the key expressions, NULL where one of them is NULL (as ``=``
    never holds on NULL); and the columns the rules joined as written read."""
    keyed = _keys(cfg)
    # narrow: the ids and the columns of the rules joined as written (a wide copy of
    # the table costs more than the joins)
    written = sorted({c for rule, keys in zip(cfg.blocking_rules, keyed) if keys is None
                      for c in _SIDE_COLUMN.findall(rule_sql(rule))} - {RID})
    cols = [RID, *written]
    for i, keys in enumerate(keyed):
        if keys is None:
            continue
        sides = [(keys[0], f"__dedup_k{i}")] if keys[0] == keys[1] else \
            [(keys[0], f"__dedup_k{i}_l"), (keys[1], f"__dedup_k{i}_r")]
        for exprs, name in sides:
            present = " AND ".join(f"({e}) IS NOT NULL" for e in exprs)
            cols.append(f"CASE WHEN {present} THEN {engine.hash64([f'({e})' for e in exprs])} END AS {name}")
    return f"SELECT {', '.join(cols)} FROM {std_table}"
