"""Graded events in the emulator: a packet's float32 payload times each synaptic weight,
carried through the compiled router tables; plain spikes carry 1."""

from __future__ import annotations

import numpy as np

from pynn_spinnaker2.backends.emulator import Emulator
from pynn_spinnaker2.image import build_image, load_image, save_image
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec, RecordSpec


def _graded_into_delta(machine: Machine, per_core: int) -> tuple[Network, np.ndarray]:
    """40 graded sources, each sending one event (value 0.5 .. 4.4) at step 3 + i % 5, one
    synapse of weight 0.25 * (1 + j % 3) mV into each of 60 IF_curr_delta cells."""
    n_src, n_cell = 40, 60
    values = 0.5 + 0.1 * np.arange(n_src)
    times = tuple(np.array([3.0 + i % 5]) for i in range(n_src))
    src = PopulationSpec("graded", "GradedSourceArray", n_src, params={"start": np.zeros(n_src)},
                         spike_times=times, spike_values=tuple(values[:, None]),
                         record={"spikes": RecordSpec(np.arange(n_src), 1.0)},
                         max_per_core=per_core)
    cells = PopulationSpec("cells", "IF_curr_delta", n_cell,
                           params={"tau_m": np.full(n_cell, 1e9), "v_thresh": np.full(n_cell, 1e3)},
                           record={"v": RecordSpec(np.arange(n_cell), 1.0)},
                           max_per_core=per_core)
    pre = np.repeat(np.arange(n_src), 3)
    post = (pre * 7 + np.tile([0, 1, 2], n_src)) % n_cell
    weight = 0.25 * (1 + post % 3)
    proj = ProjectionSpec("p", "graded", "cells", pre, post, weight, np.full(pre.size, 2.0))
    expected = np.zeros(n_cell)
    np.add.at(expected, post, weight * values[pre])
    return Network(1.0, (src, cells), (proj,), machine=machine), expected


def _final_v(network: Network, steps: int = 12) -> tuple[np.ndarray, list, object]:
    image = build_image(network, map_network(network))
    emulator = Emulator(image)
    emulator.run(steps)
    recs = emulator.recordings()
    v = np.zeros(network.population("cells").size)
    for rec, where in zip(recs, image.index_map, strict=True):
        if where.population == "cells":
            signal = rec.signals["v"]
            v[signal.neurons + where.lo] = signal.data[-1]
    return v, recs, image


def test_weight_times_payload_reaches_the_target() -> None:
    """Each delta cell's membrane moves by the sum of weight x value of its events
    (tau_m huge: no leak), within float32 rounding."""
    network, expected = _graded_into_delta(Machine(), per_core=16)
    v, recs, image = _final_v(network)
    np.testing.assert_allclose(v - (-65.0), expected, rtol=0, atol=2e-5)
    values = np.concatenate([r.spike_values for r, w in zip(recs, image.index_map, strict=True)
                             if w.population == "graded"])
    np.testing.assert_allclose(np.sort(values), 0.5 + 0.1 * np.arange(40), rtol=1e-6)


def test_graded_events_cross_chips_through_router_tables() -> None:
    """The same network over 3 x 3 chips of 2 PEs: same membrane changes."""
    one, expected = _graded_into_delta(Machine(), per_core=8)
    many, _ = _graded_into_delta(Machine(width=3, height=3, pes_per_chip=2), per_core=8)
    v_one, _, _ = _final_v(one)
    v_many, _, image = _final_v(many)
    assert len({c.chip for c in image.cores}) >= 7
    np.testing.assert_array_equal(v_one, v_many)


def test_plain_spikes_have_no_payload_recorded() -> None:
    """A network without graded events records no values (payload 1 is implicit)."""
    pops = (PopulationSpec("s", "SpikeSourceArray", 2, spike_times=(np.array([2.0]),
                                                                     np.array([3.0])),
                           record={"spikes": RecordSpec(np.arange(2), 1.0)}),)
    network = Network(1.0, pops)
    emulator = Emulator(build_image(network, map_network(network)))
    emulator.run(5)
    rec, = emulator.recordings()
    assert rec.spike_steps.tolist() == [2, 3]
    assert rec.spike_values is None


def test_graded_schedule_survives_image_save_and_load(tmp_path) -> None:
    network, expected = _graded_into_delta(Machine(), per_core=16)
    image = build_image(network, map_network(network))
    replayed = Emulator(load_image(save_image(image, tmp_path / "graded.npz")))
    replayed.run(12)
    v = np.concatenate([r.signals["v"].data[-1] for r, w in
                        zip(replayed.recordings(), image.index_map, strict=True)
                        if w.population == "cells"])
    np.testing.assert_allclose(v + 65.0, expected, atol=2e-5)
