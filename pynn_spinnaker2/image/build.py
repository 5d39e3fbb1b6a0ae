"""Build the MachineImage from a Network and its Mapping."""

from __future__ import annotations

import numpy as np

from ..cells import CELL_MODELS, RECEPTOR_INDEX
from ..cells.spike_sources import spike_schedule
from ..errors import MappingError
from ..mapping import Mapping
from ..mapping.partition import Piece
from ..mapping.pipeline import piece_index
from ..network import Network, PopulationSpec
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
    DYNAMIC_SHIFT,
    DYNAMICS_DTYPE,
    MPT_DTYPE,
    RECORDING_DTYPE,
    ROUTER_DTYPE,
    ROW_DTYPE,
    SYNAPSE_DTYPE,
    CoreImage,
    CoreSlice,
    MachineImage,
    PlasticIndex,
    encode_control,
    encode_route,
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
    cores = []
    for piece in mapping.pieces:
        pop = network.population(piece.population)
        place, key = mapping.placements[piece.index], mapping.keys[piece.index]
        sram, dram = _neuron_regions(pop, piece, network.timestep)
        sram.update(_recording_regions(pop, piece, network.timestep))
        mpt, rows, syn, dyn, pl, release = synapses.get(piece.index, _no_synapses())
        sram["master_pop_table"] = mpt
        dram["row_index"], dram["synapses"], dram["synapse_dynamics"] = rows, syn, dyn
        dram["synapse_plasticity"], dram["synapse_release"] = pl, release
        sram.update(stdp_post.get(piece.index, {}))
        sram.update(sources.get(piece.index, _no_current_sources()))
        sram["rng_seed"] = np.random.SeedSequence([network.seed, piece.index]).generate_state(
            4).astype("<u4")
        cores.append(CoreImage(place.chip, place.pe, piece.kernel, piece.size, key.key,
                               key.mask, sram, dram))
    tables = {chip: np.array([(e.key, e.mask, encode_route(e.links, e.pes)) for e in entries],
                             dtype=ROUTER_DTYPE)
              for chip, entries in mapping.tables.items()}
    image = MachineImage(network.machine, network.timestep, tuple(cores), tables,
                         tuple(CoreSlice(p.population, p.lo, p.hi) for p in mapping.pieces),
                         plastic)
    check_memory(image)
    return image


def check_memory(image: MachineImage) -> None:
    """Raise a MappingError naming the population whose core or chip is over budget."""
    budget = image.machine.sram_data_budget
    dram: dict[tuple[int, int], int] = {}
    for core, where in zip(image.cores, image.index_map, strict=True):
        if core.sram_bytes > budget:
            raise MappingError(
                f"population {where.population!r}, neurons {where.lo}-{where.hi - 1} on chip "
                f"{core.chip} PE {core.pe}: {core.sram_bytes} bytes of SRAM needed, "
                f"{budget} available; lower its neurons per core "
                f"(sim.set_number_of_neurons_per_core) or record fewer variables")
        dram[core.chip] = dram.get(core.chip, 0) + core.dram_bytes
    for chip, used in dram.items():
        if used > image.machine.dram_per_chip:
            raise MappingError(f"chip {chip}: synaptic rows need {used} bytes of DRAM, "
                               f"{image.machine.dram_per_chip} available; use more chips")


