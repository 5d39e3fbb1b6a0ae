"""Projection: connectors' per-target calls are collected into flat arrays (one entry per
synapse), never into per-synapse objects."""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy

import numpy as np
from pyNN import common
from pyNN.connectors import AllToAllConnector, FixedProbabilityConnector, OneToOneConnector
from pyNN.random import NumpyRNG
from pyNN.space import Space

from ..errors import NetworkError
from . import simulator
from .standardmodels import StaticSynapse


class Connection(common.Connection):
    """A view of one synapse of a projection (built on demand)."""

    def __init__(self, projection: Projection, i: int) -> None:
        self.projection = projection
        self.i = i

    @property
    def presynaptic_index(self) -> int:
        return int(self.projection._pre_idx[self.i])

    @property
    def postsynaptic_index(self) -> int:
        return int(self.projection._post_idx[self.i])

    def _get_weight(self) -> float:
        self.projection._sync_weights()
        return float(self.projection._params["weight"][self.i])

    def _set_weight(self, w: float) -> None:
        prj = self.projection
        prj._sync_weights()
        prj._params["weight"][self.i] = w
        if prj._plastic:
            prj._initial_weight[self.i] = w
        simulator.state.dirty = True

    def _get_delay(self) -> float:
        return float(self.projection._params["delay"][self.i])

    def _set_delay(self, d: float) -> None:
        self.projection._params["delay"][self.i] = d
        simulator.state.dirty = True

    weight = property(_get_weight, _set_weight)
    delay = property(_get_delay, _set_delay)

    def __getattr__(self, name: str) -> float:
        params = self.__dict__["projection"]._params
        if name in params:
            return float(params[name][self.__dict__["i"]])
        raise AttributeError(name)

    def as_tuple(self, *attribute_names: str) -> tuple:
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population: object, postsynaptic_population: object,
                 connector: object, synapse_type: object = None, source: str | None = None,
                 receptor_type: str | None = None, space: Space | None = None,
                 label: str | None = None) -> None:
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type,
                                   Space() if space is None else space, label)
        if self.label is None:
            self.label = f"projection{Projection._nProj - 1}"
        # PyNN labels need not be unique (two projections between the same populations get
        # the same default label); the Network's must.
        taken = {p._unique_label for p in simulator.state.projections}
        self._unique_label, k = self.label, 1
        while self._unique_label in taken:
            k += 1
            self._unique_label = f"{self.label} ({k})"
        self._names = ("weight", "delay") + tuple(
            n for n in self.synapse_type.get_native_names() if n not in ("weight", "delay"))
        self._chunks: dict[str, list[np.ndarray]] = {k: [] for k in ("pre", "post",
                                                                     *self._names)}
        if not _bulk_connect(self, connector):
            connector.connect(self)
        self._pre_idx = _cat(self._chunks["pre"], np.int64)
        self._post_idx = _cat(self._chunks["post"], np.int64)
        self._params = {name: _cat(self._chunks[name], float) for name in self._names}
        del self._chunks
        self._check_delays()
        #: Weights that learn on the machine: the host copy is refreshed from it on demand.
        self._plastic = hasattr(self.synapse_type, "network_name")
        self._weights_stale = False
        self._initial_weight = self._params["weight"].copy() if self._plastic else None
        simulator.state.projections.append(self)
        simulator.state.dirty = True

    def _sync_weights(self) -> None:
        """Read the learnt weights back from the machine, if it ran since the last read."""
        if not self._weights_stale:
            return
        self._weights_stale = False
        compiled = simulator.state.compiled
        where = None if compiled is None else compiled.weight_index.get(self._unique_label)
        if where is not None:
            self._params["weight"][:] = compiled.emulator.read_weights(*where)

    def _restore_weights(self) -> None:
        """Back to the weights the script set (``sim.reset()``)."""
        self._weights_stale = False
        self._params["weight"][:] = self._initial_weight

    def _check_delays(self) -> None:
        dt = simulator.state.dt
        if self._delay.size and np.any(self._delay < 0):
            raise NetworkError(f"projection {self.label!r}: negative delay "
                               f"({self._delay.min()} ms); delays must be >= the time step "
                               f"({dt} ms)")
        if self._delay.size and np.any(np.round(self._delay / dt) < 1):
            raise NetworkError(f"projection {self.label!r}: delay {self._delay.min()} ms is "
                               f"below one time step ({dt} ms); use delays >= {dt} ms or a "
                               f"smaller time step in sim.setup()")

    @property
    def _weight(self) -> np.ndarray:
        return self._params["weight"]

    @property
    def _delay(self) -> np.ndarray:
        return self._params["delay"]

    def __len__(self) -> int:
        return int(self._pre_idx.size)

    @property
    def connections(self) -> Iterator[Connection]:
        return (Connection(self, i) for i in range(len(self)))

    def _convergent_connect(self, presynaptic_indices: np.ndarray, postsynaptic_index: int,
                            location_selector: object = None,
                            **connection_parameters: object) -> None:
        if location_selector is not None:
            raise NotImplementedError(
                f"projection {self.label!r}: multi-compartment location selectors are not "
                f"supported on SpiNNaker 2 (point neurons only)")
        pre = np.atleast_1d(np.asarray(presynaptic_indices, dtype=np.int64))
        n = pre.size
        self._chunks["pre"].append(pre)
        self._chunks["post"].append(np.full(n, int(postsynaptic_index), dtype=np.int64))
        for name in self._names:
            value = connection_parameters.get(name)
            if value is None:
                raise NotImplementedError(
                    f"projection {self.label!r}: synapse parameter {name!r} missing")
            self._chunks[name].append(
                np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy())

    def _set_attributes(self, parameter_space: object) -> None:
        self._sync_weights()
        for name, value in parameter_space.items():
            if name not in self._params:
                raise NotImplementedError(f"projection {self.label!r}: cannot set {name!r}; "
                                          f"its synapses have {list(self._params)}")
            self._params[name][:] = self._values_at_synapses(value)
            if name == "weight" and self._plastic:
                self._initial_weight[:] = self._params[name]
        self._check_delays()
        simulator.state.dirty = True

    def _values_at_synapses(self, value: object) -> np.ndarray:
        """A lazy (pre x post) parameter evaluated at each synapse, one target at a time
        (as the connectors do), so no full matrix is ever built."""
        if value.is_homogeneous:
            return np.full(len(self), float(value.evaluate(simplify=True)))
        out = np.empty(len(self))
        order = np.argsort(self._post_idx, kind="stable")
        posts, starts = np.unique(self._post_idx[order], return_index=True)
        bounds = np.r_[starts, order.size]
        for k, j in enumerate(posts):
            sel = order[bounds[k]:bounds[k + 1]]
            out[sel] = np.asarray(value[self._pre_idx[sel], int(j)], dtype=float).reshape(-1)
        return out

    def _get_attributes_as_list(self, names: list[str]) -> list[tuple]:
        columns = [self._attribute(name) for name in names]
        return list(zip(*[c.tolist() for c in columns], strict=True))

    def _get_attributes_as_arrays(self, names: list[str], multiple_synapses: str = "sum"
                                  ) -> list[np.ndarray]:
        shape = (self.pre.size, self.post.size)
        where = (self._pre_idx, self._post_idx)
        connected = np.zeros(shape, dtype=bool)
        connected[where] = True
        out = []
        for name in names:
            data = self._attribute(name)
            if multiple_synapses == "last":
                values = np.full(shape, np.nan)
                values[where] = data
            elif multiple_synapses == "first":
                values = np.full(shape, np.nan)
                values[self._pre_idx[::-1], self._post_idx[::-1]] = data[::-1]
            else:
                ufunc, start = {"sum": (np.add, 0.0), "min": (np.minimum, np.inf),
                                "max": (np.maximum, -np.inf)}[multiple_synapses]
                values = np.full(shape, start)
                ufunc.at(values, where, data)
                values[~connected] = np.nan
            out.append(values)
        return out

    def _attribute(self, name: str) -> np.ndarray:
        name = {"weights": "weight", "delays": "delay"}.get(name, name)
        if name == "weight":
            self._sync_weights()
        if name == "presynaptic_index":
            return self._pre_idx
        if name == "postsynaptic_index":
            return self._post_idx
        if name in self._params:
            return self._params[name]
        raise NotImplementedError(f"projection {self.label!r} has no attribute {name!r}; "
                                  f"its synapses have {list(self._params)}")


