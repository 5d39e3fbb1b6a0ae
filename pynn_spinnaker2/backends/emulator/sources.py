"""Spike sources with a state (renewal processes), computed for a block of steps at once:
SpikeSourceGamma and SpikeSourcePoissonRefractory (formats and definitions in
:mod:`pynn_spinnaker2.cells.renewal_sources`).

A core steps each neuron once per time step: it draws from its generator (a Poisson number of
sub-events, or a uniform against the firing probability), updates the neuron's state and
sends the spikes due. The draws of a step do not depend on the state, so the emulator draws
them for the whole block (steps x neurons, in step order, from the cores' generator) and then
applies the state's rule to the block with array operations; the spikes and the final state
are those of the step-by-step rule applied to the same draws. Each function returns the spikes
as :func:`.inputs.per_step` gives them (pointers into neurons, by step) and updates ``state``
in place.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _active(params: dict[str, np.ndarray], first: int, n: int) -> np.ndarray:
    """(steps, neurons): inside each neuron's window [start_step, end_step)."""
    steps = np.arange(first, first + n)[:, None]
    return (params["start_step"] <= steps) & (steps < params["end_step"])


def _by_step(counts: np.ndarray, lo: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, neurons) spike counts -> (pointers by step, global neuron of each packet)."""
    row, neuron = np.nonzero(counts)
    repeat = counts[row, neuron]
    return (np.searchsorted(np.repeat(row, repeat), np.arange(n + 1)),
            np.repeat(neuron + lo, repeat))


def gamma_spikes(rng: np.random.Generator, params: dict[str, np.ndarray],
                 state: dict[str, np.ndarray], lo: int, first: int, n: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """SpikeSourceGamma in steps first .. first + n - 1.

    Per step and neuron the core draws k ~ Poisson(beta dt) sub-events; with ``left``
    sub-events due before the next spike, it sends ``1 + (k - left) // alpha`` spikes when
    ``k >= left`` and then owes ``alpha - (k - left) % alpha``, else it owes ``left - k``.
    Over a block that is a running sum S of the sub-events: by step j the neuron has sent
    ``max(0, (S_j - left) // alpha + 1)`` spikes.
    """
    active = _active(params, first, n)
    subs = rng.poisson(np.where(active, params["sub_per_step"], 0.0))
    total = np.cumsum(subs, axis=0)
    left = state["left"].astype(np.int64)
    alpha = np.maximum(params["alpha"].astype(np.int64), 1)
    sent = np.maximum(0, (total - left) // alpha + 1)
    counts = np.diff(sent, axis=0, prepend=0)
    state["left"][:] = left + alpha * sent[-1] - total[-1]
    return _by_step(counts, lo, n)


def refractory_spikes(rng: np.random.Generator, params: dict[str, np.ndarray],
                      state: dict[str, np.ndarray], lo: int, first: int, n: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """SpikeSourcePoissonRefractory in steps first .. first + n - 1.

    Per step and neuron the core draws a uniform u; a neuron not dead (``dead_left`` = 0) and
    inside its window fires when u < p and is then dead for the next ``dead_steps`` steps;
    a dead neuron counts ``dead_left`` down. Over a block: the candidate steps (u < p, in the
    window) of each neuron are taken in order, each one that comes after the previous
    spike's dead time fires (a few rounds, one spike per neuron each).
    """
    u = rng.random((n, params["p_fire"].size))
    candidate = (u < params["p_fire"]) & _active(params, first, n)
    neuron, step = np.nonzero(candidate.T)  # by neuron, then step
    dead = params["dead_steps"].astype(np.int64)
    free_from = state["dead_left"].astype(np.int64)  # first step (in the block) it may fire
    counts = np.zeros(candidate.shape, np.int64)
    # Without a dead time every candidate after the state's wait fires: no rounds needed
    # (they would be as many as the steps for a neuron firing at every step).
    quick = dead[neuron] == 0
    keep = quick & (step >= free_from[neuron])
    counts[step[keep], neuron[keep]] = 1
    free_from[neuron[keep]] = 0
    neuron, step = neuron[~quick], step[~quick]
    code = neuron * (n + 1) + step
    waiting = np.unique(neuron)
    while waiting.size:
        at = np.searchsorted(code, waiting * (n + 1) + free_from[waiting])
        at_ok = at < code.size
        hit = np.zeros(waiting.size, bool)
        hit[at_ok] = neuron[at[at_ok]] == waiting[at_ok]
        waiting, at = waiting[hit], at[hit]
        fired = step[at]
        counts[fired, waiting] = 1
        free_from[waiting] = fired + dead[waiting] + 1
    state["dead_left"][:] = np.maximum(free_from - n, 0)
    return _by_step(counts, lo, n)


#: Kernel name -> its block generator ``(rng, params, state, lo, first, n)``.
SOURCE_GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "spike_source_gamma": gamma_spikes,
    "spike_source_poisson_refractory": refractory_spikes,
}