def _neuron_regions(pop: PopulationSpec, piece: Piece, dt: float
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    model = CELL_MODELS[pop.model]
    sl = slice(piece.lo, piece.hi)
    params = {k: np.asarray(v, dtype=float)[sl] for k, v in pop.params.items()}
    for name, default in model.defaults.items():
        params.setdefault(name, np.full(piece.size, default, dtype=float))
    initial = {k: np.asarray(v, dtype=float)[sl] for k, v in pop.initial.items()}
    for name, default in model.initial.items():
        initial.setdefault(name, np.full(piece.size, default, dtype=float))
    if pop.model == "SpikeSourceArray":
        params = {"spike_times": np.zeros(piece.size)}
    sram = {"neuron_params": model.build_params(params, dt),
            "neuron_state": model.build_state(initial, params)}
    if model.receptors:
        # Zero-filled at load; sized here so the SRAM check counts it.
        sram["input_ring"] = np.zeros((piece.ring_slots, len(model.receptors), piece.size),
                                      dtype="<f4")
    if pop.spike_times is not None:
        sram["spike_schedule"] = spike_schedule(pop.spike_times[sl], dt)
    return sram, {}


def _recording_regions(pop: PopulationSpec, piece: Piece, dt: float) -> dict[str, np.ndarray]:
    rows, masks = [], []
    for variable, spec in sorted(pop.record.items()):
        idx = spec.indices[(spec.indices >= piece.lo) & (spec.indices < piece.hi)] - piece.lo
        if idx.size == 0:
            continue
        interval = max(1, int(round(spec.sampling_interval / dt)))
        rows.append((variable.encode(), interval))
        mask = np.zeros(piece.size, dtype=np.uint8)
        mask[idx] = 1
        masks.append(mask)
    return {"recording": np.array(rows, dtype=RECORDING_DTYPE),
            "record_mask": (np.array(masks, dtype=np.uint8) if masks
                            else np.zeros((0, piece.size), dtype=np.uint8))}


def _no_synapses() -> tuple[np.ndarray, ...]:
    return (np.zeros(0, MPT_DTYPE), np.zeros(0, ROW_DTYPE), np.zeros(0, SYNAPSE_DTYPE),
            np.zeros(0, DYNAMICS_DTYPE), np.zeros(0, PLASTICITY_DTYPE), np.zeros(0, "<f4"))


def _synaptic_matrices(network: Network, mapping: Mapping
                       ) -> tuple[dict[int, tuple[np.ndarray, ...]], tuple[PlasticIndex, ...]]:
    """Target piece -> (master population table, row index, synapses, dynamics,
    plasticity), and where each plastic projection's synapses went."""
    dt = network.timestep
    lo = np.array([p.lo for p in mapping.pieces])
    columns: dict[str, list[np.ndarray]] = {k: [] for k in
                                            ("src", "src_local", "tgt", "tgt_local", "w", "c",
                                             "dyn", "pl", "release", "proj", "conn")}
    for number, proj in enumerate(network.projections):
        if not len(proj):
            continue
        src = piece_index(mapping.pieces_of(proj.pre), proj.pre_idx)
        tgt = piece_index(mapping.pieces_of(proj.post), proj.post_idx)
        columns["src"].append(src)
        columns["src_local"].append(proj.pre_idx - lo[src])
        columns["tgt"].append(tgt)
        tgt_local = proj.post_idx - lo[tgt]
        columns["tgt_local"].append(tgt_local)
        columns["w"].append(proj.weight.astype(np.float32))
        delay = np.round(proj.delay / dt).astype(np.int64)
        receptor = np.full(len(proj), RECEPTOR_INDEX[proj.receptor])
        dynamic = proj.synapse == "TsodyksMarkramSynapse"
        columns["c"].append(encode_control(tgt_local, receptor, delay, dynamic))
        columns["dyn"].append(_dynamics(network, proj))
        columns["pl"].append(plasticity_records(proj.synapse, proj.params, len(proj)))
        columns["release"].append(proj.params["p"].astype(np.float32)
                                  if proj.synapse == "SimpleStochasticSynapse"
                                  else np.ones(len(proj), np.float32))
        columns["proj"].append(np.full(len(proj), number))
        columns["conn"].append(np.arange(len(proj)))
    if not columns["src"]:
        return {}, ()
    col = {k: np.concatenate(v) for k, v in columns.items()}
    order = np.lexsort((col["tgt_local"], col["src_local"], col["src"], col["tgt"]))
    col = {k: v[order] for k, v in col.items()}
    bounds = np.flatnonzero(np.diff(col["tgt"])) + 1
    out = {}
    where: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for chunk in np.split(np.arange(col["tgt"].size), bounds):
        tgt = int(col["tgt"][chunk[0]])
        src, src_local = col["src"][chunk], col["src_local"][chunk]
        syn = np.zeros(chunk.size, SYNAPSE_DTYPE)
        syn["weight"], syn["control"] = col["w"][chunk], col["c"][chunk]
        dyn = col["dyn"][chunk]
        if not np.any((syn["control"] >> DYNAMIC_SHIFT) & 1):
            dyn = dyn[:0]
        pl = col["pl"][chunk]
        learns = np.flatnonzero(pl["kind"])
        if learns.size:
            where.append((col["proj"][chunk][learns], col["conn"][chunk][learns],
                          np.full(learns.size, tgt), learns))
        else:
            pl = pl[:0]
        mpt_rows, row_blocks = [], []
        start = 0
        for s in np.unique(src):
            piece = mapping.pieces[int(s)]
            counts = np.bincount(src_local[src == s], minlength=piece.size)
            starts = np.searchsorted(src, s) + np.concatenate(([0], np.cumsum(counts)[:-1]))
            rows = np.zeros(piece.size, ROW_DTYPE)
            rows["start"], rows["length"] = starts, counts
            row_blocks.append(rows)
            key = mapping.keys[int(s)]
            mpt_rows.append((key.key, key.mask, start, piece.size))
            start += piece.size
        release = col["release"][chunk]
        if np.all(release == 1.0):
            release = release[:0]
        out[tgt] = (np.array(mpt_rows, MPT_DTYPE), np.concatenate(row_blocks), syn, dyn, pl,
                    release)
    return out, _plastic_index(network, where)


def _plastic_index(network: Network, where: list[tuple[np.ndarray, ...]]
                   ) -> tuple[PlasticIndex, ...]:
    """Per plastic projection, its synapses' (core, position), in connection order."""
    if not where:
        return ()
    proj, conn, core, pos = (np.concatenate([w[k] for w in where]) for k in range(4))
    order = np.lexsort((conn, proj))
    proj, conn, core, pos = proj[order], conn[order], core[order], pos[order]
    bounds = np.flatnonzero(np.diff(proj)) + 1
    return tuple(PlasticIndex(network.projections[int(p[0])].label, c, k, q)
                 for p, c, k, q in zip(np.split(proj, bounds), np.split(conn, bounds),
                                       np.split(core, bounds), np.split(pos, bounds),
                                       strict=True))


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


def _dynamics(network: Network, proj: object) -> np.ndarray:
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
            which = piece_index(mapping.pieces_of(label), np.asarray(idx))
            for p in np.unique(which):
                local = np.asarray(idx)[which == p] - mapping.pieces[int(p)].lo
                per_piece.setdefault(int(p), []).append((source_id, local))
    out = {}
    for p, entries in per_piece.items():
        table, schedule, targets = [], [], []
        for n, (source_id, local) in enumerate(entries):
            src = network.current_sources[source_id]
            row, sched = _source_record(src.kind, src.params, network.timestep)
            seed = int(np.random.SeedSequence([network.seed, 1 << 20, source_id])
                       .generate_state(1)[0])
            table.append((*row, source_id, seed, len(schedule), len(sched)))
            schedule.extend(sched)
            targets.extend((n, int(i)) for i in local)
        out[p] = {"current_sources": np.array(table, CURRENT_SOURCE_DTYPE),
                  "current_schedule": np.array(schedule, CURRENT_SCHEDULE_DTYPE),
                  "current_targets": np.array(targets, CURRENT_TARGET_DTYPE)}
    return out
