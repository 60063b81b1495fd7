"""Throughput and peak memory of the job at 10k, 100k and 1M records (DuckDB), against bare Splink.

    python -m benchmarks.speed [--sizes 10k,100k,1m] [--repeat 1]

Each run is a fresh process (``python -m glue_jobs.dedup``), timed end to end
(interpreter start, imports, checks, read, model, survivors, writing CSVs);
peak memory is that process's maximum resident set size (``wait4``). The job
and bare Splink run in pairs, one straight after the other (the machine's speed
drifts within minutes); ``job/bare`` is the median of the pairs' ratios, next to
the best time of each.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks import datasets


def _measure(cmd: list[str]) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=datasets.REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed")
    return secs, usage.ru_maxrss / 1024 / 1024  # GiB (ru_maxrss is KiB on Linux)


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10k,100k,1m")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the best is reported")
    a = ap.parse_args(argv)
    print(f"{'size':<6}{'records':>9}{'job s':>8}{'rec/s':>10}{'peak GiB':>10}{'bare s':>8}"
          f"{'bare GiB':>10}{'job/bare':>10}")
    rows = []
    for size in a.sizes.split(","):
        path, _ = datasets.generated(f"gen_{size}")  # development sets: timing only
        records = sum(1 for _ in path.open("rb")) - 1
        job, bare = [], []
        for _ in range(a.repeat):
            with tempfile.TemporaryDirectory() as out:
                job.append(_measure([sys.executable, "-m", "glue_jobs.dedup", str(path), "--output", out]))
            bare.append(_measure([sys.executable, "-m", "benchmarks.bare_splink", str(path)]))
        (js, jm), (bs, bm) = min(job), min(bare)
        ratios = [j[0] / b[0] for j, b in zip(job, bare)]
        ratio = statistics.median(ratios)
        rows.append({"size": size, "records": records, "job_s": js, "job_gib": jm, "bare_s": bs, "bare_gib": bm,
                     "ratio": ratio, "pair_ratios": ratios})
        print(f"{size:<6}{records:>9}{js:>8.1f}{records / js:>10.0f}{jm:>10.2f}{bs:>8.1f}{bm:>10.2f}"
              f"{ratio:>10.2f}  pairs: {' '.join(f'{r:.2f}' for r in ratios)}", flush=True)
    return rows


if __name__ == "__main__":
    main()
