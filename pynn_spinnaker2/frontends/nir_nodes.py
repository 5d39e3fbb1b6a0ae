"""The lowering of each built-in NIR node type (nir 1.0.8), registered in :mod:`.nir_dispatch`.

Neuron nodes (``LIF``, ``CubaLIF``, ``IF``, ``LI``, ``CubaLI``, ``I``, ``Threshold``) become
``NIR_*`` populations (:mod:`pynn_spinnaker2.cells.nir_cuba`), their parameters converted by
:mod:`.nir_units`. Linear nodes (``Affine``, ``Linear``, ``Scale``, ``Flatten``, ``Conv1d``,
``Conv2d``, ``SumPool2d``, ``AvgPool2d``, ``Delay`` and the ``Input``/``Output`` ports of
nested graphs) become sparse maps (:mod:`.nir_ops`) that the importer composes into synapses.
"""

from __future__ import annotations

import nir
import numpy as np

from ..cells.nir_cuba import DEFAULTS as NIR_DEFAULTS
from ..cells.nir_cuba import MODELS as NIR_MODELS
from ..errors import NetworkError
from . import nir_ops as ops
from . import nir_units as units
from .nir_dispatch import LinearMap, NodeContext, lowers
from .nir_extensions import LoweredNode

#: The discretisations of the NIR cell types (``metadata['discretisation']`` of a node).
DISCRETISATIONS = ("exact", "euler")
#: Most (output, input, kernel offset) terms a convolution may expand into (memory guard).
MAX_CONV_TERMS = 1 << 26


def node_params(nir_type: str) -> tuple[str, ...]:
    """NIR parameter fields of a built-in neuron node type."""
    return tuple(k for k in NIR_DEFAULTS[f"NIR_{nir_type}"] if k not in ("bias", "euler"))


# -- neurons ---------------------------------------------------------------------------------

def _neuron_shape(ctx: NodeContext) -> tuple[int, ...]:
    """The fullest shape among the node's parameters; its input's when all are scalars."""
    t = type(ctx.node).__name__
    shapes = {np.shape(ctx.numeric(f)) for f in node_params(t) if hasattr(ctx.node, f)}
    full = max(shapes, key=len)
    return tuple(int(s) for s in full) if full else ctx.in_shape()


@lowers(nir.LIF, nir.CubaLIF, nir.IF, nir.LI, nir.CubaLI, nir.I, nir.Threshold,
        kind="neuron", shape=_neuron_shape)
def _neuron(ctx: NodeContext) -> LoweredNode:
    t = type(ctx.node).__name__
    model = f"NIR_{t}"
    shape = ctx.out_shape()
    params = {}
    for field in node_params(t):
        value = ctx.broadcast(ctx.numeric(field), shape, field)
        if field in units.TIME_FIELDS and np.any(value <= 0):
            raise NetworkError(f"NIR import: {ctx.where}: {field} must be > 0, got "
                               f"{value.min()}")
        params[field] = units.to_pynn(t, field, value, ctx.time_scale)
    n = int(np.prod(shape))
    params["bias"] = np.zeros(n)
    meta = getattr(ctx.node, "metadata", None) or {}
    if "euler" in NIR_DEFAULTS[model]:
        method = meta.get("discretisation", ctx.discretisation)
        if method not in DISCRETISATIONS:
            raise NetworkError(f"NIR import: {ctx.where}: metadata discretisation {method!r} "
                               f"is not one of {DISCRETISATIONS}")
        params["euler"] = np.full(n, 1.0 if method == "euler" else 0.0)
    initial = {"v": params.get("v_leak", np.zeros(n)).copy(), "i_syn": np.zeros(n)}
    for var in ("v", "i_syn"):
        if f"initial_{var}" in meta:
            initial[var] = ctx.broadcast(np.asarray(meta[f"initial_{var}"], dtype=float),
                                         shape, f"metadata initial_{var}")
    spiking = bool(NIR_MODELS[model].extra["spiking"])
    return LoweredNode(model, n, params, initial, spiking, {"excitatory": None},
                       record="spikes" if spiking else "v")


# -- linear nodes ----------------------------------------------------------------------------

