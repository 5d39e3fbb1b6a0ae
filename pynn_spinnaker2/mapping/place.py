"""Placement: one PE per piece.

Pieces are placed in network order, filling each chip's PEs before the next chip, so the
pieces of one population sit together and feed-forward neighbours sit on the same or adjacent
chips; the chips are visited in a serpentine order so that consecutive chips are neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MappingError
from ..machine import Machine
from .partition import Piece


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


def place(pieces: tuple[Piece, ...], machine: Machine) -> tuple[Placement, ...]:
    """Place every piece on a PE of ``machine``.

    Raises
    ------
    MappingError
        When there are more pieces than PEs; names the populations that use the most PEs.
    """
    if len(pieces) > machine.n_pes:
        per_pop: dict[str, int] = {}
        for piece in pieces:
            per_pop[piece.population] = per_pop.get(piece.population, 0) + 1
        biggest = sorted(per_pop.items(), key=lambda kv: -kv[1])[:3]
        needed = -(-len(pieces) // machine.pes_per_chip)
        raise MappingError(
            f"the network needs {len(pieces)} PEs but the machine has {machine.n_pes} "
            f"({machine.n_chips} chips x {machine.pes_per_chip}); largest users: "
            + ", ".join(f"{label!r} ({n} PEs)" for label, n in biggest)
            + f". Ask for at least {needed} chips, e.g. sim.setup(n_chips={needed}), or "
            f"raise their neurons per core")
    chips = chip_order(machine)
    return tuple(Placement(chips[i // machine.pes_per_chip], i % machine.pes_per_chip)
                 for i in range(len(pieces)))
