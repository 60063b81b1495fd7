"""u from random pairs with a stratum sampled apart (``glue_jobs.u_estimate``).

When the targets cover every pair, both samples are every pair (one bucket each),
so every u must be exactly what Splink's own random sampling gives when it
samples every record: that checks the comparison vectors, the stratum's pairs
counted once (a pair equal on both names is in two joins), the pairs of the
stratum left out of the random sample's share, the normalisation over non-null
levels and the fixed levels left alone. With fewer pairs drawn, the estimate
stays unbiased (the weights of the two samples) and depends on the record keys only.
"""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_jobs.engines import DuckDBEngine
from glue_jobs.standardise import RID
from glue_jobs.training import EqualPairs
from glue_jobs.u_estimate import STRATA, estimate_u

NAME_LEVELS = [
    ("first_name_l IS NULL AND last_name_l IS NULL", "null", True),
    ("first_name_l = first_name_r AND last_name_l = last_name_r", "both", False),
    ("last_name_l = last_name_r AND levenshtein(first_name_l, first_name_r) <= 1", "last, first one edit", False),
    ("last_name_l = last_name_r", "last", False),
    ("first_name_l = first_name_r", "first", False),
    ("levenshtein(last_name_l, last_name_r) <= 1", "last one edit", False),
    ("ELSE", "else", False),
]


def _settings(fixed_u: float | None = None) -> dict:
    name = [{"sql_condition": s, "label_for_charts": label, **({"is_null_level": True} if null else {})}
            for s, label, null in NAME_LEVELS]
    if fixed_u is not None:
        name[1].update(u_probability=fixed_u, fix_u_probability=True)
    return {"link_type": "dedupe_only", "unique_id_column_name": RID, "comparisons": [
        {"output_column_name": "name", "comparison_levels": name},
        {"output_column_name": "a", "comparison_levels": [
            {"sql_condition": "a_l IS NULL OR a_r IS NULL", "label_for_charts": "null", "is_null_level": True},
            {"sql_condition": "a_l = a_r", "label_for_charts": "equal"},
            {"sql_condition": "ELSE", "label_for_charts": "else"}]}]}


def _table(engine, rows) -> int:
    engine.con.execute(f"CREATE OR REPLACE TABLE t (unique_id VARCHAR, {RID} BIGINT, first_name VARCHAR, "
                       "last_name VARCHAR, a VARCHAR)")
    engine.con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                           [(f"id{i}", 7919 * i + 13, *r) for i, r in enumerate(rows)])
    return len(rows)


def _u(linker) -> dict[tuple[str, str], float | str | None]:
    return {(cc.output_column_name, cl.label_for_charts): cl._u_probability
            for cc in linker._settings_obj.comparisons for cl in cc.comparison_levels if not cl.is_null_level}


def _ours(engine, n, fixed_u=None, **targets):
    from glue_jobs.model import new_linker

    linker = new_linker(engine.splink_api().register("t"), _settings(fixed_u))
    estimate_u(engine, linker, "t", n, **targets)
    return linker


name = st.one_of(st.none(), st.sampled_from(["ann", "anne", "bob", "rob", "smith", "smyth", "lee"]))
tables = st.lists(st.tuples(name, name, st.one_of(st.none(), st.sampled_from("xyz"))), min_size=2, max_size=50)


@settings(max_examples=40, deadline=None)
@given(rows=tables)
def test_every_pair_drawn_gives_splinks_exact_u(rows):
    from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT

    from glue_jobs.model import new_linker

    engine = DuckDBEngine(threads=1)
    n = _table(engine, rows)
    splink = new_linker(engine.splink_api().register("t"), _settings())
    splink.training.estimate_u_using_random_sampling(max_pairs=1e9, num_chunks=1, min_count_per_level=None)
    ours = _u(_ours(engine, n, random_pairs=1e9, stratum_pairs=1e9))
    for level, u in _u(splink).items():
        if u is None:  # no pair outside the null level: nothing to estimate
            continue
        if u == LEVEL_NOT_OBSERVED_TEXT:  # ours: one pair of the sample, as small as a seen level gets
            assert ours[level] <= min(v for v in ours.values() if isinstance(v, float)) + 1e-15, (rows, level)
        else:
            assert ours[level] == pytest.approx(u, rel=1e-9), (rows, level, ours)


def test_fixed_u_is_left_alone():
    engine = DuckDBEngine(threads=1)
    n = _table(engine, [("ann", "lee", "x")] * 3 + [("bob", "lee", "y")] * 3)
    linker = _ours(engine, n, fixed_u=0.123)
    assert _u(linker)[("name", "both")] == 0.123
    assert _u(linker)[("name", "last")] == pytest.approx(9 / 15)  # the fixed level's 6 pairs still count


def _pool_rows(rng: random.Random, n: int) -> list[tuple]:
    first = [f"f{i}" for i in range(40)]
    last = [f"l{i}" for i in range(60)]
    return [(rng.choice(first), rng.choice(last), rng.choice("xyz")) for _ in range(n)]


def test_sampled_estimate_is_unbiased_and_keyed_not_ordered():
    """2,000 records, about 2M pairs: drawn ~1 pair in 20 and ~1 stratum pair in 8, the
    estimates over eight seeds average to the exact u (each weight matters: leaving the
    stratum's weight out is off by 8 times); shuffled rows give the same estimate."""
    rng = random.Random(5)
    rows = _pool_rows(rng, 2000)
    engine = DuckDBEngine(threads=2)
    n = _table(engine, rows)
    exact = _u(_ours(engine, n, random_pairs=1e9, stratum_pairs=1e9))
    pairs, s_pairs = n * (n - 1) / 2, EqualPairs(engine, "t")(("last_name",))[0] + EqualPairs(engine, "t")(
        ("first_name",))[0]
    targets = {"random_pairs": pairs / 20, "stratum_pairs": s_pairs / 8}
    runs = [_u(_ours(engine, n, seed=seed, **targets)) for seed in range(8)]
    for level in (("name", "last"), ("name", "first"), ("name", "last, first one edit"), ("name", "else"),
                  ("a", "equal")):
        mean = sum(r[level] for r in runs) / len(runs)
        assert mean == pytest.approx(exact[level], rel=0.06), (level, [r[level] for r in runs], exact[level])
    # the stratum's levels are drawn ~1 in 8 of their pairs, not ~1 in 20: closer to exact in every draw
    assert max(abs(r[("name", "last")] / exact[("name", "last")] - 1) for r in runs) < 0.05

    engine.con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM t ORDER BY hash(unique_id)")
    assert _u(_ours(engine, n, seed=3, **targets)) == runs[3]


def test_the_name_pair_has_a_stratum():
    # the job's name comparison is named "name" and reads these columns (glue_jobs.model)
    from glue_jobs.model import _name_pair_comparison

    assert _name_pair_comparison()["output_column_name"] in STRATA
    sql = " ".join(lvl["sql_condition"] for lvl in _name_pair_comparison()["comparison_levels"])
    assert all(f"{k}_l" in sql for keys in STRATA["name"] for k in keys)
