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

    def record_steps(self, n_steps: int,
                     events: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        """Store ``n_steps`` consecutive steps at once, as ``n_steps`` calls of :meth:`record`
        would (the emulator counts in bulk, after a block of steps).

        Parameters
        ----------
        n_steps
            Steps covered (steps without any event included).
        events
            Counter name -> (step within the ``n_steps``, core, count); repeated (step,
            core) pairs add up. Counters not named count nothing in these steps.
        """
        totals = {}
        for k, name in enumerate(RECORDED):
            step, core, count = events.get(name, (np.zeros(0, np.int64),) * 3)
            code = np.asarray(step, np.int64) * self.n_cores + np.asarray(core, np.int64)
            code, inverse = np.unique(code, return_inverse=True)
            value = np.bincount(inverse, weights=count, minlength=code.size).astype(np.int64)
            totals[k] = (code // self.n_cores, code % self.n_cores, value)  # sorted by step
            self._last[k] += np.bincount(core, weights=count,
                                         minlength=self.n_cores).astype(np.int64)
        done = 0
        while done < n_steps:
            if self.n_blocks == 0 or self._lengths[self.n_blocks - 1] == self.block_steps:
                if self.n_blocks == self.capacity:
                    self._merge()
                self.n_blocks += 1
            b = self.n_blocks - 1
            take = min(n_steps - done, self.block_steps - int(self._lengths[b]))
            for k, (step, core, value) in totals.items():
                a, z = np.searchsorted(step, [done, done + take])
                if z > a:
                    np.add.at(self._sums[b, k], core[a:z], value[a:z])
                    np.maximum.at(self._peaks[b, k], core[a:z], value[a:z])
            self._lengths[b] += take
            self.n_steps += take
            done += take

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
