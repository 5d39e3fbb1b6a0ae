"""EGRU layers in PyNN: gate projections, a whole layer from EvNN/PyTorch weights, and the
graded output, activity sparsity and synaptic memory of what ran.

:func:`egru_layer` builds a layer (an :class:`~.egru_types.EGRU` population and its gate
projections) from EvNN-layout weights; the types themselves are in :mod:`.egru_types`. See
``doc/egru.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cells.egru import FEEDFORWARD_GATES
from ..errors import NetworkError
from . import simulator
from .egru_types import (
    EGRU,
    GradedSourceArray,
    WeightMatrixConnector,
    as_array,
    check_gate_target,
    first_step,
    spikes_variable,
)
from .populations import Population
from .projections import Projection
from .recording import Recorder
from .standardmodels import StaticSynapse

__all__ = ["EGRU", "EGRULayer", "GradedSourceArray", "WeightMatrixConnector",
           "activity_sparsity", "check_gate_target", "egru_layer", "egru_layer_from_evnn",
           "evnn_layout_from_torch_gru", "first_step", "gate_projection", "graded_output",
           "synapse_memory"]


def gate_projection(pre: object, post: object, weights: object, gate: str,
                    delay: float | None = None, label: str | None = None) -> object:
    """A projection of the (pre, post) weight matrix ``weights`` into gate ``gate`` of the
    EGRU population ``post``; zero weights make no synapse. ``delay`` defaults to one time
    step (the recurrent input y_(t-1), one pipeline stage for a stacked layer)."""

    check_gate_target(post, gate, label)
    d = simulator.state.dt if delay is None else float(delay)
    return Projection(pre, post, WeightMatrixConnector(weights),
                      StaticSynapse(weight=0.0, delay=d), receptor_type=gate, label=label)


@dataclass(frozen=True)
class EGRULayer:
    """A layer built by :func:`egru_layer`.

    Parameters
    ----------
    population
        The EGRU population.
    projections
        ``W_update``, ``W_reset``, ``W_candidate`` (from the input) and ``V_update``,
        ``V_reset``, ``V_candidate`` (recurrent) -> Projection.
    """

    population: object
    projections: dict[str, object]


def egru_layer(inputs: object, kernel: object, recurrent_kernel: object, bias: object,
               recurrent_bias: object, thr: object, label: str | None = None,
               zoneout: float = 0.0, delay: float | None = None,
               max_per_core: int | None = None) -> EGRULayer:
    """An EGRU population and its six gate projections from EvNN-layout weights.

    Parameters
    ----------
    inputs
        The population (or view/assembly) whose events are the layer's input x_t: a
        GradedSourceArray, the previous EGRU layer, or a spike source.
    kernel, recurrent_kernel
        EvNN's ``kernel`` (input_size, 3 hidden) and ``recurrent_kernel`` (hidden, 3 hidden),
        columns in gate order z (update), r (reset), g (candidate); numpy arrays or torch
        tensors. Zeros (pruned weights) make no synapse.
    bias, recurrent_bias
        EvNN's ``bias`` and ``recurrent_bias`` (3 hidden each).
    thr
        Per-unit thresholds (hidden,).
    label
        The population's label (projections are labelled ``label.W_update`` ...).
    zoneout
        EvNN's zoneout probability, applied as at inference.
    delay
        Delay of every projection (ms); default one time step.
    max_per_core
        Units per PE.

    Raises
    ------
    NetworkError
        When a matrix or vector does not have the shape the layer needs.
    """

    w, v = as_array(kernel), as_array(recurrent_kernel)
    b, bv, theta = as_array(bias), as_array(recurrent_bias), as_array(thr)
    hidden = theta.size
    name = label or "egru"
    expected = {"kernel": (w, (inputs.size, 3 * hidden)),
                "recurrent_kernel": (v, (hidden, 3 * hidden)),
                "bias": (b, (3 * hidden,)), "recurrent_bias": (bv, (3 * hidden,)),
                "thr": (theta, (hidden,))}
    for what, (array, shape) in expected.items():
        if array.shape != shape:
            raise NetworkError(
                f"EGRU layer {name!r}: {what} has shape {array.shape}, expected {shape} "
                f"(input size {inputs.size} from {inputs.label!r}, hidden size {hidden} from "
                f"thr; EvNN layout: columns in gate order update, reset, candidate)")
    h = slice(0, hidden), slice(hidden, 2 * hidden), slice(2 * hidden, 3 * hidden)
    cell = EGRU(theta=theta, bias_update=b[h[0]] + bv[h[0]], bias_reset=b[h[1]] + bv[h[1]],
                bias_candidate=b[h[2]], bias_candidate_recurrent=bv[h[2]], zoneout=zoneout)
    pop = Population(hidden, cell, label=label)
    if max_per_core is not None:
        pop.set_max_neurons_per_core(max_per_core)
    projections = {}
    for gate, cols in zip(FEEDFORWARD_GATES, h, strict=True):
        projections[f"W_{gate}"] = gate_projection(inputs, pop, w[:, cols], gate, delay,
                                                   f"{pop.label}.W_{gate}")
    for gate, cols in zip(("update", "reset", "candidate_recurrent"), h, strict=True):
        key = "V_candidate" if gate == "candidate_recurrent" else f"V_{gate}"
        projections[key] = gate_projection(pop, pop, v[:, cols], gate, simulator.state.dt,
                                           f"{pop.label}.{key}")
    return EGRULayer(pop, projections)


def egru_layer_from_evnn(inputs: object, module: object, label: str | None = None,
                         **kwargs: object) -> EGRULayer:
    """:func:`egru_layer` from an ``evnn_pytorch.EGRU`` module (its thresholds clamped to
    [0, 1], as EvNN's forward pass does)."""
    thr = np.clip(as_array(module.thr), 0.0, 1.0)
    return egru_layer(inputs, module.kernel, module.recurrent_kernel, module.bias,
                      module.recurrent_bias, thr, label=label,
                      zoneout=float(getattr(module, "zoneout", 0.0)), **kwargs)


def evnn_layout_from_torch_gru(weight_ih: object, weight_hh: object, bias_ih: object,
                               bias_hh: object) -> tuple[np.ndarray, ...]:
    """EvNN's (kernel, recurrent_kernel, bias, recurrent_bias) from ``torch.nn.GRU``-layout
    weights (``weight_ih_l0`` (3 hidden, input), ``weight_hh_l0``, ``bias_ih_l0``,
    ``bias_hh_l0``, rows in gate order r, z, n): transposed, and reordered to EvNN's z, r, g.

    nn.GRU's ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))`` and ``h' = (1 - z) n + z h`` are
    the EGRU's candidate and keep gate, so the conversion is exact; add the thresholds and
    pass the result to :func:`egru_layer`.
    """
    arrays = [as_array(a) for a in (weight_ih, weight_hh, bias_ih, bias_hh)]

    def reorder(a: np.ndarray) -> np.ndarray:
        r, z, n = np.split(a, 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    w_ih, w_hh, b_ih, b_hh = (reorder(a) for a in arrays)
    return w_ih.T.copy(), w_hh.T.copy(), b_ih, b_hh


def graded_output(population: object, n_positions: int | None = None) -> np.ndarray:
    """The recorded graded output as a dense (positions, units) matrix: row k holds the
    event values of sequence position k (0 where a unit sent nothing).

    ``population`` must record ``spikes``. Positions run from the population's first step
    (see :func:`first_step`) to the current time, or ``n_positions`` of them.
    """
    recorder: Recorder = population.recorder
    state = simulator.state
    start = first_step(population)
    steps_done = int(round(state.t / state.dt))
    n = max(0, steps_done - start + 1) if n_positions is None else int(n_positions)
    ids = sorted(recorder.filter_recorded(spikes_variable(), None))
    if not ids:
        raise RuntimeError(f"population {population.label!r} does not record 'spikes': call "
                           f"population.record('spikes') before sim.run()")
    idx, times, values = recorder._get_events(ids)
    pos = np.round(times / state.dt).astype(np.int64) - start
    keep = (pos >= 0) & (pos < n)
    out = np.zeros((n, population.size))
    if keep.any():  # a silent population is all zeros (id_to_index refuses an empty list)
        out[pos[keep], np.asarray(population.id_to_index(idx[keep]), dtype=np.int64)] = \
            values[keep]
    return out


def activity_sparsity(population: object) -> np.ndarray:
    """Per step from the population's first step on: the fraction of its recorded units that
    sent no event."""
    out = graded_output(population) != 0
    n = len(population.recorder.filter_recorded(spikes_variable(), None))
    return 1.0 - out.sum(axis=1) / n


def synapse_memory() -> list[dict]:
    """Per core hosting EGRU units: synaptic memory as stored (compressed sparse rows: 8 bytes
    per synapse plus 8 per row) and as dense float32 matrices would need (4 bytes per
    (source neuron, target unit) pair of every projection into the core)."""
    compiled = simulator.state.compiled
    if compiled is None:
        raise RuntimeError("nothing has been compiled yet: call sim.run() first")
    network, image = compiled.network, compiled.image
    out = []
    for core, where in zip(image.cores, image.index_map, strict=True):
        if core.kernel != "egru":
            continue
        dense = 0
        for proj in network.projections:
            if proj.post == where.population and len(proj):
                pre = network.population(proj.pre)
                dense += pre.size * (where.hi - where.lo) * 4
        sparse = int(core.dram["synapses"].nbytes + core.dram["row_index"].nbytes)
        out.append({"population": where.population, "units": (where.lo, where.hi),
                    "chip": core.chip, "pe": core.pe, "synapses": int(core.dram["synapses"].size),
                    "sparse_bytes": sparse, "dense_bytes": dense, "sram_bytes": core.sram_bytes})
    return out
