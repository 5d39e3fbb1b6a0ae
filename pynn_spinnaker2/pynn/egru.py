"""The EGRU in PyNN: the cell type, its graded input, gate projections, and what comes back.

``sim.EGRU`` is a cell type whose receptor types are its gates (``update``, ``reset``,
``candidate`` for inputs x_t, ``update``, ``reset``, ``candidate_recurrent`` for the
population's own output y_(t-1)); ``sim.GradedSourceArray`` sends graded events (an embedding
lookup per step); ``sim.WeightMatrixConnector`` turns a (pre, post) weight matrix into
synapses, leaving out its zeros (pruned weights cost no memory); :func:`egru_layer` builds a
whole layer from EvNN/PyTorch-layout weights. See ``doc/egru.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import neo
import numpy as np
import quantities as pq
from pyNN import errors
from pyNN.connectors import Connector
from pyNN.parameters import Sequence
from pyNN.standardmodels import StandardCellType, build_translations

from ..cells.egru import DEFAULTS, FEEDFORWARD_GATES, GATES, first_steps
from ..errors import NetworkError
from . import simulator


def _identity(names: object) -> dict:
    return build_translations(*[(name, name) for name in names])


class EGRU(StandardCellType):
    """Event-based gated recurrent unit (Subramoney et al., ICLR 2023; EvNN's ``EGRU``).

    Per update: ``u = sigmoid(a_u + bias_update)``, ``r = sigmoid(a_r + bias_reset)``,
    ``g = tanh(a_g + bias_candidate + r * (a_gr + bias_candidate_recurrent))``,
    ``c^ = u c + (1 - u) g``; where ``c^ > theta`` the unit sends a graded event of value
    ``c^`` and ``c = c^ - theta``, elsewhere ``c = c^`` and it sends nothing. ``a_*`` are the
    weighted sums of the event values arriving on the receptor (gate) of that name;
    ``zoneout`` p blends ``c^ <- p c + (1 - p) c^`` as EvNN does at inference.

    Recordable: ``spikes`` (events; each SpikeTrain holds the event values in its array
    annotation ``value``), ``c`` (state after the reset), ``update``, ``reset`` and
    ``candidate`` (the gate values of the last update).
    """

    default_parameters = dict(DEFAULTS)
    default_initial_values = {"c": 0.0}
    recordable = ["spikes", "c", "update", "reset", "candidate"]
    units = {"c": "dimensionless", "update": "dimensionless", "reset": "dimensionless",
             "candidate": "dimensionless", **{k: "dimensionless" for k in DEFAULTS}}
    receptor_types = GATES
    conductance_based = False
    injectable = False
    translations = _identity(DEFAULTS)
    #: Its events carry values (see :func:`graded_segment`).
    graded = True


class GradedSourceArray(StandardCellType):
    """Sends graded events: per neuron, event times (ms) and one value per event.

    An event at time t is sent in the step ending at round(t / dt) dt, as a packet whose
    payload is its value (events of value 0 are not sent). ``start`` is the time of sequence
    position 0, from which the EGRU pipeline is timed (0: the earliest event). Build one
    from a (steps, neurons) matrix with :meth:`from_matrix`.
    """

    default_parameters = {"spike_times": Sequence([]), "values": Sequence([]), "start": 0.0}
    recordable = ["spikes"]
    injectable = False
    receptor_types = ()
    units = {"spike_times": "ms", "values": "dimensionless", "start": "ms"}
    translations = _identity(default_parameters)
    graded = True

    @classmethod
    def from_matrix(cls, values: np.ndarray, start: float | None = None) -> GradedSourceArray:
        """One event per neuron and step: row k of ``values`` (steps, neurons) is sent at
        ``start + k dt`` (default ``start``: one time step, the first step of a run)."""
        values = np.asarray(values, dtype=float)
        if values.ndim != 2:
            raise errors.InvalidParameterValueError(
                f"GradedSourceArray.from_matrix needs a (steps, neurons) matrix, got shape "
                f"{values.shape}")
        dt = simulator.state.dt
        t0 = dt if start is None else float(start)
        if t0 < dt:
            raise errors.InvalidParameterValueError(
                f"GradedSourceArray.from_matrix: start {t0} ms is before the first step "
                f"({dt} ms); nothing can be sent at t = 0")
        times = t0 + dt * np.arange(values.shape[0])
        nonzero = values != 0
        return cls(spike_times=[Sequence(times[nonzero[:, i]]) for i in range(values.shape[1])],
                   values=[Sequence(values[nonzero[:, i], i]) for i in range(values.shape[1])],
                   start=t0)


class WeightMatrixConnector(Connector):
    """Connects pre i to post j with weight ``weights[i, j]`` wherever it is not zero.

    A pruned matrix thus stores only its remaining weights. The delay (and any other
    synaptic parameter) comes from the synapse type and must be the same for all synapses.
    """

    parameter_names = ("weights",)

    def __init__(self, weights: object, safe: bool = True, callback: object = None) -> None:
        Connector.__init__(self, None, safe, callback)
        self.weights = _as_array(weights)

    def connect(self, projection: object) -> None:
        w = self.weights
        if w.shape != (projection.pre.size, projection.post.size):
            raise NetworkError(
                f"projection {projection.label!r}: the weight matrix has shape {w.shape}, "
                f"expected (pre, post) = ({projection.pre.size}, {projection.post.size}) for "
                f"{projection.pre.label!r} -> {projection.post.label!r}")
        if not np.all(np.isfinite(w)):
            raise NetworkError(f"projection {projection.label!r}: the weight matrix has "
                               f"non-finite values")
        fixed = {}
        space = projection.synapse_type.native_parameters
        space.shape = (1,)
        for name in space.keys():
            if name == "weight":
                continue
            value = space[name]
            if not value.is_homogeneous:
                raise NotImplementedError(
                    f"projection {projection.label!r}: WeightMatrixConnector needs one "
                    f"{name!r} for all synapses")
            fixed[name] = float(np.asarray(value.evaluate(simplify=True)).reshape(-1)[0])
        nonzero = w != 0
        for j in np.flatnonzero(nonzero.any(axis=0)):
            rows = np.flatnonzero(nonzero[:, j])
            projection._convergent_connect(rows, int(j), weight=w[rows, j], **fixed)


def gate_projection(pre: object, post: object, weights: object, gate: str,
                    delay: float | None = None, label: str | None = None) -> object:
    """A projection of the (pre, post) weight matrix ``weights`` into gate ``gate`` of the
    EGRU population ``post``; zero weights make no synapse. ``delay`` defaults to one time
    step (the recurrent input y_(t-1), one pipeline stage for a stacked layer)."""
    from .projections import Projection
    from .standardmodels import StaticSynapse

    check_gate_target(post, gate, label)
    d = simulator.state.dt if delay is None else float(delay)
    return Projection(pre, post, WeightMatrixConnector(weights),
                      StaticSynapse(weight=0.0, delay=d), receptor_type=gate, label=label)


def check_gate_target(post: object, receptor_type: str | None, label: str | None) -> None:
    """Raise a clear ConnectionError for a gate projection into a non-EGRU cell type."""
    if receptor_type not in GATES:
        return
    celltypes = {type(getattr(p, "celltype", None)) for p in
                 getattr(post, "populations", [post])}
    if celltypes != {EGRU}:
        names = sorted(t.__name__ for t in celltypes)
        raise errors.ConnectionError(
            f"projection {label or ''!r} into {post.label!r}: receptor {receptor_type!r} is an "
            f"EGRU gate, but the target's cell type is {', '.join(names)}; gate projections "
            f"must target an EGRU population (sim.EGRU)")


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
    from .populations import Population

    w, v = _as_array(kernel), _as_array(recurrent_kernel)
    b, bv, theta = _as_array(bias), _as_array(recurrent_bias), _as_array(thr)
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
    thr = np.clip(_as_array(module.thr), 0.0, 1.0)
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
    arrays = [_as_array(a) for a in (weight_ih, weight_hh, bias_ih, bias_hh)]

    def reorder(a: np.ndarray) -> np.ndarray:
        r, z, n = np.split(a, 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    w_ih, w_hh, b_ih, b_hh = (reorder(a) for a in arrays)
    return w_ih.T.copy(), w_hh.T.copy(), b_ih, b_hh


def _as_array(x: object) -> np.ndarray:
    """A numpy float64 array from an array or a torch tensor (no torch import needed)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


# -- results ------------------------------------------------------------------------------

def first_step(population: object) -> int:
    """The step in which ``population`` computes (or, for a graded source, sends) sequence
    position 0; position k is at step ``first_step + k``, time ``(first_step + k) dt``."""
    compiled = simulator.state.compiled
    if compiled is None:
        raise RuntimeError("nothing has been run yet: call sim.run() first")
    from .compile import network_label

    return first_steps(compiled.network)[network_label(population, simulator.state)]


def graded_output(population: object, n_positions: int | None = None) -> np.ndarray:
    """The recorded graded output as a dense (positions, units) matrix: row k holds the
    event values of sequence position k (0 where a unit sent nothing).

    ``population`` must record ``spikes``. Positions run from the population's first step
    (see :func:`first_step`) to the current time, or ``n_positions`` of them.
    """
    from .recording import Recorder

    recorder: Recorder = population.recorder
    state = simulator.state
    start = first_step(population)
    steps_done = int(round(state.t / state.dt))
    n = max(0, steps_done - start + 1) if n_positions is None else int(n_positions)
    ids = sorted(recorder.filter_recorded(_spikes_variable(), None))
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
    n = len(population.recorder.filter_recorded(_spikes_variable(), None))
    return 1.0 - out.sum(axis=1) / n


def _spikes_variable() -> object:
    from pyNN.recording import Variable

    return Variable(name="spikes", location=None, label=None)


def graded_segment(recorder: object, segment: neo.Segment, filter_ids: object) -> None:
    """Give the SpikeTrains of a graded population their event values (array annotation
    ``value``) and, for an EGRU population, add the ``activity_sparsity`` signal."""
    if not len(segment.spiketrains):
        return
    state = simulator.state
    ids = sorted(recorder.filter_recorded(_spikes_variable(), filter_ids))
    idx, times, values = recorder._get_events(ids)
    pop = recorder.population
    start = first_steps(state.compiled.network)[pop.label] if state.compiled else 1
    t_start = recorder._recording_start_time
    t_stop = state.t * pq.ms
    trains = []
    for i in ids:
        mine = idx == int(i)
        trains.append(neo.SpikeTrain(
            times[mine] * pq.ms, t_start=t_start, t_stop=t_stop, units="ms",
            array_annotations={"value": values[mine].astype(np.float32)},
            source_population=pop.label, channel_id=int(i),
            source_index=int(pop.id_to_index(int(i))), first_step=start))
    segment.spiketrains = trains
    for train in trains:
        train.segment = segment
    if isinstance(pop.celltype, EGRU):
        steps = np.arange(start, int(round(state.t / state.dt)) + 1)
        counts = np.bincount(np.round(times / state.dt).astype(np.int64) - start,
                             minlength=steps.size)[:steps.size] if steps.size else []
        sparsity = 1.0 - np.asarray(counts, dtype=float) / max(1, len(ids))
        signal = neo.AnalogSignal(
            sparsity.reshape(-1, 1), units="dimensionless", t_start=start * state.dt * pq.ms,
            sampling_period=state.dt * pq.ms, name="activity_sparsity",
            source_population=pop.label, n_units=len(ids), first_step=start)
        segment.analogsignals.append(signal)
        signal.segment = segment


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
