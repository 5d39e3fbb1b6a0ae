"""SpikeSourceArray times in a Network (from any front end): a spike at t <= 0 is refused,
naming the population and the neuron; times between grid points are sent at the next one."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.cells.spike_sources import grid_steps
from pynn_spinnaker2.errors import NetworkError
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.network import Network, PopulationSpec, validate


def _network(times: tuple[np.ndarray, ...]) -> Network:
    pop = PopulationSpec("src", "SpikeSourceArray", len(times), spike_times=times)
    return Network(0.1, (pop,), (), (), Machine())


def test_a_spike_at_zero_is_refused_naming_the_neuron():
    validate(_network((np.array([0.1]), np.array([0.05, 2.0]))))
    with pytest.raises(NetworkError, match=r"'src': neuron 1 has a spike at 0 ms; spike "
                                           r"times must be > 0 ms.*NEST refuses it"):
        validate(_network((np.array([0.1]), np.array([0.0, 2.0]))))


def test_grid_steps_round_up_except_on_the_grid():
    """NEST's rule: the next grid point, with floating-point noise on a point kept there."""
    times = np.array([0.05, 0.1, 0.3, 0.30000000001, 10.025, 12.34])
    assert grid_steps(times, 0.1).tolist() == [1, 1, 3, 3, 101, 124]
    assert grid_steps(np.array([0.075, 10.025]), 0.05).tolist() == [2, 201]
