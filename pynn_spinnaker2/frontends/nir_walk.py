"""One walk over a flattened NIR graph: each node's role, shape, lowering and signal.

:class:`GraphWalk` answers, lazily and once per node, what :mod:`.nir_lower` needs to build
the Network: the node's kind (a top-level ``input`` or ``output``, a ``neuron`` or a
``linear`` node: the :mod:`.nir_dispatch` rule of its type), its output shape, the population
of a neuron node (its rule's ``LoweredNode``) and what flows into a node as an expression of
source spikes (:class:`.nir_ops.Expr`: the linear nodes on the way composed).
"""

from __future__ import annotations

import dataclasses

import nir
import numpy as np

from ..errors import NetworkError
from . import nir_ops as ops
from .nir_dispatch import LinearMap, NodeContext, NodeRule, describe, known_types, rule_for
from .nir_extensions import LoweredNode
from .nir_graph import flatten


class GraphWalk:
    """The flattened graph of one import and what has been computed about its nodes.

    Parameters
    ----------
    graph
        The NIR graph.
    dt, timestep, discretisation
        As :func:`.nir_lower.nir_to_network` takes them.
    """

    def __init__(self, graph: nir.NIRGraph, dt: float, timestep: float,
                 discretisation: str) -> None:
        self.dt, self.timestep, self.discretisation = dt, timestep, discretisation
        self.nodes: dict[str, object] = {}
        self.top_io: set[str] = set()
        self.edges: list[tuple[str, str]] = []
        flatten(graph, "", self.nodes, self.edges, self.top_io)
        if len(set(self.edges)) != len(self.edges):
            dup = next(e for e in self.edges if self.edges.count(e) > 1)
            raise NetworkError(f"NIR import: duplicate edge {dup}")
        self.preds: dict[str, list[str]] = {n: [] for n in self.nodes}
        for a, b in self.edges:
            self.preds[b].append(a)
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._exprs: dict[str, ops.Expr] = {}
        self._maps: dict[str, LinearMap] = {}
        self._busy: set[str] = set()
        self.lowered: dict[str, LoweredNode] = {}

    def where(self, name: str) -> str:
        """``node 'name' (Type)``, for messages."""
        return describe(name, self.nodes[name])

    # -- roles ---------------------------------------------------------------------------
    def rule(self, name: str) -> NodeRule:
        """The node's rule (NotImplementedError for a type the chip cannot run)."""
        rule = rule_for(self.nodes[name])
        if rule is None:
            raise NotImplementedError(f"NIR import: {self.where(name)} cannot run on "
                                      f"SpiNNaker 2; the node types it runs are "
                                      f"{known_types()}")
        return rule

    def kind(self, name: str) -> str:
        """``input``, ``output``, ``neuron`` or ``linear``."""
        node = self.nodes[name]
        if name in self.top_io:
            return "input" if isinstance(node, nir.Input) else "output"
        return self.rule(name).kind

    def context(self, name: str) -> NodeContext:
        """What the node's rule gets."""
        return NodeContext(name, self.nodes[name], self.dt, self.timestep, self.discretisation,
                           lambda: self.in_shape(name), lambda: self.shape(name))

    # -- shapes --------------------------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        """Shape of the node's output."""
        if name in self._shapes:
            return self._shapes[name]
        if name in self._busy:
            if self.kind(name) == "linear":
                self._algebraic_loop(name)
            raise NetworkError(f"NIR import: the shape of {self.where(name)} depends on "
                               f"itself (a loop of nodes without shaped parameters); give "
                               f"its parameters their full shape")
        self._busy.add(name)
        try:
            rule = self.rule(name)
            shape = (rule.shape(self.context(name)) if rule.shape is not None
                     else self.linear(name).shape)
        finally:
            self._busy.discard(name)
        if any(s < 1 for s in shape) or not shape:
            raise NetworkError(f"NIR import: {self.where(name)} has shape {shape}; every node "
                               f"needs at least one element")
        self._shapes[name] = shape
        return shape

    def in_shape(self, name: str) -> tuple[int, ...]:
        """Shape of what flows into the node (all incoming edges must agree)."""
        preds = self.preds[name]
        if not preds:
            raise NetworkError(f"NIR import: {self.where(name)} has no input edge, so its "
                               f"shape is unknown")
        shapes = {p: self.shape(p) for p in preds}
        if len({int(np.prod(s)) for s in shapes.values()}) > 1:
            raise NetworkError(f"NIR import: the edges into {self.where(name)} carry "
                               f"different shapes {shapes}; summed inputs must match")
        return max(shapes.values(), key=len)

    # -- lowering ------------------------------------------------------------------------
    def linear(self, name: str) -> LinearMap:
        """The map of a linear node."""
        if name not in self._maps:
            self._maps[name] = self.rule(name).lower(self.context(name))
        return self._maps[name]

    def lower_node(self, name: str) -> LoweredNode:
        """The population of a neuron node."""
        if name not in self.lowered:
            self.shape(name)  # a rule's lowering may ask for it; the checks come first
            self.lowered[name] = self.rule(name).lower(self.context(name))
        return self.lowered[name]

    # -- signals -------------------------------------------------------------------------
    def expr_in(self, name: str) -> ops.Expr:
        """What flows into ``name``: the sum of its incoming edges."""
        size = int(np.prod(self.in_shape(name))) if self.preds[name] else 0
        total = ops.Expr.zero(size)
        for pre in self.preds[name]:
            if self.kind(pre) == "neuron" and not self.lower_node(pre).spiking:
                raise NetworkError(
                    f"NIR import: {self.where(pre)} does not spike: its output is a "
                    f"continuous value, which SpiNNaker 2 cores do not send to each other; "
                    f"only an Output node may read it (here {self.where(name)} does)")
            total = total + self.expr_out(pre)
        return total

    def expr_out(self, name: str) -> ops.Expr:
        """What leaves ``name``, in terms of source spikes."""
        if self.kind(name) in ("input", "neuron"):
            return ops.Expr.identity(name, int(np.prod(self.shape(name))))
        if name in self._exprs:
            return self._exprs[name]
        if name in self._busy:
            self._algebraic_loop(name)
        self._busy.add(name)
        try:
            lin = self.linear(name)
            expr = self.expr_in(name)
            if lin.op is None:
                expr = expr.delayed(lin.delay)
            else:
                expr = expr.apply(lin.op)
                if lin.bias is not None:
                    expr = dataclasses.replace(expr, offset=expr.offset + lin.bias)
        finally:
            self._busy.discard(name)
        self._exprs[name] = expr
        return expr

    def _algebraic_loop(self, name: str) -> None:
        raise NetworkError(f"NIR import: {self.where(name)} lies on a loop of linear nodes "
                           f"with no neuron on it (an algebraic loop); a recurrent loop must "
                           f"pass through a neuron node")
