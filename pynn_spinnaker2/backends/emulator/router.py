"""The chip router as the emulator runs it: ternary match of the compiled tables.

A packet entering a chip is compared with every entry of the chip's table at once (the
router's TCAM); the first match gives the links and PEs it goes to. A packet matching nothing
goes straight on (default routing) if it came over a link, and is dropped if it came from a
local PE. Each key block is walked once, when the image is loaded: a packet's route depends
only on its key, and every packet of a block follows the block's route whenever no entry
looks at the bits the block's mask leaves free (checked here).
"""

from __future__ import annotations

import numpy as np

from ...errors import ImageError
from ...image.model import N_LINKS, MachineImage
from ...machine import LINKS

Chip = tuple[int, int]


class Router:
    """Router tables of every chip, ready for lookups."""

    def __init__(self, image: MachineImage) -> None:
        self.machine = image.machine
        self.tables = {chip: (t["key"].astype(np.int64), t["mask"].astype(np.int64), t["route"])
                       for chip, t in image.router_tables.items()}

    def lookup(self, chip: Chip, key: int) -> np.ndarray | None:
        """Route words of the first entry matching ``key`` on ``chip``, or None."""
        table = self.tables.get(chip)
        if table is None:
            return None
        keys, masks, routes = table
        hit = np.flatnonzero((key & masks) == keys)
        return routes[hit[0]] if hit.size else None

    def check_block(self, key: int, mask: int) -> None:
        """Refuse tables that split a key block (then one walk per block would be wrong)."""
        free = ~mask & 0xFFFFFFFF
        for chip, (keys, masks, _) in self.tables.items():
            overlaps = (keys & masks & mask) == (key & masks & mask)
            if np.any(overlaps & ((masks & free) != 0)):
                raise ImageError(f"router table of chip {chip} distinguishes keys inside block "
                                 f"{key:#010x}/{mask:#010x}; per-neuron routes are not "
                                 f"supported by the emulator")

    def deliver(self, key: int, src: Chip) -> list[tuple[Chip, int]]:
        """All (chip, PE) a packet with ``key`` sent from ``src`` reaches."""
        return self.walk(key, src)[0]

    def walk(self, key: int, src: Chip) -> tuple[list[tuple[Chip, int]], list[Chip]]:
        """The (chip, PE) a packet with ``key`` sent from ``src`` reaches, and every chip
        whose router it passes (each looks it up once)."""
        out: list[tuple[Chip, int]] = []
        pending: list[tuple[Chip, int | None]] = [(src, None)]
        visited: set[Chip] = set()
        while pending:
            chip, arrived_on = pending.pop()
            if chip in visited:
                raise ImageError(f"key {key:#010x} loops through chip {chip}")
            visited.add(chip)
            route = self.lookup(chip, key)
            if route is None:
                if arrived_on is None:
                    continue
                links, pes = [(arrived_on + 3) % 6], np.zeros(0, dtype=int)
            else:
                bits = np.unpackbits(route.astype("<u4").view(np.uint8), bitorder="little")
                on = np.flatnonzero(bits)
                links, pes = [int(b) for b in on[on < N_LINKS]], on[on >= N_LINKS] - N_LINKS
            out.extend((chip, int(pe)) for pe in pes)
            for link in links:
                nxt = self.machine.neighbour(chip, link)
                if nxt is None:
                    raise ImageError(f"key {key:#010x} leaves the machine at chip {chip} "
                                     f"through the {LINKS[link][0]} link")
                pending.append((nxt, (link + 3) % 6))
        return out, sorted(visited)
