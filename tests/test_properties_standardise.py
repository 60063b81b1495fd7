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
from glue_jobs.sample.generate import COLUMNS
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


# letters that compose with a following mark (Latin, Greek, Cyrillic), the marks, and others
_COMPOSABLE = st.text(st.sampled_from(list("aeiouynczsAEIOUNCZSαεοАЕИиеОуЁ ._-@0")
                                      + ["\u0300", "\u0301", "\u0302", "\u0303", "\u0308", "\u030a", "\u030c",
                                         "\u0327", "\u0306", "\u0345", "é", "Ö", "ñ", "ç", "й", "ё", "ά"]),
                      min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(_COMPOSABLE, min_size=len(COLUMNS) - 1, max_size=len(COLUMNS) - 1))
def test_composed_and_decomposed_text_standardise_the_same(texts):
    """A record typed with combining accents ("Jose" + U+0301, NFD: macOS, some exports)
    standardises to what the same record with precomposed letters ("José", NFC) does, in
    every standardised column: the two are one customer to the model. Fails without
    ``Engine.nfc`` (names keep "é" and drop a lone U+0301)."""
    import unicodedata

    from glue_jobs.config import load_config
    from glue_jobs.standardise import create_lookup_tables, standardise_sql
    from tests.dedup_fixtures import SETTINGS

    cfg = load_config(SETTINGS)
    text = dict(zip([c for c in COLUMNS if c != "c_customer_id"], texts))
    rows = [tuple(i if c == "c_customer_id" else unicodedata.normalize(form, text[c]) for c in COLUMNS)
            for i, form in (("1", "NFC"), ("2", "NFD"))]
    ENGINE.create_from_rows("__nfc_raw", COLUMNS, rows)
    create_lookup_tables(ENGINE, cfg)
    composed, decomposed = ENGINE.rows(standardise_sql(ENGINE, cfg, "__nfc_raw") + " ORDER BY unique_id")
    assert composed[1:] == decomposed[1:], (rows, composed, decomposed)
