"""An independent checker of router tables, written apart from the router builder, the
compressor and the emulator's router.

It follows one packet per key block hop by hop, with the hardware's rules (the first matching
entry wins; a packet matching nothing goes straight on if it came over a link and is dropped
on its source chip), and proves that each block reaches exactly the PEs that hold its
synapses, with no loop and no packet leaving the machine; that no entry looks at the neuron
field of a key (so every key of a block goes where the block's first key goes); and that no
table exceeds the router's capacity. All packets are followed together, one hop per round.

Tables may be :class:`~pynn_spinnaker2.mapping.route.RouterTable` objects or the image's
``ROUTER_DTYPE`` arrays; routes are decoded here from the raw bits (bits 0-5: links, bit
6 + p: PE p).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import MappingError
from ..machine import LINKS, Machine

Chip = tuple[int, int]
_DX = np.array([dx for _, dx, _ in LINKS])
_DY = np.array([dy for _, _, dy in LINKS])


class RoutingCheckError(MappingError):
    """The router tables do not deliver a key exactly where it must go."""


def _arrays(table: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(table, np.ndarray):
        key, mask, route = table["key"], table["mask"], table["route"]
    else:
        key, mask, route = table.key, table.mask, table.route
    return (np.asarray(key, np.int64), np.asarray(mask, np.int64),
            np.asarray(route, np.uint32).reshape(len(key), 5))


def _bits(route: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, bit) of every set bit of each row's route words."""
    unpacked = np.unpackbits(np.ascontiguousarray(route, "<u4").view(np.uint8), axis=1,
                             bitorder="little")
    return np.nonzero(unpacked)


def _first_match(keys: np.ndarray, t_key: np.ndarray, t_mask: np.ndarray) -> np.ndarray:
    """Index of the first entry each key matches, or -1."""
    best = np.full(keys.size, np.iinfo(np.int64).max)
    for m in np.unique(t_mask):
        idx = np.flatnonzero(t_mask == m)
        order = np.argsort(t_key[idx], kind="stable")  # ties: the earlier entry first
        sorted_keys, sorted_idx = t_key[idx][order], idx[order]
        q = keys & m
        pos = np.minimum(np.searchsorted(sorted_keys, q), sorted_keys.size - 1)
        hit = sorted_keys[pos] == q
        best = np.where(hit, np.minimum(best, sorted_idx[pos]), best)
    return np.where(best == np.iinfo(np.int64).max, -1, best)


def check_capacity(tables: dict[Chip, object], machine: Machine,
                   owner: Callable[[int], str] | None = None) -> None:
    """Raise :class:`MappingError` for the fullest chip over the router's capacity;
    ``owner(key)`` names who an entry's key belongs to (a population)."""
    over = {chip: len(_arrays(t)[0]) for chip, t in tables.items()
            if len(_arrays(t)[0]) > machine.router_entries}
    if not over:
        return
    chip = max(over, key=over.get)
    keys = _arrays(tables[chip])[0]
    who = ""
    if owner is not None:
        names: dict[str, int] = {}
        for k in keys:
            name = owner(int(k))
            names[name] = names.get(name, 0) + 1
        top = sorted(names.items(), key=lambda kv: -kv[1])[:3]
        who = "; entries by source: " + ", ".join(f"{n}: {c}" for n, c in top)
    raise MappingError(
        f"chip {chip} needs {over[chip]} router entries after compression but its router "
        f"has {machine.router_entries}: {over[chip] - machine.router_entries} too many"
        f"{who} ({len(over)} chips over). Remedy: spread the network over more chips "
        f"(sim.setup(n_chips=...) or n_boards=...), or raise the neurons per core of the "
        f"source populations (fewer, larger pieces need fewer entries)")


