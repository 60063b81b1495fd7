"""Property: the standardising shortcuts give the value the plain expression gives.

``_replace_where_present`` runs a regular expression only on values holding the
one character it needs; on any string (unicode, newlines, the character at
either end, repeated, NULL) the result must be the plain ``regexp_replace``'s.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_jobs.engines import DuckDBEngine
from glue_jobs.standardise import ANY, END, _replace_where_present

ENGINE = DuckDBEngine(threads=1)
# the characters the patterns look at, and others around them
values = st.one_of(st.none(), st.text(st.sampled_from(list("+.0 7aZé@\n\t_-")) | st.characters(exclude_categories=("Cs",)),
                                       max_size=12))


@pytest.mark.parametrize("char,pattern", [("+", rf"\+{ANY}*{END}"), (".", rf"\.0*{END}")])
@settings(max_examples=300, deadline=None)
@given(value=values)
def test_guarded_replace_equals_the_plain_replace(char, pattern, value):
    guarded = _replace_where_present(ENGINE, "v", char, pattern, "")
    plain = ENGINE.regexp_replace_all("v", pattern, "")
    got = ENGINE.con.execute(f"SELECT {guarded}, {plain} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchone()
    assert got[0] == got[1], (value, got)
