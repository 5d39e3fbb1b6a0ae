"""Deploying the trained EGRU models through ``pyNN.spinnaker2``: the parts both models share.

A deployment reads a weight file (:mod:`models.weights`), builds the EGRU layers as PyNN
populations and projections (:func:`pyNN.spinnaker2.egru_layer`), runs them on the emulator
and compares what comes back with the same layers in PyTorch (float32, :mod:`models.egru_torch`)
or, without torch, in float64 NumPy (:mod:`models.egru_numpy`). The model-specific parts
(input, readout, metric) are in ``models/egru_lm/deploy.py`` and
``models/egru_gesture/deploy.py``.

The parts: :mod:`.weights` (weight files), :mod:`.sizing` (units per PE and chips),
:mod:`.figures` (what the chip used and cost), :mod:`.references` (the layers off the chip).
"""

from __future__ import annotations

import time

import numpy as np

from models.deploy.figures import (
    batch_loads,
    chip_figures,
    combine_costs,
    core_rows,
    cost_figures,
    per_copy_chip,
)
from models.deploy.references import (
    compare_layers,
    reference_layers,
    reference_name,
    torch_available,
)
from models.deploy.sizing import (
    MAX_PASSES,
    MAX_UNITS_PER_PE,
    PIECE_SRAM_BYTES,
    ROW_BYTES,
    SYNAPSE_BYTES,
    UNIT_SRAM_BYTES,
    chips_for,
    fit_first_batch,
    more_pes,
    plan_units_per_pe,
    unit_row_bytes,
    units_per_pe,
)
from models.deploy.weights import (
    LAYER_ARRAYS,
    WeightFileError,
    check_io_sizes,
    layer_arrays,
    load_model_file,
)
from pynn_spinnaker2.mapping.partition import piece_bounds

__all__ = [
    "LAYER_ARRAYS", "MAX_PASSES", "MAX_UNITS_PER_PE", "PIECE_SRAM_BYTES", "ROW_BYTES",
    "SYNAPSE_BYTES", "UNIT_SRAM_BYTES", "Stopwatch", "WeightFileError", "batch_loads",
    "build_layers", "check_io_sizes", "chip_figures", "chips_for", "combine_costs",
    "compare_layers", "core_rows", "cost_figures", "fit_first_batch", "layer_arrays",
    "load_model_file", "more_pes", "per_copy_chip", "piece_bounds", "plan_units_per_pe",
    "reference_layers", "reference_name", "spike_times", "torch_available", "unit_row_bytes",
    "units_per_pe",
]


def spike_times(active: np.ndarray, dt: float = 1.0, first_step: int = 1) -> list[list[float]]:
    """Spike times (ms) per input neuron of a (steps, neurons) boolean matrix: one spike in
    step ``first_step + k`` for every true entry of row k (position k)."""
    active = np.asarray(active, bool)
    return [((first_step + np.flatnonzero(active[:, i])) * dt).tolist()
            for i in range(active.shape[1])]


def build_layers(sim: object, inputs: object, arrays: dict[str, np.ndarray], n_layers: int,
                 per_core: list[int], prefix: str = "") -> list[object]:
    """Stacked EGRU layers on ``inputs`` (``sim.egru_layer``), each recording its events."""
    layers, pre = [], inputs
    for k in range(n_layers):
        a = layer_arrays(arrays, k)
        layer = sim.egru_layer(pre, a["kernel"], a["recurrent_kernel"], a["bias"],
                               a["recurrent_bias"], a["thr"], label=f"{prefix}egru{k}",
                               max_per_core=per_core[k])
        layer.population.record("spikes")
        layers.append(layer)
        pre = layer.population
    return layers


class Stopwatch:
    """Named wall-clock intervals (seconds)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._t
        self._t = now
