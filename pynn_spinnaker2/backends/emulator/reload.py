"""What a mid-run reload keeps (:meth:`~.emulator.Emulator.reload`): the host changed the
image between runs without moving any core (PyNN's ``set``, ``initialize``, ``record``
between ``run`` calls), and the run goes on.

Neurons keep their running state, except where the host wrote a new initial value; signals
keep what they recorded. The synaptic state keeps itself (see
:meth:`~.synaptic_state.SynapticState.keep_learning` and
:class:`~.synaptic_state.TsodyksMarkram`), as do the work counters
(:meth:`~.counters.WorkCounter.continue_from`).
"""

from __future__ import annotations

import numpy as np

from ...image.machine_image import MachineImage
from .layout import Group


def write_changed_state(groups: list[Group], offsets: np.ndarray, old: MachineImage,
                        new: MachineImage) -> None:
    """Where the host wrote a new initial state mid-run (PyNN's ``initialize``), the
    neurons take it now, as NEST does; untouched neurons keep their running state.

    Parameters
    ----------
    groups
        The running groups (their ``state`` changes in place).
    offsets
        Global index of each core's first neuron.
    old, new
        The image before and after the reload.
    """
    for g in groups:
        for i in g.cores:
            before, after = old.cores[i].sram["neuron_state"], new.cores[i].sram["neuron_state"]
            lo = offsets[i] - g.lo
            for name in after.dtype.names or ():
                changed = np.flatnonzero(before[name] != after[name])
                if changed.size:
                    g.state[name][lo + changed] = after[name][changed]


def carry_samples(probe: np.ndarray, old_probe: np.ndarray | None, kept: list[np.ndarray],
                  step: int, interval: int, now: np.ndarray) -> list[np.ndarray]:
    """The samples of a probe after a reload at ``step``.

    A probe whose neurons stay keeps its samples; one whose neurons changed keeps what was
    recorded, and samples from before a neuron was recorded are NaN, so every signal still
    starts at step 0 (nothing is silently shifted in time).

    Parameters
    ----------
    probe, old_probe
        The sampled neurons now and before (None: the probe is new).
    kept
        The samples before, as arrays of rows.
    step, interval
        The step reached, and the probe's interval.
    now
        The sampled variable of the whole group now (read when ``step`` is a sample).
    """
    if old_probe is not None and np.array_equal(probe, old_probe):
        return kept
    grid = np.full((step // interval + 1, probe.size), np.nan, dtype=np.float32)
    if old_probe is not None and kept:
        cols = np.searchsorted(probe, old_probe)
        kept_rows = np.vstack(kept)  # single samples and blocks of them
        grid[:len(kept_rows), cols] = kept_rows
    if step % interval == 0:
        grid[-1] = now[probe]
    return list(grid)
