"""NIR graph -> Network: populations for Inputs and neuron nodes, projections for the rest.

The graph is first flattened (nested graphs become dotted names, their Input and Output
nodes pass-throughs). Then:

- a top-level ``Input`` becomes a ``SpikeSourceArray`` population (its spikes are the input),
  or a ``GradedSourceArray`` (values per step) when it feeds a node that takes graded input
  (the EGRU) or its metadata says ``graded``;
- a neuron node (``LIF``, ``CubaLIF``, ``IF``, ``LI``, ``CubaLI``, ``I``, ``Threshold``, or a
  registered extension, such as the EGRU subgraph of :mod:`.nir_egru`) becomes a population
  of the matching cell type (each node type's lowering is one function in the table of
  :mod:`.nir_dispatch`; the built-in ones are in :mod:`.nir_nodes`);
- what lies between (``Affine``, ``Linear``, ``Scale``, ``Flatten``, ``Conv1d``, ``Conv2d``,
  ``SumPool2d``, ``AvgPool2d``, ``Delay``, in any DAG) is composed into one synapse list per
  (source, target) pair; biases become the target's ``bias`` parameter, delays synaptic delays;
- a top-level ``Output`` records the node that feeds it (spikes, or ``v`` of a node that does
  not spike); fed by a linear map or several edges, a memoryless readout population records
  the value of each step.

Timing: one NIR time step ``dt`` (in the graph's time unit) is one simulation step
(``timestep`` ms); every edge carried by spikes takes one step (a spike is the input of the
step after it), and a ``Delay`` of d adds round(d / dt) steps. See ``doc/nir.md``.

This module assembles the Network; :mod:`.nir_walk` walks the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import nir
import numpy as np

from ..errors import NetworkError
from ..machine import Machine
from ..network import Network, PopulationSpec, ProjectionSpec, RecordSpec
from . import nir_ops as ops
from . import nir_units as units
from .nir_extensions import LoweredNode
from .nir_nodes import DISCRETISATIONS
from .nir_walk import GraphWalk


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
    walk = GraphWalk(graph, float(dt), float(timestep), discretisation)
    return _Assembly(walk).run(machine or Machine(), seed)


class _Assembly:
    """The populations and projections of one walked graph."""

    def __init__(self, walk: GraphWalk) -> None:
        self.walk = walk
        self.timestep = walk.timestep

    def run(self, machine: Machine, seed: int) -> ImportedGraph:
        """Build every population and projection."""
        pops: list[PopulationSpec] = []
        projections: list[ProjectionSpec] = []
        inputs, outputs, shapes = {}, {}, {}
        record: dict[str, set[str]] = {}
        readouts: dict[str, str] = {}
        for name in self.walk.nodes:
            kind = self.walk.kind(name)
            if kind == "output":
                outputs.update(self._output(name, record, readouts))
        graded = self._graded_inputs()
        for name in self.walk.nodes:
            kind = self.walk.kind(name)
            if kind == "input":
                n = int(np.prod(self.walk.shape(name)))
                inputs[name] = name
                shapes[name] = self.walk.shape(name)
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
                low = self.walk.lower_node(name)
                params = dict(low.params)
                total = (self.walk.expr_in(name) if self.walk.preds[name]
                         else ops.Expr.zero(low.size))
                if self.walk.preds[name] and total.size != low.size and all(
                        m is None for m in low.input_maps.values()):
                    raise NetworkError(f"NIR import: {self.walk.where(name)} has "
                                       f"{low.size} neurons but receives {total.size} values")
                projections.extend(self._projections(name, low, params, total))
                shapes[name] = self.walk.shape(name)
                pops.append(PopulationSpec(name, low.model, low.size, params, low.initial,
                                           record=self._record(name, low.size, record)))
        for output, label in readouts.items():
            total = self.walk.expr_in(output)
            low = self._readout(total.size)
            params = dict(low.params)
            projections.extend(self._projections(label, low, params, total))
            shapes[label] = self.walk.in_shape(output)
            pops.append(PopulationSpec(label, low.model, low.size, params, low.initial,
                                       record={"v": RecordSpec(np.arange(low.size),
                                                               self.timestep)}))
        network = Network(self.timestep, tuple(pops), tuple(projections), (), machine, seed)
        return ImportedGraph(network, inputs, outputs, shapes)

    def _graded_inputs(self) -> set[str]:
        """Inputs that send values (GradedSourceArray): metadata ``graded`` where given,
        otherwise those feeding a node that takes graded input."""
        flags = {name: (getattr(node, "metadata", None) or {}).get("graded")
                 for name, node in self.walk.nodes.items() if self.walk.kind(name) == "input"}
        out = {name for name, flag in flags.items()
               if flag is not None and np.size(flag) == 1 and bool(np.ravel(flag)[0])}
        for name in self.walk.nodes:
            if (self.walk.kind(name) == "neuron" and self.walk.preds[name]
                    and self.walk.lower_node(name).graded_input):
                out |= {source for source in self.walk.expr_in(name).source.tolist()
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
        preds = self.walk.preds[name]
        if not preds:
            return {}
        if len(preds) > 1:
            return self._add_readout(name, readouts)
        pre = preds[0]
        # Subgraph ports and Flatten only rename elements: look through them.
        while (type(self.walk.nodes[pre]).__name__ in ("Input", "Output", "Flatten")
               and self.walk.kind(pre) == "linear" and len(self.walk.preds[pre]) == 1):
            pre = self.walk.preds[pre][0]
        kind = self.walk.kind(pre)
        if kind == "input":
            var = "spikes"
        elif kind == "neuron":
            var = self.walk.lower_node(pre).record
        else:
            return self._add_readout(name, readouts)
        record.setdefault(pre, set()).add(var)
        return {name: (pre, var)}

    def _add_readout(self, name: str, readouts: dict[str, str]) -> dict[str, tuple[str, str]]:
        """An Output fed by a linear map (or by a sum of edges) records that value each step
        through a readout population."""
        label, k = f"{name}_readout", 1
        while label in self.walk.nodes:
            label, k = f"{name}_readout{k}", k + 1
        readouts[name] = label
        return {name: (label, "v")}

    def _projections(self, name: str, low: LoweredNode, params: dict[str, np.ndarray],
                     total: ops.Expr) -> list[ProjectionSpec]:
        out = []
        for receptor, op in low.input_maps.items():
            if op is not None and total.size != op.n_in and self.walk.preds.get(name):
                raise NetworkError(f"NIR import: {self.walk.where(name)} takes "
                                   f"{op.n_in} input values but receives {total.size}")
            if op is None:
                expr = total
            else:  # without an edge in, nothing reaches the map (``total`` is a placeholder)
                expr = total.apply(op) if self.walk.preds.get(name) else ops.Expr.zero(op.n_out)
            if op is None:
                params["bias"] = params["bias"] + expr.offset
            elif receptor in low.offset_params:
                key = low.offset_params[receptor]
                params[key] = params[key] + expr.offset
            elif np.any(expr.offset):
                raise NetworkError(f"NIR import: {self.walk.where(name)} takes no "
                                   f"constant input (bias) on {receptor!r}")
            # With a map, every source of the input reaches every such receptor (possibly
            # with no synapse): the EGRU requires each input to feed all its gates.
            sources = expr.source if op is None else total.source
            for source in dict.fromkeys(sources.tolist()):
                for rec, sel in _receptors(receptor, op, expr, source):
                    suffix = "" if rec == "excitatory" else f"[{rec}]"
                    delay = units.delay_ms(expr.delay[sel], self.walk.dt, self.timestep)
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