def deliveries(tables: dict[Chip, object], keys: np.ndarray, chips: np.ndarray,
               machine: Machine) -> np.ndarray:
    """Follow a packet of each key from its chip; return (packet, chip id, PE) rows of
    every delivery, chip id = y * width + x.

    Raises
    ------
    RoutingCheckError
        A loop, or a packet leaving the machine.
    """
    width, n_chips = machine.width, machine.n_chips
    by_chip = {y * width + x: _arrays(t) for (x, y), t in tables.items()}
    keys = np.asarray(keys, np.int64)
    packet = np.arange(keys.size)
    chip = np.asarray(chips[:, 1] * width + chips[:, 0], np.int64)
    arrived = np.full(keys.size, -1, np.int64)
    visited = np.zeros(keys.size * n_chips, bool) if keys.size * n_chips <= 1 << 28 else None
    seen_codes: set[int] = set()
    out = []
    while packet.size:
        codes = packet * n_chips + chip
        if visited is not None:
            if visited[codes].any() or np.unique(codes).size != codes.size:
                bad = codes[visited[codes]][0] if visited[codes].any() else codes[0]
                _loop(keys, int(bad), n_chips, width)
            visited[codes] = True
        else:
            for c in codes.tolist():
                if c in seen_codes:
                    _loop(keys, c, n_chips, width)
                seen_codes.add(c)
        next_p, next_c, next_a = [], [], []
        for c in np.unique(chip):
            here = np.flatnonzero(chip == c)
            p, arr = packet[here], arrived[here]
            t_key, t_mask, t_route = by_chip.get(int(c), (np.zeros(0, np.int64),) * 2
                                                 + (np.zeros((0, 5), np.uint32),))
            hit = _first_match(keys[p], t_key, t_mask) if t_key.size else np.full(p.size, -1)
            matched = hit >= 0
            rows, bits = _bits(t_route[hit[matched]])
            mp = p[matched][rows]
            pe_bits = bits >= len(LINKS)
            out.append(np.stack([mp[pe_bits], np.full(int(pe_bits.sum()), c),
                                 bits[pe_bits] - len(LINKS)], axis=1))
            link_p, link = mp[~pe_bits], bits[~pe_bits]
            default = ~matched & (arr >= 0)
            link_p = np.concatenate((link_p, p[default]))
            link = np.concatenate((link, (arr[default] + 3) % len(LINKS)))
            x, y = int(c) % width + _DX[link], int(c) // width + _DY[link]
            if machine.wrap_around:
                x, y = x % machine.width, y % machine.height
            outside = (x < 0) | (x >= machine.width) | (y < 0) | (y >= machine.height)
            if outside.any():
                k = int(np.argmax(outside))
                raise RoutingCheckError(
                    f"key {int(keys[link_p[k]]):#010x} leaves the machine from chip "
                    f"{(int(c) % width, int(c) // width)} on link {LINKS[int(link[k])][0]}")
            next_p.append(link_p)
            next_c.append(y * width + x)
            next_a.append((link + 3) % len(LINKS))
        packet = np.concatenate(next_p) if next_p else np.zeros(0, np.int64)
        chip = np.concatenate(next_c) if next_c else np.zeros(0, np.int64)
        arrived = np.concatenate(next_a) if next_a else np.zeros(0, np.int64)
    return np.concatenate(out) if out else np.zeros((0, 3), np.int64)


def _loop(keys: np.ndarray, code: int, n_chips: int, width: int) -> None:
    p, c = divmod(code, n_chips)
    raise RoutingCheckError(f"key {int(keys[p]):#010x} visits chip {(c % width, c // width)} "
                            f"twice (a routing loop)")


def check_routing(tables: dict[Chip, object], keys: np.ndarray, chips: np.ndarray,
                  expected: np.ndarray, machine: Machine, neuron_bits: int,
                  describe: Callable[[int], str] | None = None,
                  owner: Callable[[int], str] | None = None) -> None:
    """Raise unless every key block reaches exactly its targets and every table fits.

    Parameters
    ----------
    tables
        Chip -> router table in priority order.
    keys, chips
        The first key of every sending block and its chip ((n, 2) coordinates), blocks
        without targets included (they must reach nobody).
    expected
        (block, chip x, chip y, PE) rows: where each block must be delivered.
    machine
        The machine: capacity and mesh.
    neuron_bits
        Width of the key's neuron field, which no entry may look at.
    describe
        Key -> a readable name (``population 'exc' piece 3``) for the messages.
    owner
        Key -> the population it belongs to (entries over capacity are counted by owner).
    """
    check_capacity(tables, machine, owner)
    field = (1 << neuron_bits) - 1
    for chip, t in tables.items():
        _, t_mask, _ = _arrays(t)
        if np.any(t_mask & field):
            bad = int(t_mask[np.argmax((t_mask & field) != 0)])
            raise RoutingCheckError(f"a router entry of chip {chip} looks at the neuron "
                                    f"field of its keys (mask {bad:#010x}); the neurons of "
                                    f"one piece would go different ways")
    got = deliveries(tables, keys, chips, machine)
    n_pes = machine.n_chips * machine.pes_per_chip
    got_codes = np.unique(got[:, 0] * n_pes + got[:, 1] * machine.pes_per_chip + got[:, 2])
    if got_codes.size != got.shape[0]:
        raise RoutingCheckError("a packet is delivered twice to the same PE")
    expected = np.asarray(expected, np.int64).reshape(-1, 4)
    want = np.unique(expected[:, 0] * n_pes + (expected[:, 2] * machine.width
                                               + expected[:, 1]) * machine.pes_per_chip
                     + expected[:, 3])
    missing = np.setdiff1d(want, got_codes, assume_unique=True)
    extra = np.setdiff1d(got_codes, want, assume_unique=True)
    if missing.size or extra.size:
        def show(codes: np.ndarray) -> str:
            rows = []
            for code in codes[:4].tolist():
                b, rest = divmod(code, n_pes)
                c, pe = divmod(rest, machine.pes_per_chip)
                name = describe(int(keys[b])) if describe else f"key {int(keys[b]):#010x}"
                rows.append(f"{name} -> chip {(c % machine.width, c // machine.width)} "
                            f"PE {pe}")
            return "; ".join(rows) + (f" (and {codes.size - 4} more)" if codes.size > 4
                                      else "")

        raise RoutingCheckError(
            "the router tables do not deliver exactly where the synapses are: "
            + (f"not delivered: {show(missing)}. " if missing.size else "")
            + (f"wrongly delivered: {show(extra)}." if extra.size else ""))
