"""Pairwise precision, recall and F1 of the job on the sample, generated sets and FEBRL2/3.

    python -m benchmarks.quality [--sets gen_10k,gen_100k,...] [--dev-only | --held-out-only]
                                 [--skip-febrl] [--skip-sample]

Sets are the names in ``benchmarks/datasets.py`` (GENERATED); the default is
every development set (the sample, then the generated ones, then FEBRL2/3),
then every held-out set. Each row says its role: development, held out (new
seed) or held out (third generator, new seed). ``--dev-only`` scores the development sets
alone (what to run while tuning); ``--held-out-only`` the held-out ones alone
(run once, on a frozen model). Unsupervised: the truth is used only to score
the output. The job runs exactly as the local command does (DuckDB), with the
dataset's settings file.
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

DEFAULT_SETS = [*datasets.DEVELOPMENT, *sorted(datasets.HELD_OUT, key=list(datasets.GENERATED).index)]


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


def plan(argv=None) -> list[tuple[str, str]]:
    """(set, role) per set to score, development sets first: "sample", "febrl2", "febrl3"
    or a name in GENERATED. Nothing is generated or read here."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.quality")
    ap.add_argument("--sets", default=None, help="comma-separated names (default: all, by role)")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--dev-only", action="store_true", help="development sets only")
    only.add_argument("--held-out-only", action="store_true", help="held-out sets only")
    ap.add_argument("--skip-febrl", action="store_true")
    ap.add_argument("--skip-sample", action="store_true")
    a = ap.parse_args(argv)
    sets = [s for s in (a.sets or ",".join(DEFAULT_SETS)).split(",") if s]
    unknown = [s for s in sets if s not in datasets.GENERATED]
    if unknown:
        ap.error(f"--sets: {', '.join(unknown)} not among the generated sets ({', '.join(datasets.GENERATED)})")
    if a.dev_only:
        sets = [s for s in sets if s not in datasets.HELD_OUT]
    if a.held_out_only:
        sets = [s for s in sets if s in datasets.HELD_OUT]
    if not sets and a.sets:
        ap.error(f"--sets: none of {a.sets} is {'a development' if a.dev_only else 'a held-out'} set")
    dev_extra = not a.held_out_only
    dev = [s for s in sets if s not in datasets.HELD_OUT]
    held = [s for s in sets if s in datasets.HELD_OUT]
    return [(s, "development") for s in (
        (["sample"] if dev_extra and not a.skip_sample else []) + dev
        + (["febrl2", "febrl3"] if dev_extra and not a.skip_febrl else []))] + \
        [(s, datasets.role(s)) for s in held]


def _files(name: str) -> tuple[str, Path, Path, Path]:
    """label, data, truth and settings of one set (generated and cached when missing)."""
    if name == "sample":
        return "sample (535)", *datasets.sample(), datasets.TPCDS_SETTINGS
    if name in ("febrl2", "febrl3"):
        return name.upper(), *datasets.febrl(name), datasets.FEBRL_SETTINGS
    return name, *datasets.generated(name), datasets.TPCDS_SETTINGS


def main(argv=None) -> list[dict]:
    jobs = plan(argv)
    rows = []
    print(f"{'dataset':<20}{'role':<38}{'records':>9}{'true pairs':>12}{'pred pairs':>12}"
          f"{'precision':>11}{'recall':>9}{'F1':>8}{'prior':>11}{'secs':>7}")
    for name, role in jobs:
        r = {**score(*_files(name)), "role": role}
        rows.append(r)
        print(f"{r['dataset']:<20}{role:<38}{r['records']:>9}{r['true_pairs']:>12}{r['predicted_pairs']:>12}"
              f"{r['precision']:>11.4f}{r['recall']:>9.4f}{r['f1']:>8.4f}{r['prior']:>11.3g}{r['seconds']:>7.1f}",
              flush=True)
    return rows


if __name__ == "__main__":
    main()
