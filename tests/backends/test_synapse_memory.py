"""The narrow integer types of the decoded synapses and of the PyNN projections (host memory
per synapse) never change a result: delays past 8 bits, runs past 2**8 and 2**16 steps,
parameters shared by every synapse and then changed one by one."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator.synapses import index_type


@pytest.mark.parametrize("n", [1, 2, 127, 128, 2**14, 2**15, 2**30, 2**31, 2**40])
@pytest.mark.parametrize("unsigned", [False, True])
def test_index_type_holds_sums_of_two_values(n: int, unsigned: bool) -> None:
    kind = index_type(n, unsigned)
    assert np.iinfo(kind).max >= 2 * (n - 1)
    assert np.iinfo(kind).min <= 0


def _arrival_spikes(sim: object, delay_ms: float) -> list[float]:
    """Spikes at 5 ms and 30 ms reach one IF_curr_delta neuron after ``delay_ms``; each
    moves v past threshold at once: the times it fires."""
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=400.0)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 30.0]))
    dst = sim.Population(1, sim.IF_curr_delta(v_thresh=-64.0, v_rest=-65.0, v_reset=-65.0,
                                              tau_refrac=0.1))
    dst.record("spikes")
    sim.Projection(src, dst, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=5.0, delay=delay_ms))
    sim.run(40.0 + delay_ms)
    train = dst.get_data().segments[0].spiketrains[0]
    sim.end()
    return np.asarray(train.rescale("ms").magnitude).round(6).tolist()


@pytest.mark.parametrize("delay_ms", [0.1, 12.7, 25.6, 300.0])
def test_long_delays_arrive_when_nest_delivers_them(delay_ms: float) -> None:
    # 256 and 3000 steps of delay are past what 8 bits hold, and the runs pass step 2**8
    # and 2**12 (ring offsets are added to step-dependent positions). NEST 3.10 is the
    # reference of when a delayed spike arrives.
    import pyNN.spinnaker2 as sim

    nest = pytest.importorskip("pyNN.nest")
    ours = _arrival_spikes(sim, delay_ms)
    assert ours == _arrival_spikes(nest, delay_ms)
    assert len(ours) == 2


def test_one_weight_for_all_synapses_is_shared_until_changed() -> None:
    import pyNN.spinnaker2 as sim

    sim.setup(timestep=0.1)
    a = sim.Population(20, sim.IF_curr_exp())
    b = sim.Population(20, sim.IF_curr_exp())
    prj = sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5))
    assert prj._params["weight"].strides == (0,)  # one value, no memory per synapse
    prj[3].weight = 0.75
    prj.set(delay=2.0)
    weights = np.asarray(prj.get("weight", format="array")).ravel()
    assert np.count_nonzero(weights == 0.75) == 1
    assert np.count_nonzero(weights == 0.5) == 399
    assert np.all(np.asarray(prj.get("delay", format="list"))[:, 2] == 2.0)
    sim.end()
