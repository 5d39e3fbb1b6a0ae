"""Neuron regions of every core: parameters, state, input rings, spike schedules, recording
control, and the regions a cell type lays out itself (a graded source's events).

Built for a whole population at once (the formats are per neuron), then sliced per piece.
"""

from __future__ import annotations

import numpy as np

from ..cells import CELL_TYPES
from ..cells.spike_sources import grid_steps
from ..mapping import Mapping
from ..network import Network, PopulationSpec
from .machine_image import RECORDING_DTYPE, SCHEDULE_DTYPE

#: Piece index -> region name -> its array: what a writer of the image fills.
Written = dict[int, dict[str, np.ndarray]]


def neuron_regions(network: Network, mapping: Mapping) -> Written:
    """The neuron regions of every piece (the ``neurons`` writer of the image).

    Parameters
    ----------
    network : Network
        The network.
    mapping : Mapping
        Its mapping.

    Returns
    -------
    Written
        Piece index -> region name -> array.
    """
    derived = _derived_params(network)
    out: Written = {}
    for pop in network.populations:
        out.update(_population_regions(pop, mapping, network.timestep, derived.get(pop.label)))
    return out


def _derived_params(network: Network) -> dict[str, dict[str, np.ndarray]]:
    """Population -> per-neuron values its cell model derives from the whole network (the
    EGRU's pipeline start)."""
    out = {}
    for pop in network.populations:
        derive = CELL_TYPES[pop.model].extra.get("derived_params")
        if derive is not None:
            out[pop.label] = derive(network, pop)
    return out


def _population_regions(pop: PopulationSpec, mapping: Mapping, dt: float,
                        derived: dict[str, np.ndarray] | None = None) -> Written:
    """Piece index -> regions of its neurons; built for the whole population (the formats
    are per neuron), then sliced."""
    model = CELL_TYPES[pop.model]
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
        regions = {"neuron_params": all_params[sl], "neuron_state": all_state[sl]}
        if model.receptors:
            # Zeroed at load: a zero-stride view gives its size without taking the memory.
            regions["input_ring"] = np.broadcast_to(
                np.zeros(1, "<f4"), (piece.ring_slots, len(model.receptors), piece.size))
        if own_regions is not None:
            # Placed in SRAM or DRAM by their declarations (mapping.regions).
            for more in own_regions(pop, piece.lo, piece.hi, dt):
                regions.update(more)
        elif schedules is not None:
            regions["spike_schedule"] = schedules[k]
        rows, masks = recording
        kept = [i for i, m in enumerate(masks) if m[sl].any()]
        regions["recording"] = rows[kept]
        regions["record_mask"] = (np.array([masks[i][sl] for i in kept], np.uint8) if kept
                                  else np.zeros((0, piece.size), np.uint8))
        out[piece.index] = regions
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
    """Per piece, its (step, neuron) pairs sorted by step then neuron; each time goes to the
    first grid point at or after it (:func:`~pynn_spinnaker2.cells.spike_sources.grid_steps`;
    the network check refuses times <= 0)."""
    counts = np.array([len(t) for t in pop.spike_times], np.int64)
    times = (np.concatenate([np.asarray(t, float).reshape(-1) for t in pop.spike_times])
             if counts.sum() else np.zeros(0))
    neuron = np.repeat(np.arange(pop.size), counts)
    step = grid_steps(times, dt)
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
