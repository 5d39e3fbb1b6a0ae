"""The mapping stage as one function: Network -> Mapping (partition, place, keys, route,
compress, check)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..machine import Machine
from ..network import Network
from . import passes
from .check import check_routing
from .compress import compress
from .keys import NEURON_BITS, PIECE_MASK, KeyBlock, allocate_keys
from .partition import Piece, partition
from .place import Placement, place
from .route import RouterTable, route

Chip = tuple[int, int]


@dataclass(frozen=True)
class Connectivity:
    """Which pieces send to which: one row per (source piece, target piece) pair that has
    synapses, sorted by source then target."""

    src: np.ndarray
    dst: np.ndarray
    synapses: np.ndarray

    def targets(self, piece: int) -> np.ndarray:
        """Target pieces of source piece ``piece``."""
        lo, hi = np.searchsorted(self.src, [piece, piece + 1])
        return self.dst[lo:hi]


@dataclass(frozen=True)
class Mapping:
    """Where everything goes on the machine.

    Parameters
    ----------
    machine
        The machine mapped onto.
    pieces, placements, keys
        Per piece, in piece order.
    population_keys
        Population label -> the aligned key block covering all of its pieces.
    connectivity
        Source piece -> target pieces, with synapse counts.
    tables
        Chip -> compressed router table, in priority order.
    raw_tables
        Chip -> router table before compression.
    trees
        Per multicast tree node (one per uncompressed entry): ``source`` piece, ``chip``
        index (y * width + x) and the ``links`` bitmask it sends on.
    timings
        Seconds spent in each step.
    """

    machine: Machine
    pieces: tuple[Piece, ...]
    placements: tuple[Placement, ...]
    keys: tuple[KeyBlock, ...]
    population_keys: dict[str, KeyBlock]
    connectivity: Connectivity
    tables: dict[Chip, RouterTable]
    raw_tables: dict[Chip, RouterTable]
    trees: dict[str, np.ndarray]
    timings: dict[str, float] = field(default_factory=dict)
    _by_population: dict[str, tuple[Piece, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_pop: dict[str, list[Piece]] = {}
        for p in self.pieces:
            by_pop.setdefault(p.population, []).append(p)
        self._by_population.update({k: tuple(v) for k, v in by_pop.items()})

    @property
    def uncompressed(self) -> dict[Chip, int]:
        """Chip -> number of entries before compression."""
        return {c: len(t) for c, t in self.raw_tables.items()}

    def pieces_of(self, label: str) -> tuple[Piece, ...]:
        """The pieces of population ``label``, in neuron order."""
        return self._by_population.get(label, ())

    def piece_lookup(self, label: str, size: int) -> np.ndarray:
        """Piece index of every neuron of population ``label``."""
        return piece_lookup(self.pieces_of(label), size)

    def targets(self, piece: int) -> np.ndarray:
        """Pieces holding synapses from piece ``piece``."""
        return self.connectivity.targets(piece)


def piece_lookup(pieces: tuple[Piece, ...] | list[Piece], size: int) -> np.ndarray:
    """Piece index of every neuron of a population split into ``pieces``."""
    if not pieces:
        return np.zeros(size, np.int64)
    return np.repeat(np.array([p.index for p in pieces], np.int64),
                     [p.size for p in pieces])


def piece_index(pieces: list[Piece] | tuple[Piece, ...], idx: np.ndarray) -> np.ndarray:
    """Piece index of each neuron index (pieces of one population, in neuron order)."""
    starts = np.array([p.lo for p in pieces])
    ids = np.array([p.index for p in pieces])
    return ids[np.searchsorted(starts, idx, side="right") - 1]


def connectivity(network: Network, pieces: tuple[Piece, ...]) -> Connectivity:
    """(source piece, target piece, synapses) for every pair that has synapses."""
    by_pop: dict[str, list[Piece]] = {}
    for p in pieces:
        by_pop.setdefault(p.population, []).append(p)
    first = {label: ps[0].index for label, ps in by_pop.items()}
    lut = {label: piece_lookup(ps, network.population(label).size) - first[label]
           for label, ps in by_pop.items()}
    codes, counts = [], []
    n = len(pieces)
    block = passes.BLOCK
    for proj in network.projections:
        if not len(proj):
            continue
        n_pre, n_post = len(by_pop[proj.pre]), len(by_pop[proj.post])
        dense = n_pre * n_post <= passes.DENSE_PAIRS
        table = np.zeros(n_pre * n_post if dense else 0, np.int64)
        found = []
        # In blocks, so the temporaries are reused rather than freshly mapped.
        for a in range(0, len(proj), block):
            # Local pair code: source piece * (target pieces) + target piece.
            code = lut[proj.pre][proj.pre_idx[a:a + block]]
            code *= n_post
            code += lut[proj.post][proj.post_idx[a:a + block]]
            if dense:
                table += np.bincount(code, minlength=table.size)
            else:
                found.append(np.unique(code, return_counts=True))
        if dense:
            local = np.flatnonzero(table)
            count = table[local]
        else:
            local, inverse = np.unique(np.concatenate([f[0] for f in found]),
                                       return_inverse=True)
            count = np.bincount(inverse.reshape(-1),
                                weights=np.concatenate([f[1] for f in found])).astype(np.int64)
        local = local.astype(np.int64)
        ls, ld = np.divmod(local, n_post)
        codes.append((ls + first[proj.pre]) * n + ld + first[proj.post])
        counts.append(count)
    if not codes:
        empty = np.zeros(0, np.int64)
        return Connectivity(empty, empty, empty)
    code, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    total = np.bincount(inverse.reshape(-1), weights=np.concatenate(counts)).astype(np.int64)
    src, dst = np.divmod(code, n)
    return Connectivity(src, dst, total)


def map_network(network: Network, minimise: bool = False, check: bool = True,
                progress: Callable[[str], None] | None = None) -> Mapping:
    """Partition, place, allocate keys, route, compress and check ``network``.

    Parameters
    ----------
    network
        The network; its ``machine`` is the target.
    minimise
        Compress every router table as far as ordered covering goes, not just until it
        fits.
    check
        Prove the compressed tables with the independent checker (always on in the PyNN
        layer; the benchmarks can time it apart).
    progress
        Called with the name of each step as it starts.

    Raises
    ------
    MappingError
        When the network does not fit: the message names the population or chip, the limit,
        by how much, and the remedy.
    """
    machine = network.machine
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        if timings:
            timings[list(timings)[-1]] = now - clock
        timings[name] = 0.0
        clock = now
        if progress is not None:
            progress(name)

    step("partition")
    pieces = partition(network, machine)
    step("connectivity")
    links = connectivity(network, pieces)
    step("placement")
    labels = [p.label for p in network.populations]
    placements = place(pieces, machine, links.src, links.dst, links.synapses, labels)
    step("keys")
    per_pop = {label: 0 for label in labels}
    for p in pieces:
        per_pop[p.population] += 1
    counts = [per_pop[label] for label in labels]
    slots, pop_blocks = allocate_keys(counts)
    keys = tuple(KeyBlock(int(s) << NEURON_BITS, PIECE_MASK) for s in slots.tolist())
    step("routing")
    chip_xy = np.array([p.chip for p in placements], np.int64).reshape(-1, 2)
    pe = np.array([p.pe for p in placements], np.int64)
    raw, trees = route(slots, chip_xy, pe, links.src, links.dst, machine, NEURON_BITS)
    step("compression")
    piece_keys = slots << NEURON_BITS
    local: dict[Chip, list[int]] = {}
    for p, k in zip(placements, piece_keys.tolist(), strict=True):
        local.setdefault(p.chip, []).append(k)
    tables = {chip: compress(t, machine.router_entries, NEURON_BITS, minimise,
                             np.array(local.get(chip, []), np.int64))
              for chip, t in raw.items()}
    step("check")
    if check:
        by_slot = {int(s): p for s, p in zip(slots.tolist(), pieces, strict=True)}

        def describe(key: int) -> str:
            piece = by_slot.get(key >> NEURON_BITS)
            if piece is None:
                return f"key block {key:#010x}"
            return (f"population {piece.population!r} piece {piece.index} (neurons "
                    f"{piece.lo}-{piece.hi - 1})")

        def owner(key: int) -> str:
            for label, block in zip(labels, pop_blocks, strict=True):
                if key & block.mask == block.key:
                    return f"population {label!r}"
            return "keys of several populations"

        check_routing(tables, piece_keys, chip_xy,
                      np.stack([links.src, chip_xy[links.dst, 0], chip_xy[links.dst, 1],
                                pe[links.dst]], axis=1),
                      machine, NEURON_BITS, describe, owner)
    step("done")
    del timings["done"]
    return Mapping(machine, pieces, placements, keys, dict(zip(labels, pop_blocks,
                                                                strict=True)),
                   links, tables, raw, trees, timings)
