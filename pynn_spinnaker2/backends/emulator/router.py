"""The chip router as the emulator runs it: ternary match of the compiled tables.

A packet entering a chip is compared with every entry of the chip's table at once (the
router's TCAM); the first match gives the links and PEs it goes to. A packet matching nothing
goes straight on (default routing) if it came over a link, and is dropped if it came from a
local PE. Each key block is walked once, when the image is loaded, all blocks together one
hop per round: a packet's route depends only on its key, and every packet of a block follows
the block's route whenever no entry looks at the bits the block's mask leaves free (checked
here).
"""

from __future__ import annotations

import numpy as np

from ...errors import ImageError
from ...image.machine_image import N_LINKS, MachineImage
from ...machine import LINKS

Chip = tuple[int, int]
_STEP = np.array([(dx, dy) for _, dx, dy in LINKS], np.int64)


class Router:
    """Router tables of every chip, ready for lookups."""

    def __init__(self, image: MachineImage) -> None:
        self.machine = image.machine
        self.tables = {chip: (t["key"].astype(np.int64), t["mask"].astype(np.int64),
                              np.asarray(t["route"], np.uint32).reshape(len(t), 5))
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
        self.check_blocks(np.array([key]), np.array([mask]))

    def check_blocks(self, keys: np.ndarray, masks: np.ndarray) -> None:
        """:meth:`check_block` for many blocks at once."""
        keys, masks = np.asarray(keys, np.int64), np.asarray(masks, np.int64)
        for block_mask in np.unique(masks):
            free = ~int(block_mask) & 0xFFFFFFFF
            these = keys[masks == block_mask]
            for chip, (t_keys, t_masks, _) in self.tables.items():
                suspect = np.flatnonzero((t_masks & free) != 0)
                for e in suspect.tolist():
                    common = int(t_masks[e]) & int(block_mask)
                    if np.any((these & common) == (int(t_keys[e]) & common)):
                        raise ImageError(
                            f"router table of chip {chip} distinguishes keys inside a block "
                            f"of mask {int(block_mask):#010x}; per-neuron routes are not "
                            f"supported by the emulator")

    def deliver(self, key: int, src: Chip) -> list[tuple[Chip, int]]:
        """All (chip, PE) a packet with ``key`` sent from ``src`` reaches."""
        packet, chip, pe = self.deliver_all(np.array([key]), np.array([src]))
        return [((int(x), int(y)), int(p)) for (x, y), p in zip(chip, pe, strict=True)]

    def deliver_all(self, keys: np.ndarray, sources: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where packets with ``keys`` sent from chips ``sources`` ((n, 2)) arrive.

        Returns
        -------
        packet, chip, pe
            One row per delivery: the packet's index, the chip (x, y) and the PE.

        Raises
        ------
        ImageError
            A routing loop, or a packet leaving the machine.
        """
        width, height = self.machine.width, self.machine.height
        keys = np.asarray(keys, np.int64)
        packet = np.arange(keys.size)
        at = np.asarray(sources, np.int64).reshape(-1, 2)
        arrived = np.full(keys.size, -1, np.int64)
        seen = np.zeros((keys.size, width * height), bool)
        out_p, out_c, out_pe = [], [], []
        while packet.size:
            flat = at[:, 1] * width + at[:, 0]
            if seen[packet, flat].any() or np.unique(packet * width * height + flat).size \
                    != packet.size:
                k = int(np.argmax(seen[packet, flat])) if seen[packet, flat].any() else 0
                raise ImageError(f"key {int(keys[packet[k]]):#010x} loops through chip "
                                 f"{tuple(int(v) for v in at[k])}")
            seen[packet, flat] = True
            nxt_p, nxt_at, nxt_arr = [], [], []
            for c in np.unique(flat).tolist():
                here = np.flatnonzero(flat == c)
                chip = (c % width, c // width)
                p, arr = packet[here], arrived[here]
                route = self._match(chip, keys[p])
                matched = route is not None
                if matched:
                    hit = route[0] >= 0
                    bits = np.unpackbits(np.ascontiguousarray(route[1][hit], "<u4").view(
                        np.uint8), axis=1, bitorder="little")
                    rows, on = np.nonzero(bits)
                    mp = p[hit][rows]
                    is_pe = on >= N_LINKS
                    out_p.append(mp[is_pe])
                    out_c.append(np.full(int(is_pe.sum()), c))
                    out_pe.append(on[is_pe] - N_LINKS)
                    link_p, link = mp[~is_pe], on[~is_pe]
                    miss = ~hit
                else:
                    link_p, link = np.zeros(0, np.int64), np.zeros(0, np.int64)
                    miss = np.ones(p.size, bool)
                default = miss & (arr >= 0)
                link_p = np.concatenate((link_p, p[default]))
                link = np.concatenate((link, (arr[default] + 3) % N_LINKS)).astype(np.int64)
                to = np.array(chip) + _STEP[link]
                if self.machine.wrap_around:
                    to %= (width, height)
                off = (to[:, 0] < 0) | (to[:, 0] >= width) | (to[:, 1] < 0) | (to[:, 1] >= height)
                if off.any():
                    k = int(np.argmax(off))
                    raise ImageError(f"key {int(keys[link_p[k]]):#010x} leaves the machine at "
                                     f"chip {chip} through the {LINKS[int(link[k])][0]} link")
                nxt_p.append(link_p)
                nxt_at.append(to)
                nxt_arr.append((link + 3) % N_LINKS)
            packet = np.concatenate(nxt_p) if nxt_p else np.zeros(0, np.int64)
            at = np.concatenate(nxt_at) if nxt_at else np.zeros((0, 2), np.int64)
            arrived = np.concatenate(nxt_arr) if nxt_arr else np.zeros(0, np.int64)
        if not out_p:
            return np.zeros(0, np.int64), np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
        flat = np.concatenate(out_c)
        return (np.concatenate(out_p), np.stack([flat % width, flat // width], axis=1),
                np.concatenate(out_pe))

    def _match(self, chip: Chip, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(first matching entry or -1, its route words) for each key, or None without a
        table."""
        table = self.tables.get(chip)
        if table is None or table[0].size == 0:
            return None
        t_keys, t_masks, routes = table
        first = np.full(keys.size, -1, np.int64)
        for m in np.unique(t_masks):
            idx = np.flatnonzero(t_masks == m)
            order = np.argsort(t_keys[idx], kind="stable")
            ks, ids = t_keys[idx][order], idx[order]
            q = keys & m
            pos = np.minimum(np.searchsorted(ks, q), ks.size - 1)
            hit = ks[pos] == q
            cand = np.where(hit, ids[pos], -1)
            better = (cand >= 0) & ((first < 0) | (cand < first))
            first = np.where(better, cand, first)
        return first, routes[np.maximum(first, 0)]

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
