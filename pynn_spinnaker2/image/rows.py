"""Synaptic regions of every core: key table, row index, synaptic words and the per-synapse
regions some synapse types need, built in one pass over all synapses (a stable counting sort
by row), so the cost grows with the synapses, not with synapses times cores.

Which per-synapse region a synapse type fills, its record format and how its records are
encoded are the type's (``SynapseType.region``, ``record_dtype``, ``encode``, ``blank`` in
:mod:`pynn_spinnaker2.synapses.types`).
"""

from __future__ import annotations

import numpy as np

from ..cells import RECEPTOR_INDEX
from ..errors import MappingError
from ..mapping import Mapping, passes
from ..mapping.regions import REGION, REGIONS
from ..network import Network, ProjectionSpec
from ..synapses import SYNAPSE_TYPES, is_plastic, synapse_region
from ..synapses.stdp import STDP_POST_DTYPE, trace_slots
from ..synapses.types import region_type
from .machine_image import (
    MPT_DTYPE,
    ROW_DTYPE,
    SYNAPSE_DTYPE,
    PlasticIndex,
    encode_control,
)
from .neurons import Written


def stable_group(keys: np.ndarray, n_keys: int, values: np.ndarray | None = None
                 ) -> np.ndarray:
    """``values`` reordered so that ``keys`` increase, keeping the original order inside
    each group: a counting sort (scipy's sparse transpose), linear in the number of keys.

    Parameters
    ----------
    keys : numpy.ndarray
        Integers in [0, n_keys).
    n_keys : int
        Number of distinct keys possible.
    values : numpy.ndarray, optional
        A plain numeric type (view records as an unsigned integer); default: the positions,
        so that the result is the permutation.

    Returns
    -------
    numpy.ndarray
        The values in stable key order.
    """
    import scipy.sparse as sp

    n = keys.size
    index = np.int32 if max(n, n_keys) < 2**31 - 1 else np.int64
    data = np.arange(n, dtype=index) if values is None else values
    matrix = sp.csr_matrix((data, keys.astype(index, copy=False),
                            np.arange(n + 1, dtype=index)), shape=(n, max(n_keys, 1)))
    return matrix.tocsc().data


