"""NIR graph -> Network: populations for Inputs and neuron nodes, projections for the rest.

The graph is first flattened (nested graphs become dotted names, their Input and Output
nodes pass-throughs). Then:

- a top-level ``Input`` becomes a ``SpikeSourceArray`` population (its spikes are the input),
  or a ``GradedSourceArray`` (values per step) when it feeds a node that takes graded input
  (the EGRU) or its metadata says ``graded``;
- a neuron node (``LIF``, ``CubaLIF``, ``IF``, ``LI``, ``CubaLI``, ``I``, ``Threshold``, or a
  registered extension, such as the EGRU subgraph of :mod:`.nir_egru`) becomes a population
  of the matching cell type;
- what lies between (``Affine``, ``Linear``, ``Scale``, ``Flatten``, ``Conv1d``, ``Conv2d``,
  ``SumPool2d``, ``AvgPool2d``, ``Delay``, in any DAG) is composed into one synapse list per
  (source, target) pair; biases become the target's ``bias`` parameter, delays synaptic delays;
- a top-level ``Output`` records the node that feeds it (spikes, or ``v`` of a node that does
  not spike); fed by a linear map or several edges, a memoryless readout population records
  the value of each step.

Timing: one NIR time step ``dt`` (in the graph's time unit) is one simulation step
(``timestep`` ms); every edge carried by spikes takes one step (a spike is the input of the
step after it), and a ``Delay`` of d adds round(d / dt) steps. See ``doc/nir.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import nir
import numpy as np

from ..cells.nir_cuba import DEFAULTS as NIR_DEFAULTS
from ..cells.nir_cuba import MODELS as NIR_MODELS
from ..errors import NetworkError
from ..machine import Machine
from ..network import Network, PopulationSpec, ProjectionSpec, RecordSpec
from . import nir_ops as ops
from .nir_extensions import EXTENSIONS, LoweredNode, container_type

NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")
LINEAR_TYPES = ("Affine", "Linear", "Scale", "Flatten", "Conv1d", "Conv2d", "SumPool2d",
                "AvgPool2d", "Delay")
DISCRETISATIONS = ("exact", "euler")
#: NIR parameters that are times (scaled to ms) and rates (``r`` of IF and I: per time).
_TIMES = ("tau", "tau_syn", "tau_mem")


@dataclass(frozen=True)
class ImportedGraph:
    """A NIR graph as a Network, with where its inputs and outputs went.

    Parameters
    ----------
    network
        The populations and projections.
    inputs
        Input node name -> label of its ``SpikeSourceArray`` population.
    outputs
        Output node name -> (population label, recorded variable).
    shapes
        Population label -> the node's shape in the graph (populations are flat, C order).
    """

    network: Network
    inputs: dict[str, str]
    outputs: dict[str, tuple[str, str]]
    shapes: dict[str, tuple[int, ...]]


#: Most (output, input, kernel offset) terms a convolution may expand into (memory guard).
MAX_CONV_TERMS = 1 << 26

def nir_to_network(graph: nir.NIRGraph, dt: float, timestep: float = 1.0,
                   discretisation: str = "exact", machine: Machine | None = None,
                   seed: int = 0) -> ImportedGraph:
    """Lower a NIR graph to a Network.

    Parameters
    ----------
    graph
        The graph (from ``nir.read``, :func:`~.nir_read.read_nir` or built in memory).
    dt
        The time step the graph is meant to run at, in the graph's own time unit (what the
        exporting library assumed: snnTorch 1e-4, Norse 1e-3, both in seconds).
    timestep
        Simulation time step in ms; one ``dt`` of graph time becomes one such step.
    discretisation
        ``exact`` (integrate the node's ODE exactly over each step) or ``euler`` (the
        forward-Euler step of snnTorch and Norse). A node's ``metadata['discretisation']``
        overrides it.
    machine, seed
        Passed to the Network.

    Raises
    ------
    NetworkError
        A node with bad parameters or shapes, or a structure the chip cannot run; the
        message names the node and its type.
    NotImplementedError
        A node type that cannot run on SpiNNaker 2.
    """
    if not (np.isfinite(dt) and dt > 0):
        raise NetworkError(f"NIR import: dt must be a positive time step in the graph's time "
                           f"unit (NIR stores none), got {dt!r}")
    if discretisation not in DISCRETISATIONS:
        raise NetworkError(f"NIR import: discretisation must be one of {DISCRETISATIONS}, got "
                           f"{discretisation!r}")
    if not isinstance(graph, nir.NIRGraph):
        raise NetworkError(f"NIR import: expected a nir.NIRGraph, got {type(graph).__name__}")
    return _Lowering(graph, float(dt), float(timestep), discretisation).run(
        machine or Machine(), seed)


def _describe(name: str, node: object) -> str:
    return f"node {name!r} ({type(node).__name__})"


class _Lowering:
    """One import: the flattened graph and what has been computed about its nodes."""

    def __init__(self, graph: nir.NIRGraph, dt: float, timestep: float,
                 discretisation: str) -> None:
        self.dt, self.timestep, self.discretisation = dt, timestep, discretisation
        self.time_scale = timestep / dt
        self.nodes: dict[str, object] = {}
        self.top_io: set[str] = set()
        self.edges: list[tuple[str, str]] = []
        _flatten(graph, "", self.nodes, self.edges, self.top_io)
        if len(set(self.edges)) != len(self.edges):
            dup = next(e for e in self.edges if self.edges.count(e) > 1)
            raise NetworkError(f"NIR import: duplicate edge {dup}")
        self.preds: dict[str, list[str]] = {n: [] for n in self.nodes}
        for a, b in self.edges:
            self.preds[b].append(a)
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._exprs: dict[str, ops.Expr] = {}
        self._busy: set[str] = set()
        self.lowered: dict[str, LoweredNode] = {}

    # -- roles -------------------------------------------------------------------------
    def kind(self, name: str) -> str:
        """``input``, ``output``, ``neuron`` or ``linear``."""
        node = self.nodes[name]
        t = type(node).__name__
        if isinstance(node, nir.Input | nir.Output):
            if name in self.top_io:
                return "input" if isinstance(node, nir.Input) else "output"
            return "linear"
        if t in NEURON_TYPES or t in EXTENSIONS:
            return "neuron"
        if t in LINEAR_TYPES:
            return "linear"
        runnable = sorted(set(NEURON_TYPES + LINEAR_TYPES + ("Input", "Output", "NIRGraph"))
                          | set(EXTENSIONS))
        raise NotImplementedError(f"NIR import: {_describe(name, node)} cannot run on "
                                  f"SpiNNaker 2; the node types it runs are {runnable}")

    # -- shapes ------------------------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        """Shape of the node's output."""
        if name in self._shapes:
            return self._shapes[name]
        if name in self._busy:
            if self.kind(name) == "linear":
                self._algebraic_loop(name)
            raise NetworkError(f"NIR import: the shape of {_describe(name, self.nodes[name])} "
                               f"depends on itself (a loop of nodes without shaped "
                               f"parameters); give its parameters their full shape")
        self._busy.add(name)
        try:
            shape = self._out_shape(name)
        finally:
            self._busy.discard(name)
        if any(s < 1 for s in shape) or not shape:
            raise NetworkError(f"NIR import: {_describe(name, self.nodes[name])} has shape "
                               f"{shape}; every node needs at least one element")
        self._shapes[name] = shape
        return shape

    def in_shape(self, name: str) -> tuple[int, ...]:
        """Shape of what flows into the node (all incoming edges must agree)."""
        preds = self.preds[name]
        if not preds:
            raise NetworkError(f"NIR import: {_describe(name, self.nodes[name])} has no input "
                               f"edge, so its shape is unknown")
        shapes = {p: self.shape(p) for p in preds}
        sizes = {int(np.prod(s)) for s in shapes.values()}
        if len(sizes) > 1:
            raise NetworkError(f"NIR import: the edges into {_describe(name, self.nodes[name])}"
                               f" carry different shapes {shapes}; summed inputs must match")
        return max(shapes.values(), key=len)

    def _out_shape(self, name: str) -> tuple[int, ...]:
        node, kind = self.nodes[name], self.kind(name)
        t = type(node).__name__
        if kind in ("input", "output") or isinstance(node, nir.Input | nir.Output):
            declared = (node.input_type if isinstance(node, nir.Input)
                        else node.output_type).get("input" if isinstance(node, nir.Input)
                                                   else "output")
            if declared is not None and np.size(declared):
                return _int_shape(declared, name, node)
            return self.in_shape(name)
        if kind == "neuron":
            if t in EXTENSIONS:
                declared = getattr(node, "output_type", {}).get("output")
                return (_int_shape(declared, name, node) if declared is not None
                        else self.in_shape(name))
            fields = [f for f in _node_params(t) if hasattr(node, f)]
            shapes = {np.shape(_numeric(node, f, name)) for f in fields}
            full = max(shapes, key=len)
            return tuple(int(s) for s in full) if full else self.in_shape(name)
        return self.linear(name)[1]

    # -- linear nodes ------------------------------------------------------------------
    def linear(self, name: str) -> tuple[ops.SparseOp | None, tuple[int, ...]]:
        """The node's sparse map (None for Delay) and output shape."""
        node = self.nodes[name]
        t = type(node).__name__
        shape = self.in_shape(name)
        n = int(np.prod(shape))
        where = _describe(name, node)
        if t in ("Input", "Output"):
            return ops.identity(n), shape
        if t in ("Affine", "Linear"):
            w = _numeric(node, "weight", name)
            if w.ndim != 2:
                raise NetworkError(f"NIR import: {where}: weight must be 2-D (out, in), got "
                                   f"shape {w.shape}")
            if shape[-1] != w.shape[1]:
                if n != w.shape[1]:
                    raise NetworkError(f"NIR import: {where}: weight {w.shape} takes "
                                       f"{w.shape[1]} inputs, but its input has shape {shape}")
                shape = (n,)
            return ops.dense(w, shape), (*shape[:-1], w.shape[0])
        if t == "Scale":
            s = _broadcast(_numeric(node, "scale", name), shape, name, node, "scale")
            return ops.diagonal(s), shape
        if t == "Flatten":
            start = _ints(node.start_dim, 1, name, node, "start_dim", -len(shape))[0]
            end = _ints(node.end_dim, 1, name, node, "end_dim", -len(shape))[0]
            nd = len(shape)
            if start >= nd or end >= nd:
                raise NetworkError(f"NIR import: {where}: start_dim {start} / end_dim {end} "
                                   f"outside an input of {nd} dimensions {shape}")
            start, end = start % nd, end % nd
            if start > end:
                raise NetworkError(f"NIR import: {where}: start_dim {node.start_dim} is after "
                                   f"end_dim {node.end_dim} for input shape {shape}")
            flat = (*shape[:start], int(np.prod(shape[start:end + 1])), *shape[end + 1:])
            return ops.identity(n), flat
        if t == "Delay":
            return None, shape
        if t in ("Conv1d", "Conv2d"):
            return self._conv(name, node, shape, 1 if t == "Conv1d" else 2)
        if t in ("SumPool2d", "AvgPool2d"):
            if len(shape) != 3:
                raise NetworkError(f"NIR import: {where} needs a (C, H, W) input, got {shape}")
            kernel = _ints(node.kernel_size, 2, name, node, "kernel_size", 1)
            stride = _ints(node.stride, 2, name, node, "stride", 1)
            padding = _ints(node.padding, 2, name, node, "padding", 0)
            return ops.pool2d(shape, kernel, stride, padding, t == "AvgPool2d")
        raise NotImplementedError(f"NIR import: {where} is not a linear node")

    def _conv(self, name: str, node: object, shape: tuple[int, ...], nd: int
              ) -> tuple[ops.SparseOp, tuple[int, ...]]:
        where = _describe(name, node)
        w = _numeric(node, "weight", name)
        if w.ndim != nd + 2:
            raise NetworkError(f"NIR import: {where}: weight must be (C_out, C_in/groups, "
                               f"{'N' if nd == 1 else 'H, W'}), got shape {w.shape}")
        if len(shape) != nd + 1:
            raise NetworkError(f"NIR import: {where}: input must be (C_in, "
                               f"{'N' if nd == 1 else 'H, W'}), got shape {shape}")
        groups = _ints(node.groups, 1, name, node, "groups", 1)[0]
        if groups < 1 or shape[0] % groups or w.shape[0] % groups or \
                w.shape[1] * groups != shape[0]:
            raise NetworkError(f"NIR import: {where}: weight {w.shape} with groups={groups} "
                               f"does not fit an input of {shape[0]} channels")
        kernel = w.shape[2:]
        stride = _ints(node.stride, nd, name, node, "stride", 1)
        dilation = _ints(node.dilation, nd, name, node, "dilation", 1)
        padding = node.padding
        if isinstance(padding, bytes):
            padding = padding.decode()
        if isinstance(padding, str):
            if padding == "valid":
                padding = (0,) * nd
            elif padding == "same":
                if any(s != 1 for s in stride):
                    raise NetworkError(f"NIR import: {where}: padding='same' needs stride 1")
                if any(dilation[i] * (kernel[i] - 1) % 2 for i in range(nd)):
                    raise NotImplementedError(
                        f"NIR import: {where}: padding='same' with an even kernel pads "
                        f"unevenly, which is not supported; pad explicitly")
                padding = tuple(ops.same_padding(k, d) for k, d in zip(kernel, dilation,
                                                                       strict=True))
            else:
                raise NetworkError(f"NIR import: {where}: padding {padding!r} is not "
                                   f"'same', 'valid' or integers")
        else:
            padding = _ints(padding, nd, name, node, "padding", 0)
        out_sp = [ops.conv_output_size(n, k, s_, p, d) for n, k, s_, p, d in
                  zip(shape[1:], kernel, stride, padding, dilation, strict=True)]
        combos = w.shape[0] * w.shape[1] * int(np.prod(kernel)) * int(np.prod(
            [max(o, 0) for o in out_sp], dtype=object))
        if combos > MAX_CONV_TERMS:
            raise NetworkError(f"NIR import: {where}: padding {padding}, stride {stride} and "
                               f"dilation {dilation} give outputs {tuple(out_sp)}: {combos} "
                               f"weight terms, more than the {MAX_CONV_TERMS} a conversion "
                               f"can build; check the node's parameters")
        op, out_shape = ops.conv(w, shape, stride, padding, dilation, groups)
        if any(s < 1 for s in out_shape):
            raise NetworkError(f"NIR import: {where}: input {shape} is smaller than the kernel "
                               f"{kernel}")
        return op, out_shape

    # -- signals -----------------------------------------------------------------------
    def expr_in(self, name: str) -> ops.Expr:
        """What flows into ``name``: the sum of its incoming edges."""
        size = int(np.prod(self.in_shape(name))) if self.preds[name] else 0
        total = ops.Expr.zero(size)
        for pre in self.preds[name]:
            if self.kind(pre) == "neuron" and not self.lower_node(pre).spiking:
                raise NetworkError(
                    f"NIR import: {_describe(pre, self.nodes[pre])} does not spike: its output "
                    f"is a continuous value, which SpiNNaker 2 cores do not send to each "
                    f"other; only an Output node may read it (here "
                    f"{_describe(name, self.nodes[name])} does)")
            total = total + self.expr_out(pre)
        return total

    def expr_out(self, name: str) -> ops.Expr:
        """What leaves ``name``, in terms of source spikes."""
        kind = self.kind(name)
        if kind in ("input", "neuron"):
            return ops.Expr.identity(name, int(np.prod(self.shape(name))))
        if name in self._exprs:
            return self._exprs[name]
        if name in self._busy:
            self._algebraic_loop(name)
        self._busy.add(name)
        try:
            op, _ = self.linear(name)
            expr = self.expr_in(name)
            if op is None:
                expr = expr.delayed(self._delays(name, expr.size))
            else:
                expr = expr.apply(op)
                expr = dataclasses.replace(expr, offset=expr.offset + self._bias(name))
        finally:
            self._busy.discard(name)
        self._exprs[name] = expr
        return expr

    def _algebraic_loop(self, name: str) -> None:
        raise NetworkError(f"NIR import: {_describe(name, self.nodes[name])} lies on a loop of "
                           f"linear nodes with no neuron on it (an algebraic loop); a "
                           f"recurrent loop must pass through a neuron node")

    def _delays(self, name: str, size: int) -> np.ndarray:
        node = self.nodes[name]
        d = _broadcast(_numeric(node, "delay", name), self.in_shape(name), name, node, "delay")
        if np.any(d < 0):
            raise NetworkError(f"NIR import: {_describe(name, node)}: delays must be >= 0, got "
                               f"{d.min()}")
        steps = d / self.dt
        off = np.abs(steps - np.round(steps))
        if np.any(off > 1e-6 * np.maximum(1.0, steps)):
            bad = d[np.argmax(off)]
            raise NetworkError(f"NIR import: {_describe(name, node)}: delay {bad} is not a "
                               f"multiple of dt = {self.dt}; import with a dt that divides "
                               f"every delay")
        return np.round(steps) * self.dt

    def _bias(self, name: str) -> np.ndarray:
        """Constant output of an Affine or Conv node (its bias), per output element."""
        node = self.nodes[name]
        t = type(node).__name__
        _, shape = self.linear(name)
        n = int(np.prod(shape))
        if t == "Affine":
            b = _numeric(node, "bias", name).reshape(-1)
            if b.size != shape[-1]:
                raise NetworkError(f"NIR import: {_describe(name, node)}: bias has {b.size} "
                                   f"values for {shape[-1]} outputs")
            return np.tile(b, n // b.size)
        if t in ("Conv1d", "Conv2d"):
            b = _numeric(node, "bias", name).reshape(-1)
            if b.size == 1 and shape[0] != 1:
                b = np.full(shape[0], b[0])
            if b.size != shape[0]:
                raise NetworkError(f"NIR import: {_describe(name, node)}: bias has {b.size} "
                                   f"values for {shape[0]} output channels")
            return np.repeat(b, n // shape[0])
        return np.zeros(n)

    # -- neuron nodes ------------------------------------------------------------------
    def lower_node(self, name: str) -> LoweredNode:
        """The population of a neuron node."""
        if name in self.lowered:
            return self.lowered[name]
        node = self.nodes[name]
        t = type(node).__name__
        shape = self.shape(name)
        if t in EXTENSIONS:
            low = EXTENSIONS[t].lower(node, name, shape, self.time_scale)
        else:
            low = self._lower_builtin(name, node, t, shape)
        self.lowered[name] = low
        return low

    def _lower_builtin(self, name: str, node: object, t: str, shape: tuple[int, ...]
                       ) -> LoweredNode:
        model = f"NIR_{t}"
        defaults = NIR_DEFAULTS[model]
        params = {}
        for field in _node_params(t):
            value = _broadcast(_numeric(node, field, name), shape, name, node, field)
            if field in _TIMES:
                if np.any(value <= 0):
                    raise NetworkError(f"NIR import: {_describe(name, node)}: {field} must be "
                                       f"> 0, got {value.min()}")
                value = value * self.time_scale
            elif field == "r" and t in ("IF", "I"):
                value = value / self.time_scale
            params[field] = value
        n = int(np.prod(shape))
        params["bias"] = np.zeros(n)
        if "euler" in defaults:
            method = (getattr(node, "metadata", None) or {}).get("discretisation",
                                                                  self.discretisation)
            if method not in DISCRETISATIONS:
                raise NetworkError(f"NIR import: {_describe(name, node)}: metadata "
                                   f"discretisation {method!r} is not one of "
                                   f"{DISCRETISATIONS}")
            params["euler"] = np.full(n, 1.0 if method == "euler" else 0.0)
        initial = {"v": params.get("v_leak", np.zeros(n)).copy(), "i_syn": np.zeros(n)}
        meta = getattr(node, "metadata", None) or {}
        for var in ("v", "i_syn"):
            if f"initial_{var}" in meta:
                initial[var] = _broadcast(np.asarray(meta[f"initial_{var}"], dtype=float),
                                          shape, name, node, f"metadata initial_{var}")
        spiking = bool(NIR_MODELS[model].extra["spiking"])
        return LoweredNode(model, n, params, initial, spiking, {"excitatory": None},
                           record="spikes" if spiking else "v")

    # -- assembly ----------------------------------------------------------------------
    def run(self, machine: Machine, seed: int) -> ImportedGraph:
        """Build every population and projection."""
        pops: list[PopulationSpec] = []
        projections: list[ProjectionSpec] = []
        inputs, outputs, shapes = {}, {}, {}
        record: dict[str, set[str]] = {}
        readouts: dict[str, str] = {}
        for name in self.nodes:
            kind = self.kind(name)
            if kind == "output":
                outputs.update(self._output(name, record, readouts))
        graded = self._graded_inputs()
        for name in self.nodes:
            kind = self.kind(name)
            if kind == "input":
                n = int(np.prod(self.shape(name)))
                inputs[name] = name
                shapes[name] = self.shape(name)
                empty = tuple(np.zeros(0) for _ in range(n))
                if name in graded:
                    pops.append(PopulationSpec(
                        name, "GradedSourceArray", n, {"start": np.full(n, self.timestep)},
                        spike_times=empty, record=self._record(name, n, record),
                        spike_values=empty))
                    continue
                pops.append(PopulationSpec(name, "SpikeSourceArray", n, spike_times=empty,
                                           record=self._record(name, n, record)))
            elif kind == "neuron":
                low = self.lower_node(name)
                params = dict(low.params)
                total = self.expr_in(name) if self.preds[name] else ops.Expr.zero(low.size)
                if self.preds[name] and total.size != low.size and all(
                        m is None for m in low.input_maps.values()):
                    raise NetworkError(f"NIR import: {_describe(name, self.nodes[name])} has "
                                       f"{low.size} neurons but receives {total.size} values")
                projections.extend(self._projections(name, low, params, total))
                shapes[name] = self.shape(name)
                pops.append(PopulationSpec(name, low.model, low.size, params, low.initial,
                                           record=self._record(name, low.size, record)))
        for output, label in readouts.items():
            total = self.expr_in(output)
            low = self._readout(total.size)
            params = dict(low.params)
            projections.extend(self._projections(label, low, params, total))
            shapes[label] = self.in_shape(output)
            pops.append(PopulationSpec(label, low.model, low.size, params, low.initial,
                                       record={"v": RecordSpec(np.arange(low.size),
                                                               self.timestep)}))
        network = Network(self.timestep, tuple(pops), tuple(projections), (), machine, seed)
        return ImportedGraph(network, inputs, outputs, shapes)

    def _graded_inputs(self) -> set[str]:
        """Inputs that send values (GradedSourceArray): metadata ``graded`` where given,
        otherwise those feeding a node that takes graded input."""
        flags = {name: (getattr(node, "metadata", None) or {}).get("graded")
                 for name, node in self.nodes.items() if self.kind(name) == "input"}
        out = {name for name, flag in flags.items()
               if flag is not None and np.size(flag) == 1 and bool(np.ravel(flag)[0])}
        for name in self.nodes:
            if (self.kind(name) == "neuron" and self.preds[name]
                    and self.lower_node(name).graded_input):
                out |= {source for source in self.expr_in(name).source.tolist()
                        if source in flags and flags[source] is None}
        return out

    def _record(self, name: str, n: int, record: dict[str, set[str]]) -> dict[str, RecordSpec]:
        return {var: RecordSpec(np.arange(n), self.timestep)
                for var in sorted(record.get(name, ()))}

    def _readout(self, n: int) -> LoweredNode:
        """A memoryless population whose v is its input of the step: an exact LI whose time
        constant is a millionth of a step (decay e^-1e6 = 0, gain r = 1)."""
        params = {"tau": np.full(n, self.timestep * 1e-6), "r": np.ones(n),
                  "v_leak": np.zeros(n), "bias": np.zeros(n), "euler": np.zeros(n)}
        return LoweredNode("NIR_LI", n, params, {"v": np.zeros(n), "i_syn": np.zeros(n)},
                           False, {"excitatory": None}, record="v")

    def _output(self, name: str, record: dict[str, set[str]], readouts: dict[str, str]
                ) -> dict[str, tuple[str, str]]:
        preds = self.preds[name]
        if not preds:
            return {}
        if len(preds) > 1:
            return self._add_readout(name, readouts)
        pre = preds[0]
        # Subgraph ports and Flatten only rename elements: look through them.
        while (type(self.nodes[pre]).__name__ in ("Input", "Output", "Flatten")
               and self.kind(pre) == "linear" and len(self.preds[pre]) == 1):
            pre = self.preds[pre][0]
        kind = self.kind(pre)
        if kind == "input":
            var = "spikes"
        elif kind == "neuron":
            var = self.lower_node(pre).record
        else:
            return self._add_readout(name, readouts)
        record.setdefault(pre, set()).add(var)
        return {name: (pre, var)}

    def _add_readout(self, name: str, readouts: dict[str, str]) -> dict[str, tuple[str, str]]:
        """An Output fed by a linear map (or by a sum of edges) records that value each step
        through a readout population."""
        label, k = f"{name}_readout", 1
        while label in self.nodes:
            label, k = f"{name}_readout{k}", k + 1
        readouts[name] = label
        return {name: (label, "v")}

    def _projections(self, name: str, low: LoweredNode, params: dict[str, np.ndarray],
                     total: ops.Expr) -> list[ProjectionSpec]:
        out = []
        for receptor, op in low.input_maps.items():
            if op is not None and total.size != op.n_in and self.preds.get(name):
                raise NetworkError(f"NIR import: {_describe(name, self.nodes[name])} takes "
                                   f"{op.n_in} input values but receives {total.size}")
            if op is None:
                expr = total
            else:  # without an edge in, nothing reaches the map (``total`` is a placeholder)
                expr = total.apply(op) if self.preds.get(name) else ops.Expr.zero(op.n_out)
            if op is None:
                params["bias"] = params["bias"] + expr.offset
            elif receptor in low.offset_params:
                key = low.offset_params[receptor]
                params[key] = params[key] + expr.offset
            elif np.any(expr.offset):
                raise NetworkError(f"NIR import: {_describe(name, self.nodes[name])} takes no "
                                   f"constant input (bias) on {receptor!r}")
            # With a map, every source of the input reaches every such receptor (possibly
            # with no synapse): the EGRU requires each input to feed all its gates.
            sources = expr.source if op is None else total.source
            for source in dict.fromkeys(sources.tolist()):
                for rec, sel in _receptors(receptor, op, expr, source):
                    suffix = "" if rec == "excitatory" else f"[{rec}]"
                    delay = (1.0 + np.round(expr.delay[sel] / self.dt)) * self.timestep
                    out.append(ProjectionSpec(f"{source}->{name}{suffix}", source, name,
                                              expr.src_idx[sel].astype(np.int64),
                                              expr.dst_idx[sel].astype(np.int64),
                                              expr.weight[sel].astype(float), delay, rec))
        for receptor, pre, post, weight in low.recurrent:
            out.append(ProjectionSpec(f"{name}.recurrent[{receptor}]", name, name,
                                      np.asarray(pre, np.int64), np.asarray(post, np.int64),
                                      np.asarray(weight, float),
                                      np.full(len(pre), self.timestep), receptor))
        return out


def _receptors(receptor: str, op: ops.SparseOp | None, expr: ops.Expr, source: str
               ) -> list[tuple[str, np.ndarray]]:
    """Synapses of one source by receptor. A built-in node sums both receptors; its negative
    weights go to ``inhibitory``, as PyNN's convention for current-based synapses has them."""
    mine = expr.source == source
    if receptor != "excitatory" or op is not None:
        return [(receptor, mine)]
    negative = expr.weight < 0
    parts = [("excitatory", mine & ~negative), ("inhibitory", mine & negative)]
    return [(rec, sel) for rec, sel in parts if sel.any()]


def _node_params(t: str) -> tuple[str, ...]:
    """NIR parameter fields of a built-in neuron node type."""
    return tuple(k for k in NIR_DEFAULTS[f"NIR_{t}"] if k not in ("bias", "euler"))


def _numeric(node: object, field: str, name: str) -> np.ndarray:
    value = getattr(node, field, None)
    if value is None:
        raise NetworkError(f"NIR import: {_describe(name, node)} has no {field!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"NIR import: {_describe(name, node)}: {field!r} is not numeric "
                           f"({exc})") from exc
    if not np.all(np.isfinite(arr)):
        raise NetworkError(f"NIR import: {_describe(name, node)}: {field!r} has non-finite "
                           f"values")
    return arr


def _broadcast(value: np.ndarray, shape: tuple[int, ...], name: str, node: object,
               field: str) -> np.ndarray:
    try:
        return np.broadcast_to(value, shape).reshape(-1).astype(float)
    except ValueError as exc:
        raise NetworkError(f"NIR import: {_describe(name, node)}: {field!r} has shape "
                           f"{np.shape(value)}, which does not fit the node's shape "
                           f"{shape}") from exc


def _int_shape(value: object, name: str, node: object) -> tuple[int, ...]:
    try:
        arr = np.asarray(value).reshape(-1)
        shape = tuple(int(s) for s in arr)
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"NIR import: {_describe(name, node)}: shape {value!r} is not a "
                           f"list of integers") from exc
    if any(s != a for s, a in zip(shape, arr, strict=True)):
        raise NetworkError(f"NIR import: {_describe(name, node)}: shape {value!r} is not a "
                           f"list of integers")
    return shape


def _ints(value: object, n: int, name: str, node: object, field: str, least: int
          ) -> tuple[int, ...]:
    arr = np.asarray(value).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n)
    out: tuple[int, ...] = ()
    try:
        out = tuple(int(v) for v in arr)
        exact = arr.size == n and all(float(v) == o for v, o in zip(arr, out, strict=True))
    except (TypeError, ValueError, OverflowError):
        exact = False
    if not exact or any(v < least for v in out):
        raise NetworkError(f"NIR import: {_describe(name, node)}: {field} must be {n} "
                           f"integer(s) >= {least}, got {value!r}")
    return out


