"""The PyNN simulator state: the one piece of global state PyNN's API forces on a backend.

It holds the PyNN objects of the current network, and, once run, the compiled stages
(Network, Mapping, MachineImage) and the emulator executing the image. Everything else in the
package is plain functions of explicit arguments.
"""

from __future__ import annotations

import logging
import math

from pyNN import common

from ..cost.report import write_run_cost
from ..machine import Machine
from .progress import RunProgress, draws
from .session import Loaded, compile_state

name = "SpiNNaker2"
logger = logging.getLogger("pynn_spinnaker2")


class ID(int, common.IDMixin):
    """A neuron's global ID."""

    def __init__(self, n: int) -> None:
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Simulator state: current time, the network's PyNN objects and their compiled form."""

    def __init__(self) -> None:
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.comm = None  # MPI's COMM_WORLD when run as one of several processes
        self.dt = 0.1
        self.min_delay = 0.1
        self.min_delay_auto = True
        self.max_delay = 409.5
        self.machine = Machine()
        self.seed = 0
        self.max_neurons_per_core: dict[str, int] = {}
        self.reports: str | None = None
        self.progress = True  # bars for compilations and runs of more than a few seconds
        self.kernels: str | None = None  # the emulator's default (see setup)
        self.clear()

    def clear(self) -> None:
        """Forget the network (called by setup and end)."""
        self.recorders = set()
        self.populations: list = []
        self.projections: list = []
        self.current_sources: list = []
        self.id_counter = 0
        self.segment_counter = -1
        self.compiled: Loaded | None = None
        self.dirty = True
        self.write_on_end = []
        self.ended = False
        self.reset()

    def reset(self) -> None:
        """Back to t = 0; a new segment for the recordings."""
        self.running = False
        self.t = 0.0
        self.t_start = 0
        self.segment_counter += 1
        for prj in self.projections:
            if prj._plastic:
                # Learnt weights go back to the last ones the script set; an image built
                # mid-run carries learnt ones, so the next run builds a new one.
                prj._restore_weights()
                self.dirty = self.dirty or self.compiled is not None
        if self.compiled is not None:
            self.compiled.emulator.reset()
            self.compiled.recordings = None

    def run(self, simtime: float, check_only: bool = False) -> None:
        """Advance by ``simtime`` ms (finite, >= 0); with ``check_only``, only check it."""
        if not _finite(simtime) or float(simtime) < 0:
            raise ValueError(f"sim.run({simtime!r}): the run time must be a finite number of "
                             f"ms >= 0; pass how long to run, e.g. sim.run(100.0)")
        if self.ended:
            raise RuntimeError("sim.run after sim.end(): the simulation is over; call "
                               "sim.setup() to start a new one")
        if check_only:
            return
        self.run_until(self.t + float(simtime))

    def run_until(self, tstop: float) -> None:
        """Advance to ``tstop`` ms, a point of the time grid."""
        if self.ended:
            raise RuntimeError("sim.run/run_until after sim.end(): the simulation is over; "
                               "call sim.setup() to start a new one")
        if not _finite(tstop):
            raise ValueError(f"sim.run_until({tstop!r}): the end time must be a finite number "
                             f"of ms, e.g. sim.run_until(100.0)")
        tstop = float(tstop)
        if tstop < self.t - 1e-9:
            raise ValueError(f"sim.run/run_until: the end time {tstop:g} ms is before the "
                             f"current time {self.t:g} ms; run for a time >= 0 (sim.reset() "
                             f"goes back to 0)")
        steps = tstop / self.dt
        if abs(steps - round(steps)) > 1e-6:
            # Rounding would drift: run(0.25) at dt = 0.1 would advance 0.2 ms each time.
            raise ValueError(f"sim.run/run_until: {tstop:g} ms is not a multiple of the time "
                             f"step ({self.dt} ms); run for a multiple of it, or use a "
                             f"time step that divides the run times")
        if not self.populations:  # an empty network: time passes, as in NEST
            self.t = max(self.t, round(steps) * self.dt)
            self.running = True
            return
        compile_state(self)
        emulator = self.compiled.emulator
        n_steps = int(round(tstop / self.dt)) - emulator.step
        if n_steps > 0:
            # Every rank steps in the same chunks (the exchange follows them); rank 0 draws.
            bar = None
            if self.progress:
                bar = (RunProgress(self.dt, emulator.step * self.dt)
                       if draws(self.progress, self.mpi_rank) else _quiet)
            try:
                emulator.run(n_steps, progress=bar)
            finally:
                if isinstance(bar, RunProgress):
                    bar.close()
        self.t = emulator.step * self.dt
        self.running = True
        self.compiled.recordings = None
        for prj in self.projections:
            if prj._plastic:
                prj._weights_stale = True
        if self.reports and n_steps > 0 and self.mpi_rank == 0:  # one writer per folder
            # The run's cost next to the mapping reports.
            write_run_cost(emulator, self.reports, self.machine.clock_hz)

    def recordings(self) -> list:
        """Raw recordings of the emulator, cached until the next run."""
        if self.compiled is None:
            return []
        if self.compiled.recordings is None:
            self.compiled.recordings = self.compiled.emulator.recordings()
        return self.compiled.recordings


def _finite(value: object) -> bool:
    """Whether ``value`` is a finite real number."""
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False


def _quiet(done: int, total: int) -> None:
    """The progress callback where no bar is drawn (ranks other than 0): none."""


state = State()
