"""GradedSourceArray: a source of graded events, each a (time, value) pair per neuron.

It is a SpikeSourceArray whose events carry a float32 payload: an event at time t is sent in
the step that ends at round(t / dt) dt (an event at t = 0 is never sent, as for spikes) as
one multicast packet whose payload is its value; each synapse it reaches adds
``weight * value``. Events of value 0 are not sent (they would add nothing). The typical use
is an embedding lookup: one event per unit and step, the embedding vector of the step's token.

The events are compiled into the core's ``event_schedule`` region (DRAM, sorted by step).
"""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from .base import CellType, KernelOps, structured
from .registry import register

PARAM_DTYPE = np.dtype([("n_events", "<u4")])
NO_STATE = np.dtype([])
#: One graded event: the step it is sent in, the neuron (local to the core), the payload.
EVENT_DTYPE = np.dtype([("step", "<u4"), ("neuron", "<u4"), ("value", "<f4")])


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """Only a count per neuron: the events go into the ``event_schedule`` region."""
    return structured(PARAM_DTYPE, len(p["start"]))


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """A graded source keeps no per-neuron state."""
    return np.zeros(len(p["start"]), dtype=NO_STATE)


def event_schedule(times: tuple[np.ndarray, ...], values: tuple[np.ndarray, ...],
                   dt: float) -> np.ndarray:
    """The ``event_schedule`` region of one core: (step, neuron, value) sorted by step, then
    neuron; events at step 0 or of value 0 are left out (see the module docstring)."""
    steps, neurons, vals = [], [], []
    for i, (t, v) in enumerate(zip(times, values, strict=True)):
        s = np.round(np.asarray(t, dtype=float) / dt).astype(np.int64)
        v = np.asarray(v, dtype=np.float32)
        keep = (s > 0) & (v != 0)
        steps.append(s[keep])
        neurons.append(np.full(int(keep.sum()), i, dtype=np.int64))
        vals.append(v[keep])
    step = np.concatenate(steps) if steps else np.zeros(0, np.int64)
    neuron = np.concatenate(neurons) if neurons else np.zeros(0, np.int64)
    value = np.concatenate(vals) if vals else np.zeros(0, np.float32)
    order = np.lexsort((neuron, step))
    return structured(EVENT_DTYPE, step.size, step=step[order], neuron=neuron[order],
                      value=value[order])


def regions(pop: object, lo: int, hi: int, dt: float
            ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(SRAM, DRAM) regions of the core that sends neurons [lo, hi) of ``pop``."""
    schedule = event_schedule(pop.spike_times[lo:hi], pop.spike_values[lo:hi], dt)
    return {}, {"event_schedule": schedule}


def check(pop: object) -> None:
    """Raise a NetworkError naming ``pop`` when its events are inconsistent."""
    if pop.spike_times is None or pop.spike_values is None:
        raise NetworkError(f"population {pop.label!r}: a GradedSourceArray needs event times "
                           f"and values (one array of each per neuron)")
    if len(pop.spike_times) != pop.size or len(pop.spike_values) != pop.size:
        raise NetworkError(f"population {pop.label!r}: a GradedSourceArray needs one array of "
                           f"event times and one of values per neuron ({pop.size}), got "
                           f"{len(pop.spike_times)} and {len(pop.spike_values)}")
    for i, (t, v) in enumerate(zip(pop.spike_times, pop.spike_values, strict=True)):
        if np.shape(t) != np.shape(v):
            raise NetworkError(f"population {pop.label!r}, neuron {i}: {np.size(t)} event "
                               f"times but {np.size(v)} values; give one value per event")
        if np.any(np.asarray(t) < 0) or not np.all(np.isfinite(v)):
            raise NetworkError(f"population {pop.label!r}, neuron {i}: event times must be "
                               f">= 0 ms and values finite")


GRADED_SOURCE_ARRAY = register(CellType(
    name="GradedSourceArray", kernel="graded_source_array", defaults={"start": 0.0},
    initial={}, receptors=(), recordables={"spikes": ""}, units={},
    param_dtype=PARAM_DTYPE, state_dtype=NO_STATE, build_params=build_params,
    build_state=build_state, is_source=True, default_max_per_core=1024,
    extra={"graded": True, "regions": regions, "check": check},
    # like spike_source_array: the schedule (with payloads) is walked per step
    ops=KernelOps(single=1, branches=1),
))