def synaptic_rows(network: Network, mapping: Mapping
                  ) -> tuple[Written, tuple[PlasticIndex, ...]]:
    """The synaptic regions of every target piece (the ``rows`` writer of the image), and
    where each plastic projection's synapses went.

    Each target piece's master population table lists, in key order, every source piece that
    sends to it; each entry owns one row per neuron of its source piece (empty rows
    included: the row index is addressed by the neuron field of the key), and each row lists
    the synapses of one source neuron onto the piece.

    Parameters
    ----------
    network : Network
        The network.
    mapping : Mapping
        Its mapping.

    Returns
    -------
    tuple of (Written, tuple of PlasticIndex)
        Piece index -> region name -> array; and per plastic projection, its index map.
    """
    pieces = mapping.pieces
    n = len(pieces)
    links = mapping.connectivity
    if links.src.size == 0:
        return {}, ()
    dt = network.timestep
    size = np.array([p.size for p in pieces], np.int64)
    lo = np.array([p.lo for p in pieces], np.int64)
    key = np.array([k.key for k in mapping.keys], np.int64)
    mask = np.array([k.mask for k in mapping.keys], np.int64)
    # Pairs (target, source) in master-population-table order: by target, then source key.
    order = np.lexsort((key[links.src], links.dst))
    pt, ps = links.dst[order], links.src[order]
    n_rows = size[ps]
    pair_row = np.cumsum(n_rows) - n_rows  # first global row of each pair
    t_first_pair = np.searchsorted(pt, np.arange(n + 1))
    t_row_base = np.concatenate((pair_row, [int(n_rows.sum())]))[t_first_pair]
    total_rows = int(n_rows.sum())
    pair_rank = np.empty(order.size, np.int64)
    pair_rank[order] = np.arange(order.size)  # connectivity row -> MPT-order pair

    used = [p for p in network.projections if len(p)]
    # The per-synapse regions some synapse onto some core needs, in declaration order.
    needed = {synapse_region(p.synapse) for p in used}
    extra = [r.name for r in REGIONS if r.name in needed]
    index = np.int32 if max(total_rows, n * n) < 2**31 - 1 else np.int64
    total = sum(len(p) for p in network.projections)
    unsorted = np.empty(total, SYNAPSE_DTYPE)
    row_id = np.empty(total, index)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in extra}
    on_core = {name: np.zeros(n, bool) for name in extra}
    learners = []
    block = passes.BLOCK
    at = 0
    luts: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for number, proj in enumerate(network.projections):
        if not len(proj):
            continue
        for label in (proj.pre, proj.post):
            if label not in luts:
                luts[label] = _local_lookup(mapping, network.population(label).size, label,
                                            index)
        s_lut, _, s0 = luts[proj.pre]
        t_lut, t_local_lut, t0 = luts[proj.post]
        n_pre, n_post = len(mapping.pieces_of(proj.pre)), len(mapping.pieces_of(proj.post))
        # Per (source piece, target piece) of this projection: its first row, less the first
        # neuron of the source piece, so that row = table[pair] + presynaptic index.
        in_proj = ((links.src >= s0) & (links.src < s0 + n_pre) & (links.dst >= t0)
                   & (links.dst < t0 + n_post))
        cells = (links.src[in_proj] - s0) * n_post + links.dst[in_proj] - t0
        first_row = pair_row[pair_rank[in_proj]] - lo[links.src[in_proj]]
        dense = n_pre * n_post <= passes.DENSE_PAIRS
        if dense:
            table = np.zeros(n_pre * n_post, index)
            table[cells] = first_row
        else:
            by_cell = np.argsort(cells)
            cells, first_row = cells[by_cell], first_row[by_cell].astype(index)
        weight = np.asarray(proj.weight)
        # In blocks, so the temporaries are reused rather than freshly mapped.
        for a in range(0, len(proj), block):
            b = min(len(proj), a + block)
            code = s_lut[proj.pre_idx[a:b]]
            code *= index(n_post)
            code += t_lut[proj.post_idx[a:b]]
            row = row_id[at + a:at + b]  # written in place
            if dense:
                np.take(table, code, out=row)
            else:
                np.take(first_row, np.searchsorted(cells, code), out=row)
            row += proj.pre_idx[a:b].astype(index, copy=False)
            # A constant weight (the XML reader's zero-stride view) is a fill, not a copy.
            unsorted["weight"][at + a:at + b] = (np.float32(weight[0])
                                                 if weight.strides == (0,) else weight[a:b])
            unsorted["control"][at + a:at + b] = _controls(proj, t_local_lut, dt, a, b)
        kind = SYNAPSE_TYPES[proj.synapse]
        own = kind.region
        for name in extra:
            parts[name].append(kind.encode(proj, network.population(proj.post)) if name == own
                               else region_type(name).blank_records(len(proj)))
        if own is not None:
            on_core[own][np.unique(t_lut[proj.post_idx]) + t0] = True
        if is_plastic(proj.synapse):
            learners.append((number, at))
        at += len(proj)
    sorted_parts = {}
    if extra:
        grouped = stable_group(row_id, total_rows).astype(np.int64)
        syn = unsorted[grouped]
        sorted_parts = {name: np.concatenate(parts.pop(name))[grouped] for name in extra}
    else:  # the 8-byte records travel through the counting sort themselves
        syn = stable_group(row_id, total_rows, unsorted.view("<u8")).view(SYNAPSE_DTYPE)
    rows = np.zeros(total_rows, ROW_DTYPE)
    rows["length"] = np.bincount(row_id, minlength=total_rows)
    del row_id
    # First synapse of every row in the whole synapse array (filled core by core below).
    first = np.cumsum(rows["length"], dtype=np.int64)
    first -= rows["length"]
    # Per target piece: synapses [syn_base[t], syn_base[t + 1]), rows from t_row_base.
    syn_base = np.where(t_row_base < total_rows,
                        first[np.minimum(t_row_base, max(total_rows - 1, 0))] if total_rows
                        else 0, syn.size)
    mpt = np.zeros(pt.size, MPT_DTYPE)
    mpt["key"], mpt["mask"] = key[ps], mask[ps]
    mpt["row_start"] = pair_row - t_row_base[pt]
    mpt["n_rows"] = n_rows
    out = {}
    for t in np.unique(pt).tolist():
        a, b = syn_base[t], syn_base[t + 1]
        r0, r1 = t_row_base[t], t_row_base[t + 1]
        # Row starts are relative to the core's own synapses (a small array per core).
        rows["start"][r0:r1] = first[r0:r1] - a
        regions = {"master_pop_table": mpt[t_first_pair[t]:t_first_pair[t + 1]],
                   "row_index": rows[r0:r1], "synapses": syn[a:b]}
        for name, records in sorted_parts.items():
            regions[name] = records[a:b] if on_core[name][t] else REGION[name].empty()
        out[t] = regions
    plastic = ()
    if learners:
        sorted_at = np.empty(grouped.size, np.int64)
        sorted_at[grouped] = np.arange(grouped.size)  # synapse -> its place after grouping
        plastic = tuple(_plastic_index(network.projections[number], start, sorted_at, syn_base)
                        for number, start in learners)
    return out, plastic


