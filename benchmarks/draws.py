"""How much the job's figures move with its training draw: one set scored under several draws.

    python -m benchmarks.draws [--sets third_1m,indep_1m] [--draws 3]

The job trains on samples picked by a hash of each record's key (its u pairs and
EM's pairs) and orients each pair by the key: draw 0 is the job as shipped, draw
k > 0 the same job with every key hashed from the id and a salt ``#k``, an
equally valid draw of the same file. The spread of F1 over the draws is the
part of a quality figure that is luck (RESULTS.md, sixth session).
"""
from __future__ import annotations

import argparse
import contextlib

from benchmarks import datasets
from benchmarks.quality import score
from glue_jobs.engines import DuckDBEngine


@contextlib.contextmanager
def draw(k: int):
    """The job with its record keys salted by ``k`` (0: unchanged)."""
    plain = DuckDBEngine.key62
    if k:
        DuckDBEngine.key62 = lambda self, expr: plain(self, f"concat(CAST({expr} AS VARCHAR), '#{k}')")
    try:
        yield
    finally:
        DuckDBEngine.key62 = plain


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="third_1m,indep_1m")
    ap.add_argument("--draws", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"{'dataset':14s} {'draw':>4s} {'precision':>9s} {'recall':>8s} {'F1':>8s} {'secs':>6s}")
    for name in args.sets.split(","):
        path, truth = datasets.generated(name)
        f1s = []
        for k in range(args.draws):
            with draw(k):
                r = score(name, path, truth, datasets.TPCDS_SETTINGS)
            f1s.append(r["f1"])
            print(f"{name:14s} {k:4d} {r['precision']:9.4f} {r['recall']:8.4f} {r['f1']:8.4f} {r['seconds']:6.1f}",
                  flush=True)
        print(f"{name:14s} F1 spread over {args.draws} draws: {max(f1s) - min(f1s):.4f}")


if __name__ == "__main__":
    main()
