"""Compress: shrink router tables so they fit the chip's 16,384 entries.

Three transformations, each exact (every key that reaches the chip leaves it on the same links
and reaches the same PEs), after the minimisers of rig and PACMAN (Mundy et al., "On-chip
order-exploiting routing table minimization for a multicast supercomputer network", 2016):

1. Default-route removal. A chip forwards a packet that matches no entry straight through, to
   the link opposite the one it arrived on. An entry that does exactly that (one link in, the
   opposite link out, no local PE) is dropped.
2. Aligned merging. Entries with the same route whose key slots form an aligned block of
   ``2**b`` slots become one entry with the low ``b`` slot bits masked out. It matches
   exactly the keys of the entries it replaces, so entry order never matters. Keys are
   allocated population by population in aligned blocks (:mod:`.keys`), so the pieces of a
   population that go to the same places become one entry.
3. Ordered covering, only for tables still over capacity (or on request). Routes are taken
   from the rarest to the most common; each route's keys are covered by as few ternary
   entries as possible, grown bit by bit from the lowest, that take in no key of a later
   route and no default-routed key. Keys of earlier routes may be taken in, since their own
   entries come first and win; keys that never reach the chip are free to take in. The most
   common route then usually needs one or two entries.

The result is checked independently by :mod:`.check`.
"""

from __future__ import annotations

import numpy as np

from .route import N_LINKS, RouterTable

FULL = (1 << 32) - 1


def default_routable(table: RouterTable) -> np.ndarray:
    """True for each entry the chip's default route would replace."""
    words = table.route
    links = words[:, 0] & ((1 << N_LINKS) - 1)
    has_pe = ((words[:, 0] >> N_LINKS) != 0) | np.any(words[:, 1:] != 0, axis=1)
    arrived = table.arrives_on >= 0
    opposite = np.uint32(1) << ((table.arrives_on.astype(np.int64) + 3) % N_LINKS).astype(
        np.uint32)
    return arrived & ~has_pe & (links == opposite)


def _take(table: RouterTable, sel: np.ndarray) -> RouterTable:
    return RouterTable(table.key[sel], table.mask[sel], table.route[sel],
                       table.arrives_on[sel])


