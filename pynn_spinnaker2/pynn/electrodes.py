"""Current sources. Each becomes a table on the cores of the neurons it feeds; the cores
compute the current every step (see :mod:`pynn_spinnaker2.image.machine_image`)."""

from __future__ import annotations

import numpy as np
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import StandardCurrentSource, build_translations, electrodes

from .simulator import state


class SpiNNaker2CurrentSource(StandardCurrentSource):
    """Shared behaviour: parameters kept host-side; the image is rebuilt when they change."""

    def __init__(self, **parameters: object) -> None:
        super().__init__(**parameters)
        self.cell_list: list = []
        self._parameters: dict[str, object] = {}
        space = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        space.update(**parameters)
        self.set_native_parameters(self.translate(space))
        state.current_sources.append(self)

    def set_native_parameters(self, parameters: ParameterSpace) -> None:
        parameters.evaluate(simplify=True)
        for name, value in parameters.items():
            if isinstance(value, Sequence):
                value = value.value
            self._parameters[name] = value
        state.dirty = True

    def get_native_parameters(self) -> ParameterSpace:
        return ParameterSpace(dict(self._parameters))

    def inject_into(self, cells: object) -> None:
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError(f"can't inject current into {cell.parent.label!r}: a "
                                f"{cell.celltype.__class__.__name__} takes no injected "
                                f"current")
        self.cell_list.extend(cells)
        state.dirty = True

    def record(self) -> None:
        """Recording is always on: the current is a pure function of time on the cores."""

    def _get_data(self) -> tuple[np.ndarray, np.ndarray]:
        from .session import compile_state

        compile_state(state)
        n = int(round(state.t / state.dt)) + 1
        trace = state.compiled.emulator.current_trace(n).get(
            state.current_sources.index(self), np.zeros(n))
        return np.arange(n) * state.dt, np.asarray(trace, dtype=float)


class DCSource(SpiNNaker2CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"),
                                      ("stop", "stop"))


class StepCurrentSource(SpiNNaker2CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))

    def set_native_parameters(self, parameters: ParameterSpace) -> None:
        super().set_native_parameters(parameters)
        times = np.asarray(self._parameters.get("times", []), dtype=float)
        amplitudes = np.asarray(self._parameters.get("amplitudes", []), dtype=float)
        if times.shape != amplitudes.shape:
            raise ValueError(f"StepCurrentSource: {times.size} times but {amplitudes.size} "
                             f"amplitudes; give one amplitude per time")
        if np.any(times < 0):
            raise ValueError("StepCurrentSource: times must be >= 0 ms")
        if np.any(np.diff(times) <= 0):
            raise ValueError("StepCurrentSource: times must be strictly increasing")
        # The cores change the current on time-step boundaries: round to the grid, and of
        # times that round together keep the last amplitude, as NEURON and Brian 2 do.
        grid = np.rint(times / state.dt) * state.dt
        last = np.flatnonzero(np.r_[grid[1:] != grid[:-1], True]) if grid.size else grid
        self._parameters["times"] = grid[last.astype(int)]
        self._parameters["amplitudes"] = amplitudes[last.astype(int)]


class ACSource(SpiNNaker2CurrentSource, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__
    translations = build_translations(
        ("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"),
        ("frequency", "frequency"), ("offset", "offset"), ("phase", "phase"))


class NoisyCurrentSource(SpiNNaker2CurrentSource, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__
    translations = build_translations(("mean", "mean"), ("start", "start"), ("stop", "stop"),
                                      ("stdev", "stdev"), ("dt", "dt"))

    def set_native_parameters(self, parameters: ParameterSpace) -> None:
        super().set_native_parameters(parameters)
        # The cores draw a new value every n steps; another interval would be rounded (NEST
        # refuses it too).
        interval = float(self._parameters.get("dt", state.dt))
        steps = interval / state.dt
        if steps < 1 - 1e-9 or abs(steps - round(steps)) > 1e-6:
            raise ValueError(f"NoisyCurrentSource: dt = {interval} ms is not a multiple of "
                             f"the time step ({state.dt} ms); use a multiple such as "
                             f"{max(1, round(steps)) * state.dt:g} ms")
