"""Decoding the image's synapses: per source neuron, every synapse its packets reach.

Every key block is routed once through the compiled router tables (all together, see
:mod:`.router`); each (source core, target core) delivery finds its master population table
entry, whose rows (one per source neuron) point into the target core's synapses. Rows are put
in source-neuron order and expanded into synapses, so the result is a CSR with no sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ImageError
from ...image.machine_image import DELAY_SHIFT, DYNAMIC_SHIFT, RECEPTOR_SHIFT, MachineImage
from ...image.rows import stable_group
from .layout import Layout
from .router import Router

#: Synapses decoded per block at load (16 MB of temporaries at most).
LOAD_BLOCK = 1 << 21


@dataclass
class Synapses:
    """Every loaded synapse, grouped by source neuron (neuron ``n``'s are ``ptr[n]`` to
    ``ptr[n + 1]``).

    Parameters
    ----------
    ptr
        CSR pointers, one per global neuron plus one.
    delay
        Delay in steps.
    slot
        Place in an input ring slot: receptor x neurons + global target neuron.
    weight
        float32 weight (plastic synapses change it as they learn).
    core
        Target core.
    dynamic
        Whether the synapse is short-term plastic (Tsodyks-Markram).
    fan_out
        (source neuron, target core, synapses) per non-empty row, in neuron order: the work
        counters' fan-out.
    """

    ptr: np.ndarray
    delay: np.ndarray
    slot: np.ndarray
    weight: np.ndarray
    core: np.ndarray
    dynamic: np.ndarray
    fan_out: tuple[np.ndarray, np.ndarray, np.ndarray]


def load_synapses(image: MachineImage, layout: Layout
                  ) -> tuple[Synapses, np.ndarray, np.ndarray]:
    """The synapses of ``image``, as the cores' packets reach them through the router.

    Returns
    -------
    synapses
        The decoded synapses.
    idx, base
        Each synapse's index into the cores' ``synapses`` regions joined end to end, and
        where each core's region starts there: what the regions parallel to the synapses
        (see :func:`parallel`) are read through. Large: drop them after loading.

    Raises
    ------
    ImageError
        When a key is routed where no core is loaded, a core has more rows than its source
        has neurons, or a delay does not fit the input rings.
    """
    cores = image.cores
    pes = image.machine.pes_per_chip
    sending = np.array([i for i, c in enumerate(cores) if c.n_neurons > 0], np.int64)
    router = Router(image)
    keys = np.array([cores[i].key for i in sending], np.int64)
    router.check_blocks(keys, np.array([cores[i].mask for i in sending], np.int64))
    chips = np.array([cores[i].chip for i in sending], np.int64).reshape(-1, 2)
    packet, at, pe = router.deliver_all(keys, chips)
    core_at = np.full(image.machine.n_chips * pes, -1, np.int64)
    for i, c in enumerate(cores):
        core_at[(c.chip[1] * image.machine.width + c.chip[0]) * pes + c.pe] = i
    d = core_at[(at[:, 1] * image.machine.width + at[:, 0]) * pes + pe]
    if np.any(d < 0):
        k = int(np.argmax(d < 0))
        raise ImageError(f"key {int(keys[packet[k]]):#010x} is routed to "
                         f"{(tuple(int(v) for v in at[k]), int(pe[k]))}, where no core "
                         f"is loaded")
    s = sending[packet]
    entry, n_rows, row_start = _match_master_tables(cores, keys[packet], d)
    keep = entry >= 0  # a packet with no synaptic row is dropped, as on the chip
    s, d, n_rows, row_start = s[keep], d[keep], n_rows[keep], row_start[keep]
    n_local = np.array([c.n_neurons for c in cores], np.int64)
    if np.any(n_rows > n_local[s]):
        k = int(np.argmax(n_rows > n_local[s]))
        raise ImageError(f"core {cores[d[k]].chip}:{cores[d[k]].pe} has {int(n_rows[k])} "
                         f"rows for a source core of {int(n_local[s[k]])} neurons")
    # Rows of every (source, target) pair, ordered by source neuron, then target core.
    order = np.lexsort((d, s))
    s, d, n_rows, row_start = s[order], d[order], n_rows[order], row_start[order]
    row_index, row_base = _joined([c.dram["row_index"] for c in cores])
    synapses, syn_base = _joined([c.dram["synapses"] for c in cores])
    src_neuron, first, lengths, row_core = _nonempty_rows(
        layout.offsets[s], d, n_rows, row_start, row_index, row_base, syn_base,
        index_type(layout.n_neurons), index_type(len(cores)))
    # In source-neuron order; a neuron's rows stay in target-core order (stable).
    by_neuron = stable_group(src_neuron, layout.n_neurons).astype(np.int64)
    src_neuron, first = src_neuron[by_neuron], first[by_neuron]
    lengths, row_core = lengths[by_neuron], row_core[by_neuron]
    del by_neuron
    total = int(lengths.sum(dtype=np.int64))
    # Synapse k of row r is synapses[first[r] + k]: a running count that jumps at each
    # row's first synapse (one array, no temporaries: fresh memory is slow to touch).
    idx = np.ones(total, np.int64)
    if total:
        starts = np.cumsum(lengths, dtype=np.int64) - lengths
        idx[starts] = np.r_[first[0], np.diff(first) - lengths[:-1] + 1]
        del starts
        np.cumsum(idx, out=idx)
    del first
    # Per-synapse arrays in the narrowest integer type that holds their range: they are the
    # emulator's host memory per synapse (see benchmarks/brunel.py's bytes per synapse).
    target_core = np.repeat(row_core, lengths)
    slot = np.empty(total, index_type(layout.n_receptors * layout.n_neurons))
    delay = np.empty(total, index_type(layout.ring_slots, unsigned=True))
    weight = np.empty(total, np.float32)
    dynamic = np.empty(total, bool)
    offsets = layout.offsets.astype(slot.dtype)
    # Decoded in blocks small enough for their temporaries to be reused, not mapped anew.
    for a in range(0, total, LOAD_BLOCK):
        b = min(total, a + LOAD_BLOCK)
        syn = synapses[idx[a:b]]
        control = syn["control"]
        weight[a:b] = syn["weight"]
        np.take(offsets, target_core[a:b], out=slot[a:b])
        slot[a:b] += (control & 0xFFFF).astype(slot.dtype)
        receptor = ((control >> RECEPTOR_SHIFT) & 0x7).astype(slot.dtype)
        receptor *= slot.dtype.type(layout.n_neurons)
        slot[a:b] += receptor
        steps = control >> DELAY_SHIFT
        if steps.size and int(steps.max()) > np.iinfo(delay.dtype).max:
            raise ImageError(f"synaptic delays up to {int(steps.max())} steps do not fit "
                             f"input rings of {layout.ring_slots} slots")
        delay[a:b] = steps
        dynamic[a:b] = (control >> DYNAMIC_SHIFT) & 1
    if total and (delay.min() < 1 or delay.max() >= layout.ring_slots):
        raise ImageError(f"synaptic delays {delay.min()}..{delay.max()} steps do not "
                         f"fit input rings of {layout.ring_slots} slots")
    counts = np.bincount(src_neuron, weights=lengths, minlength=layout.n_neurons)
    ptr = np.concatenate(([0], np.cumsum(counts.astype(np.int64))))
    # Each row is one source neuron's synapses on one target core, in neuron order.
    fan_out = (src_neuron, row_core, lengths)
    return Synapses(ptr, delay, slot, weight, target_core, dynamic, fan_out), idx, syn_base


def _nonempty_rows(first_neuron: np.ndarray, target: np.ndarray, n_rows: np.ndarray,
                   row_start: np.ndarray, row_index: np.ndarray, row_base: np.ndarray,
                   syn_base: np.ndarray, neuron_type: np.dtype, core_type: np.dtype
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows that hold synapses, of every (source core, target core) pair: their source
    neuron, first synapse in the joined ``synapses`` regions, length and target core.

    Pairs are expanded into rows a block at a time and the empty rows dropped there, so the
    temporaries are a block's and what is kept is a few bytes per non-empty row: the row
    index has one row per source neuron per target core, which outnumbers the synapses of
    a sparse network.

    Parameters
    ----------
    first_neuron, target, n_rows, row_start
        Per pair: the global number of the source core's first neuron, the target core, its
        rows (one per source neuron) and where they start in the target's ``row_index``.
    row_index, row_base
        Every core's ``row_index`` joined, and where each core's starts.
    syn_base
        Where each core's ``synapses`` start in the joined synapses.
    neuron_type, core_type
        Integer types of the neuron numbers and core indices kept.
    """
    ends = np.cumsum(n_rows, dtype=np.int64)
    parts: list[tuple[np.ndarray, ...]] = []
    p0 = 0
    while p0 < n_rows.size:
        # Pairs p0 .. p1 - 1 hold about LOAD_BLOCK rows (at least one pair).
        p1 = max(p0 + 1, int(np.searchsorted(ends, ends[p0] - n_rows[p0] + LOAD_BLOCK,
                                             side="right")))
        counts = n_rows[p0:p1]
        pair = np.repeat(np.arange(p0, p1), counts)
        local = np.arange(pair.size) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = row_index[row_base[target[pair]] + row_start[pair] + local]
        keep = rows["length"] > 0
        pair, local, rows = pair[keep], local[keep], rows[keep]
        parts.append(((first_neuron[pair] + local).astype(neuron_type),
                      syn_base[target[pair]] + rows["start"].astype(np.int64),
                      rows["length"].astype(np.int32),  # a core's synapses at most
                      target[pair].astype(core_type)))
        p0 = p1
    if not parts:
        return (np.zeros(0, neuron_type), np.zeros(0, np.int64), np.zeros(0, np.int32),
                np.zeros(0, core_type))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def index_type(n: int, unsigned: bool = False) -> np.dtype:
    """The narrowest of 8 (unsigned only), 16, 32 and 64-bit integers that holds 0 .. n - 1
    and sums of two such values (ring positions add a slot offset to a synapse's offset)."""
    kinds = ((np.uint8, np.uint16, np.uint32) if unsigned else (np.int16, np.int32))
    for kind in kinds:
        if 2 * n <= np.iinfo(kind).max:
            return np.dtype(kind)
    return np.dtype(np.int64)


