"""What the cores generate themselves, computed for a block of time steps at once: the
spikes of spike sources and the injected currents.

Both are functions of the step (and of each core's random stream, drawn in step order), so
the emulator computes them for a block of steps in a few array operations and its per-step
loop only slices the result.
"""

from __future__ import annotations

import numpy as np

from ...image.machine_image import CURRENT_KINDS


def per_step(steps: np.ndarray, values: np.ndarray, first: int, n: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Events (``steps`` sorted) of steps first .. first + n - 1 as (pointers, values):
    step ``first + j`` has ``values[ptr[j]:ptr[j + 1]]``."""
    lo, hi = np.searchsorted(steps, [first, first + n])
    ptr = np.searchsorted(steps[lo:hi], np.arange(first, first + n + 1))
    return ptr, values[lo:hi]


def poisson_spikes(rng: np.random.Generator, params: dict[str, np.ndarray], lo: int,
                   first: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Spikes of Poisson sources (global neurons ``lo`` ...) in steps first .. first + n - 1,
    drawn step by step from the cores' generator (as :func:`per_step` gives them)."""
    steps = np.arange(first, first + n)[:, None]
    active = (params["start_step"] <= steps) & (steps < params["end_step"])
    counts = rng.poisson(np.where(active, params["mean_per_step"], 0.0))
    row, neuron = np.nonzero(counts)
    repeat = counts[row, neuron]
    return (np.searchsorted(np.repeat(row, repeat), np.arange(n + 1)),
            np.repeat(neuron + lo, repeat))


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A counter-based 64-bit hash (SplitMix64's output function)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def counter_uniform(seed: np.ndarray, counter: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) that depend only on (seed, counter, step)."""
    key = _splitmix64(np.asarray(seed, np.uint64) ^ (np.asarray(step, np.uint64)
                                                     << np.uint64(32)))
    z = _splitmix64(key ^ np.asarray(counter, np.uint64))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def counter_normal(seed: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Standard normal numbers that depend only on (seed, draw): every core feeding the same
    neurons from one source draws the same values, in any order (Box-Muller on two hashed
    uniforms)."""
    key = (np.asarray(seed, np.uint64) << np.uint64(32)) | np.asarray(draw, np.uint64)
    a = _splitmix64(key << np.uint64(1))
    b = _splitmix64((key << np.uint64(1)) | np.uint64(1))
    u1 = ((a >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53
    u2 = (b >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def current_values(table: np.ndarray, schedule: tuple[np.ndarray, np.ndarray, np.ndarray],
                   steps: np.ndarray, dt: float) -> np.ndarray:
    """Current (nA) of every current-source row during the steps that start at ``steps``,
    shape (steps, rows): the last schedule change at or before the step, a sine of the time
    since start, or Gaussian noise redrawn every ``noise_steps``."""
    steps = np.asarray(steps, np.int64)
    value = np.zeros((steps.size, table.size), np.float32)
    rows, change_steps, amps = schedule
    for r in np.unique(rows):
        mine = rows == r
        last = np.searchsorted(change_steps[mine], steps, side="right") - 1
        value[:, r] = np.where(last >= 0, amps[mine][np.maximum(last, 0)], 0.0)
    since = steps[:, None] - table["start_step"].astype(np.int64)
    active = (since >= 0) & (steps[:, None] < table["stop_step"].astype(np.int64))
    for j in np.flatnonzero(table["kind"] == CURRENT_KINDS["sine"]):
        row = table[j]
        t = since[:, j] * dt
        value[:, j] = row["offset"] + row["amplitude"] * np.sin(
            2 * np.pi * row["frequency"] * t / 1000.0 + np.deg2rad(row["phase"]))
    for j in np.flatnonzero(table["kind"] == CURRENT_KINDS["noise"]):
        row = table[j]
        draw = np.maximum(since[:, j], 0) // int(row["noise_steps"])
        value[:, j] = row["offset"] + row["stdev"] * counter_normal(
            np.full(draw.size, row["seed"]), draw)
    kinds = table["kind"] != CURRENT_KINDS["schedule"]
    value[:, kinds] = np.where(active[:, kinds], value[:, kinds], 0.0)
    return value
