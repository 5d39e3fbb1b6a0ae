"""Raw recordings -> per-population arrays -> neo.Block.

The index map of the image says which population slice each core simulated; that is all this
module needs to turn (core, local neuron, step) into (population, neuron, time).
"""

from __future__ import annotations

from collections.abc import Sequence

import neo
import numpy as np
import quantities as pq

from ..backends.raw import CoreRecording
from ..image.machine_image import CoreSlice


def population_spikes(recordings: Sequence[CoreRecording], index_map: Sequence[CoreSlice],
                      label: str, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(neuron index, spike time in ms) of every recorded spike of population ``label``."""
    idx, times = [], []
    for rec, where in zip(recordings, index_map, strict=True):
        if where.population == label and rec.spike_steps.size:
            idx.append(rec.spike_neurons.astype(np.int64) + where.lo)
            times.append(rec.spike_steps.astype(float) * dt)
    if not idx:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(idx), np.concatenate(times)


def population_events(recordings: Sequence[CoreRecording], index_map: Sequence[CoreSlice],
                      label: str, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(neuron index, time in ms, value) of every recorded event of population ``label``;
    the value is the event's graded payload (1 for a plain spike)."""
    idx, times, values = [], [], []
    for rec, where in zip(recordings, index_map, strict=True):
        if where.population == label and rec.spike_steps.size:
            idx.append(rec.spike_neurons.astype(np.int64) + where.lo)
            times.append(rec.spike_steps.astype(float) * dt)
            values.append(np.ones(rec.spike_steps.size) if rec.spike_values is None
                          else rec.spike_values.astype(float))
    if not idx:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    return np.concatenate(idx), np.concatenate(times), np.concatenate(values)


def population_signal(recordings: Sequence[CoreRecording], index_map: Sequence[CoreSlice],
                      label: str, variable: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(neuron indices, samples (time, neuron), interval in steps) of one variable."""
    idx, data, interval = [], [], 1
    for rec, where in zip(recordings, index_map, strict=True):
        signal = rec.signals.get(variable)
        if where.population == label and signal is not None:
            idx.append(signal.neurons.astype(np.int64) + where.lo)
            data.append(signal.data)
            interval = signal.interval
    if not idx:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), interval
    indices = np.concatenate(idx)
    n = min(d.shape[0] for d in data)
    samples = np.hstack([d[:n] for d in data])
    order = np.argsort(indices, kind="stable")
    return indices[order], samples[:, order], interval


def block_from_recordings(recordings: Sequence[CoreRecording],
                          index_map: Sequence[CoreSlice], dt: float, t_stop: float,
                          units: dict[str, dict[str, str]] | None = None,
                          name: str = "pynn_spinnaker2") -> neo.Block:
    """A neo.Block with one segment: a SpikeTrain per recorded neuron, an AnalogSignal per
    recorded variable, for every population in the index map.

    Parameters
    ----------
    recordings, index_map
        From the backend and the image.
    dt
        Time step (ms).
    t_stop
        End of the recording (ms).
    units
        Population -> variable -> unit string (default dimensionless).
    """
    units = units or {}
    block = neo.Block(name=name)
    segment = neo.Segment(name="segment000")
    block.segments.append(segment)
    for label in dict.fromkeys(w.population for w in index_map):
        idx, times, values = population_events(recordings, index_map, label, dt)
        graded = any(r.spike_values is not None for r, w in zip(recordings, index_map,
                                                                  strict=True)
                     if w.population == label)
        for i in np.unique(idx):
            order = np.argsort(times[idx == i], kind="stable")
            segment.spiketrains.append(neo.SpikeTrain(
                times[idx == i][order] * pq.ms, t_start=0 * pq.ms, t_stop=t_stop * pq.ms,
                source_population=label, source_index=int(i),
                # graded events: the payload of each event, in time order
                array_annotations={"value": values[idx == i][order].astype(np.float32)}
                if graded else None))
        variables = {v for r, w in zip(recordings, index_map, strict=True)
                     if w.population == label for v in r.signals}
        for variable in sorted(variables):
            cols, data, interval = population_signal(recordings, index_map, label, variable)
            segment.analogsignals.append(neo.AnalogSignal(
                data, units=units.get(label, {}).get(variable, "dimensionless"),
                sampling_period=interval * dt * pq.ms, t_start=0 * pq.ms, name=variable,
                source_population=label, array_annotations={"channel_index": cols}))
    return block
