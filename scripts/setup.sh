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
# torch (CPU wheel) and NVML bindings for benchmarks/egru_inference_cost.py; no test needs them.
if [ "${SKIP_BENCH:-0}" != "1" ]; then
    .venv/bin/python -m pip install --quiet -e ".[bench]" \
        || echo "setup: torch not installed; benchmarks/egru_inference_cost.py will say so"
fi
.venv/bin/python tools/fetch_pynn_sdist.py
# torch (CPU) and the Python sources of evnn-pytorch 0.2.0: the EGRU reference of the EvNN
# comparison tests, which skip without them.
if [ "${SKIP_TORCH:-0}" != "1" ]; then
    { .venv/bin/python -m pip install --quiet -e ".[egru]" "numpy<2.1" \
        && .venv/bin/python tools/fetch_evnn_sdist.py; } \
        || echo "setup: torch or evnn-pytorch not installed; the EvNN comparison tests will skip"
fi
