"""What the cores generate themselves, planned for a block of steps at once: the spikes of
the source groups (schedules, Poisson and renewal generators) and the currents injected by
current sources (from each core's ``current_sources``, ``current_schedule`` and
``current_targets`` regions). Both are pure functions of the step (and of the sources'
random streams, drawn in step order), so a block gives what step-by-step would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ...image.machine_image import MachineImage
from .inputs import current_values, per_step, poisson_spikes
from .layout import Group
from .sources import SOURCE_GENERATORS


class Plan(NamedTuple):
    """A planned block of ``n`` steps: step ``k`` sends ``neurons[ptr[k]:ptr[k + 1]]``
    (``ptr`` a list: a step reads two Python ints), with ``values`` their payloads (1 for
    plain spikes) where ``graded[k]``; ``currents[k]`` is the injected current per target
    neuron. Each is None when nothing of its kind is loaded (values and graded: when no
    source is graded)."""

    ptr: list[int] | None
    neurons: np.ndarray | None
    values: np.ndarray | None
    graded: list[bool] | None
    currents: np.ndarray | None


class CurrentSources:
    """The current sources of every core of ``image``, with global neuron indices.

    Parameters
    ----------
    image
        The image.
    offsets
        Global index of each core's first neuron.
    """

    def __init__(self, image: MachineImage, offsets: np.ndarray) -> None:
        self.dt = image.timestep
        tables, scheds, targets = [], [], []
        n_rows = 0
        for i, core in enumerate(image.cores):
            table = core.sram.get("current_sources")
            if table is None or table.size == 0:
                continue
            sched = core.sram["current_schedule"]
            for j, row in enumerate(table):
                part = sched[row["schedule_start"]:row["schedule_start"] + row["schedule_len"]]
                scheds.append((np.full(part.size, n_rows + j), part["step"].astype(np.int64),
                               part["amplitude"]))
            tg = core.sram["current_targets"]
            targets.append((tg["source"].astype(np.int64) + n_rows,
                            tg["neuron"].astype(np.int64) + offsets[i]))
            tables.append(table)
            n_rows += table.size
        self.n = n_rows
        if not n_rows:
            self.targets = np.zeros(0, np.int64)
            return
        self.table = np.concatenate(tables)
        rows = np.concatenate([s[0] for s in scheds]) if scheds else np.zeros(0, np.int64)
        steps = np.concatenate([s[1] for s in scheds]) if scheds else np.zeros(0, np.int64)
        amps = np.concatenate([s[2] for s in scheds]) if scheds else np.zeros(0, np.float32)
        order = np.lexsort((steps, rows))
        self.schedule = (rows[order], steps[order], amps[order].astype(np.float32))
        self.source = np.concatenate([t[0] for t in targets])
        neuron = np.concatenate([t[1] for t in targets])
        self.targets, self.target_of = np.unique(neuron, return_inverse=True)

    def values(self, steps: np.ndarray) -> np.ndarray:
        """Current (nA) of every source row (columns) during the steps that start at
        ``steps`` (rows): the last schedule change at or before the step, a sine of the
        time since start, or counter-based Gaussian noise."""
        return current_values(self.table, self.schedule, steps, self.dt)

    def trace(self, n_steps: int) -> dict[int, np.ndarray]:
        """Source id -> its current at steps 0 .. n_steps - 1 (what recording it shows)."""
        if not self.n:
            return {}
        values = self.values(np.arange(n_steps))
        ids = self.table["source_id"]
        return {int(sid): values[:, np.flatnonzero(ids == sid)[0]] for sid in np.unique(ids)}

    def block(self, first: int, n: int) -> np.ndarray:
        """(n, targets) injected current per target neuron in steps first .. first + n - 1."""
        # The current of the step that starts at ``step`` = the one ending at step + 1.
        values = self.values(np.arange(first - 1, first + n - 1))
        currents = np.zeros((n, self.targets.size), np.float32)
        np.add.at(currents.T, self.target_of, values[:, self.source].T)
        return currents


def plan_block(groups: list[Group], currents: CurrentSources, first: int, n: int,
               poisson: Callable[..., tuple[np.ndarray, np.ndarray]] = poisson_spikes
               ) -> Plan:
    """What the source ``groups`` and ``currents`` generate in steps first .. first + n - 1
    (the generators draw from their groups' random streams); ``poisson`` draws the Poisson
    sources' spikes (:func:`.inputs.poisson_spikes` or its compiled twin)."""
    sources = []
    for g in groups:
        if g.kernel == "spike_source_array":
            sources.append((*per_step(*g.schedule, first, n), None))
        elif g.kernel == "graded_source_array":
            ptr, where = per_step(g.schedule[0], np.arange(g.values.size), first, n)
            sources.append((ptr, g.schedule[1][where], g.values[where]))
        elif g.kernel in SOURCE_GENERATORS:
            sources.append((*SOURCE_GENERATORS[g.kernel](g.rng, g.params, g.state, g.lo,
                                                         first, n), None))
        else:
            sources.append((*poisson(g.rng, g.params, g.lo, first, n), None))
    return Plan(*_merge_sources(sources, n), currents.block(first, n) if currents.n else None)


def _merge_sources(sources: list[tuple], n: int) -> tuple:
    """The spikes of every source group in ``n`` steps as one sequence: (pointers, neurons,
    payloads, graded), groups in order, as they would be sent one after the other (see
    :class:`Plan`)."""
    if not sources:
        return None, None, None, None
    if len(sources) == 1 and sources[0][2] is None:
        ptr, neurons, _ = sources[0]
        return np.asarray(ptr).tolist(), neurons, None, None
    step = np.concatenate([np.repeat(np.arange(n), np.diff(ptr)) for ptr, _, _ in sources])
    order = np.argsort(step, kind="stable")
    neurons = np.concatenate([s[1] for s in sources])[order]
    ptr = np.concatenate(([0], np.cumsum(np.bincount(step, minlength=n))))
    if all(s[2] is None for s in sources):
        return ptr.tolist(), neurons, None, None
    values = np.concatenate([np.ones(s[1].size, np.float32) if s[2] is None
                             else np.asarray(s[2], np.float32) for s in sources])[order]
    graded = np.concatenate([np.full(s[1].size, s[2] is not None) for s in sources])[order]
    per_step_graded = np.bincount(step[order][graded], minlength=n) > 0
    return ptr.tolist(), neurons, values, per_step_graded.tolist()


def payloads(fired: list[np.ndarray], values: list[np.ndarray | None]) -> np.ndarray | None:
    """One float32 payload per packet of a step that fired ``fired`` (graded ``values``
    where a kernel or source gave them, 1 for plain spikes), or None when none is graded."""
    if all(p is None for p in values):
        return None
    return np.concatenate([np.ones(f.size, np.float32) if p is None
                           else np.asarray(p, np.float32)
                           for f, p in zip(fired, values, strict=True)])
