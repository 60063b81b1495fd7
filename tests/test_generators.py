"""The two customer generators: the development one and the independent held-out judge."""
from __future__ import annotations

import ast

import pandas as pd
import pytest

from benchmarks import heldout_generator as indep
from glue_jobs.sample import generate as dev
from tests.dedup_fixtures import REPO


@pytest.fixture(scope="module", params=["dev", "indep"])
def made(request):
    if request.param == "dev":
        customers, truth = dev.generate(3000, 0.06, 5)
    else:
        customers, truth = indep.generate(3000, 5)
    return request.param, customers.merge(truth, on="c_customer_id")


def test_same_shape_and_a_truth_for_every_record(made):
    _, df = made
    assert list(df.columns[:-1]) == dev.COLUMNS == indep.COLUMNS
    assert df.c_customer_id.is_unique and df.entity_id.notna().all()
    assert 0.05 < 1 - df.entity_id.nunique() / len(df) < 0.15  # duplicate records


def test_logins_and_mailboxes_belong_to_one_person(made):
    """A login, and a mailbox (Gmail ignores dots), never belongs to two people,
    except a couple's shared family address in the held-out set."""
    name, df = made
    login = df.dropna(subset=["c_login"]).assign(k=lambda d: d.c_login.str.lower())
    assert (login.groupby("k").entity_id.nunique() == 1).all()
    mail = df.dropna(subset=["c_email_address"]).assign(k=lambda d: d.c_email_address.map(indep._mailbox))
    shared = (mail.groupby("k").entity_id.nunique() > 1).sum()
    assert shared == 0 if name == "dev" else shared <= 0.01 * df.entity_id.nunique()


def _pairs(df):
    dup = df[df.entity_id.duplicated(keep=False)]
    for _, g in dup.groupby("entity_id"):
        rows = g.to_dict("records")
        yield from ((a, b) for i, a in enumerate(rows) for b in rows[i + 1:])


def test_noise_has_the_issues_patterns(made):
    from glue_jobs.name_variants import related_names

    _, df = made
    related = dict(related_names())
    indep_nicks = {frozenset((a.lower(), n.lower())) for a, ns in indep.NICKNAMES.items() for n in ns}
    low = lambda v: str(v).strip().lower() if pd.notna(v) else None  # noqa: E731
    seen = dict.fromkeys(["nickname", "swapped", "new e-mail, same name", "login added",
                          "date part missing", "date part off by one", "country missing"], 0)
    for a, b in _pairs(df):
        fa, fb, la, lb = low(a["c_first_name"]), low(b["c_first_name"]), low(a["c_last_name"]), low(b["c_last_name"])
        if fa and fb and fa != fb and (f",{fb}," in related.get(fa, "") or frozenset((fa, fb)) in indep_nicks):
            seen["nickname"] += 1
        if fa and lb and (fa == lb or la == fb) and fa != fb:
            seen["swapped"] += 1
        if (fa, la) == (fb, lb) and a["c_email_address"] and b["c_email_address"] and \
                pd.notna(a["c_email_address"]) and pd.notna(b["c_email_address"]) and \
                low(a["c_email_address"]).split("@")[1] != low(b["c_email_address"]).split("@")[1]:
            seen["new e-mail, same name"] += 1
        if pd.isna(a["c_login"]) != pd.isna(b["c_login"]):
            seen["login added"] += 1
        parts = ["c_birth_day", "c_birth_month", "c_birth_year"]
        if sum(pd.isna(a[p]) != pd.isna(b[p]) for p in parts) == 1:
            seen["date part missing"] += 1
        if any(pd.notna(a[p]) and pd.notna(b[p]) and abs(int(a[p]) - int(b[p])) == 1 for p in parts):
            seen["date part off by one"] += 1
        if pd.isna(a["c_birth_country"]) != pd.isna(b["c_birth_country"]):
            seen["country missing"] += 1
    assert all(n >= 3 for n in seen.values()), seen


def test_held_out_generator_is_independent():
    """It must not share code or lists with what it judges."""
    tree = ast.parse((REPO / "benchmarks" / "heldout_generator.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and (m.startswith("glue_jobs") or m.startswith("nicknames")) for m in imported), imported
    assert not set(indep.PROVIDERS) >= set(dev.PROVIDERS)


def test_generators_are_deterministic():
    a, _ = indep.generate(300, 9)
    b, _ = indep.generate(300, 9)
    pd.testing.assert_frame_equal(a, b)
    c, _ = dev.generate(300, 0.06, 9)
    d, _ = dev.generate(300, 0.06, 9)
    pd.testing.assert_frame_equal(c, d)
