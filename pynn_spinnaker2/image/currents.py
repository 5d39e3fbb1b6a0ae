"""Current source regions: what each core computes of the currents injected into its
neurons (source table, amplitude schedule, targeted neurons)."""

from __future__ import annotations

import numpy as np

from ..mapping import Mapping
from ..network import Network
from .machine_image import (
    CURRENT_KINDS,
    CURRENT_SCHEDULE_DTYPE,
    CURRENT_SOURCE_DTYPE,
    CURRENT_TARGET_DTYPE,
)
from .neurons import Written


def _source_record(kind: str, params: dict, dt: float) -> tuple[tuple, list[tuple]]:
    """(source table row without schedule offsets, schedule) of one current source."""
    never = np.iinfo(np.uint32).max

    def step(t: float) -> int:
        # Times past the end of the step counter mean "never" (PyNN's default stop is 1e12).
        # (an infinite stop too).
        steps = float(t) / dt
        return int(never if steps >= never else round(steps))

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


def current_source_regions(network: Network, mapping: Mapping) -> Written:
    """The current source regions of every piece a source injects into (the ``currents``
    writer of the image).

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
