"""Renewal spike sources drawn on the PE from its own random number generator, one step at a
time: SpikeSourceGamma and SpikeSourcePoissonRefractory (PyNN's standard types, NEST's
``gamma_sup_generator`` and ``ppd_sup_generator`` with one process each).

Both run inside [start, start + duration), like SpikeSourcePoisson; outside it the core draws
nothing and the neuron's state waits.

SpikeSourceGamma (integer ``alpha``, ``beta`` in Hz): the inter-spike intervals are
Gamma(shape alpha, rate beta), mean alpha / beta. The core draws, per step and neuron, a
Poisson number of sub-events of mean beta * dt and sends a spike at every alpha-th sub-event
(several spikes in one step are several packets). The state ``left`` is the number of
sub-events still due before the next spike; it starts at 1, NEST's start (its process begins
one transition short of a spike), so the first spike comes after an exponential time of rate
beta and every later interval is a full Gamma. A spike is stamped at the end of the step of
its alpha-th sub-event, so intervals are the Gamma's on the time grid.

SpikeSourcePoissonRefractory (``rate`` in Hz, ``tau_refrac`` in ms): after each spike the
neuron is dead for ``m = round(tau_refrac / dt)`` steps; then it fires in each step with
probability ``p = dt / (1000 / rate - m dt)``, the hazard ``rate / (1 - rate * tau_refrac)``
times dt (NEST's ``ppd_sup_generator``, which draws the same Bernoulli per step). An interval
is then ``m dt`` plus a geometric number of steps of mean ``1 / p``: the mean interval is
exactly ``1000 / rate`` ms, so the mean rate is ``rate``; at most one spike per step. The
state ``dead_left`` counts the dead steps still to wait; it starts at 0 (the neuron may fire
at once, as NEST's single process starts active).
"""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from .base import CellType, KernelOps, pynn_defaults, structured
from .registry import register
from .spike_sources import FOREVER

GAMMA_PARAM_DTYPE = np.dtype([("alpha", "<u4"), ("sub_per_step", "<f4"),
                              ("start_step", "<u4"), ("end_step", "<u4")])
GAMMA_STATE_DTYPE = np.dtype([("left", "<u4")])
REFRACTORY_PARAM_DTYPE = np.dtype([("p_fire", "<f4"), ("dead_steps", "<u4"),
                                   ("start_step", "<u4"), ("end_step", "<u4")])
REFRACTORY_STATE_DTYPE = np.dtype([("dead_left", "<u4")])


def _window(p: dict[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
    """Start and end steps of the active window [start, start + duration)."""
    start = np.asarray(p["start"], dtype=float)
    duration = np.asarray(p["duration"], dtype=float)
    end = np.where(np.isfinite(duration), np.round((start + duration) / dt), FOREVER)
    return {"start_step": np.round(start / dt).astype(np.uint32),
            "end_step": np.minimum(end, FOREVER).astype(np.uint32)}


def build_gamma_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """Order alpha and the mean number of sub-events per step, beta * dt."""
    alpha = np.asarray(p["alpha"], dtype=float)
    return structured(
        GAMMA_PARAM_DTYPE, alpha.size, alpha=np.round(alpha).astype(np.uint32),
        sub_per_step=np.asarray(p["beta"], dtype=np.float32) * np.float32(dt / 1000.0),
        **_window(p, dt))


def dead_steps(tau_refrac: np.ndarray, dt: float) -> np.ndarray:
    """Dead time in whole steps (rounded to the grid)."""
    return np.round(np.asarray(tau_refrac, dtype=float) / dt).astype(np.int64)


def build_refractory_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """Dead steps and the firing probability per live step, from the dead time on the grid,
    so the mean interval stays 1000 / rate ms."""
    rate = np.asarray(p["rate"], dtype=float)
    m = dead_steps(p["tau_refrac"], dt)
    with np.errstate(divide="ignore"):
        live_mean = np.where(rate > 0, 1000.0 / np.where(rate > 0, rate, 1.0) - m * dt, np.inf)
    return structured(
        REFRACTORY_PARAM_DTYPE, rate.size,
        p_fire=np.where(rate > 0, dt / live_mean, 0.0).astype(np.float32),
        dead_steps=m.astype(np.uint32), **_window(p, dt))


def build_gamma_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """One sub-event to the first spike (NEST's start)."""
    n = len(next(iter(p.values())))
    return structured(GAMMA_STATE_DTYPE, n, left=1)


def build_refractory_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]
                           ) -> np.ndarray:
    """Not dead at the start."""
    return structured(REFRACTORY_STATE_DTYPE, len(next(iter(p.values()))))


