"""First names that stand for one another: Tim / Timothy, Kim / Kimberly, Bill / William.

From the ``nicknames`` package (PyPI, Apache-2.0; Carlton Northern's hand-curated
list of English given names and their nicknames, about 2,700 pairs), pinned in
requirements-job.txt and installed on Glue through ``--additional-python-modules``.
Two names are related when the list pairs them, in either direction ("bill" is a
nickname of "william"): one step, not chains, so "al" relates to "albert" and
"alexander" but "albert" does not relate to "alexander".

Names are standardised as the job standardises a ``name`` field: lower case,
letters only.
"""
from __future__ import annotations

import re

_NOT_LETTERS = re.compile(r"[^\w]|[\d_]")


def _std(name: str) -> str:
    return _NOT_LETTERS.sub("", name.lower())


def related_names() -> list[tuple[str, str]]:
    """(name, ",other,names,") for every name the list knows, for an instr() test in SQL."""
    from nicknames import name_triplets

    related: dict[str, set[str]] = {}
    for t in name_triplets():
        a, b = _std(t.name1), _std(t.name2)
        if a and b and a != b:
            related.setdefault(a, set()).add(b)
            related.setdefault(b, set()).add(a)
    return [(name, "," + ",".join(sorted(others)) + ",") for name, others in sorted(related.items())]
