"""Objects of an earlier simulation (before the last setup()) get a clear error."""

from __future__ import annotations

import pyNN.spinnaker2 as sim
import pytest


def _old_population() -> object:
    sim.setup(timestep=1.0)
    old = sim.Population(2, sim.IF_curr_exp(), label="old")
    old.record("v")
    sim.run(5.0)
    sim.setup(timestep=1.0)
    return old


def test_data_of_a_population_of_an_earlier_setup() -> None:
    old = _old_population()
    sim.Population(2, sim.IF_curr_exp(), label="new")
    sim.run(5.0)
    with pytest.raises(RuntimeError, match=r"population 'old' belongs to an earlier "
                                           r"simulation: .*create the population again after "
                                           r"setup\(\)"):
        old.get_data()
    sim.end()


def test_projection_from_a_population_of_an_earlier_setup() -> None:
    old = _old_population()
    new = sim.Population(2, sim.IF_curr_exp(), label="new")
    sim.Projection(old, new, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1))
    with pytest.raises(RuntimeError, match=r"belongs to an earlier simulation: .*create it "
                                           r"again after setup\(\)"):
        sim.run(5.0)
    sim.end()
