"""Pairwise precision / recall / F1: the job's own implementation (``glue_jobs.evaluate``).

Re-exported here so that the benchmarks and the job's ``--labels`` share one
piece of code.
"""
from glue_jobs.evaluate import PairScores, pairwise_scores

__all__ = ["PairScores", "pairwise_scores"]
