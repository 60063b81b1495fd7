"""The speed baseline (``benchmarks/bare_splink.py``) runs the job's model step and
finds the job's clusters: a ratio against a baseline that fails, or that does
other work, would mean nothing."""
from __future__ import annotations

import pandas as pd

from benchmarks import bare_splink
from glue_jobs.dedup import run
from tests.dedup_fixtures import REPO

SAMPLE = REPO / "glue_jobs" / "sample" / "customers.csv"


def test_bare_splink_finds_the_jobs_clusters(tmp_path, capsys):
    bare_splink.main([str(SAMPLE)])
    printed = capsys.readouterr().out
    job = run(SAMPLE, tmp_path / "out", REPO / "glue_jobs" / "settings" / "tpcds_customer.json", quiet=True)
    assert f"{job.records_in} records -> {job.clusters} clusters" in printed, printed


def test_a_draw_changes_the_keys_and_not_a_file_whose_training_samples_are_whole(tmp_path):
    """``benchmarks/draws.py`` salts the record keys: on the sample (every pair is in the u
    sample, EM reads every blocked pair) another draw must give the same clusters, and
    the keys must be other keys (or the spread it reports would be no spread at all)."""
    from benchmarks.draws import draw
    from glue_jobs.engines import DuckDBEngine

    settings = REPO / "glue_jobs" / "settings" / "tpcds_customer.json"
    key = lambda: DuckDBEngine().scalar(f"SELECT {DuckDBEngine().key62(chr(39) + 'AAAA' + chr(39))}")  # noqa: E731
    plain = key()
    with draw(2):
        assert key() != plain
        salted = run(SAMPLE, tmp_path / "salted", settings, quiet=True)
    assert key() == plain  # and put back
    job = run(SAMPLE, tmp_path / "plain", settings, quiet=True)
    def clusters(out):
        m = pd.read_csv(out / "matches" / "customers.csv", dtype=str)
        return dict(zip(m["c_customer_id"], m["match_id"]))

    assert clusters(tmp_path / "salted") == clusters(tmp_path / "plain")
    assert (salted.clusters, salted.duplicates_removed) == (job.clusters, job.duplicates_removed) == (500, 35)