def check_gamma(network: object) -> None:
    """Raise a NetworkError for a SpikeSourceGamma the core cannot draw: alpha must be a
    whole number >= 1 (the count of sub-events per spike), beta >= 0."""
    for pop in network.populations:
        if pop.model != "SpikeSourceGamma":
            continue
        alpha = np.asarray(pop.params.get("alpha", SPIKE_SOURCE_GAMMA.defaults["alpha"]),
                           dtype=float)
        if np.any(alpha < 1) or np.any(alpha != np.round(alpha)) or np.any(alpha > 2**31):
            bad = np.unique(alpha[(alpha < 1) | (alpha != np.round(alpha))
                                  | (alpha > 2**31)])[:5]
            raise NetworkError(
                f"population {pop.label!r} (SpikeSourceGamma): alpha must be a whole number "
                f">= 1 (the core counts alpha Poisson sub-events per spike), got "
                f"{bad.tolist()}; round alpha, or use SpikeSourcePoisson for alpha = 1")
        beta = np.asarray(pop.params.get("beta", SPIKE_SOURCE_GAMMA.defaults["beta"]))
        if np.any(beta < 0):
            raise NetworkError(f"population {pop.label!r} (SpikeSourceGamma): beta must be "
                               f">= 0 Hz, got {np.min(beta)}")


def check_refractory(network: object) -> None:
    """Raise a NetworkError for a SpikeSourcePoissonRefractory the core cannot draw: the
    mean interval 1000 / rate must be at least the dead time on the grid plus one step (the
    firing probability per live step must not exceed 1). Negative rates and dead times are
    refused before, with every cell type's ranges (``network.validate``)."""
    dt = network.timestep
    defaults = SPIKE_SOURCE_POISSON_REFRACTORY.defaults
    for pop in network.populations:
        if pop.model != "SpikeSourcePoissonRefractory":
            continue
        rate = np.asarray(pop.params.get("rate", defaults["rate"]), dtype=float)
        tau = np.asarray(pop.params.get("tau_refrac", defaults["tau_refrac"]), dtype=float)
        rate, tau = np.broadcast_arrays(rate, tau)
        shortest = (dead_steps(tau, dt) + 1) * dt
        too_fast = rate * shortest > 1000.0 * (1 + 1e-9)
        if np.any(too_fast):
            i = int(np.argmax(too_fast))
            raise NetworkError(
                f"population {pop.label!r} (SpikeSourcePoissonRefractory): neuron {i} has "
                f"rate {rate[i]} Hz, a mean interval of {1000.0 / rate[i]:g} ms, but its "
                f"dead time of {tau[i]} ms on a {dt} ms grid leaves a shortest interval of "
                f"{shortest[i]:g} ms; lower the rate below {1000.0 / shortest[i]:g} Hz or "
                f"shorten tau_refrac")


# -- the core's draws, for a block of steps at once ------------------------------------------
# A core steps each neuron once per time step: it draws from its generator (a Poisson number
# of sub-events, or a uniform against the firing probability), updates the neuron's state and
# sends the spikes due. The draws of a step do not depend on the state, so the emulator draws
# them for the whole block (steps x neurons, in step order, from the cores' generator) and
# then applies the state's rule to the block with array operations; the spikes and the final
# state are those of the step-by-step rule applied to the same draws. Each function returns
# the spikes as the emulator's ``inputs.per_step`` gives them (pointers into neurons, by step)
# and updates ``state`` in place.

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


SPIKE_SOURCE_GAMMA = register(CellType(
    name="SpikeSourceGamma", kernel="spike_source_gamma",
    defaults=pynn_defaults("SpikeSourceGamma")[0], initial={},
    receptors=(), recordables={"spikes": ""}, units={}, param_dtype=GAMMA_PARAM_DTYPE,
    state_dtype=GAMMA_STATE_DTYPE, build_params=build_gamma_params,
    build_state=build_gamma_state, is_source=True, default_max_per_core=1024,
    extra={"check_network": check_gamma}, block_source=gamma_spikes,
    # window 2 compares, Poisson draw of the sub-events (~4), subtract from the count due,
    # compare, on a spike an integer division and a modulo (alpha)
    ops=KernelOps(single=8, div=1, rng=1, branches=2),
))

SPIKE_SOURCE_POISSON_REFRACTORY = register(CellType(
    name="SpikeSourcePoissonRefractory", kernel="spike_source_poisson_refractory",
    defaults=pynn_defaults("SpikeSourcePoissonRefractory")[0], initial={},
    receptors=(), recordables={"spikes": ""}, units={}, param_dtype=REFRACTORY_PARAM_DTYPE,
    state_dtype=REFRACTORY_STATE_DTYPE, build_params=build_refractory_params,
    build_state=build_refractory_state, is_source=True, default_max_per_core=1024,
    extra={"check_network": check_refractory}, block_source=refractory_spikes,
    # dead-step counter compare and decrement, window 2 compares, one uniform against p
    ops=KernelOps(single=5, rng=1, branches=2),
))
