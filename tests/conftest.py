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
