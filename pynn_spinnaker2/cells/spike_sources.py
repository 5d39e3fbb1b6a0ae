"""Spike sources: SpikeSourceArray (spike times stored in the PE's SRAM) and
SpikeSourcePoisson (drawn on the PE from its own random number generator).

A SpikeSourceArray spike at time t is sent in the step that ends at the first grid point at or
after t (:func:`grid_steps`), so a spike on the grid reaches a target at exactly t + delay, as
NEST's ``spike_generator`` does, and one between grid points goes to the next point, as NEST
puts it. A spike at t = 0 lies at the start of the simulation and could never be sent: the
network check refuses it, as NEST does.

A SpikeSourcePoisson neuron sends, in each step inside [start, start + duration), a
Poisson-distributed number of spikes with mean rate * dt; several spikes in one step are
several packets.
"""

from __future__ import annotations

import numpy as np

from .base import CellType, KernelOps, pynn_defaults, structured
from .registry import register

ARRAY_PARAM_DTYPE = np.dtype([("n_spikes", "<u4")])
POISSON_PARAM_DTYPE = np.dtype([("mean_per_step", "<f4"), ("start_step", "<u4"),
                                ("end_step", "<u4")])
NO_STATE = np.dtype([])

#: Poisson sources stop at this step when their duration is infinite.
FOREVER = np.iinfo(np.uint32).max


def build_array_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """Only a count per neuron: the spike times themselves go in their own region."""
    return structured(ARRAY_PARAM_DTYPE, len(next(iter(p.values()), [])) if p else 0)


def build_poisson_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """Rates and windows in steps."""
    start = np.asarray(p["start"], dtype=float)
    duration = np.asarray(p["duration"], dtype=float)
    end = np.where(np.isfinite(duration), np.round((start + duration) / dt), FOREVER)
    return structured(
        POISSON_PARAM_DTYPE, len(start),
        mean_per_step=np.asarray(p["rate"], dtype=np.float32) * np.float32(dt / 1000.0),
        start_step=np.round(start / dt).astype(np.uint32),
        end_step=np.minimum(end, FOREVER).astype(np.uint32),
    )


def build_no_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """Spike sources keep no per-neuron state in SRAM."""
    n = len(next(iter(p.values()))) if p else 0
    return np.zeros(n, dtype=NO_STATE)


def grid_steps(times: np.ndarray, dt: float) -> np.ndarray:
    """The step in which each spike time is sent: the first grid point at or after it.

    A time within a millionth of a step of a grid point is on that point (``0.3 / 0.1`` is
    3.0000000000000004 in floating point), as NEST compares times in tics; a time between two
    points goes to the later one, as NEST's ``spike_generator`` with off-grid times allowed.
    """
    return np.ceil(np.asarray(times, dtype=float) / dt - 1e-6).astype(np.int64)


SPIKE_SOURCE_ARRAY = register(CellType(
    name="SpikeSourceArray", kernel="spike_source_array",
    defaults=pynn_defaults("SpikeSourceArray")[0], initial={}, receptors=(),
    recordables={"spikes": ""}, units={},
    param_dtype=ARRAY_PARAM_DTYPE, state_dtype=NO_STATE, build_params=build_array_params,
    build_state=build_no_state, is_source=True, default_max_per_core=1024,
    # the schedule is walked per step (fixed overhead); per neuron nothing but the loop
    ops=KernelOps(single=1, branches=1),
))

SPIKE_SOURCE_POISSON = register(CellType(
    name="SpikeSourcePoisson", kernel="spike_source_poisson",
    defaults=pynn_defaults("SpikeSourcePoisson")[0], initial={}, receptors=(),
    recordables={"spikes": ""}, units={}, param_dtype=POISSON_PARAM_DTYPE,
    state_dtype=NO_STATE, build_params=build_poisson_params, build_state=build_no_state,
    is_source=True, default_max_per_core=1024,
    # active window 2 compares, Poisson draw by inversion against one uniform: ~4
    ops=KernelOps(single=6, rng=1, branches=1),
))
