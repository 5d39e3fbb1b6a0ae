"""The declared regions are what the image holds: each core's regions are declared, in the
declared memory and format, and a writer filling an undeclared region is refused."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.image import build, build_image
from pynn_spinnaker2.mapping import map_network, regions
from pynn_spinnaker2.mapping.partition import even_split, piece_bounds
from tests.mapping.test_partition import _random_network


def test_every_region_of_the_image_is_declared_in_its_memory_and_format() -> None:
    net = _random_network(3)
    image = build_image(net, map_network(net))
    seen = set()
    for core in image.cores:
        for memory, held in (("sram", core.sram), ("dram", core.dram)):
            for name, array in held.items():
                region = regions.REGION[name]
                assert region.memory == memory, name
                assert region.dtype is None or array.dtype == region.dtype, name
                seen.add(name)
        always = {r.name for r in regions.REGIONS if r.always}
        assert always <= set(core.sram) | set(core.dram)
    assert {"neuron_params", "synapses", "synapse_dynamics", "current_sources"} <= seen


def test_every_writer_is_declared_and_no_undeclared_region_is_written(monkeypatch) -> None:
    assert {r.writer for r in regions.REGIONS} == set(build.WRITERS) | {"rows"}
    net = _random_network(3)
    mapping = map_network(net)
    seeds = build.WRITERS["seed"]
    monkeypatch.setitem(build.WRITERS, "seed", lambda n, m: {
        k: {**v, "extra": np.zeros(1)} for k, v in seeds(n, m).items()})
    with pytest.raises(TypeError, match="'extra'"):
        build_image(net, mapping)


def test_region_sizes_follow_the_demand() -> None:
    from pynn_spinnaker2.cells import CELL_TYPES

    lif = CELL_TYPES["IF_curr_exp"]
    d = regions.cell_demand(lif, slots=4, variables=2, synapses=np.array([3, 5]),
                            synapse_regions=frozenset({"synapse_dynamics"}),
                            source_pieces=2, source_neurons=7)
    assert regions.REGION["synapses"].neuron_bytes(d).tolist() == [24, 40]
    assert regions.REGION["synapse_dynamics"].neuron_bytes(d).tolist() == [48, 80]
    assert regions.REGION["synapse_quantal"].neuron_bytes(d) == 0
    assert regions.piece_bytes(d, "dram") == 7 * regions.ROW_DTYPE.itemsize
    assert regions.piece_bytes(d, "sram") == (regions.FIXED_OVERHEAD + 16 + 2 * 16
                                              + 2 * regions.RECORDING_DTYPE.itemsize)
    ring = 4 * len(lif.receptors) * 4
    assert regions.neuron_bytes(d, "sram", 2).tolist() == [lif.bytes_per_neuron() + ring + 2] * 2


def test_piece_bounds_are_the_fewest_equal_pieces() -> None:
    assert piece_bounds(10, 4).tolist() == [0, 3, 7, 10]
    assert even_split(10, 2).tolist() == [0, 5, 10]
