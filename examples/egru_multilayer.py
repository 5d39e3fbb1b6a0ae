"""A stacked EGRU network on SpiNNaker 2: an embedding lookup per step (a graded source) into
three pruned EGRU layers, mapped across many PEs and chips and run on the emulator.

    python examples/egru_multilayer.py [--hidden 512 512 256] [--embedding 128] [--steps 100]
        [--prune 0.9] [--per-core 32] [--chips 4] [--out reports/egru]

Prints the mapping (PEs, chips, router entries), the activity sparsity of each layer (the
fraction of units that send nothing per step), the synaptic memory per PE as stored
(compressed sparse rows) against dense matrices, and checks every event against the EvNN
equations computed in float64 with numpy, and prints the cost model's estimate of power,
latency and energy on the chip. Writes ``summary.json`` and ``egru.png`` (events of
the first layer coloured by value, and the sparsity per step) into ``--out``.

The weights are random (Xavier-scaled, then pruned), not trained: the figures show the
machinery, not a language model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyNN.spinnaker2 as sim

from pynn_spinnaker2.reports import summary


def random_layer(rng: np.random.Generator, n_in: int, n: int, prune: float) -> tuple:
    """EvNN-layout weights (kernel, recurrent_kernel, bias, recurrent_bias, thr), pruned."""
    keep = 1.0 - prune
    w = rng.normal(0.0, 1.5 / np.sqrt(n_in * keep), (n_in, 3 * n))
    v = rng.normal(0.0, 1.5 / np.sqrt(n * keep), (n, 3 * n))
    w[rng.random(w.shape) < prune] = 0.0
    v[rng.random(v.shape) < prune] = 0.0
    return (w, v, rng.normal(0.0, 0.3, 3 * n), rng.normal(0.0, 0.3, 3 * n),
            rng.beta(3 * 0.3 / 0.7, 3.0, n))


def evnn_forward(x: np.ndarray, layers: list[tuple]) -> list[np.ndarray]:
    """EvNN's EGRU forward pass (its EGRUScript) in float64, layer after layer."""
    out, inp = [], x
    for w, v, b, bv, thr in layers:
        n = thr.size
        c, y, ys = np.zeros(n), np.zeros(n), []
        for t in range(inp.shape[0]):
            wx, rh = inp[t] @ w + b, y @ v + bv
            z = 1 / (1 + np.exp(-(wx[:n] + rh[:n])))
            r = 1 / (1 + np.exp(-(wx[n:2 * n] + rh[n:2 * n])))
            g = np.tanh(wx[2 * n:] + r * rh[2 * n:])
            c_hat = z * c + (1 - z) * g
            e = c_hat > thr
            y, c = np.where(e, c_hat, 0.0), c_hat - e * thr
            ys.append(y)
        out.append(np.array(ys))
        inp = out[-1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 512, 256])
    parser.add_argument("--embedding", type=int, default=128, help="embedding size")
    parser.add_argument("--vocabulary", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100, help="sequence length")
    parser.add_argument("--prune", type=float, default=0.9, help="fraction of zero weights")
    parser.add_argument("--per-core", type=int, default=32, help="EGRU units per PE")
    parser.add_argument("--chips", type=int, default=4)
    parser.add_argument("--out", default="reports/egru")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)

    table = rng.normal(0.0, 1.0, (args.vocabulary, args.embedding))
    tokens = rng.integers(0, args.vocabulary, args.steps)
    x = table[tokens]  # the embedding lookup, done on the host
    sizes = [args.embedding, *args.hidden]
    params = [random_layer(rng, a, b, args.prune) for a, b in zip(sizes[:-1], sizes[1:],
                                                                     strict=True)]

    start = time.perf_counter()
    sim.setup(timestep=1.0, n_chips=args.chips, progress=True)
    pop = sim.Population(args.embedding, sim.GradedSourceArray.from_matrix(x),
                         label="embedding")
    layers = []
    for k, p in enumerate(params):
        layer = sim.egru_layer(pop, *p, label=f"egru{k}", max_per_core=args.per_core)
        layer.population.record("spikes")
        layers.append(layer)
        pop = layer.population
    build = time.perf_counter() - start
    start = time.perf_counter()
    sim.run(float(args.steps + len(layers)))
    run = time.perf_counter() - start
    compiled = sim.get_mapping()

    reference = evnn_forward(x, params)
    figures = summary(compiled)
    print(f"\n{len(layers)} EGRU layers {args.hidden}, embedding {args.embedding}, "
          f"{args.steps} steps, {args.prune:.0%} of the weights pruned")
    print(f"PEs used {figures['pes_used']} on {figures['chips_used']} of "
          f"{figures['machine_chips']} chips; router entries "
          f"{figures['router_entries_before_compression']} -> "
          f"{figures['router_entries_after_compression']} after compression; "
          f"synapses {figures['synapses']}")
    per_layer = []
    for layer, y_ref in zip(layers, reference, strict=True):
        y = sim.graded_output(layer.population, args.steps)
        sparsity = sim.activity_sparsity(layer.population)[:args.steps]
        mismatched = int(((y != 0) != (y_ref != 0)).sum())
        error = float(np.abs(y - y_ref).max())
        per_layer.append({"population": layer.population.label,
                          "units": layer.population.size,
                          "first_step": sim.first_step(layer.population),
                          "activity_sparsity_mean": float(sparsity.mean()),
                          "events_per_step": float((y != 0).sum(axis=1).mean()),
                          "events_differing_from_evnn_float64": mismatched,
                          "max_value_error": error})
        print(f"  {layer.population.label}: {layer.population.size} units, first step "
              f"{per_layer[-1]['first_step']}, activity sparsity {sparsity.mean():.3f} "
              f"({per_layer[-1]['events_per_step']:.1f} events per step); vs EvNN equations "
              f"in float64: {mismatched} events differ, max value error {error:.2e}")
    memory = sim.synapse_memory()
    sparse = np.array([m["sparse_bytes"] for m in memory])
    dense = np.array([m["dense_bytes"] for m in memory])
    print(f"synaptic memory per EGRU PE ({len(memory)} PEs): sparse rows mean "
          f"{sparse.mean() / 1024:.1f} KiB (max {sparse.max() / 1024:.1f}), dense float32 "
          f"matrices mean {dense.mean() / 1024:.1f} KiB (max {dense.max() / 1024:.1f}); "
          f"SRAM data budget {compiled.image.machine.sram_data_budget // 1024} KiB")
    cost = {timing: sim.get_cost(timing=timing).summary()
            for timing in ("real_time", "free_running")}
    rt, fr = cost["real_time"], cost["free_running"]
    print(f"cost model ({len(memory)} EGRU PEs + source, whole run of {rt['steps']} steps): "
          f"power {rt['power_w']:.3f} W; timer-driven 1 ms steps overrun: {rt['overrun']} "
          f"(worst PE at {rt['max_pe_load']:.2f} x the step); free-running "
          f"{fr['latency_per_step_s'] * 1e3:.2f} ms and "
          f"{fr['energy_j'] / rt['steps'] * 1e3:.2f} mJ per step (see doc/cost_model.md)")
    print(f"timings: build {build:.2f} s, compile + run {run:.2f} s "
          f"({figures['timings_s']})")
    (out / "summary.json").write_text(json.dumps(
        {"mapping": figures, "layers": per_layer,
         "memory_per_pe": {"sparse_bytes_mean": float(sparse.mean()),
                           "sparse_bytes_max": int(sparse.max()),
                           "dense_bytes_mean": float(dense.mean()),
                           "dense_bytes_max": int(dense.max())},
         "cost": cost, "seconds": {"build": build, "run": run}}, indent=2))
    _plot(layers, args.steps, out / "egru.png")
    print(f"wrote {out / 'summary.json'} and {out / 'egru.png'}")
    sim.end()


def _plot(layers: list, steps: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    y = sim.graded_output(layers[0].population, steps)
    pos, unit = np.nonzero(y)
    points = top.scatter(pos, unit, c=y[pos, unit], s=2, cmap="viridis")
    fig.colorbar(points, ax=top, label="event value")
    top.set_ylabel(f"{layers[0].population.label} unit")
    for layer in layers:
        bottom.plot(sim.activity_sparsity(layer.population)[:steps], label=layer.population.label)
    bottom.set_xlabel("sequence position")
    bottom.set_ylabel("activity sparsity")
    bottom.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
