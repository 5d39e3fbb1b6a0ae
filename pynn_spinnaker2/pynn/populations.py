"""Population, PopulationView and Assembly: parameters are kept host-side as arrays (as in
pyNN.mock) and compiled into the machine image at the next run."""

from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import LazyArray, ParameterSpace, Sequence, simplify
from pyNN.random import RandomDistribution
from pyNN.standardmodels import StandardCellType

from ..errors import MappingError
from ..mapping.keys import NEURON_BITS
from . import simulator
from .recording import Recorder
from .values import evaluate


class Assembly(common.Assembly):
    __doc__ = common.Assembly.__doc__
    _simulator = simulator


class PopulationView(common.PopulationView):
    __doc__ = common.PopulationView.__doc__
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names: str) -> ParameterSpace:
        return _get_parameters(self, names)

    def _root_mask(self) -> object:
        """Where the view's cells sit in the root population's parameter arrays (a view
        of a view has its ``mask`` relative to its parent, not to the root)."""
        if isinstance(self.parent, PopulationView):
            return np.asarray(self.index_in_grandparent(np.arange(self.size))).reshape(-1)
        return self.mask

    def _get_native_parameters(self, *names: str) -> ParameterSpace:
        values = {}
        mask = self._root_mask()
        for name in names:
            value = self.grandparent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[mask]
            values[name] = simplify(value)
        return ParameterSpace(values, shape=(self.size,))

    def _set_parameters(self, parameter_space: ParameterSpace) -> None:
        mask = self._root_mask()
        _check_spike_times(self.label, dict(parameter_space.items()))
        for name, value in parameter_space.items():
            try:
                self.grandparent._parameters[name][mask] = value.evaluate(simplify=True)
            except ValueError as exc:
                raise errors.InvalidParameterValueError(
                    f"{self.label}: {name} should not be of type {type(value)}") from exc
        simulator.state.dirty = True

    @property
    def initial_values(self) -> dict[str, LazyArray]:
        """The initial values of the view's cells (read-only: use ``initialize``)."""
        root, mask = self.grandparent, self._root_mask()
        return {name: LazyArray(_initial_array(root, name)[mask], shape=(self.size,),
                                dtype=float)
                for name in root.initial_values}

    def initialize(self, **initial_values: object) -> None:
        """Set initial values of the view's cells; those of the rest of the population are
        kept. A callable gets indices within the view, as for a Population."""
        root, mask = self.grandparent, self._root_mask()
        for variable, value in initial_values.items():
            current = _initial_array(root, variable)
            current[mask] = LazyArray(value, shape=(self.size,), dtype=float).evaluate(
                simplify=False)
            root.initial_values[variable] = LazyArray(current, shape=(root.size,), dtype=float)
        simulator.state.dirty = True

    def _get_view(self, selector: object, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self) -> None:
        state = simulator.state
        _check_fits(self.label, self.size, state)
        ids = np.arange(state.id_counter, state.id_counter + self.size)
        self.all_cells = np.array([simulator.ID(i) for i in ids], dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        if isinstance(self.celltype, StandardCellType):
            parameter_space = self.celltype.native_parameters
        else:
            parameter_space = self.celltype.parameter_space
        parameter_space.shape = (self.size,)
        parameter_space.evaluate(mask=self._mask_local, simplify=False)
        self._parameters = {name: _stored(value)
                            for name, value in parameter_space.as_dict().items()}
        _check_spike_times(self.label, self._parameters)
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        state.populations.append(self)
        state.dirty = True
        self.max_neurons_per_core: int | None = None

    def set_max_neurons_per_core(self, n: int) -> None:
        """Cap the neurons of this population that one PE simulates."""
        if int(n) < 1:
            raise ValueError(f"population {self.label!r}: neurons per core must be >= 1, "
                             f"got {n}")
        self.max_neurons_per_core = int(n)
        simulator.state.dirty = True

    def _set_initial_value_array(self, variable: str, initial_values: object) -> None:
        _check_state_variable(self, variable)
        simulator.state.dirty = True

    def _set_cell_initial_value(self, id: object, variable: str, value: float) -> None:
        current = _initial_array(self, variable)
        current[self.id_to_index(id)] = value
        self.initial_values[variable] = LazyArray(current, shape=(self.size,), dtype=float)
        simulator.state.dirty = True

    def _get_view(self, selector: object, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names: str) -> ParameterSpace:
        return _get_parameters(self, names)

    def _get_native_parameters(self, *names: str) -> ParameterSpace:
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names},
                              shape=(self.local_size,))

    def _set_parameters(self, parameter_space: ParameterSpace) -> None:
        parameter_space.evaluate(simplify=False, mask=self._mask_local)
        _check_spike_times(self.label, dict(parameter_space.items()))
        for name, value in parameter_space.items():
            self._parameters[name] = _stored(value)
        simulator.state.dirty = True


