"""Activity -> cycles, time and energy: the cost model.

Per PE and step, cycles are a linear function of the step's counts::

    cycles = cycles_per_step
           + neuron_updates  x cycles_neuron_update(kernel, record sizes)
           + packets_received x (cycles_packet_base + levels x cycles_packet_per_level)
           + synaptic_events x cycles_synaptic_event + macs x cycles_mac_extra
           + packets_sent x cycles_packet_sent

A step overruns on a PE when its cycles exceed ``clock x timestep`` (what sPyNNaker reports
as timer overruns), or, for the chip, when its DRAM traffic exceeds ``bandwidth x timestep``.
Time: in ``real_time`` mode (timer-driven, as on the board) a step lasts a timestep, or its
compute time if longer; in ``free_running`` mode every step lasts as long as its slowest PE.
Energy::

    static  = (chips in use x power_chip_static + loaded PEs x power_pe_static) x wall time
    dynamic = cycles x energy_pe_cycle + DMA bytes x energy_sram_byte
            + DRAM bytes x energy_dram_byte + router lookups x energy_router_lookup
            + packets received x energy_noc_delivery + link hops x energy_link_hop
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SpiNNaker2Error
from .activity import Activity, search_levels
from .constants import DEFAULT_CONSTANTS, CostConstants

TIMINGS = ("real_time", "free_running")


class CostModelError(SpiNNaker2Error, ValueError):
    """The cost model cannot price this activity (unknown kernel, bad argument)."""


@dataclass(frozen=True)
class CostReport:
    """Cycles, real-time check, time and energy of one run.

    Per-step figures of a run kept in multi-step blocks come as ``(low, high)`` bounds;
    ``exact`` says whether low equals high. Per-PE arrays follow the activity's core order.

    Parameters
    ----------
    timing
        ``"real_time"`` or ``"free_running"``.
    clock_hz, timestep_s, n_steps, inferences, exact
        The run.
    chips, core_chip, core_pe, kernels
        Where each PE is (chip coordinates, chip index per core, PE number, kernel).
    cycles_total, cycles_mean, cycles_peak
        Per PE: cycles over the run, per step on average, in the busiest step (upper bound
        when inexact).
    load_peak
        Per PE: ``cycles_peak / (clock x timestep)``; above 1 means a timer overrun.
    overrun_steps_pe
        Per PE: (low, high) number of steps it overran.
    overrun_steps
        (low, high) steps in which any PE overran or a chip's DRAM could not keep up.
    dram_load_peak
        Per chip: the busiest step's DRAM bytes / (bandwidth x timestep).
    compute_time_s
        (low, high) sum over steps of the slowest PE's (or DRAM's) time.
    wall_time_s
        (low, high) duration of the run in the chosen timing.
    energy_static_j, energy_dynamic_j
        Totals (dynamic uses exact totals; static uses the wall-time midpoint).
    energy_breakdown_j
        Dynamic energy by part.
    energy_pe_j
        Per PE dynamic energy (its cycles, DMA and DRAM traffic, deliveries to it).
    static_power_w
        Power of the chips and PEs in use when idle.
    totals
        Counter -> total over the run (machine-wide).
    constants
        The constants used.
    """

    timing: str
    clock_hz: float
    timestep_s: float
    n_steps: int
    inferences: int
    exact: bool
    chips: tuple[tuple[int, int], ...]
    core_chip: np.ndarray
    core_pe: np.ndarray
    kernels: tuple[str, ...]
    cycles_total: np.ndarray
    cycles_mean: np.ndarray
    cycles_peak: np.ndarray
    load_peak: np.ndarray
    overrun_steps_pe: tuple[np.ndarray, np.ndarray]
    overrun_steps: tuple[int, int]
    dram_load_peak: np.ndarray
    compute_time_s: tuple[float, float]
    wall_time_s: tuple[float, float]
    energy_static_j: float
    energy_dynamic_j: float
    energy_breakdown_j: dict[str, float]
    energy_pe_j: np.ndarray
    static_power_w: float
    totals: dict[str, float]
    pes_per_chip: int = 152
    pes_per_qpe: int = 4
    constants: CostConstants = field(default=DEFAULT_CONSTANTS, repr=False)

    @property
    def overrun(self) -> bool:
        """True when at least one step certainly overran."""
        return self.overrun_steps[0] > 0

    @property
    def may_overrun(self) -> bool:
        """True when a step may have overrun (always equal to :attr:`overrun` when exact)."""
        return self.overrun_steps[1] > 0

    @property
    def energy_j(self) -> float:
        """Static plus dynamic energy of the run."""
        return self.energy_static_j + self.energy_dynamic_j

    @property
    def energy_per_inference_j(self) -> float:
        """Energy divided by the number of inferences the run held."""
        return self.energy_j / self.inferences

    @property
    def latency_per_step_s(self) -> float:
        """Mean wall time of a step."""
        return _mid(self.wall_time_s) / max(self.n_steps, 1)

    @property
    def latency_per_inference_s(self) -> float:
        """Wall time divided by the number of inferences the run held."""
        return _mid(self.wall_time_s) / self.inferences

    @property
    def power_w(self) -> float:
        """Mean power over the run."""
        wall = _mid(self.wall_time_s)
        return self.energy_j / wall if wall > 0 else self.static_power_w

    def summary(self) -> dict:
        """The headline figures (JSON-ready)."""
        return {
            "timing": self.timing, "clock_hz": self.clock_hz,
            "timestep_ms": self.timestep_s * 1e3, "steps": self.n_steps,
            "inferences": self.inferences, "exact_per_step": self.exact,
            "chips": len({int(c) for c in self.core_chip}), "pes": int(self.core_chip.size),
            "overrun": self.overrun, "may_overrun": self.may_overrun,
            "overrun_steps": list(self.overrun_steps),
            "max_pe_load": float(self.load_peak.max(initial=0.0)),
            "max_dram_load": float(self.dram_load_peak.max(initial=0.0)),
            "cycles_per_step_max_pe": float(self.cycles_peak.max(initial=0.0)),
            "compute_time_s": list(self.compute_time_s), "wall_time_s": list(self.wall_time_s),
            "latency_per_step_s": self.latency_per_step_s,
            "latency_per_inference_s": self.latency_per_inference_s,
            "energy_j": self.energy_j, "energy_static_j": self.energy_static_j,
            "energy_dynamic_j": self.energy_dynamic_j,
            "energy_per_inference_j": self.energy_per_inference_j,
            "power_w": self.power_w, "static_power_w": self.static_power_w,
            "energy_breakdown_j": dict(self.energy_breakdown_j),
            "totals": dict(self.totals),
        }

    def to_dict(self) -> dict:
        """Summary, per-PE figures and the constants used (JSON-ready)."""
        per_pe = [{"chip": list(self.chips[int(c)]), "pe": int(p), "kernel": k,
                   "cycles_total": float(t), "cycles_mean": float(m), "cycles_peak": float(x),
                   "load_peak": float(lp), "overrun_steps": [int(lo), int(hi)],
                   "energy_dynamic_j": float(e)}
                  for c, p, k, t, m, x, lp, lo, hi, e in zip(
                      self.core_chip, self.core_pe, self.kernels, self.cycles_total,
                      self.cycles_mean, self.cycles_peak, self.load_peak,
                      *self.overrun_steps_pe, self.energy_pe_j, strict=True)]
        return {"summary": self.summary(), "pes": per_pe,
                "constants": self.constants.to_dict()}


def _mid(bounds: tuple[float, float]) -> float:
    return 0.5 * (bounds[0] + bounds[1])


def neuron_update_cycles(activity: Activity, constants: CostConstants) -> np.ndarray:
    """Cycles of one neuron update on each core, from the kernel's arithmetic and the sizes
    of its parameter and state records.

    Raises
    ------
    CostModelError
        For a kernel the constants have no operation count for.
    """
    c = {name: k.value for name, k in constants.constants().items()}
    out = np.zeros(activity.n_cores)
    for kernel in set(activity.kernels):
        ops = constants.kernel_ops.get(kernel)
        if ops is None:
            raise CostModelError(
                f"the cost model has no operation count for kernel {kernel!r}; add "
                f"KernelOps(...) for it to CostConstants.kernel_ops (known: "
                f"{', '.join(sorted(constants.kernel_ops))})")
        mine = np.array([k == kernel for k in activity.kernels])
        loads = activity.param_words[mine] + activity.state_words[mine] + \
            activity.n_receptors[mine]
        stores = activity.state_words[mine] + activity.n_receptors[mine]
        out[mine] = (loads * c["cycles_load"] + stores * c["cycles_store"]
                     + ops.single * c["cycles_single"] + ops.div * c["cycles_div"]
                     + ops.exp * c["cycles_exp"] + ops.rng * c["cycles_rng"]
                     + ops.branches * c["cycles_branch"] + c["cycles_loop"])
    return out


def _cycles(activity: Activity, counts: dict[str, np.ndarray], steps: np.ndarray,
            per_neuron: np.ndarray, c: dict[str, float]) -> np.ndarray:
    """Cycles of (blocks, cores) counts spanning ``steps`` steps per block."""
    per_packet = c["cycles_packet_base"] + c["cycles_packet_per_level"] * search_levels(
        activity.mpt_entries)
    return (steps[:, None] * c["cycles_per_step"]
            + counts["neuron_updates"] * per_neuron
            + counts["packets_received"] * per_packet
            + counts["synaptic_events"] * c["cycles_synaptic_event"]
            + counts["macs"] * c["cycles_mac_extra"]
            + counts["packets_sent"] * c["cycles_packet_sent"])


def _per_chip(values: np.ndarray, core_chip: np.ndarray, n_chips: int) -> np.ndarray:
    """(blocks, cores) -> (blocks, chips) sums."""
    out = np.zeros((values.shape[0], n_chips))
    for chip in range(n_chips):
        out[:, chip] = values[:, core_chip == chip].sum(axis=1)
    return out


def estimate(activity: Activity, constants: CostConstants = DEFAULT_CONSTANTS,
             timing: str = "real_time", inferences: int = 1,
             clock_hz: float | None = None) -> CostReport:
    """Price an activity record.

    Parameters
    ----------
    activity
        What the machine did (from the emulator, or built analytically).
    constants
        The cost model's constants.
    timing
        ``"real_time"``: timer-driven steps of one timestep each, longer when they overrun;
        ``"free_running"``: each step takes as long as its slowest PE.
    inferences
        How many inferences the run held (for per-inference figures).
    clock_hz
        PE clock; default ``constants.clock_hz``.

    Raises
    ------
    CostModelError
        For an unknown timing, fewer than one inference, a non-positive clock, or a kernel
        without operation counts.
    """
    if timing not in TIMINGS:
        raise CostModelError(f"timing must be one of {TIMINGS}, got {timing!r}")
    if inferences < 1:
        raise CostModelError(f"a run holds at least one inference, got {inferences}")
    c = {name: k.value for name, k in constants.constants().items()}
    f = float(clock_hz if clock_hz is not None else c["clock_hz"])
    if f <= 0:
        raise CostModelError(f"the PE clock must be positive, got {f} Hz")
    dt = activity.timestep_ms * 1e-3
    steps = activity.block_lengths.astype(float)
    per_neuron = neuron_update_cycles(activity, constants)
    block_cycles = _cycles(activity, activity.sums, steps, per_neuron, c)
    peak_cycles = _cycles(activity, activity.peaks, (steps > 0).astype(float), per_neuron, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_cycles = np.where(steps[:, None] > 0, block_cycles / steps[:, None], 0.0)
    budget = f * dt
    # Per-step bounds within each block: the mean is reached by some step (low), no step
    # exceeds the sum of the per-counter maxima (high).
    lo_over = mean_cycles > budget
    hi_over = peak_cycles > budget
    n_chips = len(activity.chips)
    dram_sum = _per_chip(activity.dram_bytes(activity.sums), activity.core_chip, n_chips)
    dram_peak = _per_chip(activity.dram_bytes(activity.peaks), activity.core_chip, n_chips)
    dram_budget = c["dram_bandwidth"] * dt
    with np.errstate(invalid="ignore", divide="ignore"):
        dram_mean = np.where(steps[:, None] > 0, dram_sum / steps[:, None], 0.0)
    lo_any = lo_over.any(axis=1) | (dram_mean > dram_budget).any(axis=1)
    hi_any = hi_over.any(axis=1) | (dram_peak > dram_budget).any(axis=1)
    # A block whose mean overruns has at least one overrunning step; with the bound, all may.
    overrun_steps = (int(lo_any.sum()), int((hi_any * steps).sum()))
    overrun_pe = (lo_over.sum(axis=0).astype(np.int64),
                  (hi_over * steps[:, None]).sum(axis=0).astype(np.int64))
    # Time per block: the slowest PE (or DRAM) bounds each step.
    t_lo_step = np.maximum(mean_cycles.max(axis=1, initial=0.0) / f,
                           dram_mean.max(axis=1, initial=0.0) / c["dram_bandwidth"])
    t_hi_step = np.maximum(peak_cycles.max(axis=1, initial=0.0) / f,
                           dram_peak.max(axis=1, initial=0.0) / c["dram_bandwidth"])
    compute = (float((t_lo_step * steps).sum()), float((t_hi_step * steps).sum()))
    if timing == "real_time":
        wall = (float((np.maximum(t_lo_step, dt) * steps).sum()),
                float((np.maximum(t_hi_step, dt) * steps).sum()))
    else:
        wall = compute
    totals = {name: activity.total(name).astype(float) for name in activity.sums}
    total_counts = {name: v[None, :] for name, v in totals.items()}
    cycles_total = block_cycles.sum(axis=0)
    dma = activity.dma_bytes(total_counts)[0]
    dram = activity.dram_bytes(total_counts)[0]
    sram = activity.sram_bytes(total_counts)[0]
    lookups = float(activity.total("router_lookups").sum())
    hops = float(activity.total("link_hops").sum())
    received = totals["packets_received"]
    energy_pe = (cycles_total * c["energy_pe_cycle"] + dma * c["energy_sram_byte"]
                 + dram * c["energy_dram_byte"] + received * c["energy_noc_delivery"])
    breakdown = {
        "pe_cycles": float(cycles_total.sum() * c["energy_pe_cycle"]),
        "sram_dma": float(dma.sum() * c["energy_sram_byte"]),
        "dram": float(dram.sum() * c["energy_dram_byte"]),
        "router_lookups": lookups * c["energy_router_lookup"],
        "noc_deliveries": float(received.sum() * c["energy_noc_delivery"]),
        "chip_links": hops * c["energy_link_hop"],
    }
    chips_used = len(set(activity.core_chip.tolist()))
    static_power = (chips_used * c["power_chip_static"]
                    + activity.n_cores * c["power_pe_static"])
    summary_totals = {name: float(v.sum()) for name, v in totals.items()}
    summary_totals.update(router_lookups=lookups, link_hops=hops, sram_bytes=float(sram.sum()),
                          dram_bytes=float(dram.sum()), cycles=float(cycles_total.sum()))
    n_steps = activity.n_steps
    return CostReport(
        timing=timing, clock_hz=f, timestep_s=dt, n_steps=n_steps, inferences=inferences,
        exact=activity.exact, chips=activity.chips, core_chip=activity.core_chip,
        core_pe=activity.core_pe, kernels=activity.kernels, cycles_total=cycles_total,
        cycles_mean=cycles_total / max(n_steps, 1),
        cycles_peak=peak_cycles.max(axis=0, initial=0.0),
        load_peak=peak_cycles.max(axis=0, initial=0.0) / budget,
        overrun_steps_pe=overrun_pe, overrun_steps=overrun_steps,
        dram_load_peak=dram_peak.max(axis=0, initial=0.0) / dram_budget,
        compute_time_s=compute, wall_time_s=wall,
        energy_static_j=static_power * _mid(wall), energy_dynamic_j=float(sum(breakdown.values())),
        energy_breakdown_j=breakdown, energy_pe_j=energy_pe, static_power_w=static_power,
        totals=summary_totals, pes_per_chip=activity.pes_per_chip,
        pes_per_qpe=activity.pes_per_qpe, constants=constants)
