"""What a deployment reports of its runs: the chip the image used (PEs, chips, router entries,
SRAM per PE, with and without the synaptic rows) and the cost model's figures, per run and
combined over the batches of copies."""

from __future__ import annotations

import dataclasses

import numpy as np


def core_rows(compiled: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per core of the image: SRAM bytes as laid out, synaptic row bytes (rows and row index,
    in DRAM), and whether both would fit the SRAM data budget together."""
    image = compiled.image
    budget = image.machine.sram_data_budget
    sram = np.array([c.sram_bytes for c in image.cores], np.int64)
    rows = np.array([int(c.dram["synapses"].nbytes + c.dram["row_index"].nbytes)
                     if "synapses" in c.dram else 0 for c in image.cores], np.int64)
    return sram, rows, (sram + rows) <= budget


def chip_figures(sim: object) -> dict:
    """PEs, chips, router entries and SRAM per PE of the last compiled network, and per
    EGRU population its PEs (``layers``).

    SRAM is given as laid out by the image (state, rings, key tables, spike schedules) and,
    for EGRU PEs, with their synaptic rows added (what the PE would hold with its rows in
    SRAM), both against the data budget.
    """
    from pynn_spinnaker2.reports import summary

    compiled = sim.get_mapping()
    figures = summary(compiled)
    image = compiled.image
    budget = image.machine.sram_data_budget
    sram, rows, fits = core_rows(compiled)
    egru = np.array([c.kernel == "egru" for c in image.cores])
    per_pop: dict[str, list[int]] = {}
    for i, where in enumerate(image.index_map):
        if egru[i]:
            per_pop.setdefault(where.population, []).append(i)
    with_rows = sram + rows
    return {
        "machine": figures["machine"],
        "pes": int(figures["pes_used"]),
        "egru_pes": int(egru.sum()),
        "chips": int(figures["chips_used"]),
        "router_entries": int(figures["router_entries_after_compression"]),
        "router_entries_before_compression": int(figures["router_entries_before_compression"]),
        "max_router_entries_per_chip": int(figures["max_router_entries_per_chip"]),
        "sram_budget_bytes": int(budget),
        "sram_bytes_mean": float(sram.mean()), "sram_bytes_max": int(sram.max()),
        "egru_sram_with_rows_bytes_mean": float(with_rows[egru].mean()) if egru.any() else 0.0,
        "egru_sram_with_rows_bytes_max": int(with_rows[egru].max()) if egru.any() else 0,
        "egru_pes_rows_fit_sram": int((fits & egru).sum()),
        "synapses": int(figures["synapses"]),
        "layers": {label: {"pes": len(idx), "units_per_pe": [
            int(image.index_map[i].hi - image.index_map[i].lo) for i in idx],
            "row_bytes_max": int(rows[idx].max()),
            "sram_with_rows_bytes_max": int(with_rows[idx].max())}
            for label, idx in per_pop.items()},
    }


def cost_figures(sim: object, inferences: int) -> dict:
    """The cost model's figures of the last run (``sim.get_cost``), per inference.

    Four estimates: real-time (1 timer tick per step, as on the board) and free-running,
    each with the synaptic rows in DRAM (as the image lays them out) and in SRAM on every
    PE where rows and state fit the data budget together (as the seed deployment kept its
    rows; no DRAM traffic there).
    """
    from pynn_spinnaker2.cost import DEFAULT_CONSTANTS, build_activity, estimate

    compiled = sim.get_mapping()
    emulator = compiled.emulator
    activity = build_activity(emulator.image, emulator.activity)
    _, rows, fits = core_rows(compiled)
    in_sram = dataclasses.replace(activity, rows_in_dram=activity.rows_in_dram & ~fits)
    clock = compiled.image.machine.clock_hz
    out: dict = {"inferences": int(inferences)}
    totals = None
    for rows_where, act in (("rows_in_dram", activity), ("rows_in_sram", in_sram)):
        for timing in ("real_time", "free_running"):
            report = estimate(act, DEFAULT_CONSTANTS, timing=timing, inferences=inferences,
                              clock_hz=clock)
            s = report.summary()
            out[f"{timing}.{rows_where}"] = {
                "overrun": bool(s["overrun"]), "overrun_steps": s["overrun_steps"],
                "max_pe_load": s["max_pe_load"], "max_dram_load": s["max_dram_load"],
                "steps": s["steps"], "wall_time_s": s["wall_time_s"],
                "latency_per_step_s": s["latency_per_step_s"],
                "latency_per_inference_s": s["latency_per_inference_s"],
                "energy_per_inference_j": s["energy_per_inference_j"],
                "energy_dynamic_per_inference_j": s["energy_dynamic_j"] / inferences,
                "power_w": s["power_w"], "static_power_w": s["static_power_w"],
                "energy_breakdown_j": s["energy_breakdown_j"]}
            if totals is None:  # the counters, with rows in DRAM as emulated
                totals = s["totals"]
                out["max_pe_load_by_population"] = _load_by_population(compiled, report)
    out["per_inference"] = {k: float(v) / inferences for k, v in totals.items()}
    out["pes_rows_in_sram"] = int((fits & (rows > 0)).sum())
    out["pes_with_rows"] = int((rows > 0).sum())
    return out


def _load_by_population(compiled: object, report: object) -> dict[str, float]:
    """Population label -> the peak load (cycles / timer tick) of its busiest PE."""
    out: dict[str, float] = {}
    for where, load in zip(compiled.image.index_map, report.load_peak, strict=True):
        out[where.population] = max(out.get(where.population, 0.0), float(load))
    return out


def batch_loads(chip: dict, cost: dict, copies: list[list[str]]) -> tuple[list, list]:
    """Per layer over all copies (``copies[k]``: layer k's population labels): the units of
    every piece, and the peak load of the busiest PE."""
    pieces = [[u for label in labels for u in chip["layers"][label]["units_per_pe"]]
              for labels in copies]
    loads = [max(cost["max_pe_load_by_population"][label] for label in labels)
             for labels in copies]
    return pieces, loads


def per_copy_chip(chip: dict, copies: int) -> dict:
    """A batch run's chip figures, with the PEs of one copy of the network."""
    out = {k: v for k, v in chip.items() if k != "layers"}
    out.update(copies=copies, pes_per_copy=chip["pes"] / copies,
               egru_pes_per_copy=chip["egru_pes"] / copies)
    return out


def combine_costs(costs: list[dict], positions: list[int]) -> dict:
    """The cost figures of several batch runs (:func:`cost_figures` each), per inference.

    ``positions``: steps of input per copy in each run (characters of a segment; 1 for a
    recording). Energies are summed over the runs and divided by all inferences; latency per
    inference is a run's wall time over its positions (the copies run in parallel, so a
    copy's inference takes as long as the run); loads and power are the worst run's.
    """
    n = sum(c["inferences"] for c in costs)
    out: dict = {"inferences": n, "runs": len(costs)}
    for key in (k for k in costs[0] if "." in k):
        parts = [c[key] for c in costs]
        weights = [c["inferences"] for c in costs]
        out[key] = {
            "overrun_runs": sum(bool(p["overrun"]) for p in parts),
            "max_pe_load": max(p["max_pe_load"] for p in parts),
            "run_wall_time_s_max": max(p["wall_time_s"][1] for p in parts),
            "latency_per_inference_s": max(p["wall_time_s"][1] / k
                                           for p, k in zip(parts, positions, strict=True)),
            "energy_per_inference_j": sum(p["energy_per_inference_j"] * w
                                          for p, w in zip(parts, weights, strict=True)) / n,
            "energy_dynamic_per_inference_j": sum(
                p["energy_dynamic_per_inference_j"] * w
                for p, w in zip(parts, weights, strict=True)) / n,
            "power_w_max": max(p["power_w"] for p in parts)}
    out["per_inference"] = {name: sum(c["per_inference"][name] * c["inferences"]
                                      for c in costs) / n
                            for name in costs[0]["per_inference"]}
    out["pes_rows_in_sram"] = costs[0]["pes_rows_in_sram"]
    out["pes_with_rows"] = costs[0]["pes_with_rows"]
    return out
