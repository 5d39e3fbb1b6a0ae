"""PyNN's own backend-independent scenario tests, run against pyNN.spinnaker2.

They ship only in the pynn 0.13.0 sdist; ``tools/fetch_pynn_sdist.py`` (run by
``scripts/setup.sh``) unpacks them into ``.cache/``. Each scenario module decorates its tests
with ``run_with_simulators("nest", "neuron", ...)``; the harness replaces that decorator,
before the modules are imported, by one that gives every test the ``spinnaker2`` backend, and
collects the tests here. Skipped tests, with reasons: ``skips.py``.
"""

from __future__ import annotations

import importlib
import os
import sys

import pytest

from .skips import SKIPS

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from fetch_pynn_sdist import DEST, fetch  # noqa: E402

BACKEND = os.environ.get("PYNN_SCENARIO_BACKEND", "spinnaker2")


def _load_scenarios() -> list:
    try:
        fetch()
    except Exception as exc:  # no network: only CI must have them
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PyNN sdist not available ({exc})", allow_module_level=True)
    sys.path.insert(0, str(DEST / "test" / "system"))
    fixtures = importlib.import_module("scenarios.fixtures")

    def run_with_simulators(*_names: str) -> pytest.MarkDecorator:
        return pytest.mark.parametrize(
            "sim", [pytest.param(fixtures.LazySimulator(BACKEND), id=BACKEND)])

    fixtures.run_with_simulators = run_with_simulators
    names = sorted(p.stem for p in (DEST / "test" / "system" / "scenarios").glob("test_*.py"))
    return [importlib.import_module(f"scenarios.{name}") for name in names]


_MODULES = _load_scenarios()
for _module in _MODULES:
    for _name, _test in list(vars(_module).items()):
        if _name.startswith("test_") and callable(_test):
            if _name in SKIPS:
                _test = pytest.mark.skip(reason=SKIPS[_name])(_test)
            globals()[f"test_{_module.__name__.split('.')[-1][5:]}__{_name[5:]}"] = _test


def test_skip_list_names_real_tests() -> None:
    """A misspelt entry would silently skip nothing."""
    collected = {name for module in _MODULES for name in vars(module)}
    assert set(SKIPS) <= collected, set(SKIPS) - collected
