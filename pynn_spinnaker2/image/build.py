"""Build the MachineImage from a Network and its Mapping.

Everything is built population by population or for the whole network at once, then sliced
per core: neuron regions for a whole population, and the synaptic matrices of every core in
one pass over all synapses (a stable counting sort by row), so the cost grows with the
synapses, not with synapses times cores.
"""

from __future__ import annotations

import numpy as np

from ..cells import CELL_MODELS, RECEPTOR_INDEX
from ..errors import MappingError
from ..mapping import Mapping
from ..mapping.pipeline import BLOCK, DENSE_PAIRS
from ..network import Network, PopulationSpec, ProjectionSpec
from ..network.validate import QUANTAL_SYNAPSES
from ..synapses.stdp import (
    PLASTICITY_DTYPE,
    STDP_POST_DTYPE,
    is_plastic,
    plasticity_records,
    trace_slots,
)
from .model import (
    CURRENT_KINDS,
    CURRENT_SCHEDULE_DTYPE,
    CURRENT_SOURCE_DTYPE,
    CURRENT_TARGET_DTYPE,
    DYNAMICS_DTYPE,
    MPT_DTYPE,
    QUANTAL_DTYPE,
    QUANTAL_NEVER,
    RECORDING_DTYPE,
    ROUTER_DTYPE,
    ROW_DTYPE,
    SCHEDULE_DTYPE,
    SYNAPSE_DTYPE,
    CoreImage,
    CoreSlice,
    MachineImage,
    PlasticIndex,
    encode_control,
)


def build_image(network: Network, mapping: Mapping) -> MachineImage:
    """Lay out every core's regions and every chip's router table.

    Raises
    ------
    MappingError
        When a core's SRAM or a chip's DRAM is over its budget.
    """
    synapses, plastic = _synaptic_matrices(network, mapping)
    stdp_post = _stdp_post_regions(network, mapping)
    sources = _current_sources(network, mapping)
    derived = _derived_params(network)
    neuron = {}
    for pop in network.populations:
        neuron.update(_neuron_regions(pop, mapping, network.timestep, derived.get(pop.label)))
    cores = []
    for piece in mapping.pieces:
        place, key = mapping.placements[piece.index], mapping.keys[piece.index]
        sram, dram = neuron[piece.index]
        mpt, rows, syn, dyn, pl, release, quantal = synapses.get(piece.index, _no_synapses())
        sram["master_pop_table"] = mpt
        dram["row_index"], dram["synapses"], dram["synapse_dynamics"] = rows, syn, dyn
        dram["synapse_plasticity"], dram["synapse_release"] = pl, release
        dram["synapse_quantal"] = quantal
        sram.update(stdp_post.get(piece.index, {}))
        sram.update(sources.get(piece.index, _no_current_sources()))
        sram["rng_seed"] = np.random.SeedSequence([network.seed, piece.index]).generate_state(
            4).astype("<u4")
        cores.append(CoreImage(place.chip, place.pe, piece.kernel, piece.size, key.key,
                               key.mask, sram, dram))
    tables = {}
    for chip, table in mapping.tables.items():
        out = np.zeros(len(table), dtype=ROUTER_DTYPE)
        out["key"], out["mask"], out["route"] = table.key, table.mask, table.route
        tables[chip] = out
    image = MachineImage(network.machine, network.timestep, tuple(cores), tables,
                         tuple(CoreSlice(p.population, p.lo, p.hi) for p in mapping.pieces),
                         plastic)
    check_memory(image)
    return image


def check_memory(image: MachineImage) -> None:
    """Raise a MappingError naming the population whose core or chip is over budget."""
    machine = image.machine
    budget = machine.sram_data_budget
    dram: dict[tuple[int, int], int] = {}
    for core, where in zip(image.cores, image.index_map, strict=True):
        if core.sram_bytes > budget:
            raise MappingError(
                f"population {where.population!r}, neurons {where.lo}-{where.hi - 1} on chip "
                f"{core.chip} PE {core.pe}: {core.sram_bytes} bytes of SRAM needed, "
                f"{budget} available: {core.sram_bytes - budget} over; lower its neurons per "
                f"core (sim.set_number_of_neurons_per_core) or record fewer variables")
        if core.dram_bytes > machine.dram_per_pe:
            raise MappingError(
                f"population {where.population!r}, neurons {where.lo}-{where.hi - 1} on chip "
                f"{core.chip} PE {core.pe}: {core.dram_bytes} bytes of DRAM (synaptic rows, "
                f"graded events), but a PE's share of DRAM is {machine.dram_per_pe}: "
                f"{core.dram_bytes - machine.dram_per_pe} over; lower its neurons per core")
        dram[core.chip] = dram.get(core.chip, 0) + core.dram_bytes
    for chip, used in dram.items():
        if used > machine.dram_per_chip:
            raise MappingError(f"chip {chip}: synaptic rows and graded events need {used} "
                               f"bytes of DRAM, {machine.dram_per_chip} available: "
                               f"{used - machine.dram_per_chip} over; use more chips")


