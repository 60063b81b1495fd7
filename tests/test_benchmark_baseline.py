"""The speed baseline (``benchmarks/bare_splink.py``) runs the job's model step and
finds the job's clusters: a ratio against a baseline that fails, or that does
other work, would mean nothing."""
from __future__ import annotations

from benchmarks import bare_splink
from glue_jobs.dedup import run
from tests.dedup_fixtures import REPO

SAMPLE = REPO / "glue_jobs" / "sample" / "customers.csv"


def test_bare_splink_finds_the_jobs_clusters(tmp_path, capsys):
    bare_splink.main([str(SAMPLE)])
    printed = capsys.readouterr().out
    job = run(SAMPLE, tmp_path / "out", REPO / "glue_jobs" / "settings" / "tpcds_customer.json", quiet=True)
    assert f"{job.records_in} records -> {job.clusters} clusters" in printed, printed
