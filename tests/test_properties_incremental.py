"""Property: an incremental run over awkward column names loses no customer (issue 11, after issue 10).

The replace path works on generated column names (``__in_N``, glue_jobs/pipeline.py);
the incremental path must too. Each example publishes a file with 1-3 extra
columns of awkward names (SQL words, names the job's SQL uses, quotes, spaces,
unicode), then adds a batch with the same columns in another order
(``glue_jobs.dedup.main --incremental``, DuckDB + Splink), and holds the run to:

- exit 0 or 2, never a traceback;
- exit 0: every record of both files in ``matches/`` as it came in (in the
  published column order), one survivor per ``match_id``, published
  ``match_id``s unchanged (``assert_no_customer_lost`` over both files);
- exit 2: only for a header the replace path refuses too, and the published
  output byte for byte.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from glue_jobs.dedup import main
from tests.dedup_fixtures import assert_no_customer_lost, tree_digest
from tests.test_properties_dedup import BASE, HEADER, RUNS, _write, column_names

ID = "c_customer_id"
# names the job's own SQL uses on either path (survivor helpers, generated names, internal columns)
JOB_NAMES = ["__dedup_size", "__dedup_rank", "__dedup_filled", "__dedup_best", "__in_0", "__in_1", "__incr_match_id", "__incr_conf", "unique_id"]
names = st.one_of(st.sampled_from(JOB_NAMES), column_names)


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main([*argv, "--threads", "2"])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err
    return code, err


@RUNS
@given(extra=st.lists(names, min_size=1, max_size=3), order=st.randoms(use_true_random=False),
       values=st.sampled_from(["v", "", "1", "same", "rn"]))
@example(extra=["__dedup_size"], order=None, values="v").via("a name the survivor SQL uses: refused only "
                                                             "on the incremental path before the renaming")
@example(extra=["unique_id"], order=None, values="1").via("the standardised id column's name")
def test_incremental_runs_with_any_extra_columns_lose_no_customer(extra, order, values, capsys):
    header = HEADER + extra
    rows = [r + [f"{values}{i % 3}" if values else "" for _ in extra] for i, r in enumerate(BASE)]
    base_rows, batch_rows = rows[:20], rows[20:]
    columns = list(range(len(header)))
    if order is not None:
        order.shuffle(columns)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = _write(work / "base.csv", header, base_rows)
        # the batch: the same columns, in another order
        batch = _write(work / "batch.csv", [header[i] for i in columns], [[r[i] for i in columns] for r in batch_rows])
        out = work / "out"
        code, err = _run([str(base), "--output", str(out)], capsys)
        if code == 2:  # a header the job refuses on any path (duplicate, empty, match_id): nothing to add to
            names = [h.strip() for h in header]
            assert ("match_id" in err.casefold() and "match_id" in {h.casefold() for h in names}) or \
                "duplicate header column" in err or "has no name" in err, err
            return
        first = assert_no_customer_lost(base, out)
        before = tree_digest(out)
        code, err = _run([str(batch), "--output", str(out), "--incremental"], capsys)
        assert code == 0, err  # the replace run accepted these columns: so must the incremental one
        assert not (out / "_staging").exists()
        both = _write(work / "both.csv", header, base_rows + batch_rows)  # in the published column order
        after = assert_no_customer_lost(both, out, name="batch")
        assert {k: after[k] for k in first} == first, "published match_ids never change"
        assert after[BASE[24][HEADER.index(ID)]] == after[BASE[0][HEADER.index(ID)]], "the duplicate joined"
        assert tree_digest(out) != before
