"""Recording: Neo blocks with units, segments across reset, files, counts."""

from __future__ import annotations

import neo
import numpy as np
import quantities as pq


def _network(sim):
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[[5.0, 25.0], [15.0]]),
                         label="src")
    pop = sim.Population(4, sim.IF_cond_exp(i_offset=0.2), label="cells")
    sim.Projection(src, pop, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05,
                                                                          delay=1.0))
    return src, pop


def test_units_and_shapes(sim) -> None:
    src, pop = _network(sim)
    pop.record(["spikes", "v", "gsyn_exc", "gsyn_inh"])
    src.record("spikes")
    sim.run(50.0)
    seg = pop.get_data().segments[0]
    v = seg.filter(name="v")[0]
    assert v.units == pq.mV and v.shape == (501, 4)
    assert v.sampling_period == 0.1 * pq.ms and v.t_start == 0 * pq.ms
    g = seg.filter(name="gsyn_exc")[0]
    assert g.units == pq.uS
    # the first input spike (5 ms, delay 1 ms) makes the conductance jump by 0.05 uS at 6 ms
    assert float(g[60, 0]) == np.float32(0.05)
    assert float(g[59, 0]) == 0.0
    src_trains = src.get_data().segments[0].spiketrains
    assert [list(st.magnitude) for st in src_trains] == [[5.0, 25.0], [15.0]]
    assert all(st.units == pq.ms and st.t_stop == 50 * pq.ms for st in src_trains)


def test_sampling_interval_and_subset(sim) -> None:
    _, pop = _network(sim)
    pop[1:3].record("v", sampling_interval=1.0)
    sim.run(20.0)
    v = pop.get_data().segments[0].filter(name="v")[0]
    assert v.shape == (21, 2)
    assert v.sampling_period == 1.0 * pq.ms
    assert list(v.array_annotations["channel_index"]) == [1, 2]


def test_segments_across_reset(sim) -> None:
    _, pop = _network(sim)
    pop.record(["spikes", "v"])
    sim.run(30.0)
    sim.reset()
    pop.initialize(v=-60.0)
    sim.run(30.0)
    block = pop.get_data()
    assert len(block.segments) == 2
    v0 = block.segments[0].filter(name="v")[0]
    v1 = block.segments[1].filter(name="v")[0]
    assert v0.shape == v1.shape == (301, 4)
    assert float(v0[0, 0]) == -65.0 and float(v1[0, 0]) == -60.0


def test_reset_reproduces_a_deterministic_run(sim) -> None:
    src, pop = _network(sim)
    pop.record("v")
    sim.run(30.0)
    sim.reset()
    sim.run(30.0)
    block = pop.get_data()
    np.testing.assert_array_equal(block.segments[0].filter(name="v")[0].magnitude,
                                  block.segments[1].filter(name="v")[0].magnitude)


def test_continued_runs_equal_one_run(sim) -> None:
    _, pop = _network(sim)
    pop.record(["v", "spikes"])
    for _ in range(10):
        sim.run(5.0)
    split = pop.get_data().segments[0].filter(name="v")[0].magnitude.copy()
    sim.reset()
    sim.run(50.0)
    whole = pop.get_data().segments[1].filter(name="v")[0].magnitude
    np.testing.assert_array_equal(split, whole)


def test_write_data_pickle(sim, tmp_path) -> None:
    _, pop = _network(sim)
    pop.record(["spikes", "v"])
    sim.run(20.0)
    path = tmp_path / "out.pkl"
    pop.write_data(str(path))
    block = neo.io.PickleIO(str(path)).read_block()
    assert block.segments[0].filter(name="v")[0].shape == (201, 4)


def test_spike_counts_and_clear(sim) -> None:
    pop = sim.Population(3, sim.IF_curr_exp(i_offset=1.0, tau_refrac=2.0), label="driven")
    pop.record("spikes")
    sim.run(100.0)
    counts = pop.get_spike_counts()
    assert set(counts) == set(int(i) for i in pop.all_cells)
    assert all(c == counts[int(pop.all_cells[0])] and c > 2 for c in counts.values())
    assert pop.mean_spike_count() == counts[int(pop.all_cells[0])]
    pop.get_data(clear=True)
    sim.run(100.0)
    trains = pop.get_data().segments[0].spiketrains
    assert all(st.magnitude.min() > 100.0 for st in trains)


def test_changing_parameters_between_runs(sim) -> None:
    pop = sim.Population(1, sim.IF_curr_exp(i_offset=0.0), label="p")
    pop.record("v")
    sim.run(10.0)
    pop.set(i_offset=1.0)
    sim.run(10.0)
    v = pop.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
    assert np.all(v[:101] == -65.0)
    assert v[102] > -65.0


def test_recording_started_mid_run_is_nan_before(sim) -> None:
    """Recording asked for after a run: the signal still starts at t = 0, with NaN for the
    time nothing was recorded, never shifted in time."""
    pop = sim.Population(2, sim.IF_curr_exp(i_offset=0.5), label="late")
    pop[0:1].record("v")
    sim.run(10.0)
    pop.record("v")
    sim.run(10.0)
    v = pop.get_data().segments[0].filter(name="v")[0]
    assert v.shape == (201, 2)
    assert np.all(np.isfinite(v.magnitude[:, 0]))
    assert np.all(np.isnan(v.magnitude[:100, 1])) and np.all(np.isfinite(v.magnitude[100:, 1]))
    np.testing.assert_allclose(v.magnitude[100:, 1], v.magnitude[100:, 0])


def test_initialize_mid_run_sets_the_state_now(sim) -> None:
    pop = sim.Population(2, sim.IF_curr_exp(), label="init")
    pop.record("v")
    sim.run(10.0)
    pop.initialize(v=np.array([-65.0, -55.0]))  # only neuron 1 changes
    sim.run(10.0)
    v = pop.get_data().segments[0].filter(name="v")[0].magnitude
    assert np.all(v[:, 0] == -65.0)
    assert v[100, 1] == -65.0 and v[101, 1] > -55.5 and v[101, 1] < -55.0
