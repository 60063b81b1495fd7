"""Property: the prior counted from value counts is the prior Splink estimates.

``glue_jobs.training.set_prior`` counts the pairs that agree on a prior rule by
inclusion-exclusion over value counts instead of Splink's self-joins. On any
table (NULLs, repeated values, records equal on several rules at once) and any
mix of equality rules, including expression keys and rules that share columns,
the prior must be exactly the one ``estimate_probability_two_random_records_match``
sets; rules it cannot count (an OR, the swapped names, a comparison) are left to
Splink, and too many records agreeing fails with Splink's error.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_jobs.config import SWAPPED_NAMES
from glue_jobs.engines import DuckDBEngine
from glue_jobs.training import EqualPairs, prior_pairs, set_prior

COLUMNS = ("a", "b", "c")
RULES = [["a"], ["b"], ["a", "b"], ["b", "c"], "l.c = r.c", "substr(l.a, 1, 1) = substr(r.a, 1, 1) AND l.b = r.b"]
value = st.one_of(st.none(), st.sampled_from(["x", "xy", "y", "yz", "z"]))
tables = st.lists(st.tuples(value, value, value), min_size=2, max_size=40)


class _Cfg:
    def __init__(self, rules, recall):
        self.prior_rules, self.prior_recall = tuple(rules), recall


def _priors(rows, rules, recall=1.0):
    """(Splink's prior, the counted prior) on ``rows``."""
    from glue_jobs.model import _rule, new_linker

    engine = DuckDBEngine(threads=1)
    engine.con.execute("CREATE TABLE t (unique_id VARCHAR, a VARCHAR, b VARCHAR, c VARCHAR)")
    engine.con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(str(i), *r) for i, r in enumerate(rows)])
    settings_ = {"link_type": "dedupe_only", "unique_id_column_name": "unique_id", "comparisons": [
        {"output_column_name": "a", "comparison_levels": [
            {"sql_condition": "a_l = a_r", "label_for_charts": "equal"},
            {"sql_condition": "ELSE", "label_for_charts": "else"}]}]}
    splink_linker = new_linker(engine.splink_api().register("t"), settings_)
    splink_linker.training.estimate_probability_two_random_records_match([_rule(r) for r in rules], recall=recall)
    ours = new_linker(engine.splink_api().register("t"), settings_)
    set_prior(ours, _Cfg(rules, recall), len(rows), EqualPairs(engine, "t"))
    return (splink_linker._settings_obj._probability_two_random_records_match,
            ours._settings_obj._probability_two_random_records_match)


@settings(max_examples=60, deadline=None)
@given(rows=tables, rules=st.lists(st.sampled_from(RULES), min_size=1, max_size=4, unique_by=str))
def test_counted_prior_is_splinks(rows, rules):
    splink_prior, counted = _priors(rows, rules)
    assert counted == pytest.approx(splink_prior, rel=1e-12, abs=0.0), (rows, rules)


def test_rules_it_cannot_count_are_left_to_splink():
    equal_pairs = EqualPairs(DuckDBEngine(threads=1), "unused")  # never asked
    for rules in ([["a"], SWAPPED_NAMES], ["l.a = r.a OR l.b = r.b"], ["l.a <> r.a"], [["a"]] * 5):
        assert prior_pairs(rules, equal_pairs) is None, rules
    rows = [("x", "y", None), ("y", "x", None), ("x", "y", "z"), ("y", "x", "z")]
    splink_prior, ours = _priors(rows, [["c"], "l.a = r.b AND l.b = r.a"])  # not the same both ways round
    assert ours == splink_prior > 0


def test_more_agreeing_pairs_than_the_recall_allows_fails_as_splink_does():
    rows = [("x", None, None)] * 4
    with pytest.raises(ValueError, match="more observed matches than is consistent with supplied recall"):
        _priors(rows, [["a"]], recall=0.5)
