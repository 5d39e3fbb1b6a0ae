"""STDP in the emulator, from the image alone: learnt weights are state of the synaptic
rows, read back through the image's host-side index; they do not depend on where the cores
are placed, and a saved image replays to the same weights."""

from __future__ import annotations

import numpy as np

from pynn_spinnaker2.backends.emulator import Emulator
from pynn_spinnaker2.image import build_image, load_image, save_image
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec

RULE = "STDP:SpikePairRule:MultiplicativeWeightDependence"


def _network(machine: Machine) -> Network:
    rng = np.random.default_rng(8)
    n_pre, n_post, k = 60, 30, 900
    pops = (
        PopulationSpec("drive", "SpikeSourcePoisson", n_pre, params={"rate": np.full(n_pre, 30.0)},
                       max_per_core=16),
        PopulationSpec("cells", "IF_curr_exp", n_post, params={"i_offset": np.full(n_post, 0.9),
                                                              "tau_refrac": np.full(n_post, 2.0)},
                       max_per_core=8),
    )
    params = {"tau_plus": np.full(k, 20.0), "tau_minus": np.full(k, 30.0),
              "A_plus": np.full(k, 0.05), "A_minus": np.full(k, 0.06),
              "w_min": np.zeros(k), "w_max": np.full(k, 0.5)}
    projs = (ProjectionSpec("plastic", "drive", "cells", rng.integers(0, n_pre, k),
                            rng.integers(0, n_post, k), rng.uniform(0.05, 0.3, k),
                            rng.integers(1, 6, k).astype(float), synapse=RULE, params=params),)
    return Network(1.0, pops, projs, machine=machine, seed=3)


def _learnt(network: Network, steps: int = 400) -> tuple[np.ndarray, object, Emulator]:
    image = build_image(network, map_network(network))
    emulator = Emulator(image)
    emulator.run(steps)
    (index,) = image.plastic
    weights = np.empty(index.connection.size, np.float32)
    weights[index.connection] = emulator.read_weights(index.core, index.position)
    return weights, image, emulator


def test_learnt_weights_do_not_depend_on_placement() -> None:
    one_chip, _, _ = _learnt(_network(Machine()))
    many, image, _ = _learnt(_network(Machine(width=3, height=2, pes_per_chip=2)))
    assert len({c.chip for c in image.cores}) > 3
    initial = _network(Machine()).projections[0].weight.astype(np.float32)
    assert np.mean(one_chip != initial) > 0.5, "most synapses must have learnt"
    np.testing.assert_array_equal(one_chip, many)


def test_saved_image_replays_to_the_same_weights(tmp_path) -> None:
    weights, image, emulator = _learnt(_network(Machine()))
    replayed = Emulator(load_image(save_image(image, tmp_path / "image.npz")))
    replayed.run(400)
    (index,) = image.plastic
    again = np.empty_like(weights)
    again[index.connection] = replayed.read_weights(index.core, index.position)
    np.testing.assert_array_equal(weights, again)
    emulator.reset()  # back to the image's weights
    in_image = [image.cores[c].dram["synapses"]["weight"][p]
                for c, p in zip(index.core, index.position, strict=True)]
    np.testing.assert_array_equal(emulator.read_weights(index.core, index.position), in_image)


def test_image_without_trace_history_is_refused() -> None:
    import pytest

    from pynn_spinnaker2.errors import ImageError

    network = _network(Machine())
    image = build_image(network, map_network(network))
    for core in image.cores:
        core.sram.pop("stdp_post", None)
        core.sram.pop("stdp_trace", None)
    with pytest.raises(ImageError, match="postsynaptic trace history.*rebuild the image"):
        Emulator(image)
