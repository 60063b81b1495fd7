"""The customer dedup job: a plain-data core (``engines``, ``standardise``,
``model``, ``pipeline``) with a local command (``python -m glue_jobs.dedup``)
and a thin Glue wrapper (``glue_entry``)."""
