"""Run the trained EGRU language model on SpiNNaker 2 (the emulator) through ``pyNN.spinnaker2``.

    python -m models.egru_lm.deploy                     # the four full weight files, 2,000 chars
    python -m models.egru_lm.deploy --weights models/egru_lm/weights/full/egru_pruned95.npz \
        --chars 20000 --out models/egru_lm/results/deploy_full_20000.json

What runs where:

- host: the text, encoded with the weight file's vocabulary, becomes spike times (one-hot:
  character k of the stretch is one plain spike of input neuron ``token`` in step k + 1);
  after the run, the readout ``logits = y_last @ readout.weight.T + readout.bias`` and the
  softmax (float64 NumPy) on the last layer's recorded graded events;
- chip: an 85-neuron ``SpikeSourceArray`` (its spike schedule in the source PE's SRAM) and
  the EGRU layers (``sim.egru_layer``: one population and six gate projections each; the
  kernels' and recurrent kernels' non-zero weights as synaptic rows). The embedding is not
  looked up on the host: the one-hot input's spike reaches row ``token`` of layer 0's
  kernel, which is the embedding, so a character costs one packet instead of 3 x 128 graded
  ones (a ``GradedSourceArray`` of embedding rows would send every non-zero entry).

Layer l sees layer l - 1 one step later (``doc/egru.md``, the pipeline): position k of layer
l is at step ``sim.first_step(layer) + k``, and ``sim.graded_output`` reads it by position, so
the run lasts chars + layers steps.

The reference is the same stretch through the same layers in PyTorch (float32,
``models/egru_torch.py``), in the same command; without torch, float64 NumPy. Both go through
the same host readout. Writes a JSON file (``--out``) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from models.deploy import (
    Stopwatch,
    WeightFileError,
    build_layers,
    check_io_sizes,
    chip_figures,
    compare_layers,
    cost_figures,
    load_model_file,
    more_pes,
    plan_units_per_pe,
    reference_layers,
    reference_name,
    spike_times,
)
from models.egru_lm import data

HERE = Path(__file__).resolve().parent
FULL = HERE / "weights" / "full"
DEFAULT_WEIGHTS = tuple(FULL / f"egru_{n}.npz" for n in ("dense", "pruned80", "pruned90",
                                                         "pruned95"))
#: Perplexity on the emulator must agree with the reference within this relative difference.
TOLERANCE = 0.01
#: Runs at most, with ``--per-core fit``, to find units per PE that keep the 1 ms tick.
MAX_PASSES = 4
#: Bytes of one entry of a spike source's schedule in its PE's SRAM (mapping/memory.py).
SCHEDULE_BYTES = 8


def check_vocabulary(arrays: dict[str, np.ndarray], meta: dict, path: Path) -> str:
    """The file's vocabulary, after checking that the input and readout have its size."""
    vocabulary = meta.get("vocabulary") or ""
    if len(vocabulary) < 2:
        raise WeightFileError(f"{path}: __meta__ has no vocabulary")
    check_io_sizes(arrays, path, len(vocabulary), len(vocabulary),
                   "characters in the vocabulary (one-hot input)",
                   "characters in the vocabulary (one logit each)")
    return vocabulary


def text_stretch(meta: dict, offset: int, chars: int) -> np.ndarray:
    """``chars + 1`` characters of the test split from ``offset``, encoded with the weight
    file's vocabulary (characters it lacks become its unknown token 0)."""
    works = tuple(meta.get("works", {}).get("test", data.TEST_WORKS))
    text = data.read_split(data.fetch_corpus(), works)
    if offset < 0 or chars < 1 or offset + chars + 1 > len(text):
        raise ValueError(f"--offset {offset} --chars {chars}: the test split has {len(text)} "
                         f"characters (chars + 1 of them from the offset are needed)")
    return data.Vocabulary(meta["vocabulary"]).encode(text[offset: offset + chars + 1])


