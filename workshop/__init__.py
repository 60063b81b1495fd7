"""Run a whole workshop class from one roster: ``python -m workshop --help``.

roster.py      the CSV of students, validated all at once (file:line:column)
plan.py        stack names and per-student config; no physical name clashes
orchestrate.py bounded parallel up/destroy/status with retries, errors collected
backend.py     the thin Pulumi Automation API adapter (needs the pulumi CLI)
preflight.py   quota arithmetic before anything is created
aws_quotas.py  optional: read quotas and usage from the account with boto3
cost.py        cost per upload and per class-day; prices.py holds every price
handout.py     one page per student (Markdown or HTML)
"""
