"""The records' integer keys (``glue_jobs.standardise.RID``, Splink's unique id).

- The order of a file's rows changes nothing: Splink samples records for u and
  for EM by a hash of their key, and orients each pair by it, so a key that
  followed the row order would train another model on the same records.
- Two ids with one hash (rare, or a file made to collide) are numbered instead:
  the run gives the same clusters as with distinct hashes.
"""
from __future__ import annotations

import pandas as pd
import pytest

from glue_jobs.dedup import run
from glue_jobs.engines import DuckDBEngine
from tests.dedup_fixtures import SETTINGS, read_output

ID = "c_customer_id"


@pytest.fixture(scope="module")
def customers(tmp_path_factory):
    """54,732 records of the third generator: big enough that Splink samples records for
    u (more than 1e6 pairs) and for EM (50,000 records or more)."""
    from benchmarks.third_generator import generate

    df, _ = generate(50_000, seed=11)
    d = tmp_path_factory.mktemp("keys")
    path = d / "customers.csv"
    df.astype("string").to_csv(path, index=False)
    out = d / "out"
    run(path, out, SETTINGS, quiet=True)
    return df, path, _result(out)


def _result(out):
    m, _ = read_output(out)
    return m.set_index(ID)[["match_id", "match_confidence"]].astype({"match_confidence": float}).sort_index()


def _assert_same_result(got, want):
    assert got.index.equals(want.index)
    assert (got["match_id"] == want["match_id"]).all(), (got["match_id"] != want["match_id"]).sum()
    assert got["match_confidence"].to_numpy() == pytest.approx(want["match_confidence"].to_numpy(), abs=1e-9)


def test_the_order_of_the_rows_changes_nothing(customers, tmp_path):
    df, _, want = customers
    shuffled = tmp_path / "customers.csv"
    df.sample(frac=1.0, random_state=3).astype("string").to_csv(shuffled, index=False)
    run(shuffled, tmp_path / "out", SETTINGS, quiet=True)
    got = _result(tmp_path / "out")
    assert want["match_id"].nunique() < len(want) - 1000, "the set must hold duplicates for this to mean anything"
    _assert_same_result(got, want)


def test_ids_with_one_hash_are_numbered_and_give_the_same_clusters(customers, tmp_path, monkeypatch):
    _, path, want = customers
    # every id's "hash" its length: nearly every key collides
    monkeypatch.setattr(DuckDBEngine, "key62", lambda self, expr: f"CAST(length({expr}) AS BIGINT)")
    run(path, tmp_path / "out", SETTINGS, quiet=True)
    got = _result(tmp_path / "out")
    # a numbered key samples other records for training: the same clusters but for a few pairs
    assert got.index.equals(want.index)
    differ = (got["match_id"] != want["match_id"]).sum()
    assert differ <= len(want) * 0.002, differ


def test_an_incremental_batch_whose_keys_collide_with_the_published_ones_is_numbered_apart(tmp_path, monkeypatch):
    from tests.dedup_fixtures import SAMPLE, assert_published_complete

    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    batch = df.sample(frac=0.1, random_state=2)
    base, new = tmp_path / "base.csv", tmp_path / "new.csv"
    df.drop(batch.index).to_csv(base, index=False)
    batch.to_csv(new, index=False)
    clean, colliding = tmp_path / "clean", tmp_path / "colliding"
    for out in (clean, colliding):
        run(base, out, SETTINGS, quiet=True, incremental=True)  # incremental mode: keeps the cache
    run(new, clean, SETTINGS, quiet=True, incremental=True)
    # every record's "hash" one of the published keys: the published records' own collide
    # (standardised again: the cache's fingerprint names the key), and the new ones with them
    published = DuckDBEngine().rows(f"SELECT min(__dedup_rid) FROM '{colliding}/model/standardised.parquet'")
    monkeypatch.setattr(DuckDBEngine, "key62", lambda self, expr: f"CAST({published[0][0]} AS BIGINT)")
    run(new, colliding, SETTINGS, quiet=True, incremental=True)
    assert_published_complete(colliding, set(df[ID]))
    _assert_same_result(_result(colliding), _result(clean))