def check_source_fits(x: np.ndarray, vocabulary: str, budget: int) -> None:
    """A spike source PE keeps its neurons' spike schedule in SRAM: refuse a stretch whose
    most frequent character alone overflows a PE, before the mapper does."""
    counts = np.bincount(x, minlength=len(vocabulary))
    worst = int(np.argmax(counts))
    need = int(counts[worst]) * SCHEDULE_BYTES
    if need > budget // 2:
        raise ValueError(
            f"--chars {x.size}: character {vocabulary[worst]!r} occurs {counts[worst]} times; "
            f"its input neuron's spike schedule ({need} bytes) would take more than half of a "
            f"PE's {budget}-byte SRAM data budget. Use fewer characters (about "
            f"{x.size * budget // (2 * need)} at most) and run longer stretches in parts")


def perplexity(y_last: np.ndarray, targets: np.ndarray, arrays: dict) -> tuple[float, float]:
    """Host readout and softmax (float64): (perplexity, mean cross-entropy in nats)."""
    logits = np.asarray(y_last, np.float64) @ arrays["readout.weight"].astype(np.float64).T \
        + arrays["readout.bias"].astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    nll = float(-logp[np.arange(targets.size), targets].mean())
    return math.exp(nll), nll


def deploy_file(path: str | Path, chars: int = 2000, offset: int = 0,
                per_core: str | int = "fit", n_chips: int = 1, reference: str = "auto",
                progress: bool = False) -> dict:
    """Build, run and evaluate one weight file on the emulator; compare with the reference.

    ``per_core``: EGRU units per PE, ``"memory"`` (the fewest PEs whose synaptic rows and
    state fit the SRAM budget), ``"fit"`` (that, then more PEs for a layer whose busiest PE
    overran the 1 ms timer tick, run again until none does) or a number. Returns the
    JSON-ready figures (see ``models/egru_lm/README.md``).
    """
    import pyNN.spinnaker2 as sim

    path = Path(path)
    arrays, meta = load_model_file(path, "egru_lm")
    vocabulary = check_vocabulary(arrays, meta, path)
    hidden = [int(h) for h in meta["hidden_sizes"]]
    tokens = text_stretch(meta, offset, chars)
    x, targets = tokens[:-1], tokens[1:]
    budget = sim.Machine.from_chips(n_chips).sram_data_budget
    check_source_fits(x, vocabulary, budget)
    plan = plan_units_per_pe(arrays, len(hidden), per_core, budget)
    passes = []
    while True:
        run = emulate(sim, arrays, vocabulary, x, plan, n_chips, progress)
        loads = [run["cost"]["max_pe_load_by_population"][f"egru{k}"]
                 for k in range(len(hidden))]
        pieces = [run["chip"]["layers"][f"egru{k}"]["units_per_pe"] for k in range(len(hidden))]
        passes.append({"units_per_pe": pieces, "max_pe_load_per_layer": loads,
                       "egru_pes": run["chip"]["egru_pes"], "seconds": run["seconds"]})
        plan = (more_pes(plan, [max(p) for p in pieces], loads)
                if per_core == "fit" and len(passes) < MAX_PASSES else None)
        if plan is None:
            break
    clock = Stopwatch()
    ys = run.pop("ys")
    ppl, nll = perplexity(ys[-1], targets, arrays)
    ref_ys, _, backend = reference_layers(arrays, len(hidden), x[:, None], reference)
    ref_ys = [y[:, 0, :] for y in ref_ys]
    ref_ppl, ref_nll = perplexity(ref_ys[-1], targets, arrays)
    clock.lap("reference_s")
    relative = abs(ppl - ref_ppl) / ref_ppl
    events = sum(int((y != 0).sum()) for y in ys)
    return {
        "weights": str(path), "pruned": float(meta.get("pruned_sparsity", 0.0)),
        "hidden_sizes": hidden, "chars": chars, "offset": offset,
        "per_core": str(per_core), "units_per_pe": passes[-1]["units_per_pe"],
        "passes": passes, "first_steps": run["first_steps"],
        "emulator": {"perplexity": ppl, "loss_nats": nll, "bits_per_char": nll / math.log(2),
                     "activity_sparsity_per_layer": run["activity_sparsity_per_layer"],
                     "activity_sparsity": 1.0 - events / (chars * sum(hidden)),
                     "events_per_char": events / chars},
        "reference": {"backend": backend, "perplexity": ref_ppl, "loss_nats": ref_nll,
                      "events_per_char": sum(int((y != 0).sum()) for y in ref_ys) / chars},
        "perplexity_relative_difference": relative,
        "within_tolerance": bool(relative <= TOLERANCE), "tolerance": TOLERANCE,
        "layers_vs_reference": compare_layers(ys, ref_ys),
        "chip": run["chip"], "cost": run["cost"],
        "seconds": {**run["seconds"], **clock.seconds,
                    "all_passes_s": sum(sum(p["seconds"].values()) for p in passes)},
        "training_run_prefix_perplexity": _training_prefix(path, chars, offset),
    }


