"""NaN, infinite and negative current-source parameters and spike times are refused."""

from __future__ import annotations

import math

import pyNN.spinnaker2 as sim
import pytest

from pynn_spinnaker2.errors import NetworkError

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(("kind", "params", "name", "rule"), [
    ("DCSource", {"amplitude": NAN}, "amplitude", "a finite number"),
    ("DCSource", {"amplitude": INF}, "amplitude", "a finite number"),
    ("DCSource", {"amplitude": 1.0, "start": NAN}, "start", "a finite number >= 0"),
    ("DCSource", {"amplitude": 1.0, "start": -5.0}, "start", "a finite number >= 0"),
    ("DCSource", {"amplitude": 1.0, "stop": NAN}, "stop", r"a number >= 0 \(or inf"),
    ("StepCurrentSource", {"times": [10.0, 20.0], "amplitudes": [0.5, NAN]}, "amplitudes",
     "a finite number"),
    ("ACSource", {"amplitude": 1.0, "frequency": NAN}, "frequency", "a finite number >= 0"),
    ("ACSource", {"amplitude": 1.0, "frequency": -10.0}, "frequency",
     "a finite number >= 0"),
    ("NoisyCurrentSource", {"mean": 0.5, "stdev": -1.0, "dt": 1.0}, "stdev",
     "a finite number >= 0"),
    ("NoisyCurrentSource", {"mean": NAN, "stdev": 0.1, "dt": 1.0}, "mean", "a finite number"),
])
def test_bad_current_source_parameters_are_refused(kind: str, params: dict, name: str,
                                                   rule: str) -> None:
    sim.setup(timestep=1.0)
    pop = sim.Population(2, sim.IF_curr_exp(), label="cells")
    source = getattr(sim, kind)(**params)
    source.inject_into(pop)
    with pytest.raises(NetworkError, match=rf"current source '{kind}0' \({kind}\): {name} = "
                                           rf".* is not valid; {name} must be {rule}.*"
                                           rf"source.set\({name}=...\)"):
        sim.run(10.0)
    sim.end()


def test_valid_sources_still_run() -> None:
    sim.setup(timestep=1.0)
    pop = sim.Population(1, sim.IF_curr_exp(), label="cells")
    sim.DCSource(amplitude=0.5, start=1.0, stop=INF).inject_into(pop)
    sim.NoisyCurrentSource(mean=0.1, stdev=0.0, dt=1.0).inject_into(pop)
    sim.run(5.0)
    sim.end()


@pytest.mark.parametrize("times", [[10.0, NAN, 5.0], [NAN, 10.0], [1.0, INF]])
def test_spike_times_with_nan_are_refused_not_sorted_or_dropped(times: list) -> None:
    from pyNN.errors import InvalidParameterValueError

    sim.setup(timestep=1.0)
    with pytest.raises(InvalidParameterValueError, match=r"population 'src', neuron 0: spike "
                                                         r"times must be finite numbers of "
                                                         r"ms, got .*; remove the NaN"):
        sim.Population(1, sim.SpikeSourceArray(spike_times=times), label="src")
    sim.end()


def test_network_check_refuses_nan_spike_times() -> None:
    """A network built without the PyNN layer (a file, NIR) meets the same rule."""
    import numpy as np

    from pynn_spinnaker2.network import Network, PopulationSpec, validate

    pop = PopulationSpec("src", "SpikeSourceArray", 1, spike_times=(np.array([1.0, NAN]),))
    with pytest.raises(NetworkError, match=r"population 'src', neuron 0: spike times must be "
                                           r"finite, got \[1.0, nan\]; remove the NaN"):
        validate(Network(1.0, (pop,)))
