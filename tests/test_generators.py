"""The two customer generators: the development one and the independent held-out judge."""
from __future__ import annotations

import ast
import re

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


# --- the third generator (benchmarks/third_generator.py): held out, nobody tunes against it

@pytest.fixture(scope="module")
def third():
    from benchmarks import third_generator as tg

    log: dict = {}
    customers, truth = tg.generate(20_000, 5, log)
    return customers, truth, log


def test_third_has_the_sample_columns_and_one_truth_row_per_record(third):
    customers, truth, _ = third
    header = (REPO / "glue_jobs" / "sample" / "customers.csv").read_text().splitlines()[0].split(",")
    assert list(customers.columns) == header
    assert customers.c_customer_id.is_unique and customers.c_customer_sk.is_unique
    assert customers.c_customer_id.str.fullmatch(r"AAAAAAAA[A-P]{8}").all()
    assert truth.c_customer_id.is_unique and set(truth.c_customer_id) == set(customers.c_customer_id)
    assert truth.entity_id.notna().all() and truth.entity_id.nunique() == 20_000
    assert not customers.index.equals(customers.sort_values("c_customer_sk").index)  # rows shuffled


def test_third_is_deterministic_per_seed():
    from benchmarks import third_generator as tg

    a, ta = tg.generate(500, 3)
    b, tb = tg.generate(500, 3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta, tb)
    c, _ = tg.generate(500, 4)
    assert not a[tg.PERSON].equals(c[tg.PERSON])


def test_third_duplicate_share_is_in_the_rate_tables_range(third):
    customers, truth, log = third
    size = truth.entity_id.value_counts()
    copies = int((size - 1).sum())
    assert copies == log["copies"] and 0.06 <= copies / len(customers) <= 0.10
    assert size.max() <= 4  # 1-3 extra copies


def _fold(v):
    from benchmarks.third_generator import ascii_fold

    return " ".join(ascii_fold(str(v)).lower().split()) if _has(v) else None


def _has(v):
    return v is not None and not pd.isna(v)


def _one_edit(a: str, b: str, kind: str) -> bool:
    from benchmarks.third_people import KEYBOARD

    if kind == "keyboard" and len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 and b[diff[0]].lower() in KEYBOARD.get(a[diff[0]].lower(), "")
    if kind == "transpose" and len(a) == len(b):
        return any(a[:i] + a[i + 1] + a[i] + a[i + 2:] == b for i in range(len(a) - 1))
    if kind == "drop_double" and abs(len(a) - len(b)) == 1:
        long, short = (a, b) if len(a) > len(b) else (b, a)
        return any(long[:i] + long[i + 1:] == short for i in range(len(long)))
    return False


def _names_differ_by(o, c, kind):
    pairs = [(o[x], c[x]) for x in ("c_first_name", "c_last_name")]
    changed = [(a, b) for a, b in pairs if a != b]
    return len(changed) == 1 and _one_edit(*changed[0], kind)


def _swapped(o, c):
    f, la = _fold(o["c_first_name"]), _fold(o["c_last_name"])
    cf, cl = _fold(c["c_first_name"]), _fold(c["c_last_name"])
    return (cf == la and cl != f and _near(cl, f)) or (cl == f and cf != la and _near(cf, la))


def _near(a, b):
    return any(_one_edit(a, b, k) for k in ("keyboard", "transpose", "drop_double")) or a == b


def _birth(o, c):
    return [(o[p], c[p]) for p in ("c_birth_day", "c_birth_month", "c_birth_year") if _has(o[p]) or _has(c[p])]


def _mail(o, c):
    return [str(x).partition("@") if _has(x) else None for x in (o["c_email_address"], c["c_email_address"])]


