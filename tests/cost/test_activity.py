"""The emulator's counts equal what the network and its compiled routes imply."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator import Emulator
from pynn_spinnaker2.cost import build_activity, estimate, routes
from pynn_spinnaker2.image import build_image
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec

N_SRC, N_TGT, PER_CORE = 4, 30, 10  # the targets fill 3 cores


def _network(machine: Machine, spikes_per_source: int, fan_out: int) -> Network:
    """Sources with known spike trains, each connected to ``fan_out`` targets with weights
    too small to make any target fire: every packet is a source spike."""
    rng = np.random.default_rng(0)
    times = tuple(np.arange(1, spikes_per_source + 1) * 3.0 + i for i in range(N_SRC))
    pre = np.repeat(np.arange(N_SRC), fan_out)
    post = np.concatenate([rng.choice(N_TGT, fan_out, replace=False) for _ in range(N_SRC)])
    pops = (PopulationSpec("src", "SpikeSourceArray", N_SRC, spike_times=times),
            PopulationSpec("tgt", "IF_curr_exp", N_TGT, max_per_core=PER_CORE))
    projs = (ProjectionSpec("p", "src", "tgt", pre, post, np.full(pre.size, 1e-6),
                            np.full(pre.size, 1.0)),)
    return Network(1.0, pops, projs, machine=machine)


def _run(network: Network, steps: int) -> tuple[Emulator, object]:
    image = build_image(network, map_network(network))
    emulator = Emulator(image)
    emulator.run(steps)
    return emulator, image


def _cores_of(image: object, population: str) -> list[int]:
    return [i for i, where in enumerate(image.index_map) if where.population == population]


@pytest.mark.parametrize("fan_out", [1, 7, 30])
def test_synaptic_events_are_spikes_times_fan_out(fan_out: int) -> None:
    emulator, image = _run(_network(Machine(), 5, fan_out), 40)
    activity = build_activity(image, emulator.activity)
    spikes = N_SRC * 5
    assert activity.total("packets_sent").sum() == spikes
    assert activity.total("synaptic_events").sum() == spikes * fan_out
    assert activity.total("neuron_updates").sum() == 40 * (N_SRC + N_TGT)
    assert activity.n_steps == 40 and activity.exact


def test_packets_received_follow_the_routes_within_a_chip() -> None:
    """Each source spike goes to every target core that holds one of its synapses."""
    network = _network(Machine(), 5, 30)  # all-to-all: every target core gets every spike
    emulator, image = _run(network, 40)
    activity = build_activity(image, emulator.activity)
    received = activity.total("packets_received")
    tgt = _cores_of(image, "tgt")
    assert len(tgt) == 3
    np.testing.assert_array_equal(received[tgt], N_SRC * 5)
    assert received[_cores_of(image, "src")].sum() == 0
    np.testing.assert_array_equal(activity.total("rows_fetched"), received)
    assert activity.total("router_lookups").tolist() == [N_SRC * 5]  # one chip, one lookup
    assert activity.total("link_hops").sum() == 0


def test_packets_received_per_step_are_the_source_spikes_of_that_step() -> None:
    emulator, image = _run(_network(Machine(), 5, 30), 40)
    activity = build_activity(image, emulator.activity)
    src_core = _cores_of(image, "src")[0]
    expected = np.zeros(40)
    for i in range(N_SRC):  # source i spikes at 3k + i ms, stamped at that step
        expected[(np.arange(1, 6) * 3 + i) - 1] += 1
    np.testing.assert_array_equal(activity.sums["packets_sent"][:, src_core], expected)
    for core in _cores_of(image, "tgt"):
        np.testing.assert_array_equal(activity.sums["packets_received"][:, core], expected)


def test_router_lookups_and_links_across_chips() -> None:
    """One PE per chip: the source and the three target cores on four chips. A packet is
    looked up on every chip of its multicast tree and crosses one link per extra chip."""
    network = _network(Machine(width=4, height=1, pes_per_chip=1), 5, 30)
    emulator, image = _run(network, 40)
    activity = build_activity(image, emulator.activity)
    r = routes(image)
    src_core = _cores_of(image, "src")[0]
    tree = r.visit_chip[r.visit_src == src_core]
    assert len(tree) == 4  # the source chip and the three target chips (a line of 4)
    spikes = N_SRC * 5
    assert activity.total("router_lookups").sum() == spikes * len(tree)
    assert activity.total("link_hops").sum() == spikes * (len(tree) - 1)
    received = activity.total("packets_received")
    np.testing.assert_array_equal(received[_cores_of(image, "tgt")], spikes)


def test_recurrent_spikes_are_counted_where_they_land() -> None:
    """Target cells that fire send packets too: the counts follow each sending core."""
    rng = np.random.default_rng(2)
    n = 40
    pops = (PopulationSpec("drive", "SpikeSourcePoisson", 20,
                           params={"rate": np.full(20, 80.0)}, max_per_core=10),
            PopulationSpec("cells", "IF_curr_exp", n, max_per_core=10))
    k = 400
    projs = (ProjectionSpec("in", "drive", "cells", rng.integers(0, 20, k),
                            rng.integers(0, n, k), np.full(k, 2.0), np.full(k, 1.0)),
             ProjectionSpec("rec", "cells", "cells", rng.integers(0, n, k),
                            rng.integers(0, n, k), np.full(k, 0.5), np.full(k, 2.0)))
    emulator, image = _run(Network(1.0, pops, projs, machine=Machine(), seed=3), 200)
    activity = build_activity(image, emulator.activity)
    np.testing.assert_array_equal(activity.total("packets_sent"), emulator.counters.packets_sent)
    np.testing.assert_array_equal(activity.total("synaptic_events"),
                                  emulator.counters.synaptic_events)
    assert emulator.counters.packets_sent[_cores_of(image, "cells")].sum() > 0
    report = estimate(activity)
    assert report.totals["packets_received"] >= report.totals["packets_sent"]


def test_reset_starts_a_new_count() -> None:
    emulator, image = _run(_network(Machine(), 5, 7), 40)
    emulator.reset()
    emulator.run(10)
    activity = build_activity(image, emulator.activity)
    assert activity.n_steps == 10
    times = np.concatenate([np.arange(1, 6) * 3.0 + i for i in range(N_SRC)])
    assert activity.total("packets_sent").sum() == np.sum(times <= 10)
