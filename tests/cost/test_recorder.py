"""The activity recorder: a run handed over in blocks of steps (as the emulator counts) keeps
exactly what step-by-step recording keeps, across block merges."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.backends.raw import RECORDED, ActivityRecorder


class _Counters:
    def __init__(self, n: int) -> None:
        self.packets_sent = np.zeros(n, np.int64)
        self.synaptic_events = np.zeros(n, np.int64)
        self.macs = np.zeros(n, np.int64)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 90), min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_blocks_of_steps_equal_steps_one_by_one(chunks: list[int], seed: int) -> None:
    """Random sparse counts on 3 cores (many steps and whole chunks without any), recorded
    step by step and in chunks of ``chunks`` steps, with a budget small enough to merge
    blocks several times: the same blocks, sums and maxima."""
    rng = np.random.default_rng(seed)
    n_cores, n_steps = 3, sum(chunks)
    series = rng.integers(1, 50, (n_steps, len(RECORDED), n_cores))
    series *= rng.random(series.shape) < 0.1
    series[rng.random(n_steps) < 0.5] = 0  # quiet steps
    one_by_one = ActivityRecorder(n_cores, budget=len(RECORDED) * n_cores * 64)
    counters = _Counters(n_cores)
    for step in series:
        for k, name in enumerate(RECORDED):
            getattr(counters, name)[:] += step[k]
        one_by_one.record(counters)
    blocked = ActivityRecorder(n_cores, budget=len(RECORDED) * n_cores * 64)
    first = 0
    for n in chunks:
        part = series[first:first + n]
        events = {}
        for k, name in enumerate(RECORDED):
            step, core = np.nonzero(part[:, k])
            if step.size:  # a counter with no event in the chunk is left out
                events[name] = (step, core, part[step, k, core])
        blocked.record_steps(n, events)
        first += n
    assert blocked.n_steps == one_by_one.n_steps == n_steps
    assert blocked.block_steps == one_by_one.block_steps
    assert one_by_one.block_steps > 1 or n_steps <= 64
    for got, want in zip(blocked.blocks(), one_by_one.blocks(), strict=True):
        if isinstance(got, dict):
            for name in RECORDED:
                np.testing.assert_array_equal(got[name], want[name])
        else:
            np.testing.assert_array_equal(got, want)
