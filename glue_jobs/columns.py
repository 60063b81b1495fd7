"""The input's column names kept away from the job's SQL: generated names in, the input's names out.

Whatever a file's columns are called (SQL words, names the job's SQL uses such
as ``rn``, ``n`` or ``__dedup_size``, quotes, spaces, unicode), the SQL of both
paths (a full run, ``glue_jobs/pipeline.py``, and an incremental one,
``glue_jobs/incremental.py``) works on ``__in_0``, ``__in_1``, ... in the order
of the columns, and only the output views give the input's names back.
"""
from __future__ import annotations

PREFIX = "__in_"


def generated_names(columns: list[str]) -> dict[str, str]:
    """Input name -> generated name (``__in_<position>``)."""
    return {c: f"{PREFIX}{i}" for i, c in enumerate(columns)}


def renamed_view(engine, table: str, view: str, internal: dict[str, str], keep: tuple[str, ...] = ()) -> None:
    """``view``: ``table``'s columns under their generated names, then the ``keep`` columns as they are."""
    cols = [f"{engine.quote(c)} AS {i}" for c, i in internal.items()] + [engine.quote(k) for k in keep]
    engine.view(view, f"SELECT {', '.join(cols)} FROM {table}")


def original_names(engine, internal: dict[str, str]) -> str:
    """The select list that gives generated columns their input names back."""
    return ", ".join(f"{i} AS {engine.quote(c)}" for c, i in internal.items())
