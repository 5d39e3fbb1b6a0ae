"""Calibration: the seed EGRU deployment's activity, built analytically, through the cost model.

The seed (Nazeer et al., AICAS 2024, as quoted in DESIGN.md): 3 EGRU layers of 1350, 1350 and
750 units on a 750-wide embedding, 95 % of the weights pruned and kept as compressed sparse
rows in fp32, 150 PEs of one chip, measured at 0.39 W, 170 ms and 0.065 J per inference
(NVIDIA A100: 60 W, 19.9 ms, 1.19 J).

The activity below is what that network implies on our model of the machine. What it rests on
(each an assumption of ours, stated in doc/cost_model.md):

- PEs are shared among layers in proportion to their weights; units split evenly within a
  layer; every PE of a layer holds its units' three gates (input and recurrent weights);
- a unit's event is one multicast packet with a graded payload; every packet reaches every PE
  of the layers it feeds (5 % random connectivity leaves no PE without targets); each synapse
  it meets is one MAC;
- the embedding enters layer 1 as 750 graded packets per token from the host (dense);
- layers are pipelined, one layer hop per timestep: token k is in layer l at step k + l;
- ``activity`` is the fraction of units that emit an event per step;
- the weights sit in SRAM (they fit: about 48 KB per PE), so no DRAM traffic;
- the tied read-out (750 x vocabulary) runs on the host, as it does not fit on chip;
- an "inference" is one sequence of ``tokens`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activity import PER_CHIP, PER_CORE, Activity
from .constants import DEFAULT_CONSTANTS, CostConstants
from .pricing import CostReport, estimate

#: The seed deployment's published figures (DESIGN.md, from Nazeer et al. 2024).
PUBLISHED = {"power_w": 0.39, "latency_s": 0.170, "energy_j": 0.065, "pes": 150}
#: The GPU baseline the seed paper compares with (DESIGN.md).
PUBLISHED_A100 = {"power_w": 60.0, "latency_s": 0.0199, "energy_j": 1.19}

GATES = 3
#: Parameter words per unit: six biases and the threshold.
PARAM_WORDS = 7
#: State words per unit: internal state c and the graded output.
STATE_WORDS = 2
#: Input accumulators per unit: input and recurrent part of each gate.
RECEPTORS = 6


@dataclass(frozen=True)
class SeedEGRU:
    """The seed model and the assumptions that turn it into machine activity.

    Parameters
    ----------
    hidden
        Units per layer.
    embedding
        Width of the input embedding.
    density
        Fraction of weights kept (1 - pruning).
    n_pes
        PEs the layers are spread over.
    activity
        Fraction of units emitting an event per step (activity sparsity 1 - activity).
    tokens
        Tokens per inference (one sequence).
    timestep_ms
        Timestep of the timer-driven run.
    """

    hidden: tuple[int, ...] = (1350, 1350, 750)
    embedding: int = 750
    density: float = 0.05
    n_pes: int = 150
    activity: float = 0.2
    tokens: int = 70
    timestep_ms: float = 1.0

    def inputs(self) -> list[int]:
        """Input width of each layer."""
        return [self.embedding, *self.hidden[:-1]]

    def weights(self) -> np.ndarray:
        """Kept weights per layer (three gates, input and recurrent)."""
        return np.array([GATES * (i + h) * h * self.density
                         for i, h in zip(self.inputs(), self.hidden, strict=True)])

    def pes_per_layer(self) -> np.ndarray:
        """PEs per layer, proportional to the layer's weights, at least one each."""
        w = self.weights()
        share = np.maximum(1, np.floor(self.n_pes * w / w.sum())).astype(int)
        while share.sum() < self.n_pes:  # hand the rest to the layers with most weight per PE
            share[np.argmax(w / share)] += 1
        return share


def seed_activity(model: SeedEGRU = SeedEGRU()) -> Activity:
    """The expected per-step activity of the seed deployment (see the module docstring)."""
    pes = model.pes_per_layer()
    layer_of = np.repeat(np.arange(len(model.hidden)), pes)
    units = np.concatenate([np.diff(np.linspace(0, h, p + 1).round()).astype(int)
                            for h, p in zip(model.hidden, pes, strict=True)])
    n_cores = int(pes.sum())
    n_steps = model.tokens + len(model.hidden) - 1
    sums = {name: np.zeros((n_steps, n_cores)) for name in PER_CORE}
    for step in range(n_steps):
        for layer, hidden in enumerate(model.hidden):
            token = step - layer
            if not 0 <= token < model.tokens:
                continue
            mine = layer_of == layer
            fed = model.embedding if layer == 0 else model.activity * model.hidden[layer - 1]
            recurrent = model.activity * hidden if token > 0 else 0.0
            received = fed + recurrent
            sums["packets_received"][step, mine] = received
            sums["rows_fetched"][step, mine] = received
            sums["synaptic_events"][step, mine] = received * GATES * units[mine] * model.density
            sums["packets_sent"][step, mine] = model.activity * units[mine]
        sums["neuron_updates"][step] = units
    sums["macs"] = sums["synaptic_events"].copy()
    mpt = np.array([1 + pes[0] if layer == 0 else pes[layer - 1] + pes[layer]
                    for layer in layer_of])
    host_packets = np.array([model.embedding if s < model.tokens else 0
                             for s in range(n_steps)], float)
    chip_sums = {name: np.zeros((n_steps, 1)) for name in PER_CHIP}
    chip_sums["router_lookups"][:, 0] = sums["packets_sent"].sum(axis=1) + host_packets
    return Activity(
        timestep_ms=model.timestep_ms, block_lengths=np.ones(n_steps, np.int64), sums=sums,
        peaks={k: v.copy() for k, v in sums.items()}, chip_sums=chip_sums, chips=((0, 0),),
        core_chip=np.zeros(n_cores, np.int64), core_pe=np.arange(n_cores),
        kernels=("egru",) * n_cores, n_neurons=units,
        param_words=np.full(n_cores, PARAM_WORDS), state_words=np.full(n_cores, STATE_WORDS),
        n_receptors=np.full(n_cores, RECEPTORS), mpt_entries=mpt,
        rows_in_dram=np.zeros(n_cores, bool))


