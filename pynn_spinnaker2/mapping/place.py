"""Placement: one PE per piece, keeping traffic local.

Populations are taken in the order of their connections: first the one with the most
synapses, then each time the one with the most synapses to those already placed, so that
partners are placed next to each other. Each piece goes to the chip where most of the
synapses it shares with already placed pieces are (in either direction), or, when that chip
is full, to the nearest chip with a free PE (hop distance on the triangular mesh); a piece
with no placed partner takes the next free PE in a serpentine walk over the chips (rows
alternating direction, so consecutive chips are neighbours). Spike sources therefore sit on
the chips of their targets, and recurrent populations stay together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..machine import Machine
from .partition import Piece, too_few_pes
from .route import hop_distance


@dataclass(frozen=True)
class Placement:
    """Where a piece runs."""

    chip: tuple[int, int]
    pe: int


def chip_order(machine: Machine) -> list[tuple[int, int]]:
    """Chips row by row, alternating direction, so consecutive chips are neighbours."""
    order = []
    for y in range(machine.height):
        xs = range(machine.width) if y % 2 == 0 else range(machine.width - 1, -1, -1)
        order.extend((x, y) for x in xs)
    return order


def population_order(n_pops: int, pop_src: np.ndarray, pop_dst: np.ndarray,
                     weight: np.ndarray) -> list[int]:
    """Populations by connection: the most connected first, then greedily the one with the
    most synapses to those already taken (network order breaks ties)."""
    w = np.zeros((n_pops, n_pops))
    np.add.at(w, (pop_src, pop_dst), weight)
    w = w + w.T
    np.fill_diagonal(w, 0.0)
    total = w.sum(axis=1)
    order: list[int] = []
    taken = np.zeros(n_pops, bool)
    while len(order) < n_pops:
        score = w[:, taken].sum(axis=1) if taken.any() else total
        score = np.where(taken, -1.0, score)
        best = int(np.argmax(score))
        if score[best] <= 0:
            left = np.flatnonzero(~taken)
            best = int(left[np.argmax(total[left])]) if total[left].max() > 0 else int(left[0])
        order.append(best)
        taken[best] = True
    return order


def place(pieces: tuple[Piece, ...], machine: Machine, src: np.ndarray, dst: np.ndarray,
          synapses: np.ndarray, population_labels: list[str]) -> tuple[Placement, ...]:
    """Place every piece on a PE of ``machine``.

    Parameters
    ----------
    pieces
        The pieces, in piece order.
    machine
        The machine.
    src, dst, synapses
        Piece-level connectivity: source piece, target piece and the synapses between them.
    population_labels
        Labels of the populations, in network order.

    Raises
    ------
    MappingError
        When there are more pieces than PEs; names the populations that use the most PEs.
    """
    if len(pieces) > machine.n_pes:
        per_pop: dict[str, int] = {}
        for piece in pieces:
            per_pop[piece.population] = per_pop.get(piece.population, 0) + 1
        raise too_few_pes(per_pop, machine)
    n = len(pieces)
    pop_index = {label: i for i, label in enumerate(population_labels)}
    piece_pop = np.array([pop_index[p.population] for p in pieces], np.int64)
    order = population_order(len(population_labels), piece_pop[src], piece_pop[dst],
                             synapses.astype(float))
    # Undirected piece graph as CSR.
    a = np.concatenate((src, dst)).astype(np.int64)
    b = np.concatenate((dst, src)).astype(np.int64)
    w = np.concatenate((synapses, synapses)).astype(float)
    by_a = np.argsort(a, kind="stable")
    nb, nw = b[by_a], w[by_a]
    ptr = np.concatenate(([0], np.cumsum(np.bincount(a, minlength=n))))
    walk = chip_order(machine)
    n_chips = machine.n_chips
    walk_id = np.array([y * machine.width + x for x, y in walk], np.int64)
    walk_rank = np.empty(n_chips, np.int64)
    walk_rank[walk_id] = np.arange(n_chips)
    xy = np.stack([np.arange(n_chips) % machine.width, np.arange(n_chips) // machine.width],
                  axis=1)
    free = np.full(n_chips, machine.pes_per_chip, np.int64)
    chip_of = np.full(n, -1, np.int64)
    pe_of = np.zeros(n, np.int64)
    pieces_of = [np.flatnonzero(piece_pop == k) for k in range(len(population_labels))]
    cursor = 0
    for k in order:
        for p in pieces_of[k]:
            partners = nb[ptr[p]:ptr[p + 1]]
            placed = chip_of[partners] >= 0
            if placed.any():
                votes = np.bincount(chip_of[partners[placed]], weights=nw[ptr[p]:ptr[p + 1]]
                                    [placed], minlength=n_chips)
                pref = int(np.argmax(votes))
                if free[pref] > 0:
                    chip = pref
                else:
                    dx = xy[:, 0] - xy[pref, 0]
                    dy = xy[:, 1] - xy[pref, 1]
                    score = hop_distance(dx, dy) * n_chips + walk_rank
                    chip = int(np.argmin(np.where(free > 0, score, np.iinfo(np.int64).max)))
            else:
                while free[walk_id[cursor]] == 0:
                    cursor += 1
                chip = int(walk_id[cursor])
            chip_of[p] = chip
            pe_of[p] = machine.pes_per_chip - free[chip]
            free[chip] -= 1
    return tuple(Placement((int(c % machine.width), int(c // machine.width)), int(pe))
                 for c, pe in zip(chip_of, pe_of, strict=True))