def _plastic_index(proj: ProjectionSpec, start: int, sorted_at: np.ndarray,
                   syn_base: np.ndarray) -> PlasticIndex:
    """Where the synapses of plastic ``proj`` (``start`` .. in build order) went: their core
    (the target piece whose synapses hold them) and position in its ``synapses`` region."""
    where = sorted_at[start:start + len(proj)]
    core = np.searchsorted(syn_base, where, side="right") - 1
    return PlasticIndex(proj.label, np.arange(len(proj)), core, where - syn_base[core])


def stdp_post_regions(network: Network, mapping: Mapping) -> Written:
    """Target piece -> its postsynaptic trace regions, for pieces with plastic inputs (the
    ``stdp`` writer of the image).

    tau_minus belongs to the neuron's trace (as in NEST), so every plastic projection onto a
    neuron must agree on it.
    """
    tau: dict[str, np.ndarray] = {}
    owner: dict[str, np.ndarray] = {}
    max_delay: dict[str, int] = {}
    for number, proj in enumerate(network.projections):
        if not (is_plastic(proj.synapse) and len(proj)):
            continue
        size = network.population(proj.post).size
        t = tau.setdefault(proj.post, np.zeros(size))
        who = owner.setdefault(proj.post, np.full(size, -1))
        values = np.asarray(proj.params["tau_minus"], dtype=float)
        clash = (t[proj.post_idx] > 0) & (t[proj.post_idx] != values)
        if clash.any():
            other = network.projections[int(who[proj.post_idx[clash][0]])].label
            raise MappingError(
                f"projections {other!r} and {proj.label!r} give neurons of {proj.post!r} "
                f"different tau_minus; on SpiNNaker 2 (as in NEST) tau_minus is the time "
                f"constant of the postsynaptic neuron's trace: use one tau_minus for all "
                f"plastic projections onto a neuron")
        t[proj.post_idx] = values
        who[proj.post_idx] = number
        steps = int(np.round(proj.delay.max() / network.timestep))
        max_delay[proj.post] = max(max_delay.get(proj.post, 0), steps)
    out = {}
    for label, t in tau.items():
        for piece in mapping.pieces_of(label):
            post = np.zeros(piece.size, STDP_POST_DTYPE)
            post["tau_minus"] = t[piece.lo:piece.hi]
            out[piece.index] = {
                "stdp_post": post,
                "stdp_trace": np.zeros((trace_slots(max_delay[label]), piece.size), "<f4")}
    return out


def _local_lookup(mapping: Mapping, size: int, label: str, index: type
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """Per neuron of a population: its piece (counted from the population's first piece),
    its index within that piece; and the population's first piece."""
    pieces = mapping.pieces_of(label)
    sizes = [p.size for p in pieces]
    piece = np.repeat(np.arange(len(pieces), dtype=index), sizes)
    within = np.arange(size, dtype=np.uint32) - np.repeat(
        np.array([p.lo for p in pieces], np.uint32), sizes)
    return piece, within, pieces[0].index


def _controls(proj: ProjectionSpec, t_local_lut: np.ndarray, dt: float, a: int, b: int
              ) -> np.ndarray:
    """Control words (target, receptor, dynamic flag, delay) of a projection's synapses
    ``a`` to ``b``; the fields common to all of them are or-ed in once."""
    delay = np.asarray(proj.delay)
    dynamic = synapse_region(proj.synapse) == "synapse_dynamics"
    target = t_local_lut[proj.post_idx[a:b]]
    if delay.strides != (0,):
        delay = delay[a:b]
    if delay.size and (delay.strides == (0,) or np.all(delay == delay.flat[0])):
        steps = int(np.round(float(delay.flat[0]) / dt))
        common = int(encode_control(0, RECEPTOR_INDEX[proj.receptor], steps, dynamic))
        target |= np.uint32(common)
        return target
    steps = np.round(delay / dt).astype(np.uint32)
    return encode_control(target, RECEPTOR_INDEX[proj.receptor], steps, dynamic)
