"""``sim.get_cost()`` and ``sim.cost_report()``: what the last run would cost on SpiNNaker 2."""

from __future__ import annotations

from pathlib import Path

from ..cost import DEFAULT_CONSTANTS, CostConstants, CostReport
from ..cost.report import run_cost, write_run_cost
from . import simulator


def _ran() -> object:
    """The emulator of the current run; RuntimeError before the first ``sim.run``."""
    state = simulator.state
    if state.compiled is None or state.compiled.emulator.step == 0:
        raise RuntimeError("sim.get_cost(): nothing has run since setup/reset; call "
                           "sim.run(...) first")
    return state.compiled.emulator


def get_cost(timing: str = "real_time", inferences: int = 1,
             constants: CostConstants = DEFAULT_CONSTANTS,
             clock_hz: float | None = None) -> CostReport:
    """The cost estimate of everything run since the last ``setup`` or ``reset``.

    Parameters
    ----------
    timing
        ``"real_time"`` (timer-driven steps, as on the board) or ``"free_running"``.
    inferences
        How many inferences the run held (for per-inference figures).
    constants
        Cost model constants (see ``doc/cost_model.md``).
    clock_hz
        PE clock; default the machine's (``Machine.clock_hz``).

    Raises
    ------
    RuntimeError
        Before the first ``sim.run``.
    """
    clock = clock_hz if clock_hz is not None else simulator.state.machine.clock_hz
    return run_cost(_ran(), clock, timing=timing, inferences=inferences, constants=constants)


def cost_report(folder: str | Path, timing: str = "real_time", inferences: int = 1,
                constants: CostConstants = DEFAULT_CONSTANTS,
                clock_hz: float | None = None) -> CostReport:
    """Write cost.txt, cost.json and cost_heatmap.png for the last run into ``folder``;
    returns the report (arguments as for :func:`get_cost`). Without matplotlib the heat
    map is left out, with a warning."""
    clock = clock_hz if clock_hz is not None else simulator.state.machine.clock_hz
    return write_run_cost(_ran(), folder, clock, timing=timing, inferences=inferences,
                          constants=constants)
