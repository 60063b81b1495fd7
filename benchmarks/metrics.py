"""Pairwise precision / recall / F1 of a clustering against the truth.

Pairs implied by the clusters (every two records sharing a match_id) against
the true pairs (every two records of the same entity). Computed from cluster
sizes, without listing pairs, so it is cheap at 1M records.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(sizes: pd.Series) -> int:
    s = sizes.astype("int64")
    return int((s * (s - 1) // 2).sum())


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> PairScores:
    """``predicted`` and ``truth``: cluster labels of the same records (aligned index)."""
    df = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    if df.isna().any().any():
        raise ValueError("every record needs a predicted and a true cluster")
    return PairScores(
        true_pairs=_pairs(df.groupby("t").size()),
        predicted_pairs=_pairs(df.groupby("p").size()),
        true_positives=_pairs(df.groupby(["p", "t"]).size()),
    )
