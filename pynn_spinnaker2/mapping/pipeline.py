"""The mapping stage as one function: Network -> Mapping (partition, place, keys, route,
compress, check)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..network import Network
from .check import check_routing
from .compress import compress
from .keys import KeyBlock, allocate_keys
from .partition import Piece, partition
from .place import Placement, place
from .route import RouterEntry, route

Chip = tuple[int, int]


@dataclass(frozen=True)
class Mapping:
    """Where everything goes on the machine.

    Parameters
    ----------
    pieces, placements, keys
        Per piece, in piece order.
    targets
        Source piece -> pieces holding synapses from it.
    tables
        Chip -> compressed router table, in priority order.
    uncompressed
        Chip -> number of entries before compression.
    """

    pieces: tuple[Piece, ...]
    placements: tuple[Placement, ...]
    keys: tuple[KeyBlock, ...]
    targets: dict[int, frozenset[int]]
    tables: dict[Chip, tuple[RouterEntry, ...]]
    uncompressed: dict[Chip, int]

    def pieces_of(self, label: str) -> list[Piece]:
        """The pieces of population ``label``, in neuron order."""
        return [p for p in self.pieces if p.population == label]


def piece_index(pieces: list[Piece], idx: np.ndarray) -> np.ndarray:
    """Piece index of each neuron index (pieces of one population, in neuron order)."""
    starts = np.array([p.lo for p in pieces])
    ids = np.array([p.index for p in pieces])
    return ids[np.searchsorted(starts, idx, side="right") - 1]


def connectivity(network: Network, pieces: tuple[Piece, ...]) -> dict[int, frozenset[int]]:
    """Source piece -> target pieces, from the synapses of every projection."""
    by_pop: dict[str, list[Piece]] = {}
    for p in pieces:
        by_pop.setdefault(p.population, []).append(p)
    n = len(pieces)
    codes = []
    for proj in network.projections:
        if len(proj):
            s = piece_index(by_pop[proj.pre], proj.pre_idx).astype(np.int64)
            d = piece_index(by_pop[proj.post], proj.post_idx).astype(np.int64)
            codes.append(np.unique(s * n + d))
    targets: dict[int, set[int]] = {p.index: set() for p in pieces}
    if codes:
        for code in np.unique(np.concatenate(codes)):
            targets[int(code // n)].add(int(code % n))
    return {k: frozenset(v) for k, v in targets.items()}


def map_network(network: Network) -> Mapping:
    """Partition, place, allocate keys, route, compress and check ``network``."""
    machine = network.machine
    pieces = partition(network, machine)
    placements = place(pieces, machine)
    keys = allocate_keys(len(pieces))
    targets = connectivity(network, pieces)
    raw = route(keys, placements, targets, machine)
    tables = {chip: tuple(compress(entries)) for chip, entries in raw.items()}
    check_routing(
        {c: list(t) for c, t in tables.items()},
        sources={keys[p.index].key: placements[p.index].chip for p in pieces},
        expected={keys[s].key: {(placements[d].chip, placements[d].pe) for d in ds}
                  for s, ds in targets.items()},
        machine=machine,
    )
    return Mapping(pieces, placements, keys, targets, tables,
                   {c: len(e) for c, e in raw.items()})
