"""Projection: connectors' per-target calls are collected into flat arrays (one entry per
synapse), never into per-synapse objects."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyNN
from pyNN import common, errors
from pyNN.connectors import SmallWorldConnector
from pyNN.random import RandomDistribution
from pyNN.space import Space

from ..cells.egru import GATES
from ..errors import NetworkError
from ..network.validate import MAX_DELAY_STEPS
from . import simulator
from .bulk import bulk_connect, index_dtype
from .bulk_values import constant
from .egru_types import check_gate_target
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
        prj._writable("weight")[self.i] = w
        if prj._plastic:
            prj._initial_weight[self.i] = w
        simulator.state.dirty = True

    def _get_delay(self) -> float:
        return float(self.projection._params["delay"][self.i])

    def _set_delay(self, d: float) -> None:
        prj = self.projection
        prj._writable("delay")[self.i] = _delays_on_grid(np.array([float(d)]), prj.label)[0]
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
        check_gate_target(postsynaptic_population, receptor_type, label)
        if isinstance(connector, SmallWorldConnector):  # PyNN's own connect() is a stub
            raise NotImplementedError(
                f"projection {label!r}: SmallWorldConnector is not implemented in PyNN "
                f"{pyNN.__version__} (on any simulator); give the connections with a "
                f"FromListConnector or an ArrayConnector")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type,
                                   Space() if space is None else space, label)
        if self.label is None:
            self.label = f"projection{Projection._nProj - 1}"
        self._names = ("weight", "delay") + tuple(
            n for n in self.synapse_type.get_native_names() if n not in ("weight", "delay"))
        self._chunks: dict[str, list[np.ndarray]] = {k: [] for k in ("pre", "post",
                                                                     *self._names)}
        built = bulk_connect(connector, self)
        if built is None:
            connector.connect(self)  # PyNN's path: one _convergent_connect per target
            self._pre_idx = _cat(self._chunks["pre"], index_dtype(self.pre.size))
            self._post_idx = _cat(self._chunks["post"], index_dtype(self.post.size))
            self._params = {name: _cat(self._chunks[name], float) for name in self._names}
        else:  # fresh arrays that nothing else refers to
            self._pre_idx = built.pre.astype(index_dtype(self.pre.size), copy=False)
            self._post_idx = built.post.astype(index_dtype(self.post.size), copy=False)
            self._params = {name: built.params[name].astype(float, copy=False)
                            for name in self._names}
        del self._chunks
        if self.receptor_type in GATES:
            self._drop_zero_weights()
        self._check_delays()
        #: Weights that learn on the machine: the host copy is refreshed from it on demand.
        self._plastic = hasattr(self.synapse_type, "network_name")
        self._weights_stale = False
        self._initial_weight = self._params["weight"].copy() if self._plastic else None
        simulator.state.projections.append(self)
        simulator.state.dirty = True

    def get(self, attribute_names: object, format: str, gather: bool | str = True,
            with_address: bool = True, multiple_synapses: str = "sum") -> object:
        """Synaptic attributes (PyNN's ``Projection.get``). Every MPI rank builds the whole
        network, so each holds every connection and ``gather`` has nothing to add."""
        return super().get(attribute_names, format, False, with_address, multiple_synapses)

    def size(self, gather: bool = True) -> int:
        """Number of connections (on every rank, all of them)."""
        return len(self)

    def _sync_weights(self) -> None:
        """Read the learnt weights back from the machine, if it ran since the last read."""
        if not self._weights_stale:
            return
        self._weights_stale = False
        compiled = simulator.state.compiled
        where = None if compiled is None else compiled.weight_index.get(id(self))
        if where is not None:
            self._writable("weight")[:] = compiled.emulator.read_weights(*where)

    def _restore_weights(self) -> None:
        """Back to the weights the script set (``sim.reset()``)."""
        self._weights_stale = False
        self._writable("weight")[:] = self._initial_weight

    def _writable(self, name: str) -> np.ndarray:
        """Parameter ``name``'s values, made a writable array of its own first where they
        are one value shared by every synapse (a read-only view: 0 bytes per synapse)."""
        values = self._params[name]
        if not values.flags.writeable:
            values = self._params[name] = values.copy()
        return values

    def _check_delays(self) -> None:
        self._params["delay"] = _delays_on_grid(self._delay, self.label)

    def _check_signs(self, new: dict[str, np.ndarray]) -> None:
        """PyNN's weight-sign checks, as at creation: a negative conductance set later
        would otherwise run as one."""
        syn = self.synapse_type
        if self.receptor_type in GATES or not len(self):
            return
        for parameter, check in getattr(syn, "parameter_checks", {}).items():
            native = syn.translations.get(parameter, {}).get("translated_name", parameter)
            if native in new:
                try:
                    check(new[native], self)
                except errors.ConnectionError as exc:
                    raise errors.ConnectionError(
                        f"projection {self.label!r}: set({native}=...): {exc}") from exc

    def _drop_zero_weights(self) -> None:
        """EGRU gate weights of 0 are pruned weights: they make no synapse (graded events
        times 0 add nothing), so a pruned matrix costs only its remaining weights."""
        keep = self._params["weight"] != 0
        if not keep.all():
            self._pre_idx, self._post_idx = self._pre_idx[keep], self._post_idx[keep]
            self._params = {k: v[keep] for k, v in self._params.items()}

    @property
    def _weight(self) -> np.ndarray:
        return self._params["weight"]

    @property
    def _delay(self) -> np.ndarray:
        return self._params["delay"]

    def __len__(self) -> int:
        return int(self._pre_idx.size)

    def __getitem__(self, i: int | slice) -> Connection | list[Connection]:
        """The ``i``-th connection (negative counts from the end), or a list for a slice."""
        if isinstance(i, slice):
            return [Connection(self, k) for k in range(*i.indices(len(self)))]
        k = int(i) + len(self) if int(i) < 0 else int(i)
        if not 0 <= k < len(self):
            raise IndexError(f"projection {self.label!r} has {len(self)} connections; "
                             f"index {i} is out of range")
        return Connection(self, k)

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
        new = {}
        for name, value in parameter_space.items():
            if name not in self._params:
                raise NotImplementedError(f"projection {self.label!r}: cannot set {name!r}; "
                                          f"its synapses have {list(self._params)}")
            new[name] = self._values_at_synapses(value)
        # Checked before anything is written: a refused set() leaves the projection as it was.
        if "delay" in new:
            new["delay"] = _delays_on_grid(new["delay"], self.label)
        self._check_signs(new)
        for name, values in new.items():
            self._writable(name)[:] = values
            if name == "weight" and self._plastic:
                self._initial_weight[:] = values
        simulator.state.dirty = True

    def _set_initial_value_array(self, variable: str, value: object) -> None:
        """``Projection.initialize``: the initial state of the synapses (MultiQuantalSynapse's
        full sites ``a`` and first release probability ``u``), kept as per-synapse values."""
        names = getattr(self.synapse_type, "initial_state", ())
        if variable not in names:
            raise NotImplementedError(
                f"projection {self.label!r}: {type(self.synapse_type).__name__} has no "
                f"state variable {variable!r} to initialize"
                + (f"; it has {list(names)}" if names else ""))
        self._params[variable] = _initial_values(value, self)
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


def _delays_on_grid(delays: np.ndarray, label: str) -> np.ndarray:
    """The delays the cores apply, in whole time steps (as ``image.build`` rounds them), so
    that ``Projection.get("delay")`` reads back what is simulated, as with pyNN.nest."""
    dt = simulator.state.dt
    if not delays.size:
        return delays
    # Rounding is monotonic: the smallest delay decides both checks.
    shortest = delays.min()
    if shortest < 0:
        raise NetworkError(f"projection {label!r}: negative delay ({shortest} ms); delays "
                           f"must be >= the time step ({dt} ms)")
    # Half a step rounds up, as in NEST (its times are whole tics): 0.25 ms -> 0.3 ms at
    # dt = 0.1 ms, where np.round would give 0.2 (halves to even, and 0.35 / 0.1 < 3.5).
    steps = _steps_half_up(delays, dt)
    longest = simulator.state.max_delay
    if longest != MAX_DELAY_STEPS * dt and steps.max() * dt > longest + 1e-9 * dt:
        # A max_delay given to setup() is a promise the script made (NEST holds it to it).
        raise NetworkError(f"projection {label!r}: delay {delays.max()} ms is above the "
                           f"max_delay given to sim.setup() ({longest} ms); raise max_delay "
                           f"(at most {MAX_DELAY_STEPS * dt:g} ms at this time step)")
    state = simulator.state
    if not state.min_delay_auto and steps.min() * dt < state.min_delay - 1e-9 * dt:
        raise NetworkError(f"projection {label!r}: delay {delays.min()} ms is below the "
                           f"min_delay given to sim.setup() ({state.min_delay} ms); lower "
                           f"min_delay (at least the time step, {dt} ms) or use 'auto'")
    if steps.min() < 1:
        raise NetworkError(f"projection {label!r}: delay {shortest} ms is below one time step "
                           f"({dt} ms); use delays >= {dt} ms or a smaller time step in "
                           f"sim.setup()")
    if np.ndim(steps) == 0:  # one delay for all: a fill, not arithmetic on every synapse
        return constant(float(steps) * dt, delays.size)
    steps *= dt
    return steps


def _steps_half_up(delays: np.ndarray, dt: float) -> np.ndarray | np.float64:
    """``floor(delays / dt + 0.5 + 1e-9)``: one value when all delays are equal (the
    common case, millions of synapses), else an array computed in place (no temporaries)."""
    if delays.min() == delays.max():
        return np.floor(delays[0] / dt + 0.5 + 1e-9)
    steps = np.divide(delays, dt)
    steps += 0.5
    steps += 1e-9
    return np.floor(steps, out=steps)


def _initial_values(value: object, prj: Projection) -> np.ndarray:
    """One value per synapse of ``prj`` from what ``Projection.initialize`` was given: a
    number, a random distribution (one draw per synapse), an array with one value per
    synapse or a (pre x post) array."""
    if value.is_homogeneous:
        return np.full(len(prj), float(value.evaluate(simplify=True)))
    base = value.base_value
    if isinstance(base, RandomDistribution):
        return np.asarray(base.next(len(prj)), float).reshape(-1)
    array = np.asarray(base, float) if isinstance(base, (np.ndarray, list)) else None
    if array is not None and array.shape == (len(prj),):
        return array.copy()
    if array is not None and array.shape == (prj.pre.size, prj.post.size):
        return array[prj._pre_idx, prj._post_idx]
    raise NotImplementedError(
        f"projection {prj.label!r}: initialize() takes a number, a random distribution, one "
        f"value per connection or a (pre x post) array")


def _cat(chunks: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype=dtype)