def parallel(image: MachineImage, region: str, idx: np.ndarray, default: object
             ) -> np.ndarray:
    """Region ``region`` of every core, parallel to its synapses, at global synapse
    positions ``idx`` (``default`` where a core's region is empty)."""
    cores = image.cores
    parts = [c.dram.get(region) for c in cores]
    dtype = next((p.dtype for p in parts if p is not None and p.size),
                 np.asarray(default).dtype)
    if all(p is None or p.size == 0 for p in parts):
        return np.full(idx.size, default, dtype)
    padded = [p if p is not None and p.size else np.full(c.dram["synapses"].size, default,
                                                         dtype)
              for p, c in zip(parts, cores, strict=True)]
    return np.concatenate(padded)[idx]


def _match_master_tables(cores: tuple, keys: np.ndarray, target: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry, n_rows, row_start) of the first master population table entry of core
    ``target`` that each key matches (entry -1 where none does)."""
    tables = [c.sram["master_pop_table"] for c in cores]
    owner = np.repeat(np.arange(len(tables)), [t.size for t in tables])
    mpt = np.concatenate(tables) if owner.size else np.zeros(0, tables[0].dtype)
    position = np.arange(owner.size)
    best = np.full(keys.size, -1, np.int64)
    for m in np.unique(mpt["mask"]).tolist():
        sel = np.flatnonzero(mpt["mask"] == m)
        code = owner[sel] * (1 << 32) + mpt["key"][sel].astype(np.int64)
        order = np.argsort(code, kind="stable")
        code, ids = code[order], position[sel][order]
        q = target * (1 << 32) + (keys & m)
        pos = np.minimum(np.searchsorted(code, q), code.size - 1)
        hit = code[pos] == q
        cand = np.where(hit, ids[pos], -1)
        better = (cand >= 0) & ((best < 0) | (cand < best))
        best = np.where(better, cand, best)
    safe = np.maximum(best, 0)
    if mpt.size == 0:
        return best, np.zeros(keys.size, np.int64), np.zeros(keys.size, np.int64)
    return (best, mpt["n_rows"][safe].astype(np.int64),
            mpt["row_start"][safe].astype(np.int64))


def _joined(regions: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The regions of every core as one array, and where each starts in it. Regions that are
    consecutive slices of one buffer (as the image builder lays them out) are used in place;
    otherwise they are copied together."""
    starts = np.concatenate(([0], np.cumsum([r.size for r in regions]))).astype(np.int64)
    base = regions[0].base if regions else None
    if base is not None and isinstance(base, np.ndarray) and base.dtype == regions[0].dtype \
            and base.ndim == 1 and all(r.base is base and r.flags.c_contiguous
                                       for r in regions):
        origin = base.__array_interface__["data"][0]
        item = base.dtype.itemsize
        where = np.array([(r.__array_interface__["data"][0] - origin) // item
                          for r in regions], np.int64)
        if np.array_equal(where, starts[:-1]) or regions[0].size == 0:
            return base, where
    if not regions:
        return np.zeros(0), starts
    return np.concatenate(regions), starts
