"""The customer dedup job: a plain-data core (``dedup_core``) with a local
command (``python -m glue_jobs.dedup``) and a thin Glue wrapper (``glue_entry``)."""
