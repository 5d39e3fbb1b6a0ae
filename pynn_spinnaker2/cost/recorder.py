"""The per-step counting hook of the emulator (numpy only, so the emulator can import it).

See :mod:`pynn_spinnaker2.cost.activity` for what is recorded and how long runs are kept.
"""

from __future__ import annotations

import numpy as np

#: Per-PE counters the emulator records each step.
RECORDED = ("packets_sent", "synaptic_events", "macs")


class ActivityRecorder:
    """Per-step counts of one run, kept in a bounded number of step blocks.

    The emulator owns one, built at reset, and calls :meth:`record` with its cumulative
    counters once per step; the recorder stores the increase since the previous call.

    Parameters
    ----------
    n_cores
        Cores in the image.
    budget
        Numbers kept per kind (sums, maxima): blocks = budget / (counters x cores), at least 64.
    """

    def __init__(self, n_cores: int, budget: int = 1 << 20) -> None:
        cap = max(64, budget // (len(RECORDED) * max(n_cores, 1)))
        self.capacity = cap - cap % 2
        self.n_cores = n_cores
        self._sums = np.zeros((self.capacity, len(RECORDED), n_cores), np.int64)
        self._peaks = np.zeros_like(self._sums)
        self._lengths = np.zeros(self.capacity, np.int64)
        self._last = np.zeros((len(RECORDED), n_cores), np.int64)
        self.block_steps = 1
        self.n_blocks = 0
        self.n_steps = 0

    def record(self, counters: object) -> None:
        """Store one step: the increase of ``counters`` (an object with the per-core arrays
        ``packets_sent``, ``synaptic_events`` and, for graded events, ``macs``)."""
        now = self._last.copy()
        for k, name in enumerate(RECORDED):
            value = getattr(counters, name, None)
            if value is not None:  # kernels without graded events keep no ``macs``
                now[k] = value
        delta = now - self._last
        self._last = now
        if self.n_blocks == 0 or self._lengths[self.n_blocks - 1] == self.block_steps:
            if self.n_blocks == self.capacity:
                self._merge()
            self.n_blocks += 1
        b = self.n_blocks - 1
        self._sums[b] += delta
        np.maximum(self._peaks[b], delta, out=self._peaks[b])
        self._lengths[b] += 1
        self.n_steps += 1

    def _merge(self) -> None:
        """Halve the number of blocks: each new block holds two old ones."""
        half = self.capacity // 2
        self._sums[:half] = self._sums[0::2] + self._sums[1::2]
        self._peaks[:half] = np.maximum(self._peaks[0::2], self._peaks[1::2])
        self._lengths[:half] = self._lengths[0::2] + self._lengths[1::2]
        self._sums[half:] = 0
        self._peaks[half:] = 0
        self._lengths[half:] = 0
        self.n_blocks = half
        self.block_steps *= 2

    def blocks(self) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(steps per block, counter -> sums (blocks, cores), counter -> step maxima)."""
        n = self.n_blocks
        sums = {name: self._sums[:n, k].copy() for k, name in enumerate(RECORDED)}
        peaks = {name: self._peaks[:n, k].copy() for k, name in enumerate(RECORDED)}
        return self._lengths[:n].copy(), sums, peaks
