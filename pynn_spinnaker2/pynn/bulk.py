"""Bulk connection building: the synapses of PyNN's common connectors as whole arrays.

PyNN's connectors call ``Projection._convergent_connect`` once per target neuron and evaluate
lazy arrays column by column (about 0.3 ms of Python per target: 3 s for a 10,000-neuron
network). Here the connectors most scripts use build every synapse at once. The random
streams are drawn in the same order and amounts as PyNN draws them, so the synapses, their
order and their parameters are exactly those pyNN.mock builds for the same seeds
(``tests/pynn/test_connectors.py`` compares them).

Bulk-built: ``AllToAllConnector``, ``OneToOneConnector``, ``FixedProbabilityConnector``,
``FixedNumberPreConnector``, ``FixedNumberPostConnector``, ``FromListConnector`` (and so
``FromFileConnector``). Everything else, and any case where drawing in bulk would change the
random numbers, goes through PyNN's own connector code (one ``_convergent_connect`` per
target): a synapse parameter drawn from the connector's own RNG (the draws interleave), an RNG
other than :class:`~pyNN.random.NumpyRNG`, a distribution whose values depend on how the draws
are split (``normal_clipped`` redraws per call), a progress callback, or a location selector.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

import numpy as np
from pyNN import connectors as pc
from pyNN import errors
from pyNN.random import NumpyRNG, RandomDistribution
from pyNN.standardmodels import StandardSynapseType

from .bulk_values import Bounds, check_signs, synapse_values

#: Random numbers drawn per call when a connection matrix is sampled chunk by chunk: 16 MB,
#: under glibc's largest mmap threshold, so the buffers are reused rather than freshly mapped
#: (touching fresh pages dominated the cost on the development VM).
CHUNK = 1 << 21


@dataclass(frozen=True)
class Synapses:
    """Synapses of one projection, in the order PyNN creates them.

    Parameters
    ----------
    pre, post
        Indices within the projection's pre- and postsynaptic populations (views/assemblies
        included), one entry per synapse.
    params
        Native synapse parameter name -> one value per synapse.
    """

    pre: np.ndarray
    post: np.ndarray
    params: dict[str, np.ndarray]


class _NotBulk(Exception):
    """This connector/parameter combination needs PyNN's per-target path."""


def bulk_connect(connector: object, projection: object) -> Synapses | None:
    """The synapses ``connector`` makes for ``projection``, or None to use PyNN's path.

    A connector of this package may provide them itself, as ``bulk_synapses(projection)``.
    """
    own = getattr(connector, "bulk_synapses", None)
    if callable(own):
        return own(projection)
    builder = _BUILDERS.get(type(connector))
    if builder is None or getattr(connector, "location_selector", None) is not None:
        return None
    if getattr(connector, "callback", None) is not None:
        return None
    if not np.all(projection.post._mask_local):
        return None
    try:
        return builder(connector, projection)
    except _NotBulk:
        return None


# -- connection patterns -----------------------------------------------------------------
def _all_to_all(connector: pc.AllToAllConnector, projection: object) -> Synapses:
    n_pre, n_post = projection.pre.size, projection.post.size
    mask = _self_mask(connector.allow_self_connections, projection)
    space = _parameter_space(connector, projection)
    if mask is None:
        cols = np.repeat(np.arange(n_post), n_pre)
        pre = np.tile(np.arange(n_pre), n_post)
    else:
        cols, pre = _chunked(n_pre, n_post, lambda c0, k: mask(c0, k))
    return _finish(connector, projection, pre, cols, space)


def _one_to_one(connector: pc.OneToOneConnector, projection: object) -> Synapses:
    n = min(projection.pre.size, projection.post.size)
    idx = np.arange(n)
    return _finish(connector, projection, idx, idx.copy(),
                   _parameter_space(connector, projection))