DETECT = {  # copy with one noise event vs the person's first record: does the data show that event?
    "nickname": lambda o, c: frozenset((o["c_first_name"], c["c_first_name"])) in _nick_pairs(),
    "swapped_with_typo": _swapped,
    "email_replaced": lambda o, c: _has(c["c_email_address"]) and (
        not _has(o["c_email_address"]) or _mail(o, c)[0][2] != _mail(o, c)[1][2]),
    "login_changed_or_added": lambda o, c: _has(c["c_login"]) and c["c_login"] != o["c_login"],
    "birth_part_missing": lambda o, c: sum(_has(a) and not _has(b) for a, b in _birth(o, c)) == 1,
    "birth_part_off_by_one": lambda o, c: sorted(abs(a - b) for a, b in _birth(o, c)) in ([0, 0, 1], [0, 1], [1]),
    "country_missing": lambda o, c: _has(o["c_birth_country"]) and not _has(c["c_birth_country"]),
    "keyboard_typo": lambda o, c: _names_differ_by(o, c, "keyboard"),
    "transposed_letters": lambda o, c: _names_differ_by(o, c, "transpose"),
    "dropped_or_doubled_letter": lambda o, c: _names_differ_by(o, c, "drop_double"),
    "accents_stripped_or_added": lambda o, c: (o["c_first_name"], o["c_last_name"]) != (
        c["c_first_name"], c["c_last_name"]) and all(_fold(o[x]) == _fold(c[x]) for x in ("c_first_name", "c_last_name")),
    "case_and_whitespace": lambda o, c: (o["c_first_name"], o["c_last_name"]) != (c["c_first_name"], c["c_last_name"])
    and all(" ".join(str(o[x]).lower().split()) == " ".join(str(c[x]).lower().split())
            for x in ("c_first_name", "c_last_name")),
    "surname_shortened": lambda o, c: c["c_last_name"] != o["c_last_name"] and (
        c["c_last_name"] in o["c_last_name"].replace("-", " ").split()
        or c["c_last_name"].lower() == o["c_last_name"].replace(" ", "").lower()),
    "email_other_provider": lambda o, c: _mail(o, c)[0][0] == _mail(o, c)[1][0] and _mail(o, c)[0][2] != _mail(o, c)[1][2],
    "email_typo": lambda o, c: o["c_email_address"] != c["c_email_address"] and (
        _near(*(m[0] for m in _mail(o, c))) or _mail(o, c)[0][0] == _mail(o, c)[1][0]),
    "day_month_swapped": lambda o, c: (o["c_birth_day"], o["c_birth_month"]) == (c["c_birth_month"], c["c_birth_day"])
    and o["c_birth_day"] != o["c_birth_month"],
    "married_name": lambda o, c: (o["c_first_name"], o["c_email_address"]) == (c["c_first_name"], c["c_email_address"])
    and o["c_salutation"] != "Mr." and not _near(_fold(o["c_last_name"]), _fold(c["c_last_name"])),
    "middle_initial_glued": lambda o, c: re.fullmatch(re.escape(o["c_first_name"]) + r" ?[A-Z]\.?", c["c_first_name"])
    is not None,
}


def _nick_pairs():
    from benchmarks.third_people import NICKNAMES

    return {frozenset((f, n)) for f, ns in NICKNAMES.items() for n in ns}


def test_third_each_noise_kind_appears_and_does_what_it_says(third):
    """Every kind of the NOISE table shows up at 20k people, and each copy whose only
    event is that kind differs from the person's first record exactly that way."""
    from benchmarks import third_generator as tg

    customers, _, log = third
    rows = customers.set_index("c_customer_id")
    seen = dict.fromkeys(tg.NOISE, 0)
    for copy, first, kinds in log["copy_of"]:
        if len(kinds) == 1:
            o, c = rows.loc[first], rows.loc[copy]
            assert DETECT[kinds[0]](o, c), (kinds, o[tg.PERSON].tolist(), c[tg.PERSON].tolist())
            seen[kinds[0]] += 1
    assert set(DETECT) == set(tg.NOISE)
    assert min(seen.values()) >= 5, seen


def test_third_has_look_alikes_that_are_other_people(third):
    """Twins (same last name and birth date), relatives sharing a last name and a family's
    own e-mail domain, namesakes (same first and last name, another birth date)."""
    from benchmarks import third_people as tp

    customers, truth, _ = third
    df = customers.merge(truth, on="c_customer_id")
    first = df.drop_duplicates("entity_id").assign(
        dob=lambda d: d.c_birth_day.astype(str) + d.c_birth_month.astype(str) + d.c_birth_year.astype(str),
        domain=lambda d: d.c_email_address.str.lower().str.partition("@")[2])
    twins = first.dropna(subset=BIRTH_PARTS).groupby(["c_last_name", "dob"]).c_first_name.nunique()
    assert (twins > 1).sum() >= 0.002 * len(first)
    providers = {d for p in tp.PROVIDERS.values() for d in p}
    own = first[first.domain.notna() & ~first.domain.isin(providers)]
    assert (own.groupby(["c_last_name", "domain"]).entity_id.nunique() > 1).sum() >= 0.002 * len(first)
    names = first.groupby(["c_first_name", "c_last_name"]).agg(people=("entity_id", "nunique"), dobs=("dob", "nunique"))
    assert ((names.people > 1) & (names.dobs > 1)).sum() >= 0.005 * len(first)


