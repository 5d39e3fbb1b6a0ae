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
from models.egru_lm import data

HERE = Path(__file__).resolve().parent
FULL = HERE / "weights" / "full"
DEFAULT_WEIGHTS = tuple(FULL / f"egru_{n}.npz" for n in ("dense", "pruned80", "pruned90",
                                                         "pruned95"))
#: Perplexity on the emulator must agree with the reference within this relative difference.
TOLERANCE = 0.01
#: Characters of the test split (Hamlet, A Midsummer Night's Dream, Henry V, Lucrece).
TEST_CHARS = 509_138
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


def held_out_text(meta: dict) -> str:
    """The test split's text (the works named in the file's metadata)."""
    works = tuple(meta.get("works", {}).get("test", data.TEST_WORKS))
    return data.read_split(data.fetch_corpus(), works)


def text_segments(meta: dict, offset: int, chars: int, segments: int) -> np.ndarray:
    """(segments, chars + 1) tokens: ``segments`` contiguous stretches of the test split from
    ``offset``, each of ``chars`` + 1 characters (the last one only a target), encoded with
    the weight file's vocabulary (characters it lacks become its unknown token 0)."""
    text = held_out_text(meta)
    need = segments * (chars + 1)
    if offset < 0 or chars < 1 or segments < 1 or offset + need > len(text):
        raise ValueError(f"--offset {offset} --chars {chars} --segments {segments}: needs "
                         f"{need} characters from the offset, the test split has {len(text)}")
    tokens = data.Vocabulary(meta["vocabulary"]).encode(text[offset: offset + need])
    return tokens.reshape(segments, chars + 1)


def whole_split(meta: dict, segments: int = 128) -> tuple[int, int]:
    """(chars, segments) that cover the test split as the training run's evaluation does:
    ``segments`` contiguous pieces of ``len // segments`` characters, each from zero state."""
    return len(held_out_text(meta)) // segments - 1, segments


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
            f"PE's {budget}-byte SRAM data budget. Use fewer characters per segment (about "
            f"{x.size * budget // (2 * need)} at most), or more segments")


def cross_entropy(y_last: np.ndarray, targets: np.ndarray, arrays: dict) -> float:
    """Host readout and softmax (float64): summed cross-entropy (nats) of ``targets`` (T, N)
    given the last layer's outputs (T, N, H)."""
    logits = np.asarray(y_last, np.float64) @ arrays["readout.weight"].astype(np.float64).T \
        + arrays["readout.bias"].astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).sum())