#: Values of one connector map evaluated at once, at most (memory of the bulk path).
_BULK_VALUES = 1 << 22


def _bulk_connect(prj: Projection, connector: object) -> bool:
    """All-to-all, fixed-probability and one-to-one connectors with homogeneous synapse
    parameters, built for many targets at once: the same synapses, in the same order, from
    the same random numbers as PyNN's loop over targets (which draws one column of the
    connection map per target). False when the connector needs that loop."""
    kind = type(connector)
    if kind not in (AllToAllConnector, FixedProbabilityConnector, OneToOneConnector):
        return False
    if connector.location_selector is not None or getattr(
            connector, "allow_self_connections", True) not in (True, False):
        return False
    if kind is FixedProbabilityConnector and type(connector.rng) is not NumpyRNG:
        return False
    space = connector._parameters_from_synapse_type(prj, None)
    if not all(value.is_homogeneous for _, value in space.items()):
        return False
    values = {name: value.evaluate(simplify=True) for name, value in space.items()}
    if connector.safe:
        syn = prj.synapse_type
        for name, check in getattr(syn, "parameter_checks", {}).items():
            native = syn.translations[name]["translated_name"]
            if native in values:
                check(values[native], prj)
    n_pre, n_post = prj.pre.size, prj.post.size
    if kind is OneToOneConnector:
        if n_pre != n_post:
            return False
        _add_synapses(prj, np.arange(n_pre), np.arange(n_post), values)
        _report(connector, 1.0)
        return True
    pre_ids = np.asarray(prj.pre.all_cells, dtype=np.int64)
    post_ids = np.asarray(prj.post.all_cells, dtype=np.int64)
    step = max(1, _BULK_VALUES // max(n_pre, 1))
    # PyNN's connection map holds a copy of the generator (lazy arrays copy their base
    # value), so the connector's own generator never advances: draw from a copy too.
    rng = deepcopy(connector.rng) if kind is FixedProbabilityConnector else None
    for first in range(0, n_post, step):
        cols = np.arange(first, min(first + step, n_post))
        if kind is FixedProbabilityConnector:
            draws = rng.next(cols.size * n_pre, "uniform", {"low": 0.0, "high": 1.0})
            connected = draws.reshape(cols.size, n_pre) < connector.p_connect
        else:
            connected = np.ones((cols.size, n_pre), dtype=bool)
        if not connector.allow_self_connections:
            connected &= post_ids[cols][:, None] != pre_ids[None, :]
        col, pre = np.nonzero(connected)
        _add_synapses(prj, pre, cols[col], values)
        _report(connector, cols[-1] / n_post)
    return True


def _add_synapses(prj: Projection, pre: np.ndarray, post: np.ndarray, values: dict) -> None:
    prj._chunks["pre"].append(pre.astype(np.int64))
    prj._chunks["post"].append(post.astype(np.int64))
    for name in prj._names:
        prj._chunks[name].append(np.full(pre.size, float(values[name])))


def _report(connector: object, fraction: float) -> None:
    if connector.callback:
        connector.callback(fraction)


def _cat(chunks: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype=dtype)