BIRTH_PARTS = ["c_birth_day", "c_birth_month", "c_birth_year"]


def test_third_logins_and_mailboxes_belong_to_one_person(third):
    from benchmarks.third_generator import mailbox

    customers, truth, _ = third
    df = customers.merge(truth, on="c_customer_id")
    for col, key in (("c_login", str.lower), ("c_email_address", mailbox)):
        d = df.dropna(subset=[col])
        assert (d.groupby(d[col].map(key)).entity_id.nunique() == 1).all(), col


def test_third_generator_is_independent():
    """No code or list shared with the job or the two other generators."""
    for f in ("third_generator.py", "third_noise.py", "third_people.py"):
        tree = ast.parse((REPO / "benchmarks" / f).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
            {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        banned = ("glue_jobs", "nicknames", "benchmarks.heldout_generator")
        assert not any(m and m.startswith(banned) for m in imported), (f, imported)
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert "heldout_generator" not in names, f


def test_split_held_out_sets_are_never_read_pair_by_pair(monkeypatch):
    """misses.py refuses every held-out set before generating or running anything, and
    quality.py lists development sets first and can score one side only."""
    from benchmarks import datasets, misses, quality

    monkeypatch.setattr(datasets, "generated", lambda name: pytest.fail(f"{name} generated"))
    assert {"third_100k_holdout", "third_1m_holdout", "gen_100k_holdout2", "gen_1m_holdout2", "indep_100k_holdout",
            "indep_1m_holdout", "gen_100k_holdout", "gen_1m_holdout", "gen_100k_holdout3", "gen_1m_holdout3",
            "indep_100k_holdout3", "indep_1m_holdout3", "third_100k_holdout3",
            "third_1m_holdout3", "gen_100k_holdout4", "gen_1m_holdout4", "indep_100k_holdout4",
            "indep_1m_holdout4", "third_100k_holdout4", "third_1m_holdout4", "gen_100k_holdout5",
            "gen_1m_holdout5", "indep_100k_holdout5", "indep_1m_holdout5", "third_100k_holdout5",
            "third_1m_holdout5", "gen_100k_holdout6", "gen_1m_holdout6", "indep_100k_holdout6",
            "indep_1m_holdout6", "third_100k_holdout6", "third_1m_holdout6"} == datasets.HELD_OUT
    for name in datasets.HELD_OUT:
        with pytest.raises(SystemExit, match="held-out"):
            misses.wrong_pairs(name)

    class Generated(Exception):
        pass

    def generated(name):
        raise Generated(name)

    monkeypatch.setattr(datasets, "generated", generated)
    for name in ("third_10k", "third_100k", "third_1m", "indep_100k"):  # development sets get past the refusal
        with pytest.raises(Generated, match=name):
            misses.wrong_pairs(name)
    roles = [r for _, r in quality.plan([])]
    assert roles == sorted(roles, key=lambda r: r != "development") and "held out (third generator, new seed)" in roles
    assert {s for s, _ in quality.plan(["--held-out-only"])} == datasets.HELD_OUT
    dev = {s for s, _ in quality.plan(["--dev-only"])}
    assert not dev & datasets.HELD_OUT and {"indep_10k", "indep_100k", "indep_1m"} <= dev
    # the third generator's first seeds are development sets from 2026-11-30 (second session)
    assert {"third_10k", "third_100k", "third_1m"} <= dev
    assert datasets.role("third_1m_holdout") == "held out (third generator, new seed)"
    assert datasets.role("third_1m") == datasets.role("indep_1m") == "development"
    with pytest.raises(SystemExit) as e:
        quality.plan(["--dev-only", "--held-out-only"])
    assert e.value.code == 2
