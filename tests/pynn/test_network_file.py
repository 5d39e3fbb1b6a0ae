"""sim.save_network / sim.load_network: a network saved by one script, loaded into a fresh
setup and run, gives the same spikes and traces."""

from __future__ import annotations

import numpy as np
import pyNN.spinnaker2 as sim
import pytest

from pynn_spinnaker2.errors import FormatError, NetworkError
from pynn_spinnaker2.network import to_xml
from pynn_spinnaker2.pynn.build import build_network
from pynn_spinnaker2.pynn.simulator import state


def _build() -> dict:
    """A bit of everything a file has to carry."""
    rng = sim.NumpyRNG(seed=4)
    exc = sim.Population(60, sim.IF_curr_exp(tau_refrac=2.0, tau_m=sim.RandomDistribution(
        "uniform", (15.0, 25.0), rng=rng)), label="exc")
    inh = sim.Population(20, sim.IF_cond_exp(), label="inh")
    exc.initialize(v=sim.RandomDistribution("uniform", (-65.0, -55.0), rng=rng))
    exc.set_max_neurons_per_core(16)
    noise = sim.Population(80, sim.SpikeSourcePoisson(rate=400.0), label="noise")
    times = sim.Population(3, sim.SpikeSourceArray(spike_times=[[5.0, 12.5], [], [30.0]]),
                           label="times")
    sim.Projection(noise[:60], exc, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=2.5, delay=1.0))
    sim.Projection(noise[60:], inh, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=0.05, delay=1.0))
    sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.1, rng=rng),
                   sim.StaticSynapse(weight=sim.RandomDistribution("uniform", (0.1, 0.3),
                                                                   rng=rng), delay=1.5))
    sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.2, rng=rng),
                   sim.TsodyksMarkramSynapse(weight=0.02, delay=2.0, U=0.4, tau_rec=300.0))
    sim.Projection(inh, exc, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.05, delay=1.0),
                   receptor_type="inhibitory")
    sim.Projection(times, exc, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0))
    sim.DCSource(amplitude=0.3, start=10.0, stop=40.0).inject_into(exc[::4])
    sim.StepCurrentSource(times=[20.0, 25.0], amplitudes=[0.5, 0.0]).inject_into(inh[:5])
    exc.record("spikes")
    exc[:6].record("v", sampling_interval=1.0)
    inh.record(["spikes", "gsyn_exc"], sampling_interval=1.0)
    return {"exc": exc, "inh": inh}


def _results(pops: dict) -> dict:
    out = {}
    for label, pop in pops.items():
        block = pop.get_data()
        seg = block.segments[0]
        out[label] = ([np.asarray(st.magnitude) for st in seg.spiketrains],
                      [np.asarray(sig.magnitude) for sig in seg.analogsignals])
    return out


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for label in a:
        for x, y in zip(a[label][0], b[label][0], strict=True):
            np.testing.assert_array_equal(x, y)
        for x, y in zip(a[label][1], b[label][1], strict=True):
            np.testing.assert_array_equal(x, y)


def test_saved_network_runs_identically_in_a_fresh_setup(tmp_path) -> None:
    path = tmp_path / "net.xml"
    sim.setup(timestep=0.1, seed=11, n_chips=2)
    pops = _build()
    sim.save_network(path)
    sim.run(60.0)
    first = _results(pops)
    assert sum(len(s) for s in first["exc"][0]) > 20  # the comparison means something
    sim.end()

    sim.setup(timestep=0.1)
    loaded = sim.load_network(path)
    assert state.machine.n_chips == 2 and state.seed == 11
    sim.run(60.0)
    _same(first, _results({k: loaded.populations[k] for k in ("exc", "inh")}))
    sim.end()


@pytest.mark.parametrize("compress", [True, False])
def test_loaded_network_writes_back_the_same_file(tmp_path, compress: bool) -> None:
    path, again = tmp_path / "a.xml", tmp_path / "b.xml"
    sim.setup(timestep=0.1, seed=2)
    _build()
    sim.save_network(path, compress=compress)
    sim.save_network(again, compress=compress)  # random values were drawn once
    assert path.read_bytes() == again.read_bytes()
    sim.end()
    sim.setup(timestep=0.1)
    sim.load_network(path)
    assert to_xml(build_network(state), compress=compress) == path.read_bytes()
    sim.end()


def test_time_step_must_match(tmp_path) -> None:
    path = tmp_path / "net.xml"
    sim.setup(timestep=0.1)
    sim.Population(2, sim.IF_curr_exp(), label="a")
    sim.save_network(path)
    sim.end()
    sim.setup(timestep=1.0)
    with pytest.raises(NetworkError, match=r"saved with a time step of 0.1 ms but sim.setup\(\) "
                                           r"chose 1.0 ms; call sim.setup\(timestep=0.1\)"):
        sim.load_network(path)
    sim.end()


def test_labels_must_be_free(tmp_path) -> None:
    path = tmp_path / "net.xml"
    sim.setup(timestep=0.1)
    sim.Population(2, sim.IF_curr_exp(), label="a")
    sim.save_network(path)
    with pytest.raises(NetworkError, match=r"populations \['a'\] already exist"):
        sim.load_network(path)
    sim.end()


def test_malformed_file_gives_the_line(tmp_path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<?xml version='1.0'?>\n<network>\n  <population\n")
    sim.setup(timestep=0.1)
    with pytest.raises(FormatError, match="bad.xml: not well-formed XML.*line"):
        sim.load_network(path)
    sim.end()


def test_graded_source_keeps_its_values(tmp_path) -> None:
    """The rebuilder sets a GradedSourceArray's values too (what import_nir relies on)."""
    sim.setup(timestep=1.0)
    values = np.array([[0.5, 0.0], [-1.25, 2.0]])
    sim.Population(2, sim.GradedSourceArray.from_matrix(values), label="graded")
    sim.save_network(tmp_path / "graded.xml")
    first = build_network(state)
    sim.setup(timestep=1.0)
    sim.load_network(tmp_path / "graded.xml")
    again = build_network(state)
    (a,), (b,) = first.populations, again.populations
    for x, y in zip(a.spike_values, b.spike_values, strict=True):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.spike_times, b.spike_times, strict=True):
        np.testing.assert_array_equal(x, y)
    sim.end()
