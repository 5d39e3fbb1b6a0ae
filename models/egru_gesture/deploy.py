"""Run the trained EGRU gesture classifier on SpiNNaker 2 (the emulator), through PyNN.

    python -m models.egru_gesture.deploy                 # full weights, all 500 test recordings
    python -m models.egru_gesture.deploy --weights models/egru_gesture/weights/full/*.npz

What runs where:

- host: the synthetic event camera's recordings, binned and pooled into binary frames
  (``models/egru_gesture/data.py``), become spike times: input neuron ``i`` spikes in step
  ``t + 1`` when input ``i`` of frame ``t`` is 1 (one plain spike per active pixel and bin);
  after the run, the readout ``logits = mean over the steps of y @ readout.weight.T +
  readout.bias`` and the arg-max (float64 NumPy) on the recorded graded events;
- chip: per recording, a 512-neuron ``SpikeSourceArray`` and the EGRU layer(s)
  (``sim.egru_layer``).

Every recording starts from zero state. Rather than one network run once per recording with
``sim.reset()`` between (one compilation and one emulator run each), ``--batch`` copies of the
network, each with its own input, are placed side by side on the machine and run together:
one compilation and one run of ``bins + layers`` steps per batch, more PEs. On the chip the
copies run in parallel, so a recording's latency is the batch's run time and its energy the
batch's energy divided by the copies.

The reference is the same recordings through the same layers in PyTorch (float32,
``models/egru_torch.py``), in the same command; without torch, float64 NumPy. Both go through
the same host readout. Writes a JSON file (``--out``) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from models.deploy import (
    Stopwatch,
    WeightFileError,
    batch_loads,
    build_layers,
    check_io_sizes,
    chip_figures,
    chips_for,
    combine_costs,
    compare_layers,
    cost_figures,
    fit_first_batch,
    load_model_file,
    per_copy_chip,
    plan_units_per_pe,
    reference_layers,
    reference_name,
    spike_times,
)
from models.egru_gesture.data import CONFIGS, split_test

HERE = Path(__file__).resolve().parent
DEFAULT_WEIGHTS = (HERE / "weights" / "full" / "egru_gesture.npz",)


def recordings(meta: dict, path: Path, n: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The test recordings of the configuration the file was trained with, as binary
    frames (n, bins, inputs), and their labels."""
    name = meta.get("config")
    if name not in CONFIGS:
        raise WeightFileError(f"{path}: __meta__ config {name!r} is none of {sorted(CONFIGS)}; "
                              f"the deployment needs it to make the test recordings")
    cfg = CONFIGS[name]
    if meta.get("n_bins") != cfg.n_bins or list(meta.get("pooled_size", [])) != [cfg.pooled] * 2:
        raise WeightFileError(f"{path}: n_bins {meta.get('n_bins')} and pooled_size "
                              f"{meta.get('pooled_size')} differ from configuration {name!r} "
                              f"({cfg.n_bins}, {[cfg.pooled] * 2})")
    frames, labels = split_test(cfg, n)
    return frames.astype(bool), labels


def readout(ys_last: np.ndarray, arrays: dict) -> np.ndarray:
    """Host readout (float64): class logits (N, C) from the last layer's outputs (T, N, H)."""
    mean = np.asarray(ys_last, np.float64).mean(axis=0)
    return mean @ arrays["readout.weight"].astype(np.float64).T \
        + arrays["readout.bias"].astype(np.float64)


def emulate_batch(sim: object, arrays: dict[str, np.ndarray], frames: np.ndarray,
                  plan: list[int], hidden: list[int]) -> dict:
    """One run: every recording of ``frames`` (n, bins, inputs) in its own copy of the
    network; their outputs (per layer: bins, n, units), the chip's and cost figures."""
    clock = Stopwatch()
    n, bins, inputs = frames.shape
    sim.setup(timestep=1.0, n_chips=chips_for(n, plan, hidden, inputs))
    copies = []
    for b in range(n):
        source = sim.Population(inputs, sim.SpikeSourceArray(
            spike_times=spike_times(frames[b])), label=f"r{b}_input")
        copies.append(build_layers(sim, source, arrays, len(hidden), plan, prefix=f"r{b}_"))
    clock.lap("build_s")
    sim.run(float(bins + len(hidden)))
    clock.lap("compile_and_run_s")
    ys = [np.stack([sim.graded_output(layers[k].population, bins) for layers in copies], axis=1)
          for k in range(len(hidden))]
    clock.lap("read_s")
    chip = chip_figures(sim)
    cost = cost_figures(sim, inferences=n)
    pieces, loads = batch_loads(chip, cost, [[layers[k].population.label for layers in copies]
                                             for k in range(len(hidden))])
    clock.lap("cost_s")
    sim.end()
    return {"ys": ys, "chip": chip, "cost": cost, "loads": loads, "pieces": pieces,
            "seconds": clock.seconds}