def _fixed_probability(connector: pc.FixedProbabilityConnector, projection: object
                       ) -> Synapses:
    # PyNN compares a lazy array of uniform numbers with p, which deep-copies the
    # distribution and its RNG: every projection made with this connector draws the same
    # stream, from the RNG's state when the connector was made, and the RNG never advances.
    rng = deepcopy(_numpy_rng(connector))
    n_pre, n_post = projection.pre.size, projection.post.size
    uniform = RandomDistribution("uniform", (0, 1), rng=rng)
    mask = _self_mask(connector.allow_self_connections, projection)
    p = connector.p_connect

    def block(c0: int, k: int) -> np.ndarray:
        # PyNN draws one column (n_pre values) per target, in target order.
        conn = (uniform.next(k * n_pre) < p).reshape(k, n_pre)
        if mask is not None:
            conn &= mask(c0, k)
        return conn

    space = _parameter_space(connector, projection)  # taken before the draws, as PyNN does
    cols, pre = _chunked(n_pre, n_post, block)
    return _finish(connector, projection, pre, cols, space)


def _fixed_number_pre(connector: pc.FixedNumberPreConnector, projection: object
                      ) -> Synapses:
    rng = _numpy_rng(connector)
    n_pre, n_post = projection.pre.size, projection.post.size
    exclude_self = not (connector.allow_self_connections or projection.pre != projection.post)
    if exclude_self and not rng.parallel_safe:
        raise _NotBulk  # PyNN raises NotImplementedError there
    space = _parameter_space(connector, projection)
    counts = _counts(connector._get_num_pre(n_post), n_post)
    if connector.with_replacement and not exclude_self:
        total = int(counts.sum())
        sources = (rng.next(total, "uniform_int", {"low": 0, "high": n_pre}, mask=None)
                   if total else np.zeros(0, np.int64))
        cols = np.repeat(np.arange(n_post), counts)
        return _finish(connector, projection, np.asarray(sources, np.int64), cols, space)
    all_cells = np.arange(n_pre)
    per_col = []
    for i, n in enumerate(counts):
        if connector.with_replacement:
            sources = connector._rng_uniform_int_exclude(n, n_pre, i)
        else:
            allowed = all_cells[all_cells != i] if exclude_self else all_cells
            sources = _whole_sets(rng, int(n), allowed)
        per_col.append(np.asarray(sources, np.int64))
    cols = np.repeat(np.arange(n_post), [s.size for s in per_col])
    pre = np.concatenate(per_col) if per_col else np.zeros(0, np.int64)
    return _finish(connector, projection, pre, cols, space)


def _whole_sets(rng: object, n: int, allowed: np.ndarray) -> np.ndarray:
    """``n`` cells of ``allowed`` without replacement, as PyNN's fixed-number connectors draw
    them: every cell once per whole set, then a random part of one more set."""
    full_sets, remainder = divmod(n, allowed.size)
    sets = [allowed] * full_sets
    if remainder > 0:
        sets.append(rng.permutation(allowed)[:remainder])
    return np.hstack(sets) if sets else np.zeros(0, np.int64)


def _fixed_number_post(connector: pc.FixedNumberPostConnector, projection: object
                       ) -> Synapses:
    rng = _numpy_rng(connector)
    n_pre, n_post = projection.pre.size, projection.post.size
    exclude_self = not connector.allow_self_connections and projection.pre == projection.post
    if isinstance(connector.n, RandomDistribution) and type(connector.n.rng) is not NumpyRNG:
        raise _NotBulk
    if (isinstance(connector.n, int) and connector.with_replacement and not exclude_self):
        total = connector.n * n_pre
        targets = np.asarray(rng.next(total, "uniform_int", {"low": 0, "high": n_post},
                                      mask=None) if total else np.zeros(0), np.int64)
        sources = np.repeat(np.arange(n_pre), connector.n)
    else:
        all_cells = np.arange(n_post)
        per_source = []
        for source_index in range(n_pre):
            n = connector._get_num_post()
            if connector.with_replacement:
                if exclude_self:
                    t = connector._rng_uniform_int_exclude(n, n_post, source_index)
                else:
                    t = rng.next(n, "uniform_int", {"low": 0, "high": n_post}, mask=None)
            else:
                allowed = all_cells[all_cells != source_index] if exclude_self else all_cells
                t = _whole_sets(rng, int(n), allowed)
            per_source.append(np.asarray(t, np.int64))
        targets = np.concatenate(per_source) if per_source else np.zeros(0, np.int64)
        sources = np.repeat(np.arange(n_pre), [t.size for t in per_source])
    # PyNN appends each source to its targets' lists in source order: a stable sort by
    # target gives the same per-target order.
    order = np.argsort(targets, kind="stable")
    # PyNN takes the synapse parameters after drawing the targets here.
    space = _parameter_space(connector, projection)
    return _finish(connector, projection, sources[order], targets[order], space)


