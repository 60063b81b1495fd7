"""Pairwise precision, recall and F1 of the job on the sample, generated sets and FEBRL2/3.

    python -m benchmarks.quality [--sets gen_10k,gen_100k,...] [--skip-febrl]

Sets are the names in ``benchmarks/datasets.py`` (GENERATED); the default is
every development set, then every held-out set. Unsupervised: the truth is used
only to score the output. The job runs exactly as the local command does
(DuckDB), with the dataset's settings file.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks import datasets
from benchmarks.metrics import pairwise_scores
from glue_jobs.dedup import run

DEFAULT_SETS = ["gen_10k", "gen_100k", "gen_1m", "gen_100k_holdout", "gen_1m_holdout",
                "indep_10k", "indep_100k", "indep_1m"]


def score(name: str, path: Path, truth: Path, settings: Path) -> dict:
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        res = run(path, Path(out), settings, quiet=True)
        secs = time.perf_counter() - t
        t_df = pd.read_csv(truth, dtype=str)
        idc, ent = t_df.columns[0], t_df.columns[1]
        m = pd.read_csv(Path(out) / "matches" / f"{path.stem}.csv", dtype=str, usecols=[idc, "match_id"])
    d = m.merge(t_df, on=idc, how="inner")
    assert len(d) == len(t_df) == res.records_in, "every record must come back once"
    s = pairwise_scores(d["match_id"], d[ent])
    return {"dataset": name, "records": res.records_in, "true_pairs": s.true_pairs,
            "predicted_pairs": s.predicted_pairs, "precision": s.precision, "recall": s.recall,
            "f1": s.f1, "prior": res.model.prior, "seconds": secs,
            "untrained": [w for w in res.model.warnings if "not fully trained" in w or "default" in w]}


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS))
    ap.add_argument("--skip-febrl", action="store_true")
    ap.add_argument("--skip-sample", action="store_true")
    a = ap.parse_args(argv)
    sets = [s for s in a.sets.split(",") if s]
    unknown = [s for s in sets if s not in datasets.GENERATED]
    if unknown:
        ap.error(f"--sets: {', '.join(unknown)} not among the generated sets ({', '.join(datasets.GENERATED)})")
    jobs = [] if a.skip_sample else [("sample (535)", *datasets.sample(), datasets.TPCDS_SETTINGS)]
    for name in sets:
        label = f"{name} (held out)" if name in datasets.HELD_OUT else name
        jobs.append((label, *datasets.generated(name), datasets.TPCDS_SETTINGS))
    if not a.skip_febrl:
        for which in ("febrl2", "febrl3"):
            jobs.append((which.upper(), *datasets.febrl(which), datasets.FEBRL_SETTINGS))
    rows = []
    print(f"{'dataset':<26}{'records':>9}{'true pairs':>12}{'pred pairs':>12}"
          f"{'precision':>11}{'recall':>9}{'F1':>8}{'prior':>11}{'secs':>7}")
    for name, path, truth, settings in jobs:
        r = score(name, path, truth, settings)
        rows.append(r)
        print(f"{r['dataset']:<26}{r['records']:>9}{r['true_pairs']:>12}{r['predicted_pairs']:>12}"
              f"{r['precision']:>11.4f}{r['recall']:>9.4f}{r['f1']:>8.4f}{r['prior']:>11.3g}{r['seconds']:>7.1f}",
              flush=True)
    return rows


if __name__ == "__main__":
    main()
