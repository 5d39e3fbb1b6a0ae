"""Raw recordings: what a backend returns, in machine terms (core, local neuron, step)."""

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
