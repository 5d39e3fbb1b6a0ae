"""Routes, compression and the independent checker, on random networks and machines.

The router tables are checked three ways that share no code: the checker inside
``map_network``, the emulator's router (``backends/emulator/router.py``) walking the image's
tables, and, for the compressor alone, a plain first-match lookup written here.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.backends.emulator.router import Router
from pynn_spinnaker2.errors import MappingError
from pynn_spinnaker2.image import build_image
from pynn_spinnaker2.machine import LINKS, Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.mapping.check import RoutingCheckError, check_routing, deliveries
from pynn_spinnaker2.mapping.compress import compress, default_routable
from pynn_spinnaker2.mapping.keys import NEURON_BITS, PIECE_MASK
from pynn_spinnaker2.mapping.route import (
    RouterEntry,
    RouterTable,
    decode_route,
    hop_distance,
    offsets,
    paths,
)
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec


def _random_network(seed: int, machine: Machine) -> Network:
    rng = np.random.default_rng(seed)
    n_pops = int(rng.integers(2, 8))
    pops = tuple(PopulationSpec(f"p{i}", "IF_curr_exp" if i % 3 else "SpikeSourcePoisson",
                                int(rng.integers(1, 80)),
                                max_per_core=int(rng.integers(1, 9)))
                 for i in range(n_pops))
    targets = [p for p in pops if p.model == "IF_curr_exp"]
    projections = []
    for k in range(int(rng.integers(1, 12))):
        pre, post = pops[rng.integers(n_pops)], targets[rng.integers(len(targets))]
        n = int(rng.integers(1, 60))
        projections.append(ProjectionSpec(
            f"x{k}", pre.label, post.label, rng.integers(0, pre.size, n),
            rng.integers(0, post.size, n), rng.uniform(0, 1, n), np.full(n, 1.0)))
    return Network(1.0, pops, tuple(projections), machine=machine)


def _expected(mapping: object) -> dict[int, set]:
    out: dict[int, set] = {p.index: set() for p in mapping.pieces}
    for s, d in zip(mapping.connectivity.src, mapping.connectivity.dst, strict=True):
        out[int(s)].add((mapping.placements[d].chip, mapping.placements[d].pe))
    return out


machines = st.builds(
    Machine, width=st.integers(1, 5), height=st.integers(1, 5), pes_per_chip=st.integers(2, 12),
    router_entries=st.integers(1, 40), wrap_around=st.booleans())


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 100_000), machine=machines)
def test_compressed_tables_deliver_exactly(seed: int, machine: Machine) -> None:
    """Every key reaches exactly its targets through the compressed tables (checked inside
    map_network and again by the emulator's router), every table fits, and compression never
    adds entries."""
    network = _random_network(seed, machine)
    try:
        mapping = map_network(network)
    except MappingError as exc:
        assert "PEs" in str(exc) or "router entries" in str(exc), exc
        return
    image = build_image(network, mapping)
    router = Router(image)
    expected = _expected(mapping)
    for piece in mapping.pieces:
        got = router.deliver(mapping.keys[piece.index].key, mapping.placements[piece.index].chip)
        assert len(got) == len(set(got))
        assert set(got) == expected[piece.index]
    for chip, table in mapping.tables.items():
        assert len(table) <= machine.router_entries
        assert len(table) <= len(mapping.raw_tables[chip])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), machine=machines)
def test_uncompressed_and_compressed_tables_agree(seed: int, machine: Machine) -> None:
    """Every key reaches the same PEs before and after compression (ordered covering
    forced on every chip), as the independent checker walks both."""
    network = _random_network(seed, machine)
    try:
        mapping = map_network(network, minimise=True)
    except MappingError:
        return
    keys = np.array([k.key for k in mapping.keys])
    chips = np.array([p.chip for p in mapping.placements])
    before = deliveries(mapping.raw_tables, keys, chips, machine)
    after = deliveries(mapping.tables, keys, chips, machine)
    assert sorted(map(tuple, before.tolist())) == sorted(map(tuple, after.tolist()))


def _lookup(table: RouterTable, key: int) -> tuple | None:
    for k, m, words in zip(table.key.tolist(), table.mask.tolist(), table.route, strict=True):
        if key & m == k:
            return decode_route(words)
    return None


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=st.integers(1, 60), routes=st.integers(1, 5),
       slot_space=st.sampled_from([64, 256, 4096]), capacity=st.integers(1, 30))
def test_compressor_keeps_every_route(data: st.DataObject, n: int, routes: int,
                                      slot_space: int, capacity: int) -> None:
    """Random exact tables: after compression every key that reaches the chip leaves on the
    same links to the same PEs (a default-routed key matches nothing); keys that never reach
    the chip are free."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    slots = rng.choice(slot_space, size=min(n, slot_space), replace=False)
    route_set = [(tuple(sorted(set(rng.integers(0, 6, rng.integers(0, 3)).tolist()))),
                  tuple(sorted(set(rng.integers(0, 8, rng.integers(0, 3)).tolist()))))
                 for _ in range(routes)]
    entries = []
    for s in slots.tolist():
        links, pes = route_set[rng.integers(routes)]
        if not links and not pes:
            links = (0,)
        arrival = int(rng.integers(-1, 6))
        if rng.random() < 0.2:  # a default-routable entry
            links, pes, arrival = ((arrival + 3) % 6,), (), max(arrival, 0)
        entries.append(RouterEntry(s << NEURON_BITS, PIECE_MASK, links, pes,
                                   None if arrival < 0 else arrival))
    table = RouterTable.from_entries(entries)
    minimise = data.draw(st.booleans())
    out = compress(table, capacity, NEURON_BITS, minimise=minimise)
    default = default_routable(table)
    for e, is_default in zip(entries, default.tolist(), strict=True):
        got = _lookup(out, e.key | int(rng.integers(0, 1 << NEURON_BITS)))
        if is_default:
            assert got is None
        else:
            assert got == (e.links, e.pes)
    assert len(out) <= len(table)
    assert not np.any(out.mask & ((1 << NEURON_BITS) - 1))


def test_aligned_blocks_of_one_route_become_one_entry() -> None:
    entries = [RouterEntry(k << 11, PIECE_MASK, (0,), (3,)) for k in range(8, 16)]
    entries.append(RouterEntry(99 << 11, PIECE_MASK, (0,), (), arrives_on=3))
    out = compress(RouterTable.from_entries(entries), 100, NEURON_BITS)
    assert len(out) == 1
    assert out.entries()[0] == RouterEntry(8 << 11, 0xFFFFC000, (0,), (3,))


def test_ordered_covering_packs_interleaved_routes() -> None:
    """Slots 0..63 alternate between two routes: aligned merging cannot merge any, ordered
    covering needs only a few entries."""
    entries = [RouterEntry(k << 11, PIECE_MASK, (k % 2,), ()) for k in range(64)]
    table = RouterTable.from_entries(entries)
    assert len(compress(table, 1000, NEURON_BITS)) == 64
    covered = compress(table, 10, NEURON_BITS)
    assert len(covered) <= 3
    for e in entries:
        assert _lookup(covered, e.key) == (e.links, e.pes)


def _mesh_distances(machine: Machine, src: tuple[int, int]) -> dict:
    seen = {src: 0}
    queue = deque([src])
    while queue:
        chip = queue.popleft()
        for link in range(len(LINKS)):
            nxt = machine.neighbour(chip, link)
            if nxt is not None and nxt not in seen:
                seen[nxt] = seen[chip] + 1
                queue.append(nxt)
    return seen


@settings(max_examples=40, deadline=None)
@given(w=st.integers(1, 9), h=st.integers(1, 9), wrap=st.booleans())
def test_paths_are_shortest_on_the_triangular_mesh(w: int, h: int, wrap: bool) -> None:
    machine = Machine(width=w, height=h, wrap_around=wrap)
    chips = np.array(machine.chips())
    src = np.repeat(chips, len(chips), axis=0)
    dst = np.tile(chips, (len(chips), 1))
    pair, at, link = paths(src, dst, machine)
    lengths = np.bincount(pair, minlength=len(src))
    if not wrap:
        dx, dy = offsets(src, dst, machine)
        assert np.array_equal(lengths, hop_distance(dx, dy))
    for k in range(0, len(src), 3):
        assert lengths[k] == _mesh_distances(machine, tuple(src[k]))[tuple(dst[k])]
        hops = np.flatnonzero(pair == k)
        chip = tuple(src[k])
        for j in hops:  # every hop leaves the chip the previous one reached
            assert tuple(at[j]) == chip
            chip = machine.neighbour(chip, int(link[j]))
        assert chip == tuple(dst[k])


# -- the checker catches broken tables ---------------------------------------------------
def _table(*entries: RouterEntry) -> RouterTable:
    return RouterTable.from_entries(list(entries))


def test_checker_accepts_a_right_table_and_catches_a_wrong_one() -> None:
    machine = Machine(width=2, height=1)
    tables = {(0, 0): _table(RouterEntry(0, PIECE_MASK, (0,), ())),
              (1, 0): _table(RouterEntry(0, PIECE_MASK, (), (5,)))}
    keys, chips = np.array([0]), np.array([[0, 0]])
    check_routing(tables, keys, chips, np.array([[0, 1, 0, 5]]), machine, NEURON_BITS)
    with pytest.raises(RoutingCheckError, match="not delivered: key 0x00000000 -> chip "
                                                r"\(1, 0\) PE 6"):
        check_routing(tables, keys, chips, np.array([[0, 1, 0, 5], [0, 1, 0, 6]]), machine,
                      NEURON_BITS)
    with pytest.raises(RoutingCheckError, match=r"wrongly delivered: key 0x00000000 -> chip "
                                                r"\(1, 0\) PE 5"):
        check_routing(tables, keys, chips, np.zeros((0, 4)), machine, NEURON_BITS)


def test_checker_catches_packets_leaving_the_machine() -> None:
    machine = Machine(width=2, height=1)
    with pytest.raises(RoutingCheckError, match="leaves the machine from chip"):
        check_routing({(0, 0): _table(RouterEntry(0, PIECE_MASK, (3,), ()))}, np.array([0]),
                      np.array([[0, 0]]), np.zeros((0, 4)), machine, NEURON_BITS)


def test_checker_catches_loops() -> None:
    machine = Machine(width=2, height=1)
    tables = {(0, 0): _table(RouterEntry(0, PIECE_MASK, (0,), ())),
              (1, 0): _table(RouterEntry(0, PIECE_MASK, (3,), ()))}
    with pytest.raises(RoutingCheckError, match="routing loop"):
        check_routing(tables, np.array([0]), np.array([[0, 0]]), np.zeros((0, 4)), machine,
                      NEURON_BITS)


def test_checker_follows_default_routes() -> None:
    """A packet arriving from the west with no entry goes on east."""
    machine = Machine(width=3, height=1)
    tables = {(0, 0): _table(RouterEntry(0, PIECE_MASK, (0,), ())),
              (2, 0): _table(RouterEntry(0, PIECE_MASK, (), (1,)))}
    check_routing(tables, np.array([0]), np.array([[0, 0]]), np.array([[0, 2, 0, 1]]),
                  machine, NEURON_BITS)
    # the same tables do not reach the chip in between, so expecting it there is an error
    with pytest.raises(RoutingCheckError):
        check_routing(tables, np.array([0]), np.array([[0, 0]]), np.array([[0, 1, 0, 1]]),
                      machine, NEURON_BITS)


def test_checker_refuses_entries_that_split_a_piece() -> None:
    machine = Machine()
    tables = {(0, 0): _table(RouterEntry(0, PIECE_MASK | 1, (), (1,)))}
    with pytest.raises(RoutingCheckError, match="neuron field"):
        check_routing(tables, np.array([0]), np.array([[0, 0]]), np.array([[0, 0, 0, 1]]),
                      machine, NEURON_BITS)


def test_checker_enforces_table_capacity() -> None:
    machine = Machine(width=1, height=1, router_entries=2)
    tables = {(0, 0): _table(*[RouterEntry(k << 11, PIECE_MASK, (), (k,)) for k in range(3)])}
    with pytest.raises(MappingError, match=r"chip \(0, 0\) needs 3 router entries after "
                                           r"compression but its router has 2: 1 too many"):
        check_routing(tables, np.zeros(0), np.zeros((0, 2)), np.zeros((0, 4)), machine,
                      NEURON_BITS)
