"""One run of the job in either mode, engine-agnostic: used by the local command and the Glue job.

The entry points do the I/O (read the new file, the published matches and the
published model; write and publish); ``execute`` chooses the model, runs the
replace or incremental pipeline, scores labels, and builds the run's summary
(published as ``run_summary.json`` next to the model, printed by both entry
points).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import glue_jobs.model_store as model_store

REPLACE, INCREMENTAL = "replace", "incremental"


@dataclass
class ModelChoice:
    """Where the model comes from: a dict to use (with its description) or None to train."""
    model: dict | None = None
    source: str = ""

    @classmethod
    def pick(cls, *, given: tuple[dict, str] | None, published: tuple[dict, str] | None,
             mode: str, retrain: bool) -> ModelChoice:
        if given is not None:
            return cls(*given)
        if mode == INCREMENTAL and published is not None and not retrain:
            return cls(*published)
        return cls(None, "")


@dataclass
class RunOutcome:
    result: Any
    summary: dict
    model_json: dict | None
    linker: Any = None
    extra: dict = field(default_factory=dict)


def execute(engine, cfg, input_table: str, *, source: str, mode: str = REPLACE,
            published_table: str | None = None, choice: ModelChoice | None = None,
            labels=None, run_id: str = "", published_std: str | None = None,
            labels_source: str = "--labels", on_standardised=None) -> RunOutcome:
    """Run the job on ``input_table``; with ``mode=incremental`` and a ``published_table``, add to it.

    An incremental run with nothing published yet is a full run (and says so).
    ``on_standardised(table)``: called in a full run once its standardised records
    (``result.std_table``) are made; they do not change after.
    """
    import glue_jobs.model as model_mod
    from glue_jobs.pipeline import deduplicate
    from glue_jobs.training import train_linker

    choice = choice or ModelChoice()
    t0 = time.perf_counter()
    summary: dict[str, Any] = {"run_id": run_id, "input": source, "mode": mode}
    settings = model_mod.splink_settings(cfg)
    prior: dict[str, Any] = {}

    def fitted(n_records: int) -> dict:
        """The chosen model for scoring ``n_records`` records: its prior rescaled (``model_store.rescale_prior``)."""
        model, info = model_store.rescale_prior(choice.model, n_records)
        prior.update(info)
        return model_store.fit_to_settings(model, settings, choice.source)

    if choice.model is not None:  # refuse a model of other settings before any work
        model_store.fit_to_settings(choice.model, settings, choice.source)

    if mode == INCREMENTAL and published_table is not None:
        from glue_jobs.incremental import incremental_deduplicate

        state: dict[str, Any] = {}

        def linker_for(std_all: str, n: int):
            if choice.model is not None:
                loaded = fitted(n)  # scored against published + new records
                linker = model_mod.load_linker(engine, std_all, loaded)
                state["described"] = model_store.describe(choice.model, choice.source)
                return linker, model_mod.ModelReport(prior=loaded.get("probability_two_random_records_match"))
            state["described"] = None
            return train_linker(engine, cfg, std_all, n)

        res = incremental_deduplicate(engine, cfg, input_table, published_table, linker_for=linker_for,
                                      source=source, published_std=published_std)
        linker = res.linker
        summary.update(records_in=res.records_in, records_published_before=res.records_published_before,
                       records_total=res.records_total, clusters=res.clusters, new_clusters=res.new_clusters,
                       records_joined_existing=res.records_joined, duplicates_removed=res.duplicates_removed,
                       linked_clusters_rule="a new record linked to several published clusters joins the one "
                       "with the strongest link (highest match weight; ties: lowest match_id); published "
                       "clusters are never merged",
                       linked_clusters=res.linked_clusters,
                       published_records_standardised="from the previous run's cache" if res.used_std_cache
                       else "again")
        described = state.get("described")
    else:
        if mode == INCREMENTAL:
            summary["note"] = "nothing published yet: a full run"
        loaded = fitted(int(engine.scalar(f"SELECT count(*) FROM {input_table}"))) if choice.model is not None else None
        res = deduplicate(engine, cfg, input_table, source=source, model=loaded, on_standardised=on_standardised)
        linker = res.linker
        summary.update(records_in=res.records_in, records_total=res.records_in, clusters=res.clusters,
                       duplicates_removed=res.duplicates_removed)
        described = model_store.describe(choice.model, choice.source) if loaded is not None else None

    model_json = linker.misc.save_model_to_json() if linker is not None else None
    if model_json is not None:  # what its prior is for: the next run rescales it to the records it scores
        model_json[model_store.METADATA] = {"prior_records": summary["records_total"]}
    rep = res.model
    if described is None:
        if model_json is not None:
            described = model_store.describe(model_json, f"trained on this run's {summary['records_total']} records")
        else:
            described = {"source": "none: no record pair agrees on a prior rule, no duplicates assumed"}
    summary["model"] = {**described, "warnings": list(getattr(rep, "warnings", []))[:20]}
    summary["prior"] = getattr(rep, "prior", None)
    if prior:
        summary["prior_rescaling"] = prior
    if labels is not None:
        from glue_jobs.evaluate import score_labels

        scores = score_labels(_ids_and_match_ids(engine, cfg, res.matches_table), labels, source=labels_source)
        summary["labels"] = scores.as_dict()
    timings = {**getattr(rep, "timings", {}), **getattr(res, "timings", {})}
    summary["timings"] = {k: round(v, 2) for k, v in timings.items()}
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    return RunOutcome(res, summary, model_json, linker)


def _ids_and_match_ids(engine, cfg, matches_table: str):
    q = engine.quote(cfg.id_column)
    return engine.frame(f"SELECT CAST({q} AS STRING) AS id, match_id FROM {matches_table}")
