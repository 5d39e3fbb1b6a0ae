"""Compiled Poisson sources: the spikes :func:`..inputs.poisson_spikes` draws, from the same
random stream, number for number.

NumPy's ``Generator.poisson`` draws a count for each (step, neuron) in row order; for a mean
``0 < lam < 10`` it multiplies uniform numbers (``next_double``, what ``Generator.random``
returns) until their product falls to ``exp(-lam)`` or below, so a count X uses X + 1
uniforms (a mean of 0 uses none; a mean of 10 or more takes another algorithm, left to
NumPy). Here the uniforms are drawn in bulk with ``Generator.random``, the counts computed in
one compiled loop, and the generator set to the state after exactly the uniforms used
(``PCG64.advance``), so the stream goes on as NumPy's would.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..inputs import poisson_spikes as numpy_poisson_spikes

#: Means at or above this take NumPy's other algorithm (PTRS): those groups stay NumPy.
_MULT_LIMIT = 10.0


@numba.njit(fastmath=False, error_model="numpy", cache=True, nogil=True)
def _counts(uniform, mean, start, end, first, n, lo, ptr, neurons):
    """Fill ``ptr`` (n + 1) and ``neurons``; returns the uniforms used, or -1 when
    ``uniform`` ran out (or ``neurons`` is full) before the block's end."""
    used, sent = 0, 0
    enlam = np.empty(mean.size)
    for i in range(mean.size):
        enlam[i] = math.exp(-np.float64(mean[i]))
    ptr[0] = 0
    for k in range(n):
        step = first + k
        for i in range(mean.size):
            if mean[i] == 0 or step < start[i] or step >= end[i]:
                continue
            prod, count = 1.0, 0
            while True:
                if used == uniform.size:
                    return -1
                prod *= uniform[used]
                used += 1
                if prod > enlam[i]:
                    count += 1
                else:
                    break
            if sent + count > neurons.size:
                return -1
            for _ in range(count):
                neurons[sent] = lo + i
                sent += 1
        ptr[k + 1] = sent
    return used


def poisson_spikes(rng: np.random.Generator, params: dict[str, np.ndarray], lo: int,
                   first: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`..inputs.poisson_spikes`, compiled where the generator is PCG64 and every mean
    is below 10 per step (else NumPy's)."""
    mean = params["mean_per_step"]
    if (not isinstance(rng.bit_generator, np.random.PCG64) or mean.size == 0
            or not float(mean.max()) < _MULT_LIMIT or not float(mean.min()) >= 0.0):
        return numpy_poisson_spikes(rng, params, lo, first, n)
    start = params["start_step"].astype(np.int64)
    end = params["end_step"].astype(np.int64)
    active = np.clip(np.minimum(end, first + n) - np.maximum(start, first), 0, None)
    draws = int(active[mean != 0].sum())
    expected = float((active * mean.astype(np.float64)).sum())
    # Uniforms for the block: one per draw plus one per spike, with room for chance.
    size = draws + int(expected + 6.0 * math.sqrt(expected + 1.0)) + 64
    saved = rng.bit_generator.state
    ptr = np.empty(n + 1, np.int64)
    while True:
        uniform = rng.random(size)
        neurons = np.empty(size, np.int64)
        used = _counts(uniform, mean, start, end, first, n, lo, ptr, neurons)
        rng.bit_generator.state = saved
        if used >= 0:
            break
        size *= 2
    rng.bit_generator.advance(used)
    return ptr, neurons[:ptr[n]]