def _route_groups(route: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique routes, group of each entry)."""
    if route.shape[0] == 0:
        return route, np.zeros(0, np.int64)
    view = np.ascontiguousarray(route).view([("w", route.dtype, route.shape[1])]).reshape(-1)
    uniq, inverse = np.unique(view, return_inverse=True)
    return uniq.view(route.dtype).reshape(-1, route.shape[1]), inverse.reshape(-1)


def merge_aligned(table: RouterTable, neuron_bits: int) -> RouterTable:
    """Merge same-route entries that fill aligned blocks of key slots (exact, order-free).

    The input's entries must be exact piece blocks (one slot each, full slot mask).
    """
    if len(table) == 0:
        return table
    routes, group = _route_groups(table.route)
    slot_bits = 32 - neuron_bits
    codes = np.unique((group.astype(np.int64) << slot_bits) | (table.key.astype(np.int64)
                                                              >> neuron_bits))
    out_codes, out_level = [], []
    for level in range(slot_bits + 1):
        if codes.size == 0:
            break
        partner = np.minimum(np.searchsorted(codes, codes ^ 1), codes.size - 1)
        paired = codes[partner] == (codes ^ 1)
        if level == slot_bits:
            paired[:] = False
        out_codes.append(codes[~paired])
        out_level.append(np.full(int((~paired).sum()), level))
        evens = codes[paired & ((codes & 1) == 0)]
        g, v = evens >> slot_bits, evens & ((1 << slot_bits) - 1)
        codes = (g << slot_bits) | (v >> 1)
    codes, level = np.concatenate(out_codes), np.concatenate(out_level)
    g, v = codes >> slot_bits, codes & ((1 << slot_bits) - 1)
    shift = level + neuron_bits
    key = (v << shift).astype(np.uint32)
    mask = (FULL ^ ((np.int64(1) << shift) - 1)).astype(np.uint32)
    order = np.argsort(key, kind="stable")
    arrives = np.full(key.size, -1, np.int8)
    single = level == 0
    if single.any():
        # An entry kept as it was keeps its arrival link (for the reports).
        where = np.searchsorted(np.sort(table.key), key[single])
        arrives[single] = table.arrives_on[np.argsort(table.key)][where]
    return RouterTable(key[order], mask[order], routes[g][order], arrives[order])


def ordered_cover(table: RouterTable, default_keys: np.ndarray, neuron_bits: int
                  ) -> RouterTable:
    """Ordered covering of an exact table (see the module docstring).

    Parameters
    ----------
    table
        Entries that are exact piece blocks (one slot each), default routes removed.
    default_keys
        Keys that reach the chip and must match no entry: default-routed ones, and those of
        local pieces without an entry.
    neuron_bits
        Width of the key's neuron field (never looked at).
    """
    if len(table) == 0:
        return table
    slot_bits = 32 - neuron_bits
    full = (1 << slot_bits) - 1
    routes, group = _route_groups(table.route)
    slots = table.key.astype(np.int64) >> neuron_bits
    sizes = np.bincount(group, minlength=routes.shape[0])
    order = np.argsort(sizes, kind="stable")  # rarest routes first, most common last
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    off_default = np.asarray(default_keys, np.int64) >> neuron_bits
    keys_out, masks_out, groups_out = [], [], []
    for position, g in enumerate(order):
        on = np.sort(slots[group == g])
        if on.size == 1:
            values, cares = on, np.full(1, full, np.int64)
        else:
            later = slots[rank[group] > position]
            off = np.concatenate((later, off_default))
            values, cares = _cover(on, off, slot_bits)
        keys_out.append(values << neuron_bits)
        masks_out.append(cares << neuron_bits)
        groups_out.append(np.full(values.size, g))
    group_out = np.concatenate(groups_out)
    key = np.concatenate(keys_out).astype(np.uint32)
    return RouterTable(key, np.concatenate(masks_out).astype(np.uint32), routes[group_out],
                       np.full(key.size, -1, np.int8))


def _cover(on: np.ndarray, off: np.ndarray, slot_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Cubes (value, care) covering every ``on`` slot and no ``off`` slot, greedily grown
    from the lowest bit up."""
    full = (1 << slot_bits) - 1
    values, cares = [], []
    uncovered = on
    while uncovered.size:
        v = int(uncovered[0])
        care = full
        for b in range(slot_bits):
            trial = care & ~(1 << b)
            if not np.any((off & trial) == (v & trial)):
                care = trial
        value = v & care
        values.append(value)
        cares.append(care)
        uncovered = uncovered[(uncovered & care) != value]
    return np.array(values, np.int64), np.array(cares, np.int64)


def compress(table: RouterTable, capacity: int, neuron_bits: int,
             minimise: bool = False, local_keys: np.ndarray | None = None) -> RouterTable:
    """The compressed table: exact (every key reaches the same PEs through it).

    Parameters
    ----------
    table
        The uncompressed table (exact piece blocks, as :func:`.route.route` writes them).
    capacity
        Entries the chip's router holds; ordered covering runs only above it.
    neuron_bits
        Width of the key's neuron field.
    minimise
        Run ordered covering even when the table already fits.
    local_keys
        Keys of the pieces placed on this chip. Their packets start here whether or not they
        have an entry; those without one must stay unmatched (dropped), so ordered covering
        may not take them in.
    """
    default = default_routable(table)
    kept = _take(table, np.flatnonzero(~default))
    merged = merge_aligned(kept, neuron_bits)
    if len(merged) <= capacity and not minimise:
        return merged
    unmatched = table.key[default].astype(np.int64)
    if local_keys is not None:
        local = np.asarray(local_keys, np.int64)
        unmatched = np.union1d(unmatched, np.setdiff1d(local, kept.key.astype(np.int64)))
    covered = ordered_cover(kept, unmatched, neuron_bits)
    return covered if len(covered) < len(merged) else merged
