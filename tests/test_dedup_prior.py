"""The saved model's prior is rescaled to the set it scores (issue 11).

A model's ``probability_two_random_records_match`` was estimated on the
``n_train`` records it was trained on; an incremental run scores new records
against ``n_total`` published + new ones, where two random records match about
``(n_train - 1) / (n_total - 1)`` times as often (``model_store.rescale_prior``).

The behaviour test: a model trained on the bundled sample (535 records) adds a
batch to a published set ten times larger (5,351 generated records). The batch
holds namesakes of published customers (same name, country, birth day and
month, born ten years later, another e-mail, no login: different people by
construction, though most look like a customer who mistyped a digit of the year
and changed e-mail) and true duplicates held back from the published set. With the
rescaled prior fewer namesakes join a published cluster than with the training
prior (measured 2026-11-30: 44 vs 51 of 60) and the duplicates still do (59/60).
"""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pandas as pd
import pytest

import glue_jobs.model_store as model_store
from glue_jobs.dedup import main
from glue_jobs.sample.generate import generate
from tests.dedup_fixtures import SAMPLE, assert_published_complete

ID = "c_customer_id"


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    """(work folder, the sample's model, published set of 5,351 minus held-back duplicates, batch, truth)."""
    work = tmp_path_factory.mktemp("prior")
    assert main([str(SAMPLE), "--output", str(work / "small"), "--threads", "2"]) == 0
    model = work / "small" / "model" / model_store.MODEL_FILE
    assert json.loads(model.read_text())[model_store.METADATA] == {"prior_records": 535}

    df, truth = generate(5000, seed=11)
    entity = dict(zip(truth[ID], truth["entity_id"].astype(str)))
    second = df[df[ID].map(entity).duplicated()]  # a later record of an entity already in the file
    held = second.sample(60, random_state=1)
    published = df.drop(held.index)
    rng = random.Random(3)
    namesakes = published.sample(60, random_state=5).copy()
    namesakes[ID] = [f"NAMESAKE{i:05d}" for i in range(len(namesakes))]
    namesakes["c_customer_sk"] = [str(900000 + i) for i in range(len(namesakes))]
    namesakes["c_email_address"] = [f"zz{rng.randrange(10**6)}@example{rng.randrange(100)}.org" for _ in namesakes.index]
    namesakes["c_login"] = ""
    # and born ten years later (1970 / 1980: one character apart, not one part off by
    # one): with the whole birth date the same, or a year off by one, they would look
    # like a customer with a new e-mail and a typo, whom the job is meant to find
    namesakes["c_birth_year"] = [str(int(y) + 10) if str(y).isdigit() else "1970" for y in namesakes["c_birth_year"]]
    base, batch = work / "published.csv", work / "batch.csv"
    published.to_csv(base, index=False)
    pd.concat([held, namesakes]).to_csv(batch, index=False)
    assert main([str(base), "--output", str(work / "published"), "--threads", "2"]) == 0
    return work, model, published, held, namesakes, entity


def _add_batch(grown, name: str) -> tuple[dict, pd.DataFrame]:
    work, model, published, held, namesakes, _ = grown
    out = work / name
    shutil.copytree(work / "published", out)
    assert main([str(work / "batch.csv"), "--output", str(out), "--incremental", "--model", str(model),
                 "--threads", "2"]) == 0
    summary = json.loads((out / "model" / model_store.SUMMARY_FILE).read_text())
    matches = assert_published_complete(out, set(published[ID]) | set(held[ID]) | set(namesakes[ID]))
    return summary, matches


def _joined(matches: pd.DataFrame, ids) -> int:
    m = matches.set_index(ID)["match_id"]
    return sum(m[i] != i for i in ids)


def test_a_published_set_grown_tenfold_is_scored_with_the_rescaled_prior(grown, monkeypatch):
    work, model, published, held, namesakes, entity = grown
    saved = json.loads(model.read_text())[model_store.PRIOR]
    n_total = len(published) + len(held) + len(namesakes)
    summary, matches = _add_batch(grown, "rescaled")
    expected = saved * 534 / (n_total - 1)
    assert summary["prior"] == pytest.approx(expected, rel=1e-9)
    assert summary["prior_rescaling"] == {"prior_used": pytest.approx(expected, rel=1e-9), "rescaled": True,
                                          "model_prior": saved, "model_prior_records": 535,
                                          "records_scored": n_total}
    # the model the run publishes carries its prior for the set it now belongs to
    republished = json.loads((work / "rescaled" / "model" / model_store.MODEL_FILE).read_text())
    assert republished[model_store.METADATA] == {"prior_records": n_total}
    assert republished[model_store.PRIOR] == pytest.approx(expected, rel=1e-9)

    m = matches.set_index(ID)["match_id"]
    found = sum(entity.get(m[i]) == entity[i] and m[i] != i for i in held[ID])
    namesakes_joined = _joined(matches, namesakes[ID])

    monkeypatch.setattr(model_store, "rescale_prior", lambda model, n: (model, {"rescaled": False}))
    summary_raw, matches_raw = _add_batch(grown, "training-prior")
    assert summary_raw["prior"] == saved
    raw_joined = _joined(matches_raw, namesakes[ID])
    print(f"namesakes joined: rescaled {namesakes_joined}/60, training prior {raw_joined}/60; "
          f"held-back duplicates found (rescaled): {found}/60")
    # (with the job's model of 2026-11-30 a namesake with the whole birth date the
    # same and a new e-mail and login is a customer with a new e-mail and login:
    # these are born ten years later, with no login; measured: 44/60 vs 51/60)
    assert raw_joined >= 30, "at the training prior most namesakes are merged (the data still tests the rescale)"
    assert namesakes_joined <= raw_joined - 5, "at the rescaled prior fewer namesakes are merged"
    assert found >= 50, "true duplicates still join their published cluster"


def test_an_old_model_without_its_record_count_keeps_its_prior_and_says_so(tmp_path):
    df = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    batch = df.sample(frac=0.1, random_state=8)
    base, new = tmp_path / "base.csv", tmp_path / "batch.csv"
    df.drop(batch.index).to_csv(base, index=False)
    batch.to_csv(new, index=False)
    out = tmp_path / "out"
    assert main([str(base), "--output", str(out), "--threads", "2"]) == 0
    old = json.loads((out / "model" / model_store.MODEL_FILE).read_text())
    del old[model_store.METADATA]  # as the job wrote models before this change
    old_file = tmp_path / "old_model.json"
    old_file.write_bytes(model_store.model_bytes(old))
    assert main([str(new), "--output", str(out), "--incremental", "--model", str(old_file), "--threads", "2"]) == 0
    summary = json.loads((out / "model" / model_store.SUMMARY_FILE).read_text())
    assert summary["prior"] == old[model_store.PRIOR]
    assert summary["prior_rescaling"]["rescaled"] is False
    assert "its prior is kept" in summary["prior_rescaling"]["note"]


def test_the_rescale_formula_and_its_bounds():
    model = {model_store.PRIOR: 0.01, model_store.METADATA: {"prior_records": 101}, "comparisons": [{}]}
    scaled, info = model_store.rescale_prior(model, 1001)
    assert scaled[model_store.PRIOR] == pytest.approx(0.001) and info["rescaled"]
    assert model[model_store.PRIOR] == 0.01, "the given model is not changed"
    assert model_store.rescale_prior(model, 2)[0][model_store.PRIOR] == model_store.PRIOR_CAP
    assert model_store.rescale_prior(model, 1)[1]["rescaled"] is False
    assert Path(SAMPLE).is_file()
