#!/usr/bin/env sh
# Deduplicate a customer CSV on this machine: creates <repo>/.venv-dedup/ with
# Python >= 3.11, installs the job's pinned requirements, runs the job.
#   glue_jobs/run_local.sh [INPUT.csv] [--output DIR] [--settings FILE] [--format parquet]
# Run it from any folder: INPUT, DIR and FILE are relative to where you run it,
# and the output defaults to ./out/ there. Without arguments: the bundled
# sample -> ./out/.
# Python: $PYTHON if set, else the first of python3.13, python3.12, python3.11,
# python3 that is >= 3.11; an older one is refused. The install is redone when
# requirements-job.txt changes or a previous install did not finish (the stamp
# .venv-dedup/.requirements.sha256 is written only after a successful install).
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd -P)
VENV="$ROOT/.venv-dedup"
REQ="$ROOT/requirements-job.txt"
STAMP="$VENV/.requirements.sha256"

is_311() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
else
  PY=
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && is_311 "$c"; then PY=$c; break; fi
  done
fi
if [ -z "$PY" ] || ! is_311 "$PY"; then
  echo "error: the dedup job needs Python 3.11 or newer (found: ${PY:-none}); install it or set PYTHON=/path/to/python3.11" >&2
  exit 2
fi

if command -v sha256sum >/dev/null 2>&1; then
  WANT=$(sha256sum "$REQ" | cut -d' ' -f1)
else
  WANT=$(shasum -a 256 "$REQ" | cut -d' ' -f1)
fi
HAVE=$(cat "$STAMP" 2>/dev/null || true)
if [ "$HAVE" != "$WANT" ] || ! is_311 "$VENV/bin/python"; then
  echo "setting up $VENV (once; again when requirements-job.txt changes)" >&2
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$REQ"
  echo "$WANT" > "$STAMP"
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$VENV/bin/python" -m glue_jobs.dedup "$@"
