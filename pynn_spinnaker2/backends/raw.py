"""Raw results: what a backend returns, in machine terms (core, local neuron, step).

Recordings per core (:class:`CoreRecording`) and the work done per core and step
(:class:`ActivityRecorder`, the input of the cost model: numpy only, so every backend can fill
it and :mod:`pynn_spinnaker2.cost` can read it without importing a backend's step loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Signal:
    """Samples of one variable on one core.

    Parameters
    ----------
    interval
        Steps between samples; the first sample is at step 0 of the segment.
    neurons
        Local indices of the sampled neurons.
    data
        Shape (samples, neurons), in the kernel's units (float32).
    """

    interval: int
    neurons: np.ndarray
    data: np.ndarray


@dataclass(frozen=True)
class CoreRecording:
    """Everything one core recorded since the last reset.

    Parameters
    ----------
    spike_steps, spike_neurons
        One entry per recorded spike: the step it was emitted at and the local neuron index.
    signals
        Variable -> :class:`Signal`.
    spike_values
        The float32 payload of each recorded event (graded events; 1 for plain spikes), or
        None when the run sent no graded event.
    """

    spike_steps: np.ndarray
    spike_neurons: np.ndarray
    signals: dict[str, Signal] = field(default_factory=dict)
    spike_values: np.ndarray | None = None


#: Per-PE counters the emulator records each step.
RECORDED = ("packets_sent", "synaptic_events", "macs")


class ActivityRecorder:
    """Per-step counts of one run, kept in a bounded number of step blocks.

    A backend owns one per run (the emulator builds it at reset) and hands it the counts of
    each block of steps it ran (:meth:`record_steps`); :meth:`record` takes one step's
    cumulative counters instead (as a board's hardware counters give them) and stores the
    increase since the previous call. The cost model (:mod:`pynn_spinnaker2.cost`) reads it;
    nothing here knows about prices.

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
        events = {}
        cores = np.arange(self.n_cores)
        for k, name in enumerate(RECORDED):
            value = getattr(counters, name, None)
            if value is not None:  # kernels without graded events keep no ``macs``
                events[name] = (np.zeros(self.n_cores, np.int64), cores,
                                np.asarray(value, np.int64) - self._last[k])
        self.record_steps(1, events)

    def record_steps(self, n_steps: int,
                     events: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        """Store ``n_steps`` consecutive steps at once, as ``n_steps`` calls of :meth:`record`
        would (the emulator counts in bulk, after a block of steps).

        Block ``i`` always holds steps ``[i B, (i + 1) B)``, ``B`` the block size: the
        smallest power of two that keeps every step so far within the capacity, so the
        blocks of any sequence of calls are those of recording step by step.

        Parameters
        ----------
        n_steps
            Steps covered (steps without any event included).
        events
            Counter name -> (step within the ``n_steps``, core, count); repeated (step,
            core) pairs add up. Counters not named count nothing in these steps.
        """
        if n_steps <= 0:
            return
        first = self.n_steps
        total = first + n_steps
        while -(-total // self.block_steps) > self.capacity:
            self._merge()
        size = self.block_steps
        for k, name in enumerate(RECORDED):
            if name not in events or np.size(events[name][2]) == 0:
                continue  # nothing counted: no sum or maximum changes
            step, core, count = events[name]
            step, core = np.asarray(step, np.int64), np.asarray(core, np.int64)
            count = np.asarray(count, np.int64)
            self._last[k] += np.bincount(core, weights=count,
                                         minlength=self.n_cores).astype(np.int64)
            # Per (step, core) totals, then per block: sums, and maxima over its steps.
            code, inverse = np.unique(step * self.n_cores + core, return_inverse=True)
            value = np.bincount(inverse, weights=count, minlength=code.size).astype(np.int64)
            block = (first + code // self.n_cores) // size
            where = (block, k, code % self.n_cores)
            np.add.at(self._sums, where, value)
            np.maximum.at(self._peaks, where, value)
        # Steps of each block the run touched: those of [first, total) within the block.
        blocks = np.arange(first // size, (total - 1) // size + 1)
        self._lengths[blocks] += (np.minimum(total, (blocks + 1) * size)
                                  - np.maximum(first, blocks * size))
        self.n_blocks = int(blocks[-1]) + 1
        self.n_steps = total

    def _merge(self) -> None:
        """Double the block size: each new block holds two old ones."""
        half = self.capacity // 2
        self._sums[:half] = self._sums[0::2] + self._sums[1::2]
        self._peaks[:half] = np.maximum(self._peaks[0::2], self._peaks[1::2])
        self._lengths[:half] = self._lengths[0::2] + self._lengths[1::2]
        self._sums[half:] = 0
        self._peaks[half:] = 0
        self._lengths[half:] = 0
        self.n_blocks = -(-self.n_blocks // 2)
        self.block_steps *= 2

    def blocks(self) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(steps per block, counter -> sums (blocks, cores), counter -> step maxima)."""
        n = self.n_blocks
        sums = {name: self._sums[:n, k].copy() for k, name in enumerate(RECORDED)}
        peaks = {name: self._peaks[:n, k].copy() for k, name in enumerate(RECORDED)}
        return self._lengths[:n].copy(), sums, peaks
