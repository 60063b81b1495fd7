"""The trained model as Splink's own JSON: saved with each run's outputs, reused by incremental runs.

Where it lives: ``<output>/model/splink_model.json`` locally,
``<model_prefix>splink_model.json`` on S3 (a prefix next to the matches set,
outside the crawled folder), published together with the two data sets and the
run's summary (``run_summary.json``), all or nothing.

Which model a run uses (the summary's ``model.source`` says it):

- ``--model FILE``: that file;
- incremental run without ``--retrain``: the published model, if there is one;
- otherwise a model trained on this run's records (an incremental run trains
  on the published and the new records together).

A model file is checked before use: Splink JSON with the comparisons the
settings file defines (a model trained with another settings file compares
other columns and is refused, naming both). The settings file decides the
blocking rules and the threshold; the model brings the trained m and u
probabilities, term-frequency choices and the prior.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from glue_jobs.model import length_guarded
from glue_jobs.validation import InputError

MODEL_FILE = "splink_model.json"
SUMMARY_FILE = "run_summary.json"
# The job's own key in a saved model (Splink ignores it: ``fit_to_settings`` drops it before use):
# ``prior_records``, the number of records its ``probability_two_random_records_match`` is for.
METADATA = "etl_ttt_demo_job"
# A rescaled prior never goes above this (Splink needs a probability below 1; a file of a few
# records scored with a model of a large one would otherwise ask for more).
PRIOR_CAP = 0.5
PRIOR = "probability_two_random_records_match"


class ModelError(InputError):
    """The model file can't be used with these settings; the message names the file."""


def parse_model(raw: bytes | str, source: str) -> dict:
    try:
        model = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{source}: not a Splink model JSON ({e})") from None
    if not isinstance(model, dict) or not isinstance(model.get("comparisons"), list) or not model["comparisons"]:
        raise ModelError(f"{source}: not a Splink model JSON (no 'comparisons' list); save one with "
                         "linker.misc.save_model_to_json() or take splink_model.json from a run's model folder")
    return model


def read_model_file(path: Path) -> dict:
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    return parse_model(path.read_bytes(), str(path))


def fit_to_settings(model: dict, settings: dict, source: str) -> dict:
    """The model with the settings' blocking rules, refused if it compares other columns."""
    have = [c.get("output_column_name") for c in model["comparisons"]]
    want = [c["output_column_name"] for c in settings["comparisons"]]
    if have != want:
        raise ModelError(f"{source}: the model compares {have}, the settings file {want}; "
                         "it was trained with other settings (use --retrain, or the matching --settings)")
    for i, (mc, sc) in enumerate(zip(model["comparisons"], settings["comparisons"])):
        got = [_norm(lvl.get("sql_condition")) for lvl in mc.get("comparison_levels", [])]
        exp = [_norm(lvl["sql_condition"]) for lvl in sc["comparison_levels"]]
        if got != exp:
            raise ModelError(f"{source}: comparison {want[i]!r} has other levels than the settings file "
                             "defines (trained by another version of the job?); use --retrain")
    # the job's own key of each standardised record; 'unique_id' in models saved before it had one
    if model.get("unique_id_column_name", "unique_id") not in ("unique_id", settings["unique_id_column_name"]):
        raise ModelError(f"{source}: unique_id_column_name must be {settings['unique_id_column_name']!r}, "
                         "the job's key of each standardised record")
    # the engine decides the dialect: a model trained on Spark (Glue) runs on DuckDB and back
    kept = {k: v for k, v in model.items() if k not in ("sql_dialect", "linker_uid", METADATA)}
    # each level as the settings write it (the same meaning, checked above): a model
    # saved by an earlier version is scored with today's cheaper SQL
    kept["comparisons"] = [
        {**mc, "comparison_levels": [{**ml, "sql_condition": sl["sql_condition"]}
                                     for ml, sl in zip(mc["comparison_levels"], sc["comparison_levels"])]}
        for mc, sc in zip(model["comparisons"], settings["comparisons"])]
    return {**kept,
            "link_type": settings["link_type"],
            "unique_id_column_name": settings["unique_id_column_name"],
            "blocking_rules_to_generate_predictions": settings["blocking_rules_to_generate_predictions"],
            "retain_matching_columns": False,
            "retain_intermediate_calculation_columns": False}


def rescale_prior(model: dict, n_records: int) -> tuple[dict, dict]:
    """The model with its prior rescaled to a set of ``n_records`` records, and what was done.

    The prior (``probability_two_random_records_match``) was estimated on the
    ``prior_records`` records it was trained on (the job's metadata in the model);
    a customer has about as many duplicates in a larger set, so the number of
    matching pairs grows with the records while the number of pairs grows with
    their square: the chance that two random records match is about
    ``prior * (prior_records - 1) / (n_records - 1)``. Scoring a set ten times
    larger with the training prior would make every look-alike ten times likelier
    a match. A model without the count (saved by an older job, or by Splink
    directly) keeps its prior, and the summary says so.
    """
    prior = model.get(PRIOR)
    meta = model.get(METADATA) if isinstance(model.get(METADATA), dict) else {}
    n_for = meta.get("prior_records")
    if n_records < 2:
        return model, {"prior_used": prior, "rescaled": False, "note": "fewer than 2 records: no pair to score"}
    if not isinstance(prior, (int, float)) or not isinstance(n_for, int) or n_for < 2:
        return model, {"prior_used": prior, "rescaled": False,
                       "note": "the model does not say how many records its prior was estimated on (saved by "
                               "an older version of the job or by Splink itself): its prior is kept as it is"}
    used = min(PRIOR_CAP, prior * (n_for - 1) / (n_records - 1))
    return {**model, PRIOR: used}, {"prior_used": used, "rescaled": True, "model_prior": prior,
                                    "model_prior_records": n_for, "records_scored": n_records}


# "one typo, same digits" as saved before its two tests swapped places (2026-11-30)
_DIGITS_LAST = re.compile(r"^(\(abs\(length\((\w+)_l\) - length\(\2_r\)\) <= 1 and levenshtein\(\2_l, \2_r\) <= 1\))"
                          r" and (\2_digits_l = \2_digits_r)$")


def _norm(sql: Any) -> str:
    """SQL as both dialects may print it: no quotes, single spaces, lower case,
    distances length-guarded, tests in today's order (a model saved before the
    guard, or before the e-mail's digits were tested first, means the same)."""
    plain = length_guarded(" ".join(str(sql).replace('"', "").replace("`", "").split())).lower()
    return _DIGITS_LAST.sub(r"\3 and \1", plain)


def model_bytes(model: dict) -> bytes:
    return (json.dumps(model, indent=2, sort_keys=True, default=str) + "\n").encode()


def describe(model: dict, source: str, **extra: Any) -> dict:
    """What the run summary says about the model: where it came from and its fingerprint
    (sha256 of the JSON as ``model_bytes`` writes it: a published model file's own bytes)."""
    return {"source": source, "sha256": hashlib.sha256(model_bytes(model)).hexdigest(),
            "probability_two_random_records_match": model.get(PRIOR),
            **extra}
