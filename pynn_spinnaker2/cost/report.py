"""A cost report as text, JSON and a per-PE heat map (PNG)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from .activity import build_activity
from .constants import DEFAULT_CONSTANTS, CostConstants
from .pricing import CostReport, estimate


def _si(value: float, unit: str) -> str:
    """``0.00123, "J"`` -> ``"1.23 mJ"``."""
    if value == 0:
        return f"0 {unit}"
    for factor, prefix in ((1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value / 1e-12:.3g} p{unit}"


def _bounds(bounds: tuple[float, float], unit: str) -> str:
    lo, hi = bounds
    return _si(lo, unit) if lo == hi else f"{_si(lo, unit)} .. {_si(hi, unit)}"


def report_text(report: CostReport) -> str:
    """A human-readable summary: real-time check, time, energy, busiest PEs."""
    s = report.summary()
    lines = [
        f"SpiNNaker 2 cost estimate ({report.timing.replace('_', '-')}, PE clock "
        f"{report.clock_hz / 1e6:.0f} MHz, timestep {report.timestep_s * 1e3:g} ms, "
        f"{report.n_steps} steps, {s['pes']} PEs on {s['chips']} chip(s))",
        "",
        "Real-time check:",
    ]
    lo, hi = report.overrun_steps
    if hi == 0:
        lines.append(f"  no timer overrun; busiest PE uses {s['max_pe_load']:.1%} of a timestep")
    elif report.exact:
        lines.append(f"  TIMER OVERRUN in {lo} of {report.n_steps} steps; busiest PE needs "
                     f"{s['max_pe_load']:.2f} timesteps of work in its worst step")
    else:
        lines.append(f"  timer overrun in {lo} .. {hi} of {report.n_steps} steps (steps kept "
                     f"in blocks: bounds); busiest PE up to {s['max_pe_load']:.2f} timesteps")
    if s["max_dram_load"] > 1:
        lines.append(f"  DRAM bandwidth exceeded: busiest chip needs {s['max_dram_load']:.2f} "
                     f"timesteps to fetch its rows")
    lines += [
        "",
        "Time:",
        f"  compute (slowest PE per step, summed): {_bounds(report.compute_time_s, 's')}",
        f"  wall time: {_bounds(report.wall_time_s, 's')}; per step "
        f"{_si(report.latency_per_step_s, 's')}; per inference "
        f"{_si(report.latency_per_inference_s, 's')} ({report.inferences} in the run)",
        "",
        "Energy:",
        f"  total {_si(report.energy_j, 'J')} = static {_si(report.energy_static_j, 'J')} "
        f"+ dynamic {_si(report.energy_dynamic_j, 'J')}; per inference "
        f"{_si(report.energy_per_inference_j, 'J')}",
        f"  mean power {_si(report.power_w, 'W')} (static {_si(report.static_power_w, 'W')})",
        "  dynamic by part: " + ", ".join(f"{k} {_si(v, 'J')}"
                                          for k, v in report.energy_breakdown_j.items()),
        "",
        "Counts: " + ", ".join(f"{k} {v:.4g}" for k, v in report.totals.items()),
        "",
        "Busiest PEs (peak cycles per step):",
    ]
    order = np.argsort(-report.cycles_peak)[:10]
    for i in order:
        chip = report.chips[int(report.core_chip[i])]
        lines.append(f"  chip {chip} PE {int(report.core_pe[i]):>3} {report.kernels[i]:<22} "
                     f"peak {report.cycles_peak[i]:>10.0f} cycles ({report.load_peak[i]:.1%}), "
                     f"mean {report.cycles_mean[i]:>10.0f}")
    lines += ["", "All figures are estimates from the constants in doc/cost_model.md (status "
              "published / derived / estimate, each with its source)."]
    return "\n".join(lines)


def pe_grid(report: CostReport, values: np.ndarray) -> np.ndarray:
    """Per-PE values laid out as the machine: each chip a block of rows of 4 QPEs
    (``4 x pes_per_qpe`` PEs), chips placed by their coordinates (y up) with a gap between
    them. Unused PEs are NaN."""
    cols = 4 * report.pes_per_qpe
    rows = -(-report.pes_per_chip // cols)
    chips = [report.chips[int(c)] for c in report.core_chip]
    xs = [x for x, _ in report.chips]
    ys = [y for _, y in report.chips]
    x0, y0 = min(xs), min(ys)
    width, height = max(xs) - x0 + 1, max(ys) - y0 + 1
    grid = np.full((height * (rows + 1) - 1, width * (cols + 1) - 1), np.nan)
    for (x, y), pe, v in zip(chips, report.core_pe, values, strict=True):
        r = (height - 1 - (y - y0)) * (rows + 1) + int(pe) // cols
        c = (x - x0) * (cols + 1) + int(pe) % cols
        grid[r, c] = v
    return grid


def write_heatmap(report: CostReport, path: str | Path) -> Path:
    """A PNG with two panels: each PE's peak load (fraction of a timestep, overruns marked)
    and its dynamic energy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    load = pe_grid(report, report.load_peak)
    energy = pe_grid(report, report.energy_pe_j * 1e3)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.5), constrained_layout=True)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#dddddd")
    top = max(1.0, float(np.nanmax(load)) if np.isfinite(load).any() else 1.0)
    im = axes[0].imshow(load, cmap=cmap, vmin=0, vmax=top, interpolation="nearest")
    fig.colorbar(im, ax=axes[0], shrink=0.8, label="peak cycles / (clock x timestep)")
    over_r, over_c = np.nonzero(load > 1)
    axes[0].scatter(over_c, over_r, marker="x", color="red", s=30,
                    label="timer overrun" if over_r.size else None)
    if over_r.size:
        axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=8)
    axes[0].set_title("PE load in the busiest step")
    cmap_e = plt.get_cmap("magma").with_extremes(bad="#dddddd")
    im = axes[1].imshow(energy, cmap=cmap_e, interpolation="nearest")
    fig.colorbar(im, ax=axes[1], shrink=0.8, label="dynamic energy (mJ)")
    axes[1].set_title("PE dynamic energy over the run")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.supxlabel(f"chips placed by (x, y); in a chip, PE p is at row p // "
                  f"{4 * report.pes_per_qpe}, column p % {4 * report.pes_per_qpe} (4 QPEs per "
                  f"row); grey: no core", fontsize=9)
    fig.suptitle(f"SpiNNaker 2 cost: {report.core_chip.size} PEs, {report.n_steps} steps, "
                 f"{report.energy_j * 1e3:.3g} mJ, {report.power_w:.3g} W")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_cost_report(report: CostReport, folder: str | Path, heatmap: bool = True) -> Path:
    """Write cost.txt, cost.json and (with matplotlib) cost_heatmap.png into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cost.txt").write_text(report_text(report) + "\n")
    (folder / "cost.json").write_text(json.dumps(report.to_dict(), indent=1))
    if heatmap:
        write_heatmap(report, folder / "cost_heatmap.png")
    return folder


def run_cost(emulator: object, clock_hz: float, timing: str = "real_time",
             inferences: int = 1, constants: CostConstants = DEFAULT_CONSTANTS) -> CostReport:
    """The cost estimate of what ``emulator`` ran since its last reset.

    Parameters
    ----------
    emulator
        The backend that ran: its ``image`` and the work it counted (``activity``).
    clock_hz
        PE clock.
    timing, inferences, constants
        As for :func:`~pynn_spinnaker2.cost.estimate`.
    """
    activity = build_activity(emulator.image, emulator.activity)
    return estimate(activity, constants, timing=timing, inferences=inferences,
                    clock_hz=clock_hz)


def write_run_cost(emulator: object, folder: str | Path, clock_hz: float,
                   **kwargs: object) -> CostReport:
    """Write cost.txt, cost.json and cost_heatmap.png for what ``emulator`` ran into
    ``folder``; returns the report (``kwargs`` as for :func:`run_cost`). Without matplotlib
    the heat map is left out, with a warning."""
    report = run_cost(emulator, clock_hz, **kwargs)
    try:
        import matplotlib  # noqa: F401
        heatmap = True
    except ImportError:
        warnings.warn("cost report: the per-PE heat map needs matplotlib (pip install "
                      "'pynn_spinnaker2[plot]'); writing text and JSON only", stacklevel=2)
        heatmap = False
    write_cost_report(report, folder, heatmap=heatmap)
    return report
