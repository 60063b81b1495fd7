"""Folders of the data bucket and who reads or writes each. Pure.

    <watched>/            uploads; each write starts the workflow (read by the job)
    <output>/             the deduplicated customers, published on success (crawler target)
    <output>-matches/     every input record with its match_id
    <output>-model/       the trained Splink model (JSON) and the last run's summary
    <output>-staging/     run-scoped work of the job, copied to <output>/ only on success
    _pipeline/scripts/    the job's script, modules and settings (uploaded by Pulumi)

Only uploads into the watched folder may start the workflow, so no other
folder may lie inside it (nor it inside another).
"""

from __future__ import annotations

from dataclasses import dataclass

SCRIPTS_PREFIX = "_pipeline/scripts/"


@dataclass(frozen=True)
class BucketLayout:
    watched: str
    output: str
    matches: str
    model: str
    staging: str
    scripts: str

    def written_by_pipeline(self) -> list[str]:
        return [self.output, self.matches, self.model, self.staging, self.scripts]

    def reserved_problem(self, key: str) -> str | None:
        """Why an object the team keeps for the job (a model, labels) can't be ``key``, or None."""
        why = {self.watched: "an upload there starts the workflow",
               self.output: "the crawler reads that folder as the customers table",
               self.matches: "each run replaces that folder", self.model: "each run replaces that folder",
               self.staging: "each run removes its work there", self.scripts: "Pulumi owns that folder"}
        for prefix, reason in why.items():
            if key.startswith(prefix):
                return (f"{key!r} is inside {prefix!r} ({reason}); keep it in a folder of its own, "
                        f"e.g. 'etl-ttt-demo/models/{key.rsplit('/', 1)[-1]}'")
        return None


def bucket_layout(watched_prefix: str, output_prefix: str) -> BucketLayout:
    base = output_prefix.rstrip("/")
    layout = BucketLayout(
        watched=watched_prefix,
        output=output_prefix,
        matches=f"{base}-matches/",
        model=f"{base}-model/",
        staging=f"{base}-staging/",
        scripts=SCRIPTS_PREFIX,
    )
    for prefix in layout.written_by_pipeline():
        if prefix.startswith(watched_prefix) or watched_prefix.startswith(prefix):
            raise ValueError(
                f"the pipeline writes under {prefix!r}, which overlaps the watched folder {watched_prefix!r}: "
                "its own writes would start the workflow. Choose disjoint watchedPrefix and outputPrefix."
            )
    return layout
