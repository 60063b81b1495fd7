"""Pairwise precision / recall / F1 of a clustering against labels: ``--labels FILE``.

The one implementation: the job's ``--labels`` and ``benchmarks/`` both call
``pairwise_scores``. Pairs implied by the clusters (every two records sharing a
``match_id``) are compared with the true pairs (every two records with the same
label). Computed from cluster sizes, without listing pairs, so it is cheap at 1M
records.

A labels file is a CSV with a header: the record id in the first column (or the
settings' ``id_column`` if present), the true cluster in the second. Only the
labelled records are scored (a team labels a sample); every labelled id must be
in the output, once.
"""
from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: a run without --labels never loads pandas (0.6 s)
    import pandas as pd


class LabelsError(ValueError):
    """The labels file is unusable; the message names the file, line and column."""


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    records: int = 0

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

    def as_dict(self) -> dict:
        return {**asdict(self), "precision": round(self.precision, 6), "recall": round(self.recall, 6),
                "f1": round(self.f1, 6)}

    def lines(self) -> list[str]:
        return [f"labelled records:   {self.records}",
                f"pairs true / found: {self.true_pairs} / {self.predicted_pairs} ({self.true_positives} correct)",
                f"precision:          {self.precision:.4f}",
                f"recall:             {self.recall:.4f}",
                f"F1:                 {self.f1:.4f}"]


def _pairs(sizes: pd.Series) -> int:
    s = sizes.astype("int64")
    return int((s * (s - 1) // 2).sum())


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> PairScores:
    """``predicted`` and ``truth``: cluster labels of the same records (aligned by position)."""
    import pandas as pd

    df = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    if df.isna().any().any():
        raise ValueError("every record needs a predicted and a true cluster")
    return PairScores(
        true_pairs=_pairs(df.groupby("t").size()),
        predicted_pairs=_pairs(df.groupby("p").size()),
        true_positives=_pairs(df.groupby(["p", "t"]).size()),
        records=len(df),
    )


def load_labels(path: Path, id_column: str | None = None) -> pd.DataFrame:
    """Read a labels CSV into a frame ``(id, label)`` of strings; refuse what can't be scored."""
    import pandas as pd

    source = str(path)
    if not path.is_file():
        raise LabelsError(f"{source}: labels file not found")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as e:
        raise LabelsError(f"{source}: not UTF-8 ({e.reason} at byte {e.start}); save it as UTF-8") from None
    if not rows or len(rows[0]) < 2:
        raise LabelsError(f"{source}: line 1 must be a header with two columns: record id, true cluster")
    header = rows[0]
    id_col = header.index(id_column) if id_column in header else 0
    label_col = 1 if id_col == 0 else 0
    ids, labels, seen = [], [], {}
    for n, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise LabelsError(f"{source}: line {n} has {len(row)} fields, the header {len(header)}")
        rid, lab = row[id_col].strip(), row[label_col].strip()
        if not rid:
            raise LabelsError(f"{source}: line {n}, column {id_col + 1} ({header[id_col]}): empty record id")
        if not lab:
            raise LabelsError(f"{source}: line {n}, column {label_col + 1} ({header[label_col]}): empty cluster")
        if rid in seen:
            raise LabelsError(f"{source}: line {n}: record id {rid!r} already labelled on line {seen[rid]}")
        seen[rid] = n
        ids.append(rid)
        labels.append(lab)
    if not ids:
        raise LabelsError(f"{source}: no labelled records after the header")
    return pd.DataFrame({"id": ids, "label": labels})


def score_labels(matches: pd.DataFrame, labels: pd.DataFrame, source: str = "labels") -> PairScores:
    """Score ``matches`` (columns ``id``, ``match_id``) on the labelled records."""
    d = labels.merge(matches, on="id", how="left")
    missing = d[d["match_id"].isna()]["id"].tolist()
    if missing:
        raise LabelsError(f"{source}: {len(missing)} labelled record id(s) are not in the output, "
                          f"first: {missing[:5]}; label records of the file that was deduplicated")
    return pairwise_scores(d["match_id"], d["label"])