def _from_list(connector: pc.FromListConnector, projection: object) -> Synapses:
    syn = projection.synapse_type
    names = syn.get_parameter_names()
    for name in connector.column_names:
        if name not in names:
            raise ValueError(f"{name} is not a valid parameter for {syn.__class__.__name__}")
    conn_list = connector.conn_list
    if conn_list.size == 0:
        return _empty(projection)
    for col, (side, pop) in enumerate((("source", projection.pre),
                                       ("target", projection.post))):
        bad = (conn_list[:, col] < 0) | (conn_list[:, col] >= pop.size)
        if np.any(bad):
            raise errors.ConnectionError(
                f"projection {projection.label!r}: FromListConnector {side} index "
                f"{conn_list[bad, col][0]:g} is out of range for {pop.label!r} of size "
                f"{pop.size} (indices 0..{pop.size - 1})")
    # The same (default-kind) sort PyNN uses, so ties keep PyNN's order.
    rows = conn_list[np.argsort(conn_list[:, 1])]
    space = deepcopy(syn.parameter_space)
    for name in space.keys():
        if name not in connector.column_names and not space[name].is_homogeneous:
            raise _NotBulk  # PyNN re-draws these from a fresh copy of the RNG per target
    space.shape = (rows.shape[0],)
    for col, name in enumerate(connector.column_names, 2):
        space.update(**{name: rows[:, col]})
    if isinstance(syn, StandardSynapseType):
        space = syn.translate(space)
    space.evaluate()
    params = {name: np.broadcast_to(np.asarray(value, float), (rows.shape[0],)).copy()
              for name, value in space.items()}
    post_idx = projection.post.id_to_index(projection.post.all_cells)
    return Synapses(rows[:, 0].astype(np.int64),
                    np.asarray(post_idx)[rows[:, 1].astype(np.int64)].astype(np.int64),
                    params)


_BUILDERS = {
    pc.AllToAllConnector: _all_to_all,
    pc.OneToOneConnector: _one_to_one,
    pc.FixedProbabilityConnector: _fixed_probability,
    pc.FixedNumberPreConnector: _fixed_number_pre,
    pc.FixedNumberPostConnector: _fixed_number_post,
    pc.FromListConnector: _from_list,
    pc.FromFileConnector: None,  # replaced below: reads the file first
}


def _from_file(connector: pc.FromFileConnector, projection: object) -> Synapses:
    if connector.distributed:
        raise _NotBulk
    connector.column_names = connector.file.get_metadata().get("columns", ("weight", "delay"))
    for ignore in "ij":
        if ignore in connector.column_names:
            connector.column_names.remove(ignore)
    connector.conn_list = connector.file.read()
    return _from_list(connector, projection)


_BUILDERS[pc.FromFileConnector] = _from_file


# -- helpers -----------------------------------------------------------------------------
def index_dtype(size: int) -> type:
    """Indices into a population of ``size`` neurons, one per synapse: 32-bit where they fit
    (host memory per synapse; no product of two indices is ever formed from them)."""
    return np.int32 if size < 2**31 else np.int64


def _numpy_rng(connector: object) -> NumpyRNG:
    rng = connector.rng
    if type(rng) is not NumpyRNG:
        raise _NotBulk
    return rng


