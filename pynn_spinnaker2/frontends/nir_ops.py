"""NIR's linear nodes as sparse matrices, and the signals they act on.

A signal between two NIR nodes is, after import, a linear expression of the spikes of source
nodes (Inputs and neurons): an :class:`Expr` holds one entry per (source neuron, element)
pair with its weight and accumulated delay, plus a constant offset (the biases met on the
way). Each linear node (Affine, Linear, Scale, Flatten, Conv1d, Conv2d, SumPool2d,
AvgPool2d) is a :class:`SparseOp` (COO matrix over flattened, C-ordered elements) applied to
an expression; a Delay adds to the delays. What reaches a neuron node is its synapse list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SparseOp:
    """A linear map from ``n_in`` to ``n_out`` flattened elements: out[rows] += vals * in[cols]."""

    n_in: int
    n_out: int
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    def apply_dense(self, x: np.ndarray) -> np.ndarray:
        """The map applied to a vector (for offsets)."""
        return np.bincount(self.rows, weights=self.vals * x[self.cols], minlength=self.n_out)


@dataclass(frozen=True)
class Expr:
    """A signal: ``size`` elements, each a weighted sum of delayed source spikes plus offset.

    Parameters
    ----------
    size
        Number of elements (the flattened shape).
    source, src_idx, dst_idx, weight, delay
        One entry per synapse-to-be: source node name (array of str), index within it,
        element of this signal, weight, delay in the graph's time unit.
    offset
        Constant part of each element (biases).
    """

    size: int
    source: np.ndarray
    src_idx: np.ndarray
    dst_idx: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    offset: np.ndarray

    @staticmethod
    def identity(name: str, size: int) -> Expr:
        """The spikes of source ``name`` itself."""
        idx = np.arange(size, dtype=np.int64)
        return Expr(size, np.full(size, name, dtype=object), idx, idx.copy(), np.ones(size),
                    np.zeros(size), np.zeros(size))

    @staticmethod
    def zero(size: int) -> Expr:
        """No input."""
        empty = np.zeros(0)
        return Expr(size, np.zeros(0, dtype=object), np.zeros(0, np.int64),
                    np.zeros(0, np.int64), empty, empty.copy(), np.zeros(size))

    def __add__(self, other: Expr) -> Expr:
        """Several edges into one node sum (NIR's rule)."""
        return Expr(self.size, *(np.concatenate((getattr(self, f), getattr(other, f)))
                                 for f in ("source", "src_idx", "dst_idx", "weight", "delay")),
                    self.offset + other.offset).coalesce()

    def apply(self, op: SparseOp) -> Expr:
        """``op`` applied to this signal: entries joined on this signal's elements."""
        order = np.argsort(op.cols, kind="stable")
        cols = op.cols[order]
        start = np.searchsorted(cols, self.dst_idx, "left")
        count = np.searchsorted(cols, self.dst_idx, "right") - start
        entry = np.repeat(np.arange(self.dst_idx.size), count)
        within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        k = order[np.repeat(start, count) + within]
        return Expr(op.n_out, self.source[entry], self.src_idx[entry], op.rows[k],
                    self.weight[entry] * op.vals[k], self.delay[entry],
                    op.apply_dense(self.offset)).coalesce()

    def delayed(self, delay: np.ndarray) -> Expr:
        """Delay node: element k of the signal comes ``delay[k]`` later (offsets unchanged)."""
        return Expr(self.size, self.source, self.src_idx, self.dst_idx, self.weight,
                    self.delay + delay[self.dst_idx], self.offset)

    def coalesce(self) -> Expr:
        """Entries with the same source, indices and delay merged; zero weights dropped."""
        if self.weight.size == 0:
            return self
        names, code = np.unique(self.source.astype(str), return_inverse=True)
        keys = np.lexsort((self.delay, self.src_idx, self.dst_idx, code))
        stacked = np.stack((code[keys], self.dst_idx[keys], self.src_idx[keys]))
        new = np.r_[True, np.any(stacked[:, 1:] != stacked[:, :-1], axis=0)
                    | (self.delay[keys][1:] != self.delay[keys][:-1])]
        group = np.cumsum(new) - 1
        weight = np.bincount(group, weights=self.weight[keys])
        first = keys[new]
        keep = weight != 0.0
        return Expr(self.size, names[code[first]][keep].astype(object),
                    self.src_idx[first][keep], self.dst_idx[first][keep], weight[keep],
                    self.delay[first][keep], self.offset)


def dense(weight: np.ndarray, in_shape: tuple[int, ...]) -> SparseOp:
    """Linear/Affine: ``weight`` (out, in) over the last axis of the input."""
    n_out, n_in = weight.shape
    lead = int(np.prod(in_shape[:-1], dtype=np.int64))
    rows, cols = np.nonzero(weight)
    vals = weight[rows, cols]
    base = np.arange(lead, dtype=np.int64)[:, None]
    return SparseOp(lead * n_in, lead * n_out, (base * n_out + rows).ravel(),
                    (base * n_in + cols).ravel(), np.tile(vals, lead))


def diagonal(scale: np.ndarray) -> SparseOp:
    """Scale: elementwise product."""
    n = scale.size
    idx = np.arange(n, dtype=np.int64)
    return SparseOp(n, n, idx, idx.copy(), scale.ravel().astype(float))


def identity(n: int) -> SparseOp:
    """Flatten (a reshape of C-ordered elements), and the Inputs and Outputs of subgraphs."""
    return diagonal(np.ones(n))


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a convolution along one axis (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(kernel: int, dilation: int) -> int:
    """Left padding of ``padding='same'`` (PyTorch puts the odd element on the right)."""
    return dilation * (kernel - 1) // 2


def conv(weight: np.ndarray, in_shape: tuple[int, ...], stride: tuple[int, ...],
         padding: tuple[int, ...], dilation: tuple[int, ...], groups: int
         ) -> tuple[SparseOp, tuple[int, ...]]:
    """Convolution (1-D or 2-D, cross-correlation as in PyTorch) as a sparse matrix.

    Parameters
    ----------
    weight
        (C_out, C_in / groups, *kernel).
    in_shape
        (C_in, *spatial).
    stride, padding, dilation
        One value per spatial axis (padding: zeros on both sides).
    groups
        Channel groups.

    Returns
    -------
    op, out_shape
    """
    c_out, c_in_g = weight.shape[:2]
    kernel = weight.shape[2:]
    spatial = in_shape[1:]
    out_sp = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d in
                   zip(spatial, kernel, stride, padding, dilation, strict=True))
    out_shape = (c_out, *out_sp)
    per_group = c_out // groups
    # Every (output position, input channel in group, kernel offset) combination.
    grids = np.meshgrid(np.arange(c_out), *[np.arange(n) for n in out_sp],
                        np.arange(c_in_g), *[np.arange(k) for k in kernel], indexing="ij")
    co = grids[0].ravel()
    pos = [g.ravel() for g in grids[1:1 + len(out_sp)]]
    ci = grids[1 + len(out_sp)].ravel()
    off = [g.ravel() for g in grids[2 + len(out_sp):]]
    src = [p * s - pad + o * d for p, s, pad, o, d in
           zip(pos, stride, padding, off, dilation, strict=True)]
    inside = np.ones(co.size, dtype=bool)
    for coord, n in zip(src, spatial, strict=True):
        inside &= (coord >= 0) & (coord < n)
    channel = (co // per_group) * c_in_g + ci
    vals = weight[(co, ci, *off)]
    keep = inside & (vals != 0)
    cols = np.ravel_multi_index((channel[keep], *[c[keep] for c in src]), in_shape)
    rows = np.ravel_multi_index((co[keep], *[p[keep] for p in pos]), out_shape)
    return (SparseOp(int(np.prod(in_shape)), int(np.prod(out_shape)), rows.astype(np.int64),
                     cols.astype(np.int64), vals[keep].astype(float)), out_shape)


def pool2d(in_shape: tuple[int, int, int], kernel: tuple[int, int], stride: tuple[int, int],
           padding: tuple[int, int], average: bool) -> tuple[SparseOp, tuple[int, ...]]:
    """SumPool2d / AvgPool2d (average over the whole window, padding included, as PyTorch's
    default ``count_include_pad=True``), per channel."""
    channels = in_shape[0]
    weight = np.zeros((channels, 1, *kernel))
    weight[:] = 1.0 / (kernel[0] * kernel[1]) if average else 1.0
    return conv(weight, in_shape, stride, padding, (1, 1), channels)