def _stored(value: object) -> object:
    """Parameter arrays are kept as floats: an integer array (from a callable, or a list
    of ints) would truncate the float values a view or a cell later writes into it."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return value.astype(float)
    return value


def _check_state_variable(population: Population, variable: str) -> None:
    """A misspelt state variable would otherwise be ignored: the cells would start from
    their defaults."""
    known = population.celltype.default_initial_values
    if variable not in known:
        raise errors.NonExistentParameterError(
            f"{variable} (population {population.label!r})",
            population.celltype.__class__.__name__, sorted(known))


def _initial_array(population: Population, variable: str) -> np.ndarray:
    """A fresh float array of a root population's initial values of ``variable``. A random
    one is drawn now, once: the population keeps the drawn numbers, so the cells outside a
    view that is initialized later keep the values they will run with."""
    _check_state_variable(population, variable)
    value = population.initial_values[variable]
    values = evaluate(value, population.size)
    if isinstance(getattr(value, "base_value", None), RandomDistribution):
        population.initial_values[variable] = LazyArray(values.copy(), shape=(population.size,),
                                                        dtype=float)
    return values


def _check_spike_times(label: str, parameters: dict) -> None:
    """SpikeSourceArray times must be sorted (the core walks them in order) and after
    t = 0: a spike at t = 0 lies before the first step and could never be sent (NEST
    refuses it too). A time between grid points is sent at the next one, as in NEST."""
    if "spike_times" not in parameters:
        return
    trains = parameters["spike_times"]
    if isinstance(trains, LazyArray):
        trains = trains.evaluate(simplify=True)
    dt = simulator.state.dt
    for i, times in enumerate([trains] if isinstance(trains, Sequence)
                              else np.atleast_1d(trains)):
        values = np.atleast_1d(np.asarray(getattr(times, "value", times), dtype=float))
        if values.ndim != 1:
            # e.g. lambda i: Sequence([1 + i]): PyNN calls it once with all the indices
            raise errors.InvalidParameterValueError(
                f"population {label!r}, neuron {i}: spike times must be one list of times "
                f"per neuron, got an array of shape {values.shape} (a function giving "
                f"spike_times is called with an array of indices)")
        if not np.all(np.isfinite(values)):
            raise errors.InvalidParameterValueError(
                f"population {label!r}, neuron {i}: spike times must be finite numbers of "
                f"ms, got {values.tolist()}; remove the NaN or infinite times")
        if values.size > 1 and np.any(np.diff(values) < 0):
            raise errors.InvalidParameterValueError(
                f"population {label!r}, neuron {i}: spike times must be in increasing order, "
                f"got {values.tolist()}")
        if values.size and not values[0] > 0:
            raise errors.InvalidParameterValueError(
                f"population {label!r}, neuron {i}: spike times must be > 0 ms, got "
                f"{values.tolist()} (a spike at t = 0 lies before the first step and is never "
                f"sent; NEST refuses it too): the earliest spike a source sends is at "
                f"t = dt = {dt} ms")


def _get_parameters(pop: Population | PopulationView, names: tuple[str, ...]
                    ) -> ParameterSpace:
    celltype = pop.celltype
    if any(name in celltype.computed_parameters() for name in names):
        native_names = celltype.get_native_names()
    else:
        native_names = celltype.get_native_names(*names)
    return celltype.reverse_translate(pop._get_native_parameters(*native_names))


def _check_fits(label: str, size: int, state: simulator.State) -> None:
    """Refuse, before anything of its size is built, a population that cannot fit the
    machine even at the most neurons a PE can hold (``2**NEURON_BITS``), together with the
    populations made before it."""
    per_pe = 1 << NEURON_BITS
    capacity = state.machine.n_pes * per_pe
    before = sum(p.size for p in state.populations)
    if before + size > capacity:
        needed = -(-(before + size) // (per_pe * state.machine.pes_per_chip))
        raise MappingError(
            f"population {label!r} of {size} neurons does not fit the machine: "
            f"{state.machine.n_pes} PEs x at most {per_pe} neurons each hold {capacity} "
            f"neurons, and the populations before it have {before}. Remedy: ask for at "
            f"least {needed} chips, e.g. sim.setup(n_chips={needed}), or make the "
            f"population smaller")