def _counts(values: object, n: int) -> np.ndarray:
    counts = np.fromiter(values, dtype=float, count=n) if not isinstance(
        values, np.ndarray) else np.asarray(values, dtype=float)
    if np.any(counts != np.round(counts)) or np.any(counts < 0):
        bad = counts[(counts != np.round(counts)) | (counts < 0)][:3]
        raise ValueError(f"the number of connections per neuron must be a non-negative "
                         f"integer; the distribution of n gave {bad.tolist()}")
    return counts.astype(np.int64)


def _self_mask(allow: object, projection: object):
    """(first column, n columns) -> bool matrix of allowed (column, source) pairs, or None."""
    if allow is True:
        return None
    pre_ids = np.asarray(projection.pre.all_cells, dtype=np.int64)
    post_ids = np.asarray(projection.post.all_cells, dtype=np.int64)
    if allow == "NoMutual":
        from pyNN.common import Population

        if not (isinstance(projection.pre, Population) and projection.pre == projection.post):
            raise _NotBulk  # PyNN raises NotImplementedError("todo")
        idx = np.arange(pre_ids.size)
        return lambda c0, k: idx[None, :] > np.arange(c0, c0 + k)[:, None]
    return lambda c0, k: pre_ids[None, :] != post_ids[c0:c0 + k, None]


def _chunked(n_pre: int, n_post: int, block) -> tuple[np.ndarray, np.ndarray]:
    """(column, source) of every True of a (n_post x n_pre) matrix built ``block`` by
    ``block``, in column-major order."""
    step = max(1, CHUNK // max(n_pre, 1))
    cols, pres = [], []
    # Each chunk's indices narrowed before they are joined: 8 bytes per synapse, not 16.
    col_type, pre_type = index_dtype(n_post), index_dtype(n_pre)
    for c0 in range(0, n_post, step):
        k = min(step, n_post - c0)
        c, i = np.divmod(np.flatnonzero(block(c0, k)), n_pre)  # faster than 2-D nonzero
        c += c0
        cols.append(c.astype(col_type))
        pres.append(i.astype(pre_type))
    return _join(cols, col_type), _join(pres, pre_type)


def _join(parts: list[np.ndarray], dtype: type = np.int64) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype)
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return out.astype(dtype, copy=False)


def _parameter_space(connector: object, projection: object) -> object:
    """The synapse parameters as lazy arrays, taken at the moment PyNN takes them.

    A standard synapse type hands out a deep copy (random distributions and their RNGs
    included), so its draws never interleave with the connector's. Where the very RNG object
    of the connector is shared, PyNN interleaves the connection draws with per-target
    parameter draws, and drawing the connections first would give other numbers.
    """
    space = connector._parameters_from_synapse_type(projection)
    rng = getattr(connector, "rng", None)
    for _, value in space.items():
        base = getattr(value, "base_value", None)
        if isinstance(base, RandomDistribution) and base.rng is rng:
            raise _NotBulk
    n = getattr(connector, "n", None)
    if isinstance(n, RandomDistribution) and (type(n.rng) is not NumpyRNG or n.rng is rng):
        raise _NotBulk
    return space


def _finish(connector: object, projection: object, pre: np.ndarray, cols: np.ndarray,
            space: object) -> Synapses:
    """Synapse parameters for (pre, column) pairs in column order, checked as PyNN checks."""
    bounds = Bounds(cols)
    params = {name: synapse_values(lazy, pre, cols, bounds) for name, lazy in space.items()}
    if connector.safe and cols.size:
        uniform = {name for name, lazy in space.items() if lazy.is_homogeneous}
        check_signs(projection, params, bounds, uniform)
    post_idx = np.asarray(projection.post.id_to_index(projection.post.all_cells), np.int64)
    if not np.array_equal(post_idx, np.arange(post_idx.size)):
        cols = post_idx[cols]
    return Synapses(pre, cols, params)


def _empty(projection: object) -> Synapses:
    names = projection.synapse_type.get_native_names()
    return Synapses(np.zeros(0, np.int64), np.zeros(0, np.int64),
                    {name: np.zeros(0) for name in names})
