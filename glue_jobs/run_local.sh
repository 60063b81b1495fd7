#!/usr/bin/env sh
# Deduplicate a customer CSV on this machine: creates .venv-dedup/ (Python 3.11),
# installs the job's pinned requirements, runs the job.
#   glue_jobs/run_local.sh [INPUT.csv] [--output DIR] [--settings FILE] [--format parquet]
# Without arguments: the bundled sample -> ./out/
set -eu
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV=.venv-dedup
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r requirements-job.txt
fi
exec "$VENV/bin/python" -m glue_jobs.dedup "$@"
