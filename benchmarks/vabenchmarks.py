"""PyNN's VAbenchmarks (Vogels & Abbott 2005; Brette et al. 2007) on SpiNNaker 2 and on NEST
3.10, in the same run on the same machine: time per stage and peak memory, side by side.

    python benchmarks/vabenchmarks.py [--benchmark CUBA] [--tstop 1000] [--repeat 1]

The network is the one of PyNN's ``examples/VAbenchmarks.py`` (4000 cells, 80 % excitatory,
p = 0.02, the same parameters, random seed and connectors; setup as the example calls it).
Each simulator runs in its own process, one after the other, so peak memory (``ru_maxrss``)
is its own. Stages:

- import: ``import pyNN.<simulator>``;
- build: setup, populations, initial values, projections, recording (the example's "build");
- for SpiNNaker 2, compile (what ``sim.run`` does before the first step): network (PyNN
  objects -> Network -> XML -> Network, validated), mapping (partition, placement, keys,
  routes, compressed tables, check), image (per-core memory images), load (the emulator
  reads the image; routes resolved per key block by walking the router tables);
- run: the simulated second;
- total: build + compile + run (import excluded).

Every spike is carried by the compiled router tables to the cores that hold its synaptic rows;
the emulator's counters (packets sent, synaptic events) are printed with the rates. The
machine is shared: timings vary from run to run (use ``--repeat`` and read the best).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(sim: object, benchmark: str) -> tuple[object, object, dict]:
    """The network of PyNN's examples/VAbenchmarks.py, built as the example builds it."""
    from pyNN.random import NumpyRNG, RandomDistribution

    n, r_ei, pconn, dt, delay = 4000, 4.0, 0.02, 0.1, 0.2
    area, tau_m, cm = 20000e-8, 20.0, 1.0  # tau_m = cm R_m with g_leak = 5e-5 S/cm2
    e_leak = -60.0 if benchmark == "COBA" else -49.0
    v_thresh, v_reset, t_refrac, v_mean = -50.0, -60.0, 5.0, -60.0
    tau_exc, tau_inh = 5.0, 10.0
    g_exc, g_inh = (4.0, 51.0) if benchmark == "COBA" else (0.27, 4.5)
    e_rev_exc, e_rev_inh = 0.0, -80.0
    cm = cm * area * 1000
    n_exc = int(round(n * r_ei / (1 + r_ei)))
    n_inh = n - n_exc
    if benchmark == "COBA":
        celltype, w_exc, w_inh = sim.IF_cond_exp, g_exc * 1e-3, g_inh * 1e-3
    else:
        celltype = sim.IF_curr_exp
        w_exc = 1e-3 * g_exc * (e_rev_exc - v_mean)
        w_inh = 1e-3 * g_inh * (e_rev_inh - v_mean)
    sim.setup(timestep=dt, min_delay=delay, max_delay=1.0, threads=1)
    params = {"tau_m": tau_m, "tau_syn_E": tau_exc, "tau_syn_I": tau_inh, "v_rest": e_leak,
              "v_reset": v_reset, "v_thresh": v_thresh, "cm": cm, "tau_refrac": t_refrac}
    if benchmark == "COBA":
        params.update(e_rev_E=e_rev_exc, e_rev_I=e_rev_inh)
    exc = sim.Population(n_exc, celltype(**params), label="Excitatory_Cells")
    inh = sim.Population(n_inh, celltype(**params), label="Inhibitory_Cells")
    if benchmark == "COBA":
        ext = sim.Population(20, sim.SpikeSourcePoisson(rate=100.0, duration=50.0),
                             label="expoisson")
    rng = NumpyRNG(seed=98765, parallel_safe=True)
    uniform = RandomDistribution("uniform", low=v_reset, high=v_thresh, rng=rng)
    exc.initialize(v=uniform)
    inh.initialize(v=uniform)
    connector = sim.FixedProbabilityConnector(pconn, rng=rng)
    exc_syn = sim.StaticSynapse(weight=w_exc, delay=delay)
    inh_syn = sim.StaticSynapse(weight=w_inh, delay=delay)
    sizes = {}
    for name, pre, post, syn, receptor in (("e2e", exc, exc, exc_syn, "excitatory"),
                                           ("e2i", exc, inh, exc_syn, "excitatory"),
                                           ("i2e", inh, exc, inh_syn, "inhibitory"),
                                           ("i2i", inh, inh, inh_syn, "inhibitory")):
        sizes[name] = sim.Projection(pre, post, connector, syn, receptor_type=receptor).size()
    if benchmark == "COBA":
        for post in (exc, inh):
            sim.Projection(ext, post, sim.FixedProbabilityConnector(0.01),
                           sim.StaticSynapse(weight=0.1), receptor_type="excitatory")
    exc.record("spikes")
    inh.record("spikes")
    exc[0, 1].record("v")
    return exc, inh, sizes


