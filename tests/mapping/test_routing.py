"""Routes, compression and the independent checker, on random networks and machines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.backends.emulator.router import Router
from pynn_spinnaker2.errors import MappingError
from pynn_spinnaker2.image import build_image
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.mapping.check import RoutingCheckError, check_routing, walk
from pynn_spinnaker2.mapping.compress import compress
from pynn_spinnaker2.mapping.route import RouterEntry, path
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec


def _random_network(seed: int, width: int, height: int, pes: int) -> Network:
    rng = np.random.default_rng(seed)
    n_pops = int(rng.integers(2, 7))
    pops = tuple(PopulationSpec(f"p{i}", "IF_curr_exp", int(rng.integers(1, 60)),
                                max_per_core=int(rng.integers(1, 8)))
                 for i in range(n_pops))
    projections = []
    for k in range(int(rng.integers(1, 10))):
        pre, post = pops[rng.integers(n_pops)], pops[rng.integers(n_pops)]
        n = int(rng.integers(1, 40))
        projections.append(ProjectionSpec(
            f"x{k}", pre.label, post.label, rng.integers(0, pre.size, n),
            rng.integers(0, post.size, n), rng.uniform(0, 1, n), np.full(n, 1.0)))
    machine = Machine(width=width, height=height, pes_per_chip=pes)
    return Network(1.0, pops, tuple(projections), machine=machine)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), width=st.integers(1, 5), height=st.integers(1, 5),
       pes=st.integers(2, 12))
def test_compressed_tables_deliver_exactly(seed: int, width: int, height: int,
                                           pes: int) -> None:
    """Every key reaches exactly its targets through the compressed tables (checked by the
    checker inside map_network and, independently, by the emulator's router)."""
    network = _random_network(seed, width, height, pes)
    try:
        mapping = map_network(network)
    except MappingError as exc:
        assert "PEs" in str(exc)
        return
    image = build_image(network, mapping)
    router = Router(image)
    for piece in mapping.pieces:
        got = set(router.deliver(mapping.keys[piece.index].key,
                                 mapping.placements[piece.index].chip))
        want = {(mapping.placements[d].chip, mapping.placements[d].pe)
                for d in mapping.targets[piece.index]}
        assert got == want
    assert sum(len(t) for t in mapping.tables.values()) <= sum(mapping.uncompressed.values())


def test_compression_merges_and_drops_default_routes() -> None:
    entries = [RouterEntry(k << 11, 0xFFFFF800, (0,), (3,)) for k in range(8)]
    entries.append(RouterEntry(99 << 11, 0xFFFFF800, (0,), (), arrives_on=3))
    out = compress(entries)
    assert len(out) == 1 and out[0].mask == 0xFFFFC000


def test_checker_catches_a_wrong_table() -> None:
    machine = Machine(width=2, height=1)
    tables = {(0, 0): [RouterEntry(0, 0xFFFFF800, (0,), ())],
              (1, 0): [RouterEntry(0, 0xFFFFF800, (), (5,))]}
    assert walk(0, (0, 0), tables, machine) == {((1, 0), 5)}
    with pytest.raises(RoutingCheckError, match="not delivered"):
        check_routing(tables, {0: (0, 0)}, {0: {((1, 0), 5), ((1, 0), 6)}}, machine)
    with pytest.raises(RoutingCheckError, match="leaves the machine"):
        check_routing({(0, 0): [RouterEntry(0, 0xFFFFF800, (3,), ())]}, {0: (0, 0)}, {},
                      machine)


def test_checker_enforces_table_capacity() -> None:
    machine = Machine(width=1, height=1, router_entries=2)
    tables = {(0, 0): [RouterEntry(k << 11, 0xFFFFF800, (), (k,)) for k in range(3)]}
    with pytest.raises(MappingError, match="3 router entries.*has 2"):
        check_routing(tables, {}, {}, machine)


def test_paths_are_shortest_on_the_triangular_mesh() -> None:
    machine = Machine(width=8, height=6)
    assert len(path((0, 0), (3, 3), machine)) == 3
    assert len(path((0, 0), (3, -2 + 2), machine)) == 3
    assert len(path((4, 0), (0, 5), machine)) == 9