def deploy_file(path: str | Path, samples: int | None = None, batch: int = 50,
                per_core: str | int = "fit", reference: str = "auto",
                progress: bool = False) -> dict:
    """Build, run and evaluate one weight file on the emulator; compare with the reference.

    ``per_core`` as in :func:`models.egru_lm.deploy.deploy_file`; with ``"fit"`` the first
    batch is rerun with more PEs until no PE overruns, and the rest use its plan.
    """
    import pyNN.spinnaker2 as sim

    path = Path(path)
    arrays, meta = load_model_file(path, "egru_gesture")
    classes = list(meta.get("classes", []))
    frames, labels = recordings(meta, path, samples)
    check_io_sizes(arrays, path, frames.shape[2], len(classes),
                   f"inputs per frame (2 x {meta['pooled_size']} pooled pixels)",
                   "classes in __meta__")
    hidden = [int(h) for h in meta["hidden_sizes"]]
    if batch < 1:
        raise ValueError(f"--batch must be >= 1, got {batch}")
    budget = sim.Machine().sram_data_budget
    plan = plan_units_per_pe(arrays, len(hidden), per_core, budget)
    n = len(labels)
    starts = list(range(0, n, batch))
    run, plan, passes = fit_first_batch(
        lambda p: emulate_batch(sim, arrays, frames[: batch], p, hidden), plan, per_core,
        lambda r: {"units_per_pe": [sorted(set(p)) for p in r["pieces"]],
                   "max_pe_load_per_layer": r["loads"], "seconds": r["seconds"]})
    runs = [run]
    for start in starts[1:]:
        if progress:
            print(f"  {start} of {n} recordings done", flush=True)
        runs.append(emulate_batch(sim, arrays, frames[start: start + batch], plan, hidden))
    ys = [np.concatenate([r["ys"][k] for r in runs], axis=1) for k in range(len(hidden))]
    logits = readout(ys[-1], arrays)
    clock = Stopwatch()
    ref_ys, _, backend = reference_layers(arrays, len(hidden),
                                          frames.transpose(1, 0, 2).astype(np.float32),
                                          reference)
    ref_logits = readout(ref_ys[-1], arrays)
    clock.lap("reference_s")
    predicted, ref_predicted = logits.argmax(axis=1), ref_logits.argmax(axis=1)
    bins = frames.shape[1]
    events = [int((y != 0).sum()) for y in ys]
    return {
        "weights": str(path), "hidden_sizes": hidden, "samples": n, "batch": batch,
        "batches": len(runs), "bins": bins, "per_core": str(per_core),
        "units_per_pe": passes[-1]["units_per_pe"], "passes": passes,
        "emulator": {"accuracy": float((predicted == labels).mean()),
                     "activity_sparsity_per_layer": [
                         1.0 - e / (n * bins * h) for e, h in zip(events, hidden, strict=True)],
                     "events_per_sample": sum(events) / n},
        "reference": {"backend": backend,
                      "accuracy": float((ref_predicted == labels).mean()),
                      "events_per_sample": sum(int((y != 0).sum()) for y in ref_ys) / n},
        "predictions_differing": int((predicted != ref_predicted).sum()),
        "max_abs_logit_difference": float(np.abs(logits - ref_logits).max()),
        "layers_vs_reference": compare_layers(ys, ref_ys),
        "chip_per_batch": per_copy_chip(runs[0]["chip"], runs[0]["ys"][0].shape[1]),
        "cost": combine_costs([r["cost"] for r in runs], [1] * len(runs)),
        "seconds": {"emulator_all_batches_s": sum(sum(r["seconds"].values()) for r in runs),
                    "first_batch_passes_s": sum(sum(p["seconds"].values()) for p in passes),
                    **clock.seconds},
    }