def deploy_file(path: str | Path, chars: int = 2000, offset: int = 0, segments: int = 1,
                batch: int = 8, per_core: str | int = "fit", reference: str = "auto",
                progress: bool = False) -> dict:
    """Build, run and evaluate one weight file on the emulator; compare with the reference.

    ``segments`` contiguous stretches of ``chars`` predicted characters each, from
    ``offset`` in the test split, each from zero state: one copy of the network per
    segment, ``batch`` copies side by side per run. ``per_core``: EGRU units per PE,
    ``"memory"`` (the fewest PEs whose synaptic rows and state fit the SRAM budget),
    ``"fit"`` (that, then more PEs for a layer whose busiest PE overran the 1 ms timer
    tick, the first run repeated until none does) or a number. Returns the JSON-ready
    figures (see ``models/egru_lm/README.md``).
    """
    import pyNN.spinnaker2 as sim

    path = Path(path)
    arrays, meta = load_model_file(path, "egru_lm")
    vocabulary = check_vocabulary(arrays, meta, path)
    hidden = [int(h) for h in meta["hidden_sizes"]]
    if batch < 1:
        raise ValueError(f"--batch must be >= 1, got {batch}")
    tokens = text_segments(meta, offset, chars, segments)
    x, targets = tokens[:, :-1], tokens[:, 1:]
    budget = sim.Machine().sram_data_budget
    for row in x:
        check_source_fits(row, vocabulary, budget)
    plan = plan_units_per_pe(arrays, len(hidden), per_core, budget)
    run, plan, passes = fit_first_batch(
        lambda p: emulate(sim, arrays, vocabulary, x[:batch], p, progress), plan, per_core,
        lambda r: {"units_per_pe": r["pieces"], "max_pe_load_per_layer": r["loads"],
                   "egru_pes": r["chip"]["egru_pes"], "seconds": r["seconds"]})
    clock = Stopwatch()
    totals = {"nll": 0.0, "ref_nll": 0.0, "layers": None, "costs": [], "seconds": 0.0}
    backend = ""
    for start in range(0, segments, batch):
        if start:
            if progress:
                print(f"  {start} of {segments} segments done", flush=True)
            run = emulate(sim, arrays, vocabulary, x[start: start + batch], plan, progress)
        stop = start + run["ys"][0].shape[1]
        clock.lap("later_batches_s")
        ref_ys, _, backend = reference_layers(arrays, len(hidden), x[start: stop].T, reference)
        clock.lap("reference_s")
        t = targets[start: stop].T
        totals["nll"] += cross_entropy(run["ys"][-1], t, arrays)
        totals["ref_nll"] += cross_entropy(ref_ys[-1], t, arrays)
        totals["layers"] = compare_layers(run["ys"], ref_ys, totals["layers"])
        totals["costs"].append(run["cost"])
        totals["seconds"] += sum(run["seconds"].values())
        if start == 0:
            first = run
    n = segments * chars
    nll, ref_nll = totals["nll"] / n, totals["ref_nll"] / n
    ppl, ref_ppl = math.exp(nll), math.exp(ref_nll)
    relative = abs(ppl - ref_ppl) / ref_ppl
    layers = totals["layers"]
    events = sum(d["events"] for d in layers)
    return {
        "weights": str(path), "pruned": float(meta.get("pruned_sparsity", 0.0)),
        "hidden_sizes": hidden, "chars": chars, "segments": segments, "offset": offset,
        "predicted_chars": n, "batch": min(batch, segments), "per_core": str(per_core),
        "units_per_pe": passes[-1]["units_per_pe"], "passes": passes,
        "first_steps": first["first_steps"],
        "emulator": {"perplexity": ppl, "loss_nats": nll, "bits_per_char": nll / math.log(2),
                     "activity_sparsity_per_layer": [1.0 - d["events"] / (n * h)
                                                     for d, h in zip(layers, hidden,
                                                                     strict=True)],
                     "activity_sparsity": 1.0 - events / (n * sum(hidden)),
                     "events_per_char": events / n},
        "reference": {"backend": backend, "perplexity": ref_ppl, "loss_nats": ref_nll,
                      "events_per_char": sum(d["reference_events"] for d in layers) / n},
        "perplexity_relative_difference": relative,
        "within_tolerance": bool(relative <= TOLERANCE), "tolerance": TOLERANCE,
        "layers_vs_reference": layers,
        "chip": per_copy_chip(first["chip"], first["ys"][0].shape[1]),
        "cost": combine_costs(totals["costs"], [chars] * len(totals["costs"])),
        "seconds": {"emulator_runs_s": totals["seconds"], **clock.seconds,
                    "first_run_passes_s": sum(sum(p["seconds"].values()) for p in passes)},
        "training_run_perplexity": _training_figure(path, chars, offset, segments),
    }


def emulate(sim: object, arrays: dict[str, np.ndarray], vocabulary: str, x: np.ndarray,
            plan: list[int], progress: bool) -> dict:
    """One run on the emulator: every row of ``x`` (copies, chars) in its own copy of the
    network (85-neuron spike source and EGRU layers with ``plan`` units per PE); the layers'
    outputs by position (chars, copies, units), the chip's and cost figures."""
    clock = Stopwatch()
    copies, chars = x.shape
    hidden = [int(arrays[f"egru{k}.thr"].size) for k in range(len(plan))]
    sim.setup(timestep=1.0, n_chips=chips_for(copies, plan, hidden, len(vocabulary)),
              progress=progress and copies == 1)
    nets = []
    for b in range(copies):
        one_hot = np.zeros((chars, len(vocabulary)), bool)
        one_hot[np.arange(chars), x[b]] = True
        source = sim.Population(len(vocabulary), sim.SpikeSourceArray(
            spike_times=spike_times(one_hot)), label=f"s{b}_characters")
        nets.append(build_layers(sim, source, arrays, len(plan), plan, prefix=f"s{b}_"))
    clock.lap("build_s")
    sim.run(float(chars + len(plan)))  # the last layer computes position k at step k + L
    clock.lap("compile_and_run_s")
    ys = [np.stack([sim.graded_output(net[k].population, chars) for net in nets], axis=1)
          for k in range(len(plan))]
    first = [sim.first_step(layer.population) for layer in nets[0]]
    clock.lap("read_s")
    chip = chip_figures(sim)
    cost = cost_figures(sim, inferences=copies * chars)
    labels = [[net[k].population.label for net in nets] for k in range(len(plan))]
    pieces, loads = batch_loads(chip, cost, labels)
    clock.lap("cost_s")
    sim.end()
    return {"ys": ys, "first_steps": first, "chip": chip, "cost": cost, "pieces": pieces,
            "loads": loads, "seconds": clock.seconds}


