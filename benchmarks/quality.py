"""Pairwise precision, recall and F1 of the job on the sample, generated sets and FEBRL2/3.

    python -m benchmarks.quality [--sizes 10k,100k,1m,10k_holdout,100k_holdout] [--skip-febrl]

Unsupervised: the truth is used only to score the output. The job runs exactly
as the local command does (DuckDB), with the dataset's settings file.
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
    ap.add_argument("--sizes", default="10k,100k,1m,10k_holdout,100k_holdout")
    ap.add_argument("--skip-febrl", action="store_true")
    a = ap.parse_args(argv)
    sizes = [s for s in a.sizes.split(",") if s]
    known = sorted(name.removeprefix("gen_") for name in datasets.GENERATED)
    unknown = [s for s in sizes if f"gen_{s}" not in datasets.GENERATED]
    if unknown:
        ap.error(f"--sizes: {', '.join(unknown)} not among the generated sets ({', '.join(known)})")
    jobs = [("sample (535)", *datasets.sample(), datasets.TPCDS_SETTINGS)]
    for size in sizes:
        jobs.append((f"generated {size}", *datasets.generated(f"gen_{size}"), datasets.TPCDS_SETTINGS))
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
