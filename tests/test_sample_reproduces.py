"""The bundled sample reproduces from its generator, byte for byte (issue 11).

``glue_jobs/sample/customers.csv`` (535 records of 500 people, 35 duplicates:
the smoke test and many tests rely on those counts) and its truth were made on
2026-11-27; the generator's default noise has grown since. The ``lab`` noise
profile is that day's noise: with the other defaults it writes both files again.
"""
from __future__ import annotations

import hashlib

import pytest

from glue_jobs.sample import generate as gen
from tests.dedup_fixtures import SAMPLE

TRUTH = SAMPLE.with_name("customers_truth.csv")


def test_the_lab_profile_writes_the_bundled_sample_and_truth_byte_for_byte(tmp_path, capsys):
    out = tmp_path / "customers.csv"
    gen.main(["--noise", "lab", "--out", str(out)])
    assert "535 records of 500 people" in capsys.readouterr().out
    for made, bundled in ((out, SAMPLE), (tmp_path / "customers_truth.csv", TRUTH)):
        assert hashlib.sha256(made.read_bytes()).hexdigest() == hashlib.sha256(bundled.read_bytes()).hexdigest(), \
            f"{bundled.name} no longer reproduces from generate.py --noise lab"


def test_the_default_noise_is_the_richer_one(tmp_path):
    """The development noise (nicknames, parts off by one, logins changed) is not the sample's."""
    lab, _ = gen.generate(500, noise="lab")
    rich, _ = gen.generate(500)
    assert len(lab) == len(rich) == 535
    assert not lab.equals(rich)
    with pytest.raises(ValueError, match="noise must be one of"):
        gen.generate(10, noise="findmatches")
