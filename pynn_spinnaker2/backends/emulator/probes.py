"""Recording: which neurons record spikes, which variables are sampled at which interval
(from each core's ``recording`` and ``record_mask`` regions), what was recorded, and the raw
per-core recordings handed back (:class:`~pynn_spinnaker2.backends.raw.CoreRecording`).

Samples of a block of steps go into one array per probe, made before the block
(:func:`open_samplers`) and filled by the step loop; spikes are kept in bulk after each block
(:meth:`Recorder.keep_spikes`).
"""

from __future__ import annotations

import numpy as np

from ...image.machine_image import MachineImage
from ..raw import CoreRecording, Signal
from .counters import Sent
from .layout import Group, Layout
from .reload import carry_samples

#: A probe: (group index, variable, interval in steps).
ProbeKey = tuple[int, str, int]


class Recorder:
    """What the cores of an image record.

    Parameters
    ----------
    image, layout
        The image (its ``recording`` and ``record_mask`` regions) and its neuron numbering.

    Attributes
    ----------
    record_spikes
        Per global neuron, whether its spikes are recorded.
    probes
        Probe -> the sampled neurons, indices within the probe's group.
    samples
        Probe -> its samples so far, as arrays of rows (one row per sample).
    """

    def __init__(self, image: MachineImage, layout: Layout) -> None:
        self.record_spikes = np.zeros(layout.n_neurons, dtype=bool)
        self.probes: dict[ProbeKey, np.ndarray] = {}
        for gi, g in enumerate(layout.groups):
            for i in g.cores:
                core = image.cores[i]
                for row, mask in zip(core.sram["recording"], core.sram["record_mask"],
                                     strict=True):
                    variable = row["variable"].decode()
                    neurons = np.flatnonzero(mask) + layout.offsets[i]
                    if variable == "spikes":
                        self.record_spikes[neurons] = True
                        continue
                    key = (gi, variable, int(row["interval"]))
                    self.probes[key] = np.concatenate(
                        (self.probes.get(key, np.zeros(0, np.int64)), neurons - g.lo))
        self.samples: dict[ProbeKey, list[np.ndarray]] = {k: [] for k in self.probes}
        self.spikes: list[tuple[np.ndarray, np.ndarray]] = []
        # Payloads of recorded graded events, by position in ``spikes`` (plain spikes: 1).
        self.spike_values: dict[int, np.ndarray] = {}

    def reset(self, groups: list[Group]) -> None:
        """Nothing recorded, but the samples of step 0 (the initial state of ``groups``)."""
        self.spikes, self.spike_values = [], {}
        self.samples = {key: [groups[key[0]].state[key[1]][neurons].copy()]
                        for key, neurons in self.probes.items()}

    def continue_from(self, old: Recorder, step: int, groups: list[Group]) -> None:
        """Take over what ``old`` (the recording set-up before a reload at ``step``)
        recorded: spikes, and the samples of each probe (see :func:`.reload.carry_samples`).
        """
        self.spikes, self.spike_values = old.spikes, old.spike_values
        for key, probe in self.probes.items():
            gi, variable, interval = key
            self.samples[key] = carry_samples(probe, old.probes.get(key),
                                              old.samples.get(key, []), step, interval,
                                              groups[gi].state[variable])

    def keep_spikes(self, sent: Sent) -> None:
        """Keep the recorded ones among the packets ``sent``, with their payloads where a
        step was graded."""
        recorded = self.record_spikes[sent.neurons]
        if not recorded.any():
            return
        self.spikes.append((sent.steps[recorded], sent.neurons[recorded]))
        if not sent.values:
            return
        graded = np.repeat([i in sent.values for i in range(len(sent.sizes))], sent.sizes)
        if (graded & recorded).any():
            values = np.concatenate([sent.values.get(i, np.ones(size, np.float32))
                                     for i, size in enumerate(sent.sizes)])
            self.spike_values[len(self.spikes) - 1] = values[recorded]

    def bind(self, groups: list[Group]) -> list[tuple]:
        """Per probe what a step reads: (interval, samples, state, variable, what it reads,
        columns kept; see :func:`_sampled`), so a step looks nothing up."""
        return [(interval, self.samples[key], groups[gi].state, variable,
                 *_sampled(neurons, groups[gi].hi - groups[gi].lo))
                for key, neurons in self.probes.items()
                for gi, variable, interval in [key]]

    def recordings(self, image: MachineImage, layout: Layout) -> list[CoreRecording]:
        """What every core recorded, in machine terms (call after the spikes are kept)."""
        if self.spikes:
            steps = np.concatenate([s for s, _ in self.spikes])
            neurons = np.concatenate([n for _, n in self.spikes])
        else:
            steps = neurons = np.zeros(0, np.int64)
        owner = layout.core_of[neurons] if neurons.size else neurons
        values = None
        if self.spike_values:
            values = np.concatenate([self.spike_values.get(k, np.ones(n.size, np.float32))
                                     for k, (_, n) in enumerate(self.spikes)])
        out = []
        for i, core in enumerate(image.cores):
            mine = owner == i
            signals = {}
            gi = next(k for k, g in enumerate(layout.groups) if i in g.cores)
            lo = layout.offsets[i] - layout.groups[gi].lo
            hi = lo + core.n_neurons
            for (pgi, variable, interval), probe in self.probes.items():
                cols = np.flatnonzero((probe >= lo) & (probe < hi))
                if pgi != gi or cols.size == 0:
                    continue
                samples = self.samples[(pgi, variable, interval)]
                data = (np.vstack(samples)[:, cols] if samples
                        else np.zeros((0, cols.size), np.float32))
                signals[variable] = Signal(interval, probe[cols] - lo, data)
            out.append(CoreRecording(steps[mine].astype(np.uint32),
                                     (neurons[mine] - layout.offsets[i]).astype(np.uint32),
                                     signals, None if values is None else values[mine]))
        return out


