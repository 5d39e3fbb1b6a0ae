"""``sim.get_cost()`` and ``sim.cost_report()``: what the last run would cost on SpiNNaker 2."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..cost import DEFAULT_CONSTANTS, CostConstants, CostReport, build_activity, estimate
from . import simulator


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
    state = simulator.state
    if state.compiled is None or state.compiled.emulator.step == 0:
        raise RuntimeError("sim.get_cost(): nothing has run since setup/reset; call "
                           "sim.run(...) first")
    emulator = state.compiled.emulator
    activity = build_activity(emulator.image, emulator.activity)
    return estimate(activity, constants, timing=timing, inferences=inferences,
                    clock_hz=clock_hz if clock_hz is not None else state.machine.clock_hz)


def cost_report(folder: str | Path, **kwargs: object) -> CostReport:
    """Write cost.txt, cost.json and cost_heatmap.png for the last run into ``folder``;
    returns the report (``kwargs`` as for :func:`get_cost`). Without matplotlib the heat
    map is left out, with a warning."""
    from ..cost.report import write_cost_report

    report = get_cost(**kwargs)
    try:
        import matplotlib  # noqa: F401
        heatmap = True
    except ImportError:
        warnings.warn("cost report: the per-PE heat map needs matplotlib (pip install "
                      "'pynn_spinnaker2[plot]'); writing text and JSON only", stacklevel=2)
        heatmap = False
    write_cost_report(report, folder, heatmap=heatmap)
    return report
