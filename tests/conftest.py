"""Shared fixtures: a fresh simulator, NEST beside it, the EvNN reference of the EGRU."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import sys
import types
from pathlib import Path

import pytest

EVNN_DIR = Path(__file__).resolve().parents[1] / ".cache" / "evnn-pytorch-0.2.0"

#: The references the comparison tests need (NEST, torch, snnTorch and nirtorch, EvNN, and
#: numba for the compiled kernels against the NumPy ones).
REFERENCE_MODULES = ("nest", "pyNN.nest", "torch", "snntorch", "nirtorch", "evnn_pytorch",
                     "numba")


def in_ci() -> bool:
    """``CI=true`` (or 1/yes): a missing reference fails the run instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    """In CI, ``pytest.importorskip`` of a reference module fails instead of skipping:
    a reference that did not install must not turn its comparison tests into skips."""
    if not in_ci() or getattr(pytest.importorskip, "_ci_strict", False):
        return
    original = pytest.importorskip

    def importorskip(modname: str, *args, **kwargs):
        if modname.split(".")[0] in {m.split(".")[0] for m in REFERENCE_MODULES}:
            try:
                return importlib.import_module(modname)
            except ImportError as exc:
                pytest.fail(f"CI=true: reference {modname!r} is not importable ({exc}); "
                            f"scripts/setup.sh installs it", pytrace=False)
        return original(modname, *args, **kwargs)

    importorskip._ci_strict = True
    pytest.importorskip = importorskip


@pytest.fixture(scope="session")
def mpirun() -> list[str]:
    """The command that starts MPI processes with this interpreter: ``[mpirun, -n, 2,
    python]`` (the MPI of the venv, from the ``mpich`` wheel). Skips, saying why, without
    mpirun or mpi4py; fails under CI=true (scripts/setup.sh installs both)."""
    exe = (shutil.which("mpirun", path=os.path.dirname(sys.executable))
           or shutil.which("mpirun"))
    missing = None if exe is not None else "mpirun is not installed"
    if missing is None and importlib.util.find_spec("mpi4py") is None:
        missing = "mpi4py is not installed"
    if missing is not None:
        if in_ci():
            pytest.fail(f"CI=true: {missing}; scripts/setup.sh installs mpi4py and mpich",
                        pytrace=False)
        pytest.skip(f"{missing} (pip install mpi4py mpich, or scripts/setup.sh)")
    return [exe, "-n", "2", sys.executable]


@pytest.fixture
def sim():
    """``pyNN.spinnaker2``, set up at dt = 0.1 ms and ended afterwards."""
    import pyNN.spinnaker2 as sim

    sim.setup(timestep=0.1)
    yield sim
    sim.end()


@pytest.fixture
def on_both():
    """``on_both(script)``: ``script(sim)`` run on NEST 3.10 (the reference simulator), then
    on pyNN.spinnaker2; returns (NEST's result, ours). Skips when NEST is not installed."""
    pytest.importorskip("nest", reason="NEST 3.10 is the reference simulator (setup.sh)")
    import pyNN.nest
    import pyNN.spinnaker2

    def run(script):
        results = []
        for simulator in (pyNN.nest, pyNN.spinnaker2):
            results.append(script(simulator))
            simulator.end()
        return results[0], results[1]

    return run


@pytest.fixture(scope="session")
def evnn():
    """``evnn_pytorch`` (the EGRU's reference implementation by its authors), loaded from the
    sdist's Python sources that ``tools/fetch_evnn_sdist.py`` unpacks (scripts/setup.sh runs
    it); skips, saying why, without torch or those sources."""
    torch = pytest.importorskip(
        "torch", reason="torch is not installed; scripts/setup.sh installs torch==2.13.0 "
                        "(the CPU wheel) for the EvNN comparison")
    if not (EVNN_DIR / "evnn_pytorch" / "egru.py").exists():
        (pytest.fail if in_ci() else pytest.skip)("evnn-pytorch 0.2.0 sources are missing; run "
                    "`python tools/fetch_evnn_sdist.py` (scripts/setup.sh does)")
    # Its compiled extension is imported at module level but unused by the pure-PyTorch
    # path; it does not load against torch 2.13 (old C++ ABI), so a stand-in takes its name.
    sys.modules.setdefault("evnn_pytorch_lib", types.ModuleType("evnn_pytorch_lib"))
    spec = importlib.util.spec_from_file_location(
        "evnn_pytorch", EVNN_DIR / "evnn_pytorch" / "__init__.py",
        submodule_search_locations=[str(EVNN_DIR / "evnn_pytorch")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["evnn_pytorch"] = module
    spec.loader.exec_module(module)
    torch.set_num_threads(1)
    return module
