"""Shared fixtures: every test gets a fresh simulator."""

from __future__ import annotations

import pytest


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
