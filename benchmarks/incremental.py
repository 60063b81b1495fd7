"""An incremental run of a 10 % batch against a full run on all records (DuckDB, local command).

    python -m benchmarks.incremental [--sizes 100k,1m] [--batch 0.1] [--repeat 1]

For each generated set: a random 10 % of the records (fixed seed) is the new
batch, the rest the published base. Timed end to end, each a fresh process
(``python -m glue_jobs.dedup``):

- full: all records, nothing published, in incremental mode (``--incremental``
  on an empty folder): the full run a team in incremental mode makes, which also
  keeps the standardised cache that later incremental runs read;
- replace: all records, a replace run (no ``--incremental``: no cache kept), the
  cheapest way to publish all records, printed as a second ratio;
- incremental: the batch with ``--incremental`` against a copy of what a full
  run of the base in incremental mode published (made once first, timed apart
  as ``base s``).

The machine is shared and its speed drifts by a quarter within minutes (the
same full run: 13.9 s at one moment, 18.3 s at another), so the three runs are
timed one straight after the other, ``--repeat`` times; the ratios printed are
the medians of each repetition's ratios (``incr/full``, ``incr/replace``), next
to the best time of each. The CPU time of each process (user + system,
``wait4``) and the machine's load (``os.getloadavg``) are printed too. The full
and the incremental run are then scored against the truth with the job's own
``--labels`` code (``glue_jobs.evaluate``), outside the timed runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks import datasets


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _run(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process: user + system, from wait4)."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "glue_jobs.dedup", *args], cwd=datasets.REPO,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise RuntimeError(f"{args} failed: {err.read()[-2000:].decode(errors='replace')}")
    return secs, usage.ru_utime + usage.ru_stime


def split(name: str, fraction: float, seed: int = 11) -> tuple[Path, Path, Path, Path]:
    """(all, base, batch, truth) CSVs for a generated set; the batch is a random ``fraction``."""
    path, truth = datasets.generated(name)
    base = datasets.DATA / f"{name}_base{int(fraction * 100)}.csv"
    batch = datasets.DATA / f"{name}_batch{int(fraction * 100)}.csv"
    if not (base.exists() and batch.exists()):
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        new = df.sample(frac=fraction, random_state=seed)
        df.drop(new.index).to_csv(base, index=False)
        new.to_csv(batch, index=False)
    return path, base, batch, truth


def _f1(out: Path, truth: Path) -> float:
    from glue_jobs.evaluate import load_labels, score_labels

    (matches,) = (out / "matches").glob("*.csv")
    labels = load_labels(truth, "c_customer_id")
    m = pd.read_csv(matches, dtype=str, usecols=["c_customer_id", "match_id"]).rename(columns={"c_customer_id": "id"})
    return score_labels(m, labels, str(truth)).f1


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100k,1m")
    ap.add_argument("--batch", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=3, help="(full, incremental) pairs per size")
    a = ap.parse_args(argv)
    print(f"{'size':<6}{'records':>9}{'batch':>8}{'full s':>8}{'repl s':>8}{'incr s':>8}{'incr/full':>10}"
          f"{'incr/repl':>10}{'full cpu':>9}{'incr cpu':>9}{'cpu ratio':>10}"
          f"{'base s':>8}{'F1 full':>9}{'F1 incr':>9}  incr/full of each repetition; load 1/5/15 min before each")
    rows = []
    for size in a.sizes.split(","):
        path, base, batch, truth = split(f"gen_{size}", a.batch)
        n_all = sum(1 for _ in path.open("rb")) - 1
        n_batch = sum(1 for _ in batch.open("rb")) - 1
        fulls, replaces, incrs, loads = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            published = Path(tmp) / "published"
            base_s = _run([str(base), "--output", str(published), "--incremental"])[0]
            for i in range(a.repeat):
                full_out, repl_out, incr_out = (Path(tmp) / f"{k}{i}" for k in ("full", "replace", "incr"))
                shutil.copytree(published, incr_out)  # a copy: each incremental run adds to the same base
                loads.append(_load())
                fulls.append(_run([str(path), "--output", str(full_out), "--incremental"]))
                incrs.append(_run([str(batch), "--output", str(incr_out), "--incremental"]))
                replaces.append(_run([str(path), "--output", str(repl_out)]))
                if i == 0:
                    f1_full, f1_incr = _f1(full_out, truth), _f1(incr_out, truth)
                for out in (full_out, repl_out, incr_out):
                    shutil.rmtree(out)
        ratios = [i[0] / f[0] for f, i in zip(fulls, incrs)]
        repl_ratio = statistics.median(i[0] / r[0] for r, i in zip(replaces, incrs))
        cpu_ratios = [i[1] / f[1] for f, i in zip(fulls, incrs)]
        (full, full_cpu), (incr, incr_cpu), (repl, _) = min(fulls), min(incrs), min(replaces)
        ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
        row = {"size": size, "records": n_all, "batch": n_batch, "full_s": full, "replace_s": repl,
               "incremental_s": incr, "ratio": ratio, "ratio_to_replace": repl_ratio, "pair_ratios": ratios,
               "full_cpu_s": full_cpu, "incremental_cpu_s": incr_cpu,
               "cpu_ratio": cpu_ratio, "base_s": base_s, "f1_full": f1_full,
               "f1_incremental": f1_incr, "load": loads}
        rows.append(row)
        print(f"{size:<6}{n_all:>9}{n_batch:>8}{full:>8.1f}{repl:>8.1f}{incr:>8.1f}{ratio:>10.2f}{repl_ratio:>10.2f}"
              f"{full_cpu:>9.1f}{incr_cpu:>9.1f}{cpu_ratio:>10.2f}{base_s:>8.1f}"
              f"{f1_full:>9.4f}{f1_incr:>9.4f}  {' '.join(f'{r:.2f}' for r in ratios)}; {'; '.join(loads)}",
              flush=True)
    return rows


if __name__ == "__main__":
    main()