def _derived_params(network: Network) -> dict[str, dict[str, np.ndarray]]:
    """Population -> per-neuron values its cell model derives from the whole network (the
    EGRU's pipeline start)."""
    out = {}
    for pop in network.populations:
        derive = CELL_MODELS[pop.model].extra.get("derived_params")
        if derive is not None:
            out[pop.label] = derive(network, pop)
    return out


# -- neuron regions -----------------------------------------------------------------------
def _neuron_regions(pop: PopulationSpec, mapping: Mapping, dt: float,
                    derived: dict[str, np.ndarray] | None = None
                    ) -> dict[int, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """Piece index -> (SRAM, DRAM) regions of its neurons; built for the whole population
    (the formats are per neuron), then sliced."""
    model = CELL_MODELS[pop.model]
    n = pop.size
    params = {k: np.asarray(v, dtype=float) for k, v in pop.params.items()}
    params.update({k: np.asarray(v) for k, v in (derived or {}).items()})
    for name, default in model.defaults.items():
        params.setdefault(name, np.full(n, default, dtype=float))
    initial = {k: np.asarray(v, dtype=float) for k, v in pop.initial.items()}
    for name, default in model.initial.items():
        initial.setdefault(name, np.full(n, default, dtype=float))
    if pop.model == "SpikeSourceArray":
        params = {"spike_times": np.zeros(n)}
    all_params = model.build_params(params, dt)
    all_state = model.build_state(initial, params)
    pieces = mapping.pieces_of(pop.label)
    own_regions = model.extra.get("regions")  # e.g. a graded source's event schedule
    schedules = (_spike_schedules(pop, pieces, dt)
                 if pop.spike_times is not None and own_regions is None else None)
    recording = _recording(pop, dt)
    out = {}
    for k, piece in enumerate(pieces):
        sl = slice(piece.lo, piece.hi)
        sram = {"neuron_params": all_params[sl], "neuron_state": all_state[sl]}
        dram: dict[str, np.ndarray] = {}
        if model.receptors:
            # Zeroed at load: a zero-stride view gives its size without taking the memory.
            sram["input_ring"] = np.broadcast_to(
                np.zeros(1, "<f4"), (piece.ring_slots, len(model.receptors), piece.size))
        if own_regions is not None:
            more_sram, dram = own_regions(pop, piece.lo, piece.hi, dt)
            sram.update(more_sram)
        elif schedules is not None:
            sram["spike_schedule"] = schedules[k]
        rows, masks = recording
        kept = [i for i, m in enumerate(masks) if m[sl].any()]
        sram["recording"] = rows[kept]
        sram["record_mask"] = (np.array([masks[i][sl] for i in kept], np.uint8) if kept
                               else np.zeros((0, piece.size), np.uint8))
        out[piece.index] = (sram, dram)
    return out


def _recording(pop: PopulationSpec, dt: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """(recording rows, per-variable masks over the whole population)."""
    rows, masks = [], []
    for variable, spec in sorted(pop.record.items()):
        interval = max(1, int(round(spec.sampling_interval / dt)))
        rows.append((variable.encode(), interval))
        mask = np.zeros(pop.size, dtype=np.uint8)
        mask[np.asarray(spec.indices, np.int64)] = 1
        masks.append(mask)
    return np.array(rows, dtype=RECORDING_DTYPE), masks


def _spike_schedules(pop: PopulationSpec, pieces: tuple, dt: float) -> list[np.ndarray]:
    """Per piece, its (step, neuron) pairs sorted by step then neuron; times are rounded
    to the grid and spikes at step 0 dropped (see :mod:`..cells.spike_sources`)."""
    counts = np.array([len(t) for t in pop.spike_times], np.int64)
    times = (np.concatenate([np.asarray(t, float).reshape(-1) for t in pop.spike_times])
             if counts.sum() else np.zeros(0))
    neuron = np.repeat(np.arange(pop.size), counts)
    step = np.round(times / dt).astype(np.int64)
    keep = step > 0
    step, neuron = step[keep], neuron[keep]
    bounds = np.array([p.lo for p in pieces] + [pieces[-1].hi]) if pieces else np.zeros(1)
    which = np.searchsorted(bounds, neuron, side="right") - 1
    order = np.lexsort((neuron, step, which))
    step, neuron, which = step[order], neuron[order], which[order]
    edges = np.searchsorted(which, np.arange(len(pieces) + 1))
    out = []
    for k, piece in enumerate(pieces):
        sched = np.zeros(edges[k + 1] - edges[k], SCHEDULE_DTYPE)
        sched["step"] = step[edges[k]:edges[k + 1]]
        sched["neuron"] = neuron[edges[k]:edges[k + 1]] - piece.lo
        out.append(sched)
    return out


# -- synaptic matrices --------------------------------------------------------------------
def _no_synapses() -> tuple[np.ndarray, ...]:
    return (np.zeros(0, MPT_DTYPE), np.zeros(0, ROW_DTYPE), np.zeros(0, SYNAPSE_DTYPE),
            np.zeros(0, DYNAMICS_DTYPE), np.zeros(0, PLASTICITY_DTYPE), np.zeros(0, "<f4"),
            np.zeros(0, QUANTAL_DTYPE))


def stable_group(keys: np.ndarray, n_keys: int, values: np.ndarray | None = None
                 ) -> np.ndarray:
    """``values`` (default: their positions, i.e. the permutation) reordered so that
    ``keys`` (integers in [0, n_keys)) increase, keeping the original order inside each
    group: a counting sort (scipy's sparse transpose), linear in the number of keys.
    ``values`` must be a plain numeric type (view records as an unsigned integer)."""
    import scipy.sparse as sp

    n = keys.size
    index = np.int32 if max(n, n_keys) < 2**31 - 1 else np.int64
    data = np.arange(n, dtype=index) if values is None else values
    matrix = sp.csr_matrix((data, keys.astype(index, copy=False),
                            np.arange(n + 1, dtype=index)), shape=(n, max(n_keys, 1)))
    return matrix.tocsc().data


def _synaptic_matrices(network: Network, mapping: Mapping
                       ) -> tuple[dict[int, tuple[np.ndarray, ...]], tuple[PlasticIndex, ...]]:
    """Target piece -> (master population table, row index, synapses, dynamics, plasticity,
    release probabilities, release sites), and where each plastic projection's synapses
    went.

    Each target piece's master population table lists, in key order, every source piece that
    sends to it; each entry owns one row per neuron of its source piece (empty rows
    included: the row index is addressed by the neuron field of the key), and each row lists
    the synapses of one source neuron onto the piece.
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
    dynamic_any = any(p.synapse == "TsodyksMarkramSynapse" for p in used)
    learn_any = any(is_plastic(p.synapse) for p in used)
    stochastic_any = any(p.synapse == "SimpleStochasticSynapse" for p in used)
    quantal_any = any(p.synapse in QUANTAL_SYNAPSES for p in used)
    extra_any = dynamic_any or learn_any or stochastic_any or quantal_any
    index = np.int32 if max(total_rows, n * n) < 2**31 - 1 else np.int64
    total = sum(len(p) for p in network.projections)
    unsorted = np.empty(total, SYNAPSE_DTYPE)
    row_id = np.empty(total, index)
    dyns, pls, releases, learners, quantals = [], [], [], [], []
    quantal_core = np.zeros(n, bool)
    dynamic_core = np.zeros(n, bool)
    learn_core = np.zeros(n, bool)
    stochastic_core = np.zeros(n, bool)
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
        if n_pre * n_post <= DENSE_PAIRS:
            table = np.zeros(n_pre * n_post, index)
            table[cells] = first_row
        else:
            by_cell = np.argsort(cells)
            cells, first_row = cells[by_cell], first_row[by_cell].astype(index)
        weight = np.asarray(proj.weight)
        # In blocks, so the temporaries are reused rather than freshly mapped.
        for a in range(0, len(proj), BLOCK):
            b = min(len(proj), a + BLOCK)
            code = s_lut[proj.pre_idx[a:b]]
            code *= index(n_post)
            code += t_lut[proj.post_idx[a:b]]
            row = row_id[at + a:at + b]  # written in place
            if n_pre * n_post <= DENSE_PAIRS:
                np.take(table, code, out=row)
            else:
                np.take(first_row, np.searchsorted(cells, code), out=row)
            row += proj.pre_idx[a:b].astype(index, copy=False)
            # A constant weight (the XML reader's zero-stride view) is a fill, not a copy.
            unsorted["weight"][at + a:at + b] = (np.float32(weight[0])
                                                 if weight.strides == (0,) else weight[a:b])
            unsorted["control"][at + a:at + b] = _controls(proj, t_local_lut, dt, a, b)
        targets = np.unique(t_lut[proj.post_idx]) + t0 if extra_any else None
        if dynamic_any:
            dyns.append(_dynamics(network, proj))
            if proj.synapse == "TsodyksMarkramSynapse":
                dynamic_core[targets] = True
        if learn_any:
            pls.append(plasticity_records(proj.synapse, proj.params, len(proj)))
            if is_plastic(proj.synapse):
                learn_core[targets] = True
                learners.append((number, at))
        if stochastic_any:
            stochastic = proj.synapse == "SimpleStochasticSynapse"
            releases.append(np.asarray(proj.params["p"], np.float32) if stochastic
                            else np.ones(len(proj), np.float32))
            stochastic_core[targets] |= stochastic
        if quantal_any:
            quantals.append(_quantal(proj))
            quantal_core[targets] |= proj.synapse in QUANTAL_SYNAPSES
        at += len(proj)
    dyn = pl = release = quantal = None
    if extra_any:
        grouped = stable_group(row_id, total_rows).astype(np.int64)
        syn = unsorted[grouped]
        dyn = np.concatenate(dyns)[grouped] if dynamic_any else None
        pl = np.concatenate(pls)[grouped] if learn_any else None
        release = np.concatenate(releases)[grouped] if stochastic_any else None
        quantal = np.concatenate(quantals)[grouped] if quantal_any else None
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
        out[t] = (mpt[t_first_pair[t]:t_first_pair[t + 1]], rows[r0:r1], syn[a:b],
                  dyn[a:b] if dynamic_core[t] else np.zeros(0, DYNAMICS_DTYPE),
                  pl[a:b] if learn_core[t] else np.zeros(0, PLASTICITY_DTYPE),
                  release[a:b] if stochastic_core[t] else np.zeros(0, "<f4"),
                  quantal[a:b] if quantal_core[t] else np.zeros(0, QUANTAL_DTYPE))
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


def _stdp_post_regions(network: Network, mapping: Mapping) -> dict[int, dict[str, np.ndarray]]:
    """Target piece -> its postsynaptic trace regions, for pieces with plastic inputs.

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
    dynamic = proj.synapse == "TsodyksMarkramSynapse"
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
    """Per-synapse short-term plasticity parameters (zeros for static synapses)."""
    out = np.zeros(len(proj), DYNAMICS_DTYPE)
    if proj.synapse != "TsodyksMarkramSynapse":
        return out
    post = network.population(proj.post)
    name = "tau_syn_E" if proj.receptor == "excitatory" else "tau_syn_I"
    defaults = CELL_MODELS[post.model].defaults
    # A delta-synapse target has no current to decay: the "active" resource empties at once.
    tau = np.asarray(post.params.get(name, np.full(post.size, defaults.get(name, 1e-3))))
    out["U"], out["tau_rec"] = proj.params["U"], proj.params["tau_rec"]
    out["tau_facil"], out["tau_psc"] = proj.params["tau_facil"], tau[proj.post_idx]
    return out


def _quantal(proj: ProjectionSpec) -> np.ndarray:
    """Per-synapse release sites and their initial state (n = 0: not a quantal synapse).

    Every site starts full (a = n) and the first spike releases with probability U, as NEST's
    ``quantal_stp_synapse`` and PyNN's ``stochastic_stp_synapse`` start, unless
    ``Projection.initialize`` gave ``a`` and ``u``.
    """
    out = np.zeros(len(proj), QUANTAL_DTYPE)
    if proj.synapse not in QUANTAL_SYNAPSES:
        return out
    p = proj.params
    n = np.round(np.asarray(p.get("n", 1.0), float))
    out["U"], out["tau_rec"], out["tau_facil"] = p["U"], p["tau_rec"], p["tau_facil"]
    out["n"] = n
    out["a"] = np.round(np.asarray(p["a"], float)) if "a" in p else n
    out["u"] = p["u"] if "u" in p else p["U"]
    out["last"] = QUANTAL_NEVER
    return out


# -- current sources ----------------------------------------------------------------------
def _no_current_sources() -> dict[str, np.ndarray]:
    return {"current_sources": np.zeros(0, CURRENT_SOURCE_DTYPE),
            "current_schedule": np.zeros(0, CURRENT_SCHEDULE_DTYPE),
            "current_targets": np.zeros(0, CURRENT_TARGET_DTYPE)}


def _source_record(kind: str, params: dict, dt: float) -> tuple[tuple, list[tuple]]:
    """(source table row without schedule offsets, schedule) of one current source."""
    never = np.iinfo(np.uint32).max

    def step(t: float) -> int:
        # Times past the end of the step counter mean "never" (PyNN's default stop is 1e12).
        return int(min(round(float(t) / dt), never))

    if kind == "DCSource":
        schedule = [(step(params["start"]), params["amplitude"])]
        if step(params["stop"]) < never:
            schedule.append((step(params["stop"]), 0.0))
        return (CURRENT_KINDS["schedule"], 0, never, 0, 0, 0, 0, 0, 0), schedule
    if kind == "StepCurrentSource":
        schedule = [(step(t), a) for t, a in zip(params["times"], params["amplitudes"],
                                                 strict=True)]
        return (CURRENT_KINDS["schedule"], 0, never, 0, 0, 0, 0, 0, 0), schedule
    stop = step(params["stop"]) if np.isfinite(params["stop"]) else never
    if kind == "ACSource":
        return (CURRENT_KINDS["sine"], step(params["start"]), stop, params["amplitude"],
                params["offset"], params["frequency"], params["phase"], 0, 0), []
    if kind == "NoisyCurrentSource":
        return (CURRENT_KINDS["noise"], step(params["start"]), stop, 0, params["mean"], 0, 0,
                params["stdev"], max(1, step(params["dt"]))), []
    raise NotImplementedError(f"current source type {kind!r} is not supported; use DCSource, "
                              f"StepCurrentSource, ACSource or NoisyCurrentSource")


def _current_sources(network: Network, mapping: Mapping) -> dict[int, dict[str, np.ndarray]]:
    """Piece -> its current source regions."""
    per_piece: dict[int, list[tuple[int, np.ndarray]]] = {}
    for source_id, src in enumerate(network.current_sources):
        for label, idx in src.targets:
            idx = np.asarray(idx, np.int64)
            which = mapping.piece_lookup(label, network.population(label).size)[idx]
            order = np.argsort(which, kind="stable")
            which, idx = which[order], idx[order]
            bounds = np.flatnonzero(np.r_[True, which[1:] != which[:-1], True])
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                p = int(which[a])
                per_piece.setdefault(p, []).append((source_id, idx[a:b] - mapping.pieces[p].lo))
    out = {}
    for p, entries in per_piece.items():
        table, schedule, targets = [], [], []
        for k, (source_id, local) in enumerate(entries):
            src = network.current_sources[source_id]
            row, sched = _source_record(src.kind, src.params, network.timestep)
            seed = int(np.random.SeedSequence([network.seed, 1 << 20, source_id])
                       .generate_state(1)[0])
            table.append((*row, source_id, seed, len(schedule), len(sched)))
            schedule.extend(sched)
            t = np.zeros(local.size, CURRENT_TARGET_DTYPE)
            t["source"], t["neuron"] = k, local
            targets.append(t)
        out[p] = {"current_sources": np.array(table, CURRENT_SOURCE_DTYPE),
                  "current_schedule": np.array(schedule, CURRENT_SCHEDULE_DTYPE),
                  "current_targets": np.concatenate(targets)}
    return out
