"""Synaptic regions of every core: key table, row index, synaptic words and the per-synapse
regions some synapse types need, built in one pass over all synapses (a stable counting sort
by row), so the cost grows with the synapses, not with synapses times cores.

Which per-synapse region a synapse type fills is the table ``synapses.SYNAPSE_REGIONS``; how
its records are encoded is :data:`ENCODERS`, keyed by that region.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..cells import CELL_TYPES, RECEPTOR_INDEX
from ..errors import MappingError
from ..mapping import Mapping, passes
from ..mapping.regions import REGION
from ..network import Network, ProjectionSpec
from ..synapses import is_plastic, synapse_region
from ..synapses.stdp import STDP_POST_DTYPE, plasticity_records, trace_slots
from .machine_image import (
    DYNAMICS_DTYPE,
    MPT_DTYPE,
    QUANTAL_DTYPE,
    QUANTAL_NEVER,
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
    extra = [name for name in ENCODERS if name in needed]
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
        own = synapse_region(proj.synapse)
        for name in extra:
            encode, fill = ENCODERS[name]
            parts[name].append(encode(network, proj) if name == own else fill(len(proj)))
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


def _dynamics(network: Network, proj: ProjectionSpec) -> np.ndarray:
    """Per-synapse short-term plasticity parameters of a Tsodyks-Markram projection."""
    out = np.zeros(len(proj), DYNAMICS_DTYPE)
    post = network.population(proj.post)
    name = "tau_syn_E" if proj.receptor == "excitatory" else "tau_syn_I"
    defaults = CELL_TYPES[post.model].defaults
    # A delta-synapse target has no current to decay: the "active" resource empties at once.
    tau = np.asarray(post.params.get(name, np.full(post.size, defaults.get(name, 1e-3))))
    out["U"], out["tau_rec"] = proj.params["U"], proj.params["tau_rec"]
    out["tau_facil"], out["tau_psc"] = proj.params["tau_facil"], tau[proj.post_idx]
    return out


def _quantal(network: Network, proj: ProjectionSpec) -> np.ndarray:
    """Per-synapse release sites and their initial state of a quantal projection.

    Every site starts full (a = n) and the first spike releases with probability U, as NEST's
    ``quantal_stp_synapse`` and PyNN's ``stochastic_stp_synapse`` start, unless
    ``Projection.initialize`` gave ``a`` and ``u``.
    """
    out = np.zeros(len(proj), QUANTAL_DTYPE)
    p = proj.params
    n = np.round(np.asarray(p.get("n", 1.0), float))
    out["U"], out["tau_rec"], out["tau_facil"] = p["U"], p["tau_rec"], p["tau_facil"]
    out["n"] = n
    out["a"] = np.round(np.asarray(p["a"], float)) if "a" in p else n
    out["u"] = p["u"] if "u" in p else p["U"]
    out["last"] = QUANTAL_NEVER
    return out


def _release(network: Network, proj: ProjectionSpec) -> np.ndarray:
    """Per-synapse transmission probability of a stochastic projection."""
    return np.asarray(proj.params["p"], np.float32)


def _plasticity(network: Network, proj: ProjectionSpec) -> np.ndarray:
    """Per-synapse STDP rule of a plastic projection."""
    return plasticity_records(proj.synapse, proj.params, len(proj))


def _zeros(dtype: np.dtype) -> Callable[[int], np.ndarray]:
    return lambda n: np.zeros(n, dtype)


#: Per-synapse region -> (its records for a projection whose synapse type needs it, its
#: records for the other projections' synapses), in the regions' declaration order.
ENCODERS: dict[str, tuple[Callable[[Network, ProjectionSpec], np.ndarray],
                          Callable[[int], np.ndarray]]] = {
    "synapse_dynamics": (_dynamics, _zeros(DYNAMICS_DTYPE)),
    "synapse_plasticity": (_plasticity, _zeros(REGION["synapse_plasticity"].dtype)),
    "synapse_release": (_release, lambda n: np.ones(n, np.float32)),
    "synapse_quantal": (_quantal, _zeros(QUANTAL_DTYPE)),
}
