"""Synapse parameters of bulk-built connections: one value per synapse, drawn and checked
as PyNN's per-target connector code would (same random numbers, same sign checks)."""

from __future__ import annotations

import numpy as np
from lazyarray import larray
from pyNN.parameters import LazyArray
from pyNN.random import NumpyRNG, RandomDistribution

#: NumpyRNG distributions whose values do not depend on how the draws are split into calls
#: (each value consumes the generator independently of the call it belongs to).
SPLIT_INVARIANT = frozenset({"uniform", "uniform_int", "normal", "lognormal", "exponential",
                             "gamma", "normal_clipped_to_boundary"})


class Bounds:
    """Where each target's synapses start and end (computed only if someone asks)."""

    def __init__(self, cols: np.ndarray) -> None:
        self.cols = cols
        self._bounds: np.ndarray | None = None

    def get(self) -> np.ndarray:
        if self._bounds is None:
            cols = self.cols
            self._bounds = (np.flatnonzero(np.r_[True, cols[1:] != cols[:-1], True])
                            if cols.size else np.zeros(1, np.int64))
        return self._bounds


def constant(value: float, n: int) -> np.ndarray:
    """``n`` copies of ``value`` as a read-only view of one number (no memory per synapse;
    writers copy it first, and the XML writer stores it as one value)."""
    return np.broadcast_to(np.float64(value), (n,))


def synapse_values(lazy: LazyArray, pre: np.ndarray, cols: np.ndarray, bounds: Bounds
            ) -> np.ndarray:
    """One parameter at each synapse: in bulk where that draws the same numbers, else one
    target at a time exactly as PyNN does (``lazy[sources, column]``)."""
    n = pre.size
    if lazy.is_homogeneous:
        return constant(float(lazy.evaluate(simplify=True)), n)
    base = lazy.base_value
    plain = all(not isinstance(arg, larray) for _, arg in lazy.operations)
    if plain and isinstance(base, RandomDistribution) and type(base.rng) is NumpyRNG \
            and base.name in SPLIT_INVARIANT:
        values = base.next(n) if n else np.zeros(0)
        return np.broadcast_to(np.asarray(lazy._apply_operations(values), float), (n,)).copy()
    if plain and isinstance(base, np.ndarray) and base.ndim == 2:
        return np.asarray(lazy._apply_operations(base[pre, cols]), float)
    out = np.empty(n)
    edges = bounds.get()
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        out[a:b] = np.broadcast_to(np.asarray(lazy[pre[a:b], int(cols[a])], float), (b - a,))
    return out


def check_signs(projection: object, params: dict[str, np.ndarray], bounds: Bounds,
           uniform: set[str]) -> None:
    """PyNN's per-target parameter checks (weight signs), applied to whole arrays with the
    same outcome: every target is checked on its own where the signs differ between them.
    A homogeneous parameter is checked as the one number PyNN checks."""
    syn = projection.synapse_type
    for parameter_name, check in getattr(syn, "parameter_checks", {}).items():
        native = syn.translations[parameter_name]["translated_name"]
        if native not in params:
            continue
        values = params[native]
        if native in uniform:
            check(float(values[0]), projection)
            continue
        if np.all(values >= 0) or np.all(values <= 0):
            check(values, projection)
            continue
        bounds = bounds.get()
        starts = bounds[:-1]
        neg = np.minimum.reduceat(values, starts) < 0
        pos = np.maximum.reduceat(values, starts) > 0
        firsts = [int(np.argmax(neg & pos))] if np.any(neg & pos) else []
        firsts += [int(np.argmax(neg)), int(np.argmax(pos))]
        for k in sorted(set(firsts)):
            check(values[bounds[k]:bounds[k + 1]], projection)