def seed_reports(model: SeedEGRU = SeedEGRU(), constants: CostConstants = DEFAULT_CONSTANTS
                 ) -> dict[str, CostReport]:
    """Timing mode -> cost report of one inference of the seed model."""
    activity = seed_activity(model)
    return {timing: estimate(activity, constants, timing=timing, inferences=1)
            for timing in ("real_time", "free_running")}


def calibration_rows(model: SeedEGRU = SeedEGRU(),
                     constants: CostConstants = DEFAULT_CONSTANTS) -> list[dict]:
    """Published figures beside ours, one row per quantity (ratio = ours / published)."""
    reports = seed_reports(model, constants)
    rows = []
    for name, unit, key in (("power", "W", "power_w"), ("latency per inference", "s",
                                                        "latency_s"),
                            ("energy per inference", "J", "energy_j")):
        row = {"quantity": name, "unit": unit, "published": PUBLISHED[key]}
        for timing, report in reports.items():
            ours = {"power_w": report.power_w, "latency_s": report.latency_per_inference_s,
                    "energy_j": report.energy_per_inference_j}[key]
            row[timing] = ours
            row[f"{timing}_ratio"] = ours / PUBLISHED[key]
        rows.append(row)
    return rows


def calibration_markdown(model: SeedEGRU = SeedEGRU(),
                         constants: CostConstants = DEFAULT_CONSTANTS) -> str:
    """The calibration table as Markdown."""
    lines = ["| quantity | published (seed) | ours, real-time 1 ms steps | ratio | ours, "
             "free-running | ratio |", "|---|---|---|---|---|---|"]
    for r in calibration_rows(model, constants):
        lines.append(f"| {r['quantity']} | {r['published']:.3g} {r['unit']} | "
                     f"{r['real_time']:.3g} {r['unit']} | {r['real_time_ratio']:.2f} | "
                     f"{r['free_running']:.3g} {r['unit']} | {r['free_running_ratio']:.2f} |")
    return "\n".join(lines)


def sensitivity_markdown(activities: tuple[float, ...] = (0.1, 0.2, 0.33),
                         tokens: tuple[int, ...] = (70,)) -> str:
    """Ours per token and per inference for several activity levels (real-time timing)."""
    lines = ["| activity | tokens | PE load (worst) | per token | energy per token | power | "
             "per inference | energy per inference |", "|---|---|---|---|---|---|---|---|"]
    for a in activities:
        for t in tokens:
            r = seed_reports(SeedEGRU(activity=a, tokens=t))["real_time"]
            wall = 0.5 * sum(r.wall_time_s)
            lines.append(f"| {a:g} | {t} | {r.load_peak.max():.2f} | {wall / t * 1e3:.2f} ms | "
                         f"{r.energy_j / t * 1e3:.3f} mJ | {r.power_w:.3f} W | "
                         f"{r.latency_per_inference_s * 1e3:.1f} ms | "
                         f"{r.energy_per_inference_j * 1e3:.1f} mJ |")
    return "\n".join(lines)


def breakdown_markdown(model: SeedEGRU = SeedEGRU()) -> str:
    """Where the estimated power goes (real-time timing)."""
    r = seed_reports(model)["real_time"]
    wall = 0.5 * sum(r.wall_time_s)
    lines = ["| part | power | share |", "|---|---|---|"]
    parts = {"static: chip (estimate 0.2 W)": r.constants.power_chip_static.value,
             "static: 150 PEs x 0.5 mW (estimate)": r.static_power_w
             - r.constants.power_chip_static.value}
    parts.update({f"dynamic: {k}": v / wall for k, v in r.energy_breakdown_j.items() if v})
    for name, watts in parts.items():
        lines.append(f"| {name} | {watts * 1e3:.1f} mW | {watts / r.power_w:.0%} |")
    lines.append(f"| total | {r.power_w * 1e3:.1f} mW | 100% |")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m pynn_spinnaker2.cost.seed_egru: the tables of the doc
    print(calibration_markdown(), sensitivity_markdown(), breakdown_markdown(), sep="\n\n")