def table(results: list[dict]) -> str:
    """The Markdown tables of a deployment run."""
    ref = reference_name(results)
    lines = [f"| weights | units/PE | accuracy emulator | accuracy {ref} | predictions "
             "differing | events differing | activity sparsity | events/sample | PEs per "
             "copy (EGRU) | batch: copies, PEs, chips | router entries | SRAM/PE mean / max "
             "(KiB) | EGRU PE with rows mean / max (KiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        chip, emu = r["chip_per_batch"], r["emulator"]
        differ = sum(d["events_differing"] for d in r["layers_vs_reference"])
        total = sum(d["events"] for d in r["layers_vs_reference"])
        units = " / ".join(f"{min(p)}-{max(p)}" if min(p) != max(p) else str(p[0])
                           for p in r["units_per_pe"])
        lines.append(
            f"| {Path(r['weights']).name} | {units} | {emu['accuracy']:.1%} "
            f"({r['samples']}) | {r['reference']['accuracy']:.1%} | "
            f"{r['predictions_differing']} | {differ} of {total} | "
            f"{' / '.join(f'{s:.1%}' for s in emu['activity_sparsity_per_layer'])} | "
            f"{emu['events_per_sample']:.0f} | {chip['pes_per_copy']:g} "
            f"({chip['egru_pes_per_copy']:g}) | {chip['copies']}, {chip['pes']}, "
            f"{chip['chips']} | {chip['router_entries']} | "
            f"{chip['sram_bytes_mean'] / 1024:.1f} / {chip['sram_bytes_max'] / 1024:.1f} | "
            f"{chip['egru_sram_with_rows_bytes_mean'] / 1024:.1f} / "
            f"{chip['egru_sram_with_rows_bytes_max'] / 1024:.1f} |")
    lines += ["", "| weights | synaptic events/sample | MACs/sample | packets sent/sample | "
              "packets received/sample | worst PE load (1 ms tick) | real time: latency "
              "(batch), energy/sample (dynamic) | free-running: latency (batch), "
              "energy/sample | rows in DRAM, real time: energy/sample | emulator time |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        c = r["cost"]
        per = c["per_inference"]
        rt, fr = c["real_time.rows_in_sram"], c["free_running.rows_in_sram"]
        overrun = f" (overruns in {rt['overrun_runs']} batches)" if rt["overrun_runs"] else ""
        lines.append(
            f"| {Path(r['weights']).name} | {per['synaptic_events']:,.0f} | "
            f"{per['macs']:,.0f} | {per['packets_sent']:.0f} | {per['packets_received']:.0f} "
            f"| {rt['max_pe_load']:.2f}{overrun} | "
            f"{rt['latency_per_inference_s'] * 1e3:.1f} ms, "
            f"{rt['energy_per_inference_j'] * 1e3:.3f} mJ "
            f"({rt['energy_dynamic_per_inference_j'] * 1e3:.3f} mJ) | "
            f"{fr['latency_per_inference_s'] * 1e3:.2f} ms, "
            f"{fr['energy_per_inference_j'] * 1e3:.3f} mJ | "
            f"{c['real_time.rows_in_dram']['energy_per_inference_j'] * 1e3:.3f} mJ | "
            f"{r['seconds']['emulator_all_batches_s']:.0f} s ({r['batches']} batches) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, nargs="+", default=list(DEFAULT_WEIGHTS))
    parser.add_argument("--samples", type=int, default=None,
                        help="test recordings to run (default: all of the configuration's)")
    parser.add_argument("--batch", type=int, default=50,
                        help="copies of the network run side by side (default 50)")
    parser.add_argument("--per-core", default="fit",
                        help="EGRU units per PE: 'fit' (default: rows fit SRAM and the 1 ms "
                             "tick is kept), 'memory' (rows fit SRAM) or a number")
    parser.add_argument("--reference", choices=("auto", "torch", "numpy"), default="auto")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "deploy_full.json")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--table", type=Path, nargs="+", metavar="JSON",
                        help="print the tables of earlier runs' result files, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        print(table([r for f in args.table for r in json.loads(f.read_text())["results"]]))
        return 0
    results = []
    for path in args.weights:
        print(f"{path}: {args.samples or 'all'} test recordings in batches of {args.batch} ...",
              flush=True)
        r = deploy_file(path, args.samples, args.batch, args.per_core, args.reference,
                        progress=not args.no_progress)
        results.append(r)
        print(f"  accuracy emulator {r['emulator']['accuracy']:.4f}, "
              f"{r['reference']['backend']} {r['reference']['accuracy']:.4f}; "
              f"{r['predictions_differing']} predictions differ; "
              f"{r['seconds']['emulator_all_batches_s']:.0f} s on the emulator", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"command": "python -m models.egru_gesture.deploy "
                                    + " ".join(sys.argv[1:] if argv is None else argv),
                                    "results": results}, indent=1) + "\n")
    print(table(results))
    print(f"wrote {args.out}")
    failed = [r["weights"] for r in results if r["predictions_differing"]]
    if failed:
        print(f"predictions on the emulator differ from the reference: {failed}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
