"""setup, run, reset, end and the state queries."""

from __future__ import annotations

import warnings

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.recording import get_io

from ..backends.emulator.compiled import resolve
from ..machine import Machine
from ..network.validate import MAX_DELAY_STEPS
from . import simulator
from .mpi import world

#: The keywords ``setup`` reads.
SETUP_KEYWORDS = ("max_delay", "spike_precision", "machine", "n_chips", "n_boards",
                  "max_neurons_per_core", "seed", "rng_seed", "reports", "progress",
                  "kernels")
#: Keywords other backends take that change nothing here (threads, solver and log options):
#: accepted, so that scripts written for NEST or Brian run unchanged.
PORTABLE_KEYWORDS = ("threads", "verbosity", "t_flush", "grng_seed", "rng_type",
                     "spike_precision_mode", "default_maxstep", "quit_on_end", "debug")


def setup(timestep: float = DEFAULT_TIMESTEP, min_delay: float | str = DEFAULT_MIN_DELAY,
          **extra_params: object) -> int:
    """Start a new network.

    Parameters
    ----------
    timestep
        Time step in ms (the chip's timer tick; 1.0 ms runs in real time on hardware).
    min_delay
        Smallest synaptic delay in ms (``'auto'``: one time step).
    **extra_params
        ``max_delay`` (ms); the machine: ``machine`` (a :class:`~pynn_spinnaker2.Machine`),
        or ``n_chips`` / ``n_boards``; ``max_neurons_per_core`` (cell type or population
        label -> limit; see ``doc/mapping.md``);
        ``seed`` for the on-chip random number generators; ``reports`` (a folder to write
        mapping reports to, and after each run the cost report: cost.txt, cost.json,
        cost_heatmap.png); ``progress`` (default True: a progress bar on stderr for a
        compilation or run that takes more than a few seconds; False: none); ``kernels``
        (``"numba"``: the emulator's compiled kernels, the default where numba is
        installed; ``"numpy"``: its NumPy reference, same results; the environment variable
        ``PYNN_SPINNAKER2_KERNELS`` sets the default). Options of other
        backends that change nothing here (:data:`PORTABLE_KEYWORDS`) are accepted; any
        other keyword is ignored with a warning that names it (PyNN's scripts pass options of
        other backends, ``filename`` or ``useSystemSim``, which every backend must accept).

    Raises
    ------
    ValueError
        A bad time step or machine size (not a whole number, or beyond
        :data:`pynn_spinnaker2.machine.MAX_CHIPS`).
    """
    unknown = sorted(set(extra_params) - set(SETUP_KEYWORDS) - set(PORTABLE_KEYWORDS))
    if unknown:
        # A typo (n_chip) must not pass unnoticed, but PyNN's own examples pass options of
        # other backends, so a warning, not an error.
        warnings.warn(f"setup() ignores unknown keyword(s) {', '.join(unknown)}; the known "
                      f"ones are {', '.join(SETUP_KEYWORDS)} (and, accepted for "
                      f"portability, {', '.join(PORTABLE_KEYWORDS)})", stacklevel=2)
    if not float(timestep) > 0:
        raise ValueError(f"setup(timestep={timestep}): the time step must be > 0 ms (the "
                         f"chip's timer tick; 1.0 ms runs in real time)")
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    precision = extra_params.get("spike_precision", "on_grid")
    if precision != "on_grid":
        # Scripts ask for it to be precise; they still run, but must know they are not.
        warnings.warn(
            f"spike_precision={precision!r}: SpiNNaker 2 cores step on a fixed time grid, so "
            f"spike times are multiples of the time step ({timestep} ms); use a smaller "
            f"timestep for more precise times", stacklevel=2)
    common.setup(timestep, min_delay, **extra_params)
    state = simulator.state
    state.clear()
    state.dt = float(timestep)
    state.min_delay = float(timestep) if min_delay == "auto" else float(min_delay)
    state.min_delay_auto = min_delay == "auto"
    state.max_delay = (MAX_DELAY_STEPS * state.dt if max_delay == "auto"
                       else float(max_delay))
    state.machine = _machine(extra_params)
    state.seed = int(extra_params.get("seed", extra_params.get("rng_seed", 0)) or 0)
    state.max_neurons_per_core = {
        (k if isinstance(k, str) else k.__name__): int(v)
        for k, v in dict(extra_params.get("max_neurons_per_core", {})).items()}
    state.reports = extra_params.get("reports")
    state.progress = bool(extra_params.get("progress", True))
    state.kernels = resolve(extra_params.get("kernels"))
    state.comm = world()
    state.mpi_rank = 0 if state.comm is None else state.comm.Get_rank()
    state.num_processes = 1 if state.comm is None else state.comm.Get_size()
    state.clear()
    return 0


def _machine(extra: dict) -> Machine:
    if extra.get("machine") is not None:
        if not isinstance(extra["machine"], Machine):
            raise TypeError("setup(machine=...) takes a pynn_spinnaker2.Machine")
        return extra["machine"]
    if extra.get("n_boards") is not None:
        return Machine.boards(extra["n_boards"])
    return Machine.from_chips(extra.get("n_chips", 1))


def set_number_of_neurons_per_core(cell_type: object, n: int) -> None:
    """Cap the neurons per PE of every population of ``cell_type`` (as sPyNNaker does)."""
    name = cell_type if isinstance(cell_type, str) else getattr(cell_type, "__name__",
                                                                type(cell_type).__name__)
    if int(n) < 1:
        raise ValueError(f"neurons per core for {name} must be >= 1, got {n}")
    simulator.state.max_neurons_per_core[name] = int(n)
    simulator.state.dirty = True


def end(compatible_output: bool = True) -> None:
    """Write the data asked for with ``record(..., to_file=...)`` and forget the network."""
    for population, variables, filename in simulator.state.write_on_end:
        io = get_io(filename)
        population.write_data(io, variables)
    simulator.state.write_on_end = []
    simulator.state.ended = True  # a later run is an error until the next setup()


_run, run_until = common.build_run(simulator)


def run(simtime: float, callbacks: list | None = None) -> float:
    """Advance the simulation by ``simtime`` ms (see PyNN's ``run``).

    Raises
    ------
    ValueError
        ``simtime`` is not a finite number >= 0 (NaN, inf, -1).
    RuntimeError
        The simulation was ended with ``end()``.
    """
    simulator.state.run(simtime, check_only=True)
    return _run(float(simtime), callbacks)


run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
(get_current_time, get_time_step, _get_min_delay, get_max_delay, num_processes,
 rank) = common.build_state_queries(simulator)


def get_min_delay() -> float:
    """The smallest synaptic delay (ms): with ``min_delay='auto'``, that of the network once
    it has connections, else one time step."""
    state = simulator.state
    delays = [p._delay.min() for p in state.projections if len(p)]
    if getattr(state, "min_delay_auto", True) and delays:
        return float(min(delays))
    return state.min_delay