def _flatten(graph: nir.NIRGraph, prefix: str, nodes: dict[str, object],
             edges: list[tuple[str, str]], top_io: set[str]) -> None:
    """Nested graphs -> dotted names; edges to a subgraph go to its single Input/Output."""
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            node = _extension_node(node, full)
        if isinstance(node, nir.NIRGraph):
            _flatten(node, full + ".", nodes, edges, top_io)
        else:
            nodes[full] = node
            if not prefix and isinstance(node, nir.Input | nir.Output):
                top_io.add(full)
    for a, b in graph.edges:
        edges.append((_resolve(graph, prefix, a, nir.Output),
                      _resolve(graph, prefix, b, nir.Input)))


def _extension_node(graph: nir.NIRGraph, name: str) -> object:
    """A subgraph marked as an extension node (as ``nir.read`` returns the EGRU) -> that
    node; any other subgraph unchanged."""
    try:
        kind = container_type(graph.metadata)
        if kind is None:
            return graph
        return EXTENSIONS[kind].from_dict(graph.to_dict())
    except NetworkError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise NetworkError(f"NIR import: node {name!r} (a subgraph marked as an extension "
                           f"node): {exc}") from exc


def _resolve(graph: nir.NIRGraph, prefix: str, name: str, port: type) -> str:
    """The flat name of an edge end (a subgraph stands for its one Input or Output)."""
    if name in graph.nodes:
        node = graph.nodes[name]
        if not isinstance(node, nir.NIRGraph) or container_type(node.metadata):
            return prefix + name
        ports = [k for k, v in node.nodes.items() if isinstance(v, port)]
        if len(ports) != 1:
            raise NetworkError(f"NIR import: an edge names subgraph {prefix + name!r}, which "
                               f"has {len(ports)} {port.__name__} nodes {ports}; name one as "
                               f"'{name}.<{port.__name__.lower()} name>'")
        return _resolve(node, prefix + name + ".", ports[0], port)
    head, _, rest = name.partition(".")
    inner = graph.nodes.get(head)
    if rest and isinstance(inner, nir.NIRGraph) and not container_type(inner.metadata):
        return _resolve(graph.nodes[head], prefix + head + ".", rest, port)
    raise NetworkError(f"NIR import: edge end {prefix + name!r} is not a node of the graph "
                       f"(nodes: {sorted(prefix + k for k in graph.nodes)})")