def child(simulator: str, benchmark: str, tstop: float) -> dict:
    """One simulator's run, in this process."""
    out: dict = {"simulator": simulator}
    start = time.perf_counter()
    if simulator == "nest":
        import pyNN.nest as sim
    else:
        import pyNN.spinnaker2 as sim
    out["import"] = time.perf_counter() - start
    out["rss_after_import"] = _rss_mib()
    start = time.perf_counter()
    exc, inh, sizes = build(sim, benchmark)
    out["build"] = time.perf_counter() - start
    out["synapses"] = sum(sizes.values())
    if simulator == "spinnaker2":
        from pynn_spinnaker2.pynn.session import compile_state
        from pynn_spinnaker2.pynn.simulator import state

        start = time.perf_counter()
        compile_state(state)
        out["compile"] = time.perf_counter() - start
        out.update({f"compile.{k}": v for k, v in state.compiled.timings.items()})
    start = time.perf_counter()
    sim.run(tstop)
    out["run"] = time.perf_counter() - start
    out["total"] = out["build"] + out.get("compile", 0.0) + out["run"]
    out["rate_exc"] = exc.mean_spike_count() * 1000.0 / tstop
    out["rate_inh"] = inh.mean_spike_count() * 1000.0 / tstop
    if simulator == "spinnaker2":
        compiled = state.compiled
        counters = compiled.emulator.counters
        out["cores"] = len(compiled.image.cores)
        out["router_entries"] = int(sum(len(t) for t in compiled.image.router_tables.values()))
        out["packets_sent"] = int(counters.packets_sent.sum())
        out["synaptic_events"] = int(counters.synaptic_events.sum())
    out["peak_rss"] = _rss_mib()
    sim.end()
    return out


def _row(label: str, values: list, fmt: str = "{:>14.2f}") -> str:
    cells = [fmt.format(v) if isinstance(v, (int, float)) else f"{v:>14}" for v in values]
    return f"{label:<34}" + "".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="CUBA", choices=["CUBA", "COBA"])
    parser.add_argument("--tstop", type=float, default=1000.0, help="ms to simulate")
    parser.add_argument("--repeat", type=int, default=1, help="runs per simulator (best kept)")
    parser.add_argument("--simulators", nargs="+", default=["spinnaker2", "nest"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.benchmark, args.tstop)))
        return
    results = {}
    for simulator in args.simulators:
        runs = []
        for k in range(args.repeat):
            print(f"[{simulator}] run {k + 1}/{args.repeat} ...", file=sys.stderr, flush=True)
            proc = subprocess.run([sys.executable, __file__, "--child", simulator,
                                   "--benchmark", args.benchmark, "--tstop", str(args.tstop)],
                                  capture_output=True, text=True)
            if proc.returncode:
                sys.stderr.write(proc.stderr)
                raise SystemExit(f"{simulator} failed")
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results[simulator] = min(runs, key=lambda r: r["total"])
    sims = list(results)
    print(f"\nVAbenchmarks {args.benchmark}, 4000 cells, {args.tstop:g} ms simulated "
          f"(best of {args.repeat}; wall-clock seconds, MiB)")
    print(_row("", sims))
    rows = [("import (excluded from total)", "import"), ("build (PyNN objects)", "build"),
            ("compile: network + XML round trip", "compile.network"),
            ("compile: mapping", "compile.mapping"), ("compile: image", "compile.image"),
            ("compile: emulator load", "compile.load"), ("run", "run"), ("total", "total")]
    for label, key in rows:
        print(_row(label, [results[s].get(key, "-") for s in sims]))
    print(_row("peak RSS (MiB)", [results[s]["peak_rss"] for s in sims], "{:>14.0f}"))
    print(_row("RSS after import (MiB)", [results[s]["rss_after_import"] for s in sims],
               "{:>14.0f}"))
    print(_row("rate exc / inh (Hz)", [f"{results[s]['rate_exc']:.2f} / "
                                        f"{results[s]['rate_inh']:.2f}" for s in sims]))
    print(_row("synapses", [results[s]["synapses"] for s in sims], "{:>14d}"))
    ours = results.get("spinnaker2")
    if ours:
        print(f"\nSpiNNaker 2: {ours['cores']} cores, {ours['router_entries']} router entries; "
              f"{ours['packets_sent']} packets sent through them, "
              f"{ours['synaptic_events']} synaptic events")
    if "nest" in results and ours:
        print(f"total: SpiNNaker 2 {ours['total']:.2f} s, NEST {results['nest']['total']:.2f} s "
              f"({results['nest']['total'] / ours['total']:.1f}x)")


if __name__ == "__main__":
    main()
