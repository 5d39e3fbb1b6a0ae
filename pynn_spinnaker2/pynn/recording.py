"""PyNN Recorder: reads the emulator's raw recordings through the image's index map."""

from __future__ import annotations

import numpy as np
from pyNN import recording

from ..recording.neo import population_events, population_signal
from . import simulator


class Recorder(recording.Recorder):
    _simulator = simulator

    def record(self, variables: object, ids: object, sampling_interval: float | None = None,
               locations: object = None) -> None:
        if sampling_interval is not None:
            _check_on_grid(self.population.label, float(sampling_interval),
                           simulator.state.dt)
        super().record(variables, ids, sampling_interval, locations)

    def _record(self, variable: object, new_ids: object, sampling_interval: float | None = None
                ) -> None:
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        simulator.state.dirty = True

    def get(self, variables: object, gather: bool = False, filter_ids: object = None,
            clear: bool = False, annotations: object = None, locations: object = None
            ) -> object:
        """The recorded data as a Neo Block (PyNN's ``Recorder.get``).

        Run on several MPI processes, every rank holds every core's recordings (the
        emulator gathers them), so ``gather=True`` gives all cells on every rank (pyNN.nest
        gives them on rank 0) and ``gather=False`` the cells of this rank's cores.
        """
        if simulator.state.num_processes > 1:
            if not gather:
                filter_ids = self._local_ids(filter_ids)
                if not filter_ids:  # PyNN cannot make a segment of no cells: ask for nothing
                    variables = []
            gather = False  # already on every rank: PyNN's gather would repeat each cell
        return super().get(variables, gather, filter_ids, clear, annotations, locations)

    def _local_ids(self, filter_ids: object) -> list[int]:
        """The ids among ``filter_ids`` (None: all) of the cells this rank steps."""
        from .mpi import local_mask

        state = simulator.state
        self._raw()  # compiled, so the owner of each core is known
        cells = np.asarray(self.population.all_cells, dtype=int)
        if state.compiled is not None:
            mask = local_mask(state.compiled.emulator.core_owner, state.compiled.image.index_map,
                              self._label(), cells.size, state.mpi_rank)
            cells = cells[mask]
        local = [int(i) for i in cells]
        if filter_ids is None:
            return local
        wanted = {int(i) for i in filter_ids}
        return [i for i in local if i in wanted]

    def _label(self) -> str:
        from .build import network_label

        return network_label(self.population, simulator.state)

    def _indices(self, ids: object) -> np.ndarray:
        ids = np.asarray(list(ids), dtype=int)
        if ids.size == 0:  # PyNN's id_to_index cannot take none (a rank without the cells)
            return np.zeros(0, np.int64)
        return np.asarray(self.population.id_to_index(ids),
                          dtype=np.int64).reshape(-1)

    def _raw(self) -> tuple[list, tuple]:
        state = simulator.state
        if state.compiled is None:
            return [], ()
        if state.dirty:
            # Recording set-up changed since the last run: load it, so what is read matches
            # what was asked for (NaN where nothing was recorded yet).
            from .session import compile_state

            compile_state(state)
            state.compiled.recordings = None
        return state.recordings(), state.compiled.image.index_map

    def _get_spiketimes(self, ids: object, clear: bool = False
                        ) -> tuple[np.ndarray, np.ndarray]:
        ids_out, times, _ = self._get_events(ids)
        return ids_out, times

    def _get_events(self, ids: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, times in ms, values) of the recorded events of ``ids``, by id then time;
        the values are the graded payloads (1 for plain spikes)."""
        recs, index_map = self._raw()
        wanted = self._indices(ids)
        if not recs:
            return np.zeros(0, dtype=int), np.zeros(0), np.zeros(0)
        idx, times, values = population_events(recs, index_map, self._label(),
                                               simulator.state.dt)
        # After clear(), a spike at exactly the clearing time belongs to the cleared data.
        t0 = float(self._recording_start_time)
        keep = np.isin(idx, wanted) & ((times > t0) | (t0 == 0.0))
        order = np.lexsort((times[keep], idx[keep]))
        ids_out = np.asarray(self.population.all_cells, dtype=int)[idx[keep][order]]
        return ids_out, times[keep][order], values[keep][order]

    def _get_current_segment(self, filter_ids: object = None, variables: object = "all",
                             clear: bool = False) -> object:
        segment = super()._get_current_segment(filter_ids, variables, clear)
        if getattr(self.population.celltype, "graded", False):
            from .egru_types import graded_segment

            graded_segment(self, segment, filter_ids)  # event values, activity sparsity
        return segment

    def _get_all_signals(self, variable: object, ids: object, clear: bool = False
                         ) -> tuple[np.ndarray, None]:
        recs, index_map = self._raw()
        wanted = self._indices(ids)
        if not recs or wanted.size == 0:
            return np.zeros((0, wanted.size)), None
        cols, data, interval = population_signal(recs, index_map, self._label(),
                                                 variable.name)
        pos = np.searchsorted(cols, wanted)
        if cols.size == 0 or np.any(pos >= cols.size) or np.any(cols[pos] != wanted):
            raise RuntimeError(f"population {self.population.label!r}: {variable.name!r} was "
                               f"not recorded on the machine for every requested neuron")
        start = int(round(float(self._recording_start_time) / simulator.state.dt)) // interval
        return data[start:, pos].astype(float), None

    def _local_count(self, variable: object, filter_ids: object = None) -> dict[int, int]:
        ids = sorted(self.filter_recorded(variable, filter_ids))
        id_array, _ = self._get_spiketimes(ids)
        counts = {int(i): 0 for i in ids}
        values, n = np.unique(id_array, return_counts=True)
        counts.update({int(v): int(c) for v, c in zip(values, n, strict=True)})
        return counts

    def _clear_simulator(self) -> None:
        # Data before _recording_start_time (set by clear()) is filtered out when read.
        pass

    def _reset(self) -> None:
        simulator.state.dirty = True


def _check_on_grid(label: str, interval: float, dt: float) -> None:
    """The cores sample every n-th time step: an interval off that grid would be rounded,
    and the recording's time axis would be wrong."""
    steps = interval / dt
    if steps < 1 - 1e-9 or abs(steps - round(steps)) > 1e-6:
        raise ValueError(f"population {label!r}: sampling interval {interval} ms is not a "
                         f"multiple of the time step ({dt} ms); use a multiple such as "
                         f"{max(1, round(steps)) * dt:g} ms")