def _training_figure(path: Path, chars: int, offset: int, segments: int) -> float | None:
    """The perplexity the training run wrote for this file and stretch (PyTorch float32):
    its test prefix (2,000 characters from the start, one segment) or its test split
    (128 segments), if this run covers either."""
    if offset != 0 or (chars, segments) not in ((2000, 1), (TEST_CHARS // 128 - 1, 128)):
        return None
    name = path.stem.replace("egru_", "")
    results = path.parents[2] / "results" / f"{path.parent.name}_egru_{name}.json"
    if not results.exists():
        return None
    figures = json.loads(results.read_text())
    section = figures.get("dense") or figures.get("after_fine_tuning") or {}
    return section.get("test_prefix" if segments == 1 else "test", {}).get("perplexity")


def _stretch(r: dict) -> str:
    """``2,000`` or ``128 x 3,976``: segments and characters predicted in each."""
    chars = f"{r['chars']:,}"
    return chars if r["segments"] == 1 else f"{r['segments']} x {chars}"


def _chips(chip: dict) -> str:
    """Chips of the run, and its copies of the network when more than one."""
    if chip["copies"] == 1:
        return str(chip["chips"])
    return f"{chip['chips']} ({chip['copies']} copies)"


def _units(pieces: list[int]) -> str:
    """Units per PE of a layer: ``16`` or ``14-15``."""
    lo, hi = min(pieces), max(pieces)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def table(results: list[dict]) -> str:
    """The Markdown tables of a deployment run."""
    ref = reference_name(results)
    lines = [f"| weights | pruned | characters | ppl emulator | ppl {ref} | rel. diff. | "
             "events differing | activity sparsity per layer | events/char | EGRU PEs per "
             "copy (units/PE) | chips | router entries | SRAM/PE mean / max (KiB) | EGRU PE with "
             "rows mean / max (KiB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        emu, chip = r["emulator"], r["chip"]
        differ = sum(d["events_differing"] for d in r["layers_vs_reference"])
        total = sum(d["events"] for d in r["layers_vs_reference"])
        lines.append(
            f"| {Path(r['weights']).name} | {r['pruned']:.0%} | {_stretch(r)} | "
            f"{emu['perplexity']:.4f} | "
            f"{r['reference']['perplexity']:.4f} | {r['perplexity_relative_difference']:.1e} | "
            f"{differ} of {total} | "
            f"{' / '.join(f'{s:.1%}' for s in emu['activity_sparsity_per_layer'])} | "
            f"{emu['events_per_char']:.1f} | {chip['egru_pes_per_copy']:g} "
            f"({' / '.join(_units(u) for u in r['units_per_pe'])}) | {_chips(chip)} | "
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
        overrun = f" (overruns in {rt['overrun_runs']} runs)" if rt["overrun_runs"] else ""
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
                        help="characters to predict per segment (default 2000: with one "
                             "segment, the training run's test prefix)")
    parser.add_argument("--segments", type=int, default=1,
                        help="contiguous segments, each from zero state (default 1)")
    parser.add_argument("--whole-split", action="store_true",
                        help="the whole test split in 128 segments, as the training run "
                             "evaluated it (sets --chars, --segments and --offset 0)")
    parser.add_argument("--offset", type=int, default=0, help="first character in the test "
                        "split (default 0)")
    parser.add_argument("--batch", type=int, default=8,
                        help="segments run side by side, one network copy each (default 8)")
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
        chars, segments, offset = args.chars, args.segments, args.offset
        if args.whole_split:
            _, meta = load_model_file(path, "egru_lm")
            (chars, segments), offset = whole_split(meta), 0
        print(f"{path}: {segments} x {chars} characters from {offset} ...", flush=True)
        r = deploy_file(path, chars, offset, segments, args.batch, args.per_core,
                        args.reference, progress=not args.no_progress)
        results.append(r)
        print(f"  perplexity emulator {r['emulator']['perplexity']:.4f}, "
              f"{r['reference']['backend']} {r['reference']['perplexity']:.4f} "
              f"(relative difference {r['perplexity_relative_difference']:.2e}); "
              f"{r['seconds']['emulator_runs_s']:.1f} s on the emulator", flush=True)
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
