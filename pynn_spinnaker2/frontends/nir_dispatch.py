"""The table of NIR node types the importer knows: one small lowering function per type.

Each node type is a :class:`NodeRule` in :data:`RULES`, keyed by the ``nir`` node class and
registered with the :func:`lowers` decorator (the built-in types in :mod:`.nir_nodes`). A
rule's function gets a :class:`NodeContext` (the node, its name, the time step and its
shapes, and checked accessors whose errors name the node) and returns

- for a ``neuron`` rule, a :class:`~.nir_extensions.LoweredNode`: the population the node
  becomes and how its input reaches it;
- for a ``linear`` rule, a :class:`LinearMap`: the sparse map from its input to its output
  (plus a constant bias or per-element delays), which the importer composes into synapses.

Extension node types registered with :func:`.nir_extensions.register` (the EGRU) are
neuron rules too: :func:`rule_for` falls back to them by the node's type name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import NetworkError
from .nir_extensions import EXTENSIONS, LoweredNode
from .nir_ops import SparseOp

#: Rule kinds: a ``neuron`` node becomes a population, a ``linear`` one part of synapses.
KINDS = ("neuron", "linear")


@dataclass(frozen=True)
class LinearMap:
    """What a linear node does to the signal flowing through it.

    Parameters
    ----------
    op
        The map over flattened, C-ordered elements; None for a node that only delays.
    shape
        The node's output shape.
    bias
        Constant output per output element (an Affine's or Conv's bias), or None.
    delay
        Per-element delay in graph time (a Delay node; ``op`` is None), or None.
    """

    op: SparseOp | None
    shape: tuple[int, ...]
    bias: np.ndarray | None = None
    delay: np.ndarray | None = None


@dataclass(frozen=True)
class NodeContext:
    """One node as a rule sees it.

    Parameters
    ----------
    name
        Flat name of the node (dotted through nested graphs).
    node
        The ``nir`` node.
    dt
        Graph time step (graph time unit).
    timestep
        Simulation time step (ms).
    discretisation
        ``exact`` or ``euler``: the import's default.
    in_shape
        ``() -> shape`` of what flows into the node (the edges into it must agree); raises
        when no edge enters.
    out_shape
        ``() -> shape`` of the node's output (for a neuron rule's lowering function).
    """

    name: str
    node: object
    dt: float
    timestep: float
    discretisation: str
    in_shape: Callable[[], tuple[int, ...]]
    out_shape: Callable[[], tuple[int, ...]]

    @property
    def time_scale(self) -> float:
        """ms per unit of graph time (see :mod:`.nir_units`)."""
        return self.timestep / self.dt

    @property
    def where(self) -> str:
        """``node 'name' (Type)``, for messages."""
        return describe(self.name, self.node)

    def numeric(self, field: str) -> np.ndarray:
        """Field ``field`` as finite floats (NetworkError naming the node otherwise)."""
        value = getattr(self.node, field, None)
        if value is None:
            raise NetworkError(f"NIR import: {self.where} has no {field!r}")
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise NetworkError(f"NIR import: {self.where}: {field!r} is not numeric "
                               f"({exc})") from exc
        if not np.all(np.isfinite(arr)):
            raise NetworkError(f"NIR import: {self.where}: {field!r} has non-finite values")
        return arr

    def broadcast(self, value: np.ndarray, shape: tuple[int, ...], field: str) -> np.ndarray:
        """``value`` broadcast to ``shape`` and flattened (C order)."""
        try:
            return np.broadcast_to(value, shape).reshape(-1).astype(float)
        except ValueError as exc:
            raise NetworkError(f"NIR import: {self.where}: {field!r} has shape "
                               f"{np.shape(value)}, which does not fit the node's shape "
                               f"{shape}") from exc

    def ints(self, value: object, n: int, field: str, least: int) -> tuple[int, ...]:
        """``n`` integers >= ``least`` (one value stands for all ``n``)."""
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
            raise NetworkError(f"NIR import: {self.where}: {field} must be {n} integer(s) >= "
                               f"{least}, got {value!r}")
        return out

    def int_shape(self, value: object) -> tuple[int, ...]:
        """A declared shape (``input_type``/``output_type`` entry) as integers."""
        try:
            arr = np.asarray(value).reshape(-1)
            shape = tuple(int(s) for s in arr)
        except (TypeError, ValueError) as exc:
            raise NetworkError(f"NIR import: {self.where}: shape {value!r} is not a list of "
                               f"integers") from exc
        if any(s != a for s, a in zip(shape, arr, strict=True)):
            raise NetworkError(f"NIR import: {self.where}: shape {value!r} is not a list of "
                               f"integers")
        return shape


@dataclass(frozen=True)
class NodeRule:
    """How one node type is imported.

    Parameters
    ----------
    kind
        ``neuron`` (``lower`` returns a LoweredNode) or ``linear`` (a LinearMap).
    lower
        ``(NodeContext) -> LoweredNode | LinearMap``.
    shape
        ``(NodeContext) -> output shape``; needed for neuron rules (a population's size
        must be known before its input is), optional for linear ones (default: the shape
        of the LinearMap).
    """

    kind: str
    lower: Callable[[NodeContext], LoweredNode | LinearMap]
    shape: Callable[[NodeContext], tuple[int, ...]] | None = None


#: ``nir`` node class -> its rule.
RULES: dict[type, NodeRule] = {}


def lowers(*node_types: type, kind: str = "linear",
           shape: Callable[[NodeContext], tuple[int, ...]] | None = None
           ) -> Callable[[Callable], Callable]:
    """Decorator: register the function as the lowering of ``node_types``.

    Example::

        @lowers(nir.Scale)
        def _scale(ctx: NodeContext) -> LinearMap:
            shape = ctx.in_shape()
            return LinearMap(ops.diagonal(ctx.broadcast(ctx.numeric("scale"), shape,
                                                        "scale")), shape)
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind == "neuron" and shape is None:
        raise ValueError("a neuron rule needs a shape function")

    def register(fn: Callable) -> Callable:
        for node_type in node_types:
            RULES[node_type] = NodeRule(kind, fn, shape)
        return fn

    return register


def rule_for(node: object) -> NodeRule | None:
    """The rule of ``node``'s class (or of a base class, or of its registered extension)."""
    for cls in type(node).__mro__:
        if cls in RULES:
            return RULES[cls]
    ext = EXTENSIONS.get(type(node).__name__)
    if ext is None:
        return None
    return NodeRule("neuron", lambda ctx: ext.lower(ctx.node, ctx.name, ctx.out_shape(),
                                                    ctx.time_scale), declared_shape)


def known_types() -> list[str]:
    """Names of every node type the importer runs (for messages)."""
    return sorted({cls.__name__ for cls in RULES} | {"NIRGraph"} | set(EXTENSIONS))


def declared_shape(ctx: NodeContext) -> tuple[int, ...]:
    """The node's declared output shape, else the shape of its input."""
    declared = getattr(ctx.node, "output_type", {}).get("output")
    return ctx.int_shape(declared) if declared is not None else ctx.in_shape()


def describe(name: str, node: object) -> str:
    """``node 'name' (Type)``."""
    return f"node {name!r} ({type(node).__name__})"
