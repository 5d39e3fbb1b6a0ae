"""The EGRU's PyNN types: the cell type, its graded input, the weight-matrix connector, and
how a graded population's recordings come back (event values, activity sparsity).

``sim.EGRU`` is a cell type whose receptor types are its gates (``update``, ``reset``,
``candidate`` for inputs x_t, ``update``, ``reset``, ``candidate_recurrent`` for the
population's own output y_(t-1)); ``sim.GradedSourceArray`` sends graded events (an embedding
lookup per step); ``sim.WeightMatrixConnector`` turns a (pre, post) weight matrix into
synapses, leaving out its zeros (pruned weights cost no memory). Whole layers are built in
:mod:`pynn_spinnaker2.pynn.egru`. See ``doc/egru.md``.
"""

from __future__ import annotations

import neo
import numpy as np
import quantities as pq
from pyNN import errors
from pyNN.connectors import Connector
from pyNN.parameters import Sequence
from pyNN.standardmodels import StandardCellType, build_translations

from ..cells.egru import DEFAULTS, GATES, first_steps
from ..errors import NetworkError
from . import simulator
from .build import network_label


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
        self.weights = as_array(weights)

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


def as_array(x: object) -> np.ndarray:
    """A numpy float64 array from an array or a torch tensor (no torch import needed)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def first_step(population: object) -> int:
    """The step in which ``population`` computes (or, for a graded source, sends) sequence
    position 0; position k is at step ``first_step + k``, time ``(first_step + k) dt``."""
    compiled = simulator.state.compiled
    if compiled is None:
        raise RuntimeError("nothing has been run yet: call sim.run() first")
    return first_steps(compiled.network)[network_label(population, simulator.state)]


def spikes_variable() -> object:
    from pyNN.recording import Variable

    return Variable(name="spikes", location=None, label=None)


def graded_segment(recorder: object, segment: neo.Segment, filter_ids: object) -> None:
    """Give the SpikeTrains of a graded population their event values (array annotation
    ``value``) and, for an EGRU population, add the ``activity_sparsity`` signal."""
    if not len(segment.spiketrains):
        return
    state = simulator.state
    ids = sorted(recorder.filter_recorded(spikes_variable(), filter_ids))
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
