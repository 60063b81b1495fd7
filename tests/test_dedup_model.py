"""The model and engine modules: the shape issue 11 asks for, and the model's own behaviour."""
from __future__ import annotations

import ast

import pandas as pd
import pytest

from tests.dedup_fixtures import REPO


def test_only_the_engines_know_their_dialect():
    """SQL differences between DuckDB and Spark are engine methods: no other
    module of the job reads ``.dialect`` or checks an engine's class to choose SQL."""
    offenders = []
    for path in sorted((REPO / "glue_jobs").rglob("*.py")):
        if path.name == "engines.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "dialect":
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
                    and "Engine" in ast.unparse(node.args[1])):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, offenders


# --------------------------------------------------- the issue's recall patterns

def _r(cid, first, last, email, dob, country, login):
    from tests.dedup_fixtures import _rec

    d, m, y = dob if dob else (None, None, None)
    return _rec(cid, first, last, email, d, m, y, country, login)


# (record, expected cluster). Each duplicate has more than the one change named,
# as real ones do; the job before issue 11 (commit e1fee94) split the nick, swap
# and dob pairs (checked by running this file against it).
PATTERNS = [
    # nickname first name, common last name, new e-mail, no login, country missing
    (_r("YY01", "Timothy", "Smith", "tim.aq@example.org", ("4", "5", "1971"), "CANADA", "tsmith-aq"), "nick"),
    (_r("YY02", "Tim", "Smith", "timaq71@mail.example", ("4", "5", "1971"), None, None), "nick"),
    # first and last swapped with a typo in one, other e-mail, no login
    (_r("YY03", "Ottoline", "Vasquez-Brandt", "ovb@example.org", ("17", "2", "1964"), "CHILE", "ovbrandt"), "swap"),
    (_r("YY04", "Vasquezbrant", "Ottoline", "otto.vb@example.net", ("17", "2", "1964"), "CHILE", None), "swap"),
    # e-mail replaced while name, birth date and login agree
    (_r("YY05", "Quentin", "Marchbanks", "qm@example.org", ("9", "9", "1958"), "IRELAND", "qmarchbanks"), "mail"),
    (_r("YY06", "Quentin", "Marchbanks", "quentin.new@example.com", ("9", "9", "1958"), "IRELAND", "qmarchbanks"), "mail"),
    # login changed (digits added) and e-mail replaced
    (_r("YY07", "Philippa", "Oyelaran", "p.oyelaran@example.org", ("22", "6", "1980"), "NIGERIA", "poyelaran"), "login"),
    (_r("YY08", "Philippa", "Oyelaran", "pippa80@example.com", ("22", "6", "1980"), "NIGERIA", "poyelaran80"), "login"),
    # one birth-date part missing, e-mail replaced, no login
    (_r("YY09", "Leopold", "Fairweather", "leo.fw@example.org", ("30", "11", "1947"), "AUSTRIA", None), "dob"),
    (_r("YY10", "Leopold", "Fairweather", "lfw47@example.com", (None, "11", "1947"), "AUSTRIA", None), "dob"),
    # look-alikes that are two people: twins (same last name, birth date, country)
    (_r("YY11", "Cordelia", "Nightingale-Ross", "cordelia.nr@example.org", ("3", "3", "1990"), "GREECE", "cnross"), "twin1"),
    (_r("YY12", "Rosalind", "Nightingale-Ross", "rosalind.nr@example.org", ("3", "3", "1990"), "GREECE", "rnross"), "twin2"),
    # namesakes: logins made unique with a number, e-mails differing in a separator
    (_r("YY13", "Barnaby", "Whitlock", "barnaby.whitlock@example.com", ("1", "8", "1966"), "FRANCE", "bwhitlock"), "ns1"),
    (_r("YY14", "Barnaby", "Whitlock", "barnaby_whitlock@example.com", ("14", "2", "1979"), "FRANCE", "bwhitlock1"), "ns2"),
    # a typo in both names (no name agrees: found only by blocking on the initials)
    (_r("YY15", "Karolina", "Allenby", "karolina.a@example.org", ("12", "10", "1983"), "POLAND", None), "typo2"),
    (_r("YY16", "Karolna", "Alenby", "k.allenby83@example.com", ("12", "10", "1983"), "POLAND", None), "typo2"),
    # spouses sharing a family address, other birth dates
    (_r("YY17", "Hermione", "Castellano", "castellano.family@example.org", ("2", "4", "1960"), "ITALY", None), "sp1"),
    (_r("YY18", "Lorenzo", "Castellano", "castellano.family@example.org", ("19", "9", "1957"), "ITALY", None), "sp2"),
    # namesakes in a small country whose user names are their names, at two providers
    (_r("YY19", "Ingrid", "Solberg", "ingridsolberg@example.com", ("5", "7", "1971"), "NORWAY", None), "nm1"),
    (_r("YY20", "Ingrid", "Solberg", "ingrid.solberg@example.net", ("23", "1", "1985"), "NORWAY", None), "nm2"),
]