def _port_shape(ctx: NodeContext) -> tuple[int, ...]:
    """An Input's or Output's declared shape, else that of what flows into it."""
    node = ctx.node
    types, key = ((node.input_type, "input") if isinstance(node, nir.Input)
                  else (node.output_type, "output"))
    declared = types.get(key)
    if declared is not None and np.size(declared):
        return ctx.int_shape(declared)
    return ctx.in_shape()


@lowers(nir.Input, nir.Output, shape=_port_shape)
def _port(ctx: NodeContext) -> LinearMap:
    """A port of a nested graph passes its input through."""
    shape = ctx.in_shape()
    return LinearMap(ops.identity(int(np.prod(shape))), shape)


@lowers(nir.Affine, nir.Linear)
def _dense(ctx: NodeContext) -> LinearMap:
    shape = ctx.in_shape()
    n = int(np.prod(shape))
    w = ctx.numeric("weight")
    if w.ndim != 2:
        raise NetworkError(f"NIR import: {ctx.where}: weight must be 2-D (out, in), got "
                           f"shape {w.shape}")
    if shape[-1] != w.shape[1]:
        if n != w.shape[1]:
            raise NetworkError(f"NIR import: {ctx.where}: weight {w.shape} takes "
                               f"{w.shape[1]} inputs, but its input has shape {shape}")
        shape = (n,)
    out = (*shape[:-1], w.shape[0])
    bias = None
    if isinstance(ctx.node, nir.Affine):
        b = ctx.numeric("bias").reshape(-1)
        if b.size != out[-1]:
            raise NetworkError(f"NIR import: {ctx.where}: bias has {b.size} values for "
                               f"{out[-1]} outputs")
        bias = np.tile(b, int(np.prod(out)) // b.size)
    return LinearMap(ops.dense(w, shape), out, bias)


@lowers(nir.Scale)
def _scale(ctx: NodeContext) -> LinearMap:
    shape = ctx.in_shape()
    return LinearMap(ops.diagonal(ctx.broadcast(ctx.numeric("scale"), shape, "scale")), shape)


@lowers(nir.Flatten)
def _flatten(ctx: NodeContext) -> LinearMap:
    shape, node = ctx.in_shape(), ctx.node
    nd = len(shape)
    start = ctx.ints(node.start_dim, 1, "start_dim", -nd)[0]
    end = ctx.ints(node.end_dim, 1, "end_dim", -nd)[0]
    if start >= nd or end >= nd:
        raise NetworkError(f"NIR import: {ctx.where}: start_dim {start} / end_dim {end} "
                           f"outside an input of {nd} dimensions {shape}")
    start, end = start % nd, end % nd
    if start > end:
        raise NetworkError(f"NIR import: {ctx.where}: start_dim {node.start_dim} is after "
                           f"end_dim {node.end_dim} for input shape {shape}")
    flat = (*shape[:start], int(np.prod(shape[start:end + 1])), *shape[end + 1:])
    return LinearMap(ops.identity(int(np.prod(shape))), flat)


@lowers(nir.Delay)
def _delay(ctx: NodeContext) -> LinearMap:
    """Delays rounded to whole steps of ``dt`` (refused when they are not)."""
    shape = ctx.in_shape()
    d = ctx.broadcast(ctx.numeric("delay"), shape, "delay")
    if np.any(d < 0):
        raise NetworkError(f"NIR import: {ctx.where}: delays must be >= 0, got {d.min()}")
    steps = d / ctx.dt
    off = np.abs(steps - np.round(steps))
    if np.any(off > 1e-6 * np.maximum(1.0, steps)):
        raise NetworkError(f"NIR import: {ctx.where}: delay {d[np.argmax(off)]} is not a "
                           f"multiple of dt = {ctx.dt}; import with a dt that divides every "
                           f"delay")
    return LinearMap(None, shape, delay=np.round(steps) * ctx.dt)


@lowers(nir.SumPool2d, nir.AvgPool2d)
def _pool(ctx: NodeContext) -> LinearMap:
    shape, node = ctx.in_shape(), ctx.node
    if len(shape) != 3:
        raise NetworkError(f"NIR import: {ctx.where} needs a (C, H, W) input, got {shape}")
    op, out = ops.pool2d(shape, ctx.ints(node.kernel_size, 2, "kernel_size", 1),
                         ctx.ints(node.stride, 2, "stride", 1),
                         ctx.ints(node.padding, 2, "padding", 0),
                         isinstance(node, nir.AvgPool2d))
    return LinearMap(op, out)


@lowers(nir.Conv1d, nir.Conv2d)
def _conv(ctx: NodeContext) -> LinearMap:
    shape, node, where = ctx.in_shape(), ctx.node, ctx.where
    nd = 1 if isinstance(node, nir.Conv1d) else 2
    w = ctx.numeric("weight")
    if w.ndim != nd + 2:
        raise NetworkError(f"NIR import: {where}: weight must be (C_out, C_in/groups, "
                           f"{'N' if nd == 1 else 'H, W'}), got shape {w.shape}")
    if len(shape) != nd + 1:
        raise NetworkError(f"NIR import: {where}: input must be (C_in, "
                           f"{'N' if nd == 1 else 'H, W'}), got shape {shape}")
    groups = ctx.ints(node.groups, 1, "groups", 1)[0]
    if groups < 1 or shape[0] % groups or w.shape[0] % groups or \
            w.shape[1] * groups != shape[0]:
        raise NetworkError(f"NIR import: {where}: weight {w.shape} with groups={groups} "
                           f"does not fit an input of {shape[0]} channels")
    kernel = w.shape[2:]
    stride = ctx.ints(node.stride, nd, "stride", 1)
    dilation = ctx.ints(node.dilation, nd, "dilation", 1)
    padding = _conv_padding(ctx, nd, kernel, stride, dilation)
    out_sp = [ops.conv_output_size(n, k, s_, p, d) for n, k, s_, p, d in
              zip(shape[1:], kernel, stride, padding, dilation, strict=True)]
    combos = w.shape[0] * w.shape[1] * int(np.prod(kernel)) * int(np.prod(
        [max(o, 0) for o in out_sp], dtype=object))
    if combos > MAX_CONV_TERMS:
        raise NetworkError(f"NIR import: {where}: padding {padding}, stride {stride} and "
                           f"dilation {dilation} give outputs {tuple(out_sp)}: {combos} "
                           f"weight terms, more than the {MAX_CONV_TERMS} a conversion "
                           f"can build; check the node's parameters")
    op, out = ops.conv(w, shape, stride, padding, dilation, groups)
    if any(s < 1 for s in out):
        raise NetworkError(f"NIR import: {where}: input {shape} is smaller than the kernel "
                           f"{kernel}")
    b = ctx.numeric("bias").reshape(-1)
    if b.size == 1 and out[0] != 1:
        b = np.full(out[0], b[0])
    if b.size != out[0]:
        raise NetworkError(f"NIR import: {where}: bias has {b.size} values for {out[0]} "
                           f"output channels")
    return LinearMap(op, out, np.repeat(b, int(np.prod(out)) // out[0]))


def _conv_padding(ctx: NodeContext, nd: int, kernel: tuple[int, ...],
                  stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """Explicit padding per dimension from integers, ``'valid'`` or ``'same'``."""
    padding = ctx.node.padding
    if isinstance(padding, bytes):
        padding = padding.decode()
    if not isinstance(padding, str):
        return ctx.ints(padding, nd, "padding", 0)
    if padding == "valid":
        return (0,) * nd
    if padding != "same":
        raise NetworkError(f"NIR import: {ctx.where}: padding {padding!r} is not 'same', "
                           f"'valid' or integers")
    if any(s != 1 for s in stride):
        raise NetworkError(f"NIR import: {ctx.where}: padding='same' needs stride 1")
    if any(dilation[i] * (kernel[i] - 1) % 2 for i in range(nd)):
        raise NotImplementedError(f"NIR import: {ctx.where}: padding='same' with an even "
                                  f"kernel pads unevenly, which is not supported; pad "
                                  f"explicitly")
    return tuple(ops.same_padding(k, d) for k, d in zip(kernel, dilation, strict=True))
