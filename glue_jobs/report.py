"""``--report DIR``: Splink's own HTML views of a run, for a person to look at.

- ``match_weights.html``: the model's match weights per comparison level
  (``linker.visualisations.match_weights_chart``, saved to work offline);
- ``lowest_confidence_clusters.html``: Splink's cluster studio for the clusters
  of two or more records with the lowest ``match_confidence``
  (``cluster_studio_dashboard`` with those cluster ids);
- ``comparison_viewer.html``: example pairs per comparison vector
  (``comparison_viewer_dashboard``) within those clusters.

Both dashboards need the comparison columns that the run itself does not keep
(it would cost memory at 1M records): the records of those clusters are scored
again with the same model and the run's term frequencies.

The report holds customer records: keep it where the data may be kept. It is
written after the outputs are published and never changes them; a report that
can't be written is a warning, not a failed run.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger("glue_jobs.report")

LOWEST = 10


def lowest_confidence_sql(conf: str, n: int = LOWEST) -> str:
    """The ``n`` clusters of 2+ records with the lowest confidence (ties: lowest match_id)."""
    return f"""SELECT match_id FROM {conf} GROUP BY match_id
        HAVING count(*) > 1 ORDER BY min(match_confidence) ASC, match_id ASC LIMIT {int(n)}"""


def write_report(out: Path, linker: Any, predictions: Any, engine: Any, std_table: str,
                 conf_table: str, n_lowest: int = LOWEST) -> list[Path]:
    """Write the three views into ``out``; returns the files written.

    ``conf_table``: (unique_id, match_id, match_confidence) of every record.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    weights = out / "match_weights.html"
    linker.visualisations.match_weights_chart().save_offline_chart(str(weights), overwrite=True, print_msg=False)
    written.append(weights)
    if predictions is None:  # no pair scored (no duplicates assumed): nothing to show per cluster
        return written
    ids = [r[0] for r in engine.rows(lowest_confidence_sql(conf_table, n_lowest))]
    if not ids:
        return written
    # Splink's dashboards need the comparison columns kept, which the job's run drops:
    # re-score only those clusters' records with the same model and the run's term frequencies
    id_list = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
    engine.create("__report_records", f"""
        SELECT s.*, m.match_id AS cluster_id FROM {std_table} s
        JOIN {conf_table} m ON s.unique_id = m.unique_id WHERE m.match_id IN ({id_list})""")
    model = {**linker.misc.save_model_to_json(), "retain_matching_columns": True,
             "retain_intermediate_calculation_columns": True}
    from glue_jobs.model import new_linker

    api = engine.splink_api()
    sub = new_linker(api.register("__report_records"), model)
    tf_cols = sorted({lvl["tf_adjustment_column"] for c in model["comparisons"]
                      for lvl in c["comparison_levels"] if lvl.get("tf_adjustment_column")})
    for col in tf_cols:
        sub.table_management.register_term_frequency_lookup(
            linker.table_management.compute_tf_table(col), col)
    pred = sub.inference.predict()
    studio = out / "lowest_confidence_clusters.html"
    sub.visualisations.cluster_studio_dashboard(
        pred, api.register("__report_records"), str(studio), cluster_ids=ids, overwrite=True)
    written.append(studio)
    viewer = out / "comparison_viewer.html"
    sub.visualisations.comparison_viewer_dashboard(pred, str(viewer), overwrite=True)
    written.append(viewer)
    return written