def open_samplers(probes: list[tuple], now: int, n: int) -> list[tuple]:
    """For the steps after ``now`` up to ``now + n``, per bound probe (see
    :meth:`Recorder.bind`) that samples in them: (interval, number of its first sample,
    buffer, state, variable, what it reads, columns kept, samples)."""
    samplers = []
    for interval, samples, state, variable, where, cols in probes:
        first = now // interval + 1  # the number of the first sample after step ``now``
        count = (now + n) // interval - first + 1
        if count > 0:
            now_read = state[variable] if where is None else state[variable][where]
            buffer = np.empty((count, now_read.size), now_read.dtype)
            samplers.append((interval, first, buffer, state, variable, where, cols, samples))
    return samplers


def close_samplers(samplers: list[tuple], sampled_to: int) -> None:
    """Keep the samples of the steps up to ``sampled_to`` (also after an error: the steps
    run so far)."""
    for interval, first, buffer, _, _, _, cols, samples in samplers:
        taken = buffer[:sampled_to // interval - first + 1]
        samples.append(taken if cols is None else taken[:, cols])


def _sampled(neurons: np.ndarray, size: int
             ) -> tuple[slice | np.ndarray | None, np.ndarray | None]:
    """How a probe of ``neurons`` (of a group of ``size``) samples a step: (what it reads:
    None for the whole group, a slice or the neurons; columns kept at the end or None). A
    slice where the neurons are a range, or nearly (then the few unrecorded ones in between
    are dropped after the block): copying a slice costs less than gathering."""
    if neurons.size == 0:
        return neurons, None
    lo, hi = int(neurons.min()), int(neurons.max()) + 1
    if hi - lo == neurons.size and np.all(np.diff(neurons) == 1):
        return (None if (lo, hi) == (0, size) else slice(lo, hi)), None
    if hi - lo <= 2 * neurons.size + 16:
        return slice(lo, hi), neurons - lo
    return neurons, None