def emulate(sim: object, arrays: dict[str, np.ndarray], vocabulary: str, x: np.ndarray,
            plan: list[int], n_chips: int, progress: bool) -> dict:
    """One run on the emulator: the input characters ``x`` through the EGRU layers with
    ``plan`` units per PE; the layers' outputs by position, the chip's and cost figures."""
    clock = Stopwatch()
    chars = x.size
    sim.setup(timestep=1.0, n_chips=n_chips, progress=progress)
    one_hot = np.zeros((chars, len(vocabulary)), bool)
    one_hot[np.arange(chars), x] = True
    source = sim.Population(len(vocabulary), sim.SpikeSourceArray(
        spike_times=spike_times(one_hot)), label="characters")
    layers = build_layers(sim, source, arrays, len(plan), plan)
    clock.lap("build_s")
    sim.run(float(chars + len(layers)))  # the last layer computes position k at step k + L
    clock.lap("compile_and_run_s")
    out = {"ys": [sim.graded_output(layer.population, chars) for layer in layers],
           "first_steps": [sim.first_step(layer.population) for layer in layers],
           "activity_sparsity_per_layer": [
               float(np.mean(sim.activity_sparsity(layer.population)[:chars]))
               for layer in layers]}
    clock.lap("read_s")
    out["chip"] = chip_figures(sim)
    out["cost"] = cost_figures(sim, inferences=chars)
    clock.lap("cost_s")
    sim.end()
    out["seconds"] = clock.seconds
    return out


def _training_prefix(path: Path, chars: int, offset: int) -> float | None:
    """The test-prefix perplexity the training run wrote for this file (PyTorch float32,
    2,000 characters from the start of the test split), if this is that stretch."""
    if offset != 0 or chars != 2000:
        return None
    name = path.stem.replace("egru_", "")
    results = path.parents[2] / "results" / f"{path.parent.name}_egru_{name}.json"
    if not results.exists():
        return None
    figures = json.loads(results.read_text())
    section = figures.get("dense") or figures.get("after_fine_tuning") or {}
    return section.get("test_prefix", {}).get("perplexity")


