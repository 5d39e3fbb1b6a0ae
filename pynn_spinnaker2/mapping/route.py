"""Routes: a multicast tree per source piece, written as router entries on every chip it
crosses.

A packet leaves its source chip and travels to each destination chip along a fixed
shortest path of the triangular chip mesh: diagonal links first while both offsets have the
same sign, then straight along x, then along y. Paths that share a prefix share their links,
so the union of one source's paths is a tree. Every chip on the tree gets one entry for the
source's key block: the links to forward on and the local PEs to deliver to.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..machine import LINKS, Machine
from .keys import KeyBlock
from .place import Placement

Chip = tuple[int, int]
LINK_INDEX = {(dx, dy): i for i, (_, dx, dy) in enumerate(LINKS)}


@dataclass(frozen=True)
class RouterEntry:
    """One multicast router table entry.

    Parameters
    ----------
    key, mask
        A packet matches when ``packet_key & mask == key``.
    links
        Chip-to-chip links (indices into :data:`~pynn_spinnaker2.machine.LINKS`) it is sent on.
    pes
        Local PEs it is delivered to.
    arrives_on
        The link the packet enters this chip through (None on the source chip). Not part of
        the hardware entry; the compressor uses it to spot default-routable entries.
    """

    key: int
    mask: int
    links: tuple[int, ...]
    pes: tuple[int, ...]
    arrives_on: int | None = None

    def same_route(self, other: RouterEntry) -> bool:
        """True when both entries send packets to the same links and PEs."""
        return self.links == other.links and self.pes == other.pes


def path(src: Chip, dst: Chip, machine: Machine) -> list[tuple[Chip, int]]:
    """The hops (chip left, link taken) from ``src`` to ``dst``."""
    hops: list[tuple[Chip, int]] = []
    x, y = src
    dx, dy = dst[0] - x, dst[1] - y
    while (dx, dy) != (0, 0):
        if dx and dy and (dx > 0) == (dy > 0):
            step = (1, 1) if dx > 0 else (-1, -1)
        elif dx:
            step = (1 if dx > 0 else -1, 0)
        else:
            step = (0, 1 if dy > 0 else -1)
        hops.append(((x, y), LINK_INDEX[step]))
        x, y = x + step[0], y + step[1]
        dx, dy = dx - step[0], dy - step[1]
    return hops


def build_tree(src: Chip, destinations: dict[Chip, set[int]], machine: Machine
               ) -> dict[Chip, tuple[set[int], set[int], int | None]]:
    """Chip -> (outgoing links, local PEs, arrival link) for one source's multicast tree."""
    tree: dict[Chip, tuple[set[int], set[int], int | None]] = {src: (set(), set(), None)}
    for dst, pes in destinations.items():
        for chip, link in path(src, dst, machine):
            tree[chip][0].add(link)
            _, dx, dy = LINKS[link]
            nxt = (chip[0] + dx, chip[1] + dy)
            arrival = (link + 3) % 6
            if nxt not in tree:
                tree[nxt] = (set(), set(), arrival)
        tree[dst][1].update(pes)
    return tree


def route(keys: tuple[KeyBlock, ...], placements: tuple[Placement, ...],
          targets: dict[int, set[int]], machine: Machine) -> dict[Chip, list[RouterEntry]]:
    """Router tables (uncompressed) for every chip.

    Parameters
    ----------
    keys, placements
        Per piece.
    targets
        Source piece -> pieces that hold synapses from it.
    machine
        The machine (for its mesh).
    """
    tables: dict[Chip, list[RouterEntry]] = {}
    for src, dsts in sorted(targets.items()):
        if not dsts:
            continue
        by_chip: dict[Chip, set[int]] = {}
        for d in dsts:
            by_chip.setdefault(placements[d].chip, set()).add(placements[d].pe)
        tree = build_tree(placements[src].chip, by_chip, machine)
        for chip, (links, pes, arrival) in tree.items():
            tables.setdefault(chip, []).append(RouterEntry(
                keys[src].key, keys[src].mask, tuple(sorted(links)), tuple(sorted(pes)),
                arrival))
    return tables