@pytest.fixture(scope="module")
def pattern_matches():
    from glue_jobs.config import load_config
    from glue_jobs.engines import DuckDBEngine
    from glue_jobs.pipeline import deduplicate
    from glue_jobs.sample.generate import COLUMNS, generate
    from tests.dedup_fixtures import SETTINGS

    bg, _ = generate(600, dup_rate=0.06, seed=11)
    df = pd.concat([bg, pd.DataFrame([r for r, _ in PATTERNS], columns=COLUMNS)], ignore_index=True)
    engine = DuckDBEngine()
    engine.con.register("patterns_df", df.astype("string"))
    engine.con.execute("CREATE TABLE input_raw AS SELECT * FROM patterns_df")
    res = deduplicate(engine, load_config(SETTINGS), "input_raw")
    return dict(engine.con.execute(f"SELECT c_customer_id, match_id FROM {res.matches_table}").fetchall())


@pytest.mark.parametrize("label", ["nick", "swap", "mail", "login", "dob", "typo2"])
def test_the_issues_duplicate_patterns_are_found(pattern_matches, label):
    ids = [r["c_customer_id"] for r, lab in PATTERNS if lab == label]
    assert len({pattern_matches[i] for i in ids}) == 1, [(i, pattern_matches[i]) for i in ids]


def test_look_alikes_stay_apart(pattern_matches):
    for a, b in (("YY11", "YY12"), ("YY13", "YY14"), ("YY17", "YY18"), ("YY19", "YY20")):
        assert pattern_matches[a] != pattern_matches[b], (a, b)
    got = {pattern_matches[r["c_customer_id"]] for r, _ in PATTERNS}
    assert len(got) == len(set(lab for _, lab in PATTERNS))  # and no pattern pulled into another


def test_nickname_table_relates_both_ways():
    from glue_jobs.name_variants import related_names

    rel = dict(related_names())
    for a, b in (("tim", "timothy"), ("kim", "kimberly"), ("bill", "william")):
        assert f",{b}," in rel[a] and f",{a}," in rel[b]
    assert ",alexander," not in rel["albert"]  # one step, no chains through "al"
    assert all(k.isalpha() and k == k.lower() for k in rel)


def test_no_single_disagreement_is_a_veto():
    """EM can learn m(else) ~ 1e-6 for a field that never changed in training;
    the floor keeps each comparison's m summing to 1 with else at 1 %."""
    from glue_jobs.training import MIN_DISAGREEMENT_M, floor_disagreement_m

    class Level:
        def __init__(self, m, else_=False, null=False):
            self.m_probability, self._is_else_level, self.is_null_level = m, else_, null

    class Comparison:
        def __init__(self, levels):
            self.comparison_levels = levels

    c = Comparison([Level(None, null=True), Level(0.9), Level(0.099999), Level(1e-6, else_=True)])
    floor_disagreement_m([c])
    ms = [lv.m_probability for lv in c.comparison_levels[1:]]
    assert ms[-1] == MIN_DISAGREEMENT_M and abs(sum(ms) - 1) < 1e-9 and ms[0] > ms[1]
    ok = Comparison([Level(0.8), Level(0.2, else_=True)])
    floor_disagreement_m([ok])
    assert [lv.m_probability for lv in ok.comparison_levels] == [0.8, 0.2]


def test_swapped_names_u_is_counted_exactly():
    """u of "first and last swapped" (Splink's sample rarely sees one): the SQL
    count equals a brute-force count over every ordered pair."""
    import itertools

    import duckdb

    from glue_jobs.training import swapped_names_u_sql

    names = [("ann", "lee"), ("lee", "ann"), ("lee", "ann"), ("bo", "bo"), ("bo", "bo"), ("kim", "park"),
             ("park", "kim"), (None, "lee"), ("ann", None), ("ann", "lee")]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (first_name VARCHAR, last_name VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", names)
    same, total = con.execute(swapped_names_u_sql("t")).fetchone()
    full = [n for n in names if None not in n]
    brute = sum(1 for (a, b) in itertools.permutations(range(len(full)), 2)
                if full[a][0] == full[b][1] and full[a][1] == full[b][0])
    assert (same, total) == (brute, len(full))