def _units(pieces: list[int]) -> str:
    """Units per PE of a layer: ``16`` or ``14-15``."""
    lo, hi = min(pieces), max(pieces)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def table(results: list[dict]) -> str:
    """The Markdown tables of a deployment run."""
    ref = reference_name(results)
    lines = [f"| weights | pruned | ppl emulator | ppl {ref} | rel. diff. | events differing "
             "| activity sparsity per layer | events/char | EGRU PEs (units/PE) | chips | "
             "router entries | SRAM/PE mean / max (KiB) | with rows mean / max (KiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        emu, chip = r["emulator"], r["chip"]
        differ = sum(d["events_differing"] for d in r["layers_vs_reference"])
        total = sum(d["events"] for d in r["layers_vs_reference"])
        lines.append(
            f"| {Path(r['weights']).name} | {r['pruned']:.0%} | {emu['perplexity']:.4f} | "
            f"{r['reference']['perplexity']:.4f} | {r['perplexity_relative_difference']:.1e} | "
            f"{differ} of {total} | "
            f"{' / '.join(f'{s:.1%}' for s in emu['activity_sparsity_per_layer'])} | "
            f"{emu['events_per_char']:.1f} | {chip['egru_pes']} "
            f"({' / '.join(_units(u) for u in r['units_per_pe'])}) | {chip['chips']} | "
            f"{chip['router_entries']} | {chip['sram_bytes_mean'] / 1024:.1f} / "
            f"{chip['sram_bytes_max'] / 1024:.1f} | "
            f"{chip['egru_sram_with_rows_bytes_mean'] / 1024:.1f} / "
            f"{chip['egru_sram_with_rows_bytes_max'] / 1024:.1f} |")
    lines += ["", "| weights | synaptic events/char | MACs/char | packets sent/char | "
              "packets received/char | worst PE load (1 ms tick) | real time (1 char/ms): "
              "energy/char (dynamic) | free-running: latency/char, energy/char | "
              "rows in DRAM, real time: energy/char |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        c = r["cost"]
        per = c["per_inference"]
        rt, fr = c["real_time.rows_in_sram"], c["free_running.rows_in_sram"]
        overrun = " (overruns)" if rt["overrun"] else ""
        lines.append(
            f"| {Path(r['weights']).name} | {per['synaptic_events']:,.0f} | {per['macs']:,.0f} "
            f"| {per['packets_sent']:.1f} | {per['packets_received']:.1f} | "
            f"{rt['max_pe_load']:.2f}{overrun} | "
            f"{rt['energy_per_inference_j'] * 1e6:.1f} uJ "
            f"({rt['energy_dynamic_per_inference_j'] * 1e6:.1f} uJ) | "
            f"{fr['latency_per_inference_s'] * 1e3:.3f} ms, "
            f"{fr['energy_per_inference_j'] * 1e6:.1f} uJ | "
            f"{c['real_time.rows_in_dram']['energy_per_inference_j'] * 1e6:.1f} uJ |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, nargs="+", default=list(DEFAULT_WEIGHTS),
                        help="weight files (default: the four full ones)")
    parser.add_argument("--chars", type=int, default=2000,
                        help="characters to predict (default 2000, the training run's test "
                             "prefix)")
    parser.add_argument("--offset", type=int, default=0, help="first character of the "
                        "stretch in the test split (default 0)")
    parser.add_argument("--per-core", default="fit",
                        help="EGRU units per PE: 'fit' (default: rows fit SRAM and the 1 ms "
                             "tick is kept), 'memory' (rows fit SRAM) or a number")
    parser.add_argument("--chips", type=int, default=1, help="chips of the machine")
    parser.add_argument("--reference", choices=("auto", "torch", "numpy"), default="auto")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "deploy_full.json")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    results = []
    for path in args.weights:
        print(f"{path}: {args.chars} characters from {args.offset} ...", flush=True)
        r = deploy_file(path, args.chars, args.offset, args.per_core, args.chips,
                        args.reference, progress=not args.no_progress)
        results.append(r)
        print(f"  perplexity emulator {r['emulator']['perplexity']:.4f}, "
              f"{r['reference']['backend']} {r['reference']['perplexity']:.4f} "
              f"(relative difference {r['perplexity_relative_difference']:.2e}); "
              f"{r['seconds']['compile_and_run_s']:.1f} s on the emulator", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"command": "python -m models.egru_lm.deploy "
                                    + " ".join(sys.argv[1:] if argv is None else argv),
                                    "results": results}, indent=1) + "\n")
    print(table(results))
    print(f"wrote {args.out}")
    failed = [r["weights"] for r in results if not r["within_tolerance"]]
    if failed:
        print(f"perplexity on the emulator differs from the reference by more than "
              f"{TOLERANCE:.0%}: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
