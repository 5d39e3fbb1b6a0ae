"""The emulator executes the image: routes across chips, saved images replay identically."""

from __future__ import annotations

import numpy as np

from pynn_spinnaker2.backends.emulator import Emulator
from pynn_spinnaker2.image import build_image, load_image, save_image
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec, RecordSpec


def _network(machine: Machine, per_core: int) -> Network:
    rng = np.random.default_rng(3)
    n = 120
    pops = (
        PopulationSpec("drive", "SpikeSourcePoisson", 40, params={"rate": np.full(40, 80.0)},
                       record={"spikes": RecordSpec(np.arange(40), 1.0)}, max_per_core=per_core),
        PopulationSpec("cells", "IF_curr_exp", n, params={"tau_refrac": np.full(n, 2.0)},
                       record={"spikes": RecordSpec(np.arange(n), 1.0),
                               "v": RecordSpec(np.arange(0, n, 7), 1.0)},
                       max_per_core=per_core),
    )
    k = 1500
    projs = (
        ProjectionSpec("in", "drive", "cells", rng.integers(0, 40, k), rng.integers(0, n, k),
                       rng.uniform(0.5, 1.5, k), rng.integers(1, 5, k).astype(float)),
        ProjectionSpec("rec", "cells", "cells", rng.integers(0, n, k), rng.integers(0, n, k),
                       -rng.uniform(0.0, 0.3, k), rng.integers(1, 9, k).astype(float),
                       "inhibitory"),
    )
    return Network(1.0, pops, projs, machine=machine, seed=5)


def _run(network: Network, steps: int = 300) -> tuple[list, object]:
    image = build_image(network, map_network(network))
    emulator = Emulator(image)
    emulator.run(steps)
    return emulator.recordings(), image


def _by_population(recordings: list, image: object) -> dict:
    out: dict = {}
    for rec, where in zip(recordings, image.index_map, strict=True):
        spikes = sorted(zip(rec.spike_steps.tolist(),
                            (rec.spike_neurons + where.lo).tolist(), strict=True))
        out.setdefault(where.population, []).extend(spikes)
    return {k: sorted(v) for k, v in out.items()}


def test_spread_over_many_chips_gives_identical_spikes() -> None:
    """One chip, or 4 x 3 chips of 2 PEs: the same pieces (8 neurons per PE), so the same
    spikes, now carried between chips by the compiled router tables."""
    one_chip = _network(Machine(), per_core=8)
    many_chips = _network(Machine(width=4, height=3, pes_per_chip=2), per_core=8)
    rec_a, img_a = _run(one_chip)
    rec_b, img_b = _run(many_chips)
    assert len({c.chip for c in img_b.cores}) >= 10  # 20 pieces, 2 PEs per chip
    assert sum(len(t) for t in img_b.router_tables.values()) > len(img_b.router_tables)
    a, b = _by_population(rec_a, img_a), _by_population(rec_b, img_b)
    assert len(a["cells"]) > 100
    assert a == b


def test_saved_image_replays_identically(tmp_path) -> None:
    network = _network(Machine(width=2, height=1, pes_per_chip=8), per_core=16)
    rec_a, image = _run(network)
    replayed = load_image(save_image(image, tmp_path / "image.npz"))
    emulator = Emulator(replayed)
    emulator.run(300)
    rec_b = emulator.recordings()
    for a, b in zip(rec_a, rec_b, strict=True):
        np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
        np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
        for name in a.signals:
            np.testing.assert_array_equal(a.signals[name].data, b.signals[name].data)


def test_counters_count_packets_and_synaptic_events() -> None:
    network = _network(Machine(), per_core=64)
    image = build_image(network, map_network(network))
    emulator = Emulator(image)
    emulator.run(200)
    recs = emulator.recordings()
    sent = sum(r.spike_steps.size for r in recs)
    assert emulator.counters.packets_sent.sum() == sent
    assert emulator.counters.synaptic_events.sum() > sent
