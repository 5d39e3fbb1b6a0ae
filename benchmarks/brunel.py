"""Build + map time of a Brunel-style balanced network (80 % excitatory IF_curr_exp, 20 %
inhibitory, FixedProbabilityConnector, Poisson drive): the network sPyNNaker needs 74 s on
the host to build at 10,000 neurons (p = 0.1).

    python benchmarks/brunel.py --n 10000 --p 0.1          # target: under 5 s in all
    python benchmarks/brunel.py --n 10000 --p 0.1 --peer nest
    python benchmarks/brunel.py --n 100000 --p 0.01 --peer none --no-load
    python benchmarks/brunel.py --n 10000 --p 0.1 --run 100 --reports reports/brunel
    python benchmarks/brunel.py --n 10000 --p 0.1 --run 1000 --peer nest   # run phase too

Prints the time of each stage, wall and CPU (the machine is shared: CPU seconds are the
steadier figure), from ``sim.setup`` to an emulator loaded and ready to run: PyNN build
(bulk connectors), XML round trip, checks, mapping (partition, placement, keys, routes,
compression, independent check), machine image, emulator load; then the machine used, router
entries before and after compression, and the peak memory. The same script is then built
with a peer PyNN backend in a separate process, side by side: ``--peer mock`` (default:
PyNN's reference backend, whose connectors go one target at a time) or ``--peer nest``.
With ``--run``, the run phase is timed once per emulator kernel choice (``--kernels``: the
compiled numba kernels, the NumPy reference; the state is reset between them, the random
streams go on), and the peer runs the same simulated time after its first step.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from stages import (  # noqa: E402
    Clock,
    compile_stages,
    mapping_figures,
    overall_peak_mib,
    peak_mib,
)


def build(sim: object, n: int, p: float, seed: int = 1, rate: float = 20.0) -> tuple:
    """Brunel (2000), model A, with PyNN's standard cells, each cell driven by one Poisson
    source of ``rate`` Hz; returns the excitatory, inhibitory and Poisson populations."""
    n_exc, n_inh = int(0.8 * n), n - int(0.8 * n)
    cell = sim.IF_curr_exp(tau_m=20.0, cm=0.25, tau_refrac=2.0, v_thresh=-50.0,
                           v_reset=-65.0, v_rest=-65.0, tau_syn_E=0.5, tau_syn_I=0.5)
    rng = sim.NumpyRNG(seed=seed)
    exc = sim.Population(n_exc, cell, label="exc")
    inh = sim.Population(n_inh, cell, label="inh")
    noise = sim.Population(n, sim.SpikeSourcePoisson(rate=rate), label="noise")
    conn = sim.FixedProbabilityConnector(p, rng=rng)
    for pre, w, rec in ((exc, 0.1, "excitatory"), (inh, -0.5, "inhibitory")):
        for post in (exc, inh):
            sim.Projection(pre, post, conn, sim.StaticSynapse(weight=w, delay=1.5),
                           receptor_type=rec)
    sim.Projection(noise[:n_exc], exc, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=2.0, delay=1.0))
    sim.Projection(noise[n_exc:], inh, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=2.0, delay=1.0))
    exc.record("spikes")
    return exc, inh, noise


def peer(backend: str, n: int, p: float, run: float = 0.0) -> dict:
    """Build the same network with another PyNN backend (run in its own process)."""
    start = time.perf_counter()
    sim = __import__(f"pyNN.{backend}", fromlist=["setup"])
    imported = time.perf_counter()
    sim.setup(timestep=0.1)
    build(sim, n, p)
    built = time.perf_counter()
    sim.run(0.1)  # NEST prepares (sorts) its connections in the first run
    ran = time.perf_counter()
    if run:
        sim.run(run)
    done = time.perf_counter()
    sim.end()
    return {"backend": backend, "import": imported - start, "build": built - imported,
            "first_step": ran - built, "run": done - ran, "peak_mib": peak_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--p", type=float, default=0.1)
    parser.add_argument("--chips", type=int, default=None,
                        help="machine size in chips (default: as many as the network needs)")
    parser.add_argument("--run", type=float, default=0.0, help="ms to simulate afterwards")
    parser.add_argument("--no-load", action="store_true",
                        help="stop after the machine image (no emulator)")
    parser.add_argument("--peer", default="mock",
                        help="PyNN backend to build the same script with, side by side: mock "
                             "(PyNN's own per-target connector path), nest, or none")
    parser.add_argument("--reports", default=None, help="write the mapping reports here")
    parser.add_argument("--kernels", nargs="+", default=["numba", "numpy"],
                        choices=["numba", "numpy"], help="emulator kernels of the run phase")
    parser.add_argument("--backend", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:  # the peer's own process
        print(json.dumps(peer(args.backend, args.n, args.p, args.run)))
        return

    start = time.perf_counter()
    import pyNN.spinnaker2 as sim

    from pynn_spinnaker2.pynn.build import build_network
    from pynn_spinnaker2.pynn.simulator import state

    print(f"Brunel network, {args.n} neurons, p = {args.p} "
          f"(import of pyNN.spinnaker2: {time.perf_counter() - start:.2f} s, not counted)")
    clock = Clock()
    # A chip holds 152 PEs; about 3 pieces per 1,000 neurons with their Poisson drive.
    chips = args.chips or max(1, -(-(args.n * 3 // 1000 + 10) // 152))
    clock("sim.setup", lambda: sim.setup(timestep=0.1, n_chips=chips))
    clock("PyNN build (bulk connectors)", lambda: build(sim, args.n, args.p))
    network = clock("Network from the PyNN objects", lambda: build_network(state))
    stages = compile_stages(clock, network, load=not args.no_load)
    wall, cpu = clock.total()
    mapping = stages["mapping"]
    synapses = sum(len(p) for p in stages["network"].projections)
    print(f"total: {wall:.2f} s wall, {cpu:.2f} s cpu, from sim.setup to "
          f"{'an emulator ready to run' if not args.no_load else 'the machine image'} "
          f"({synapses} synapses)")
    if not args.no_load:
        image_wall, image_cpu = clock.total([r[0] for r in clock.rows
                                             if r[0] != "emulator load"])
        print(f"  of which to the machine image (what a board would be loaded with): "
              f"{image_wall:.2f} s wall, {image_cpu:.2f} s cpu")
    print(mapping_figures(mapping))
    peak = overall_peak_mib()
    print(f"  peak memory: {peak:.0f} MiB ({peak * 2**20 / max(synapses, 1):.0f} bytes per "
          f"synapse); per stage above")
    if args.reports:
        from types import SimpleNamespace

        from pynn_spinnaker2.reports import write_reports

        write_reports(SimpleNamespace(network=stages["network"], mapping=mapping,
                                      image=stages.get("image"),
                                      emulator=stages.get("emulator"), timings={}),
                      args.reports)
        print(f"  reports in {args.reports}")
    if args.run and not args.no_load:
        from pynn_spinnaker2.compile import Compiled
        from pynn_spinnaker2.pynn.session import Loaded

        state.compiled = Loaded(Compiled(stages["network"], mapping, stages["image"]),
                                stages["emulator"])
        state.dirty = False
        for j, kernels in enumerate(args.kernels):
            if j:
                sim.reset()
            state.compiled.emulator.kernels = kernels
            t, t_cpu = time.perf_counter(), time.process_time()
            sim.run(args.run)
            run_wall = time.perf_counter() - t
            spikes = sum(sum(p.get_spike_counts().values()) for p in state.populations
                         if p.label == "exc")
            print(f"run {args.run:g} ms ({kernels} kernels): {run_wall:.2f} s wall, "
                  f"{time.process_time() - t_cpu:.2f} s cpu, {args.run / 1000 / run_wall:.2f} s "
                  f"simulated per s ({spikes} exc spikes)")
    if args.peer != "none":
        print(f"peer: pyNN.{args.peer}, same script, own process ...", flush=True)
        out = subprocess.run([sys.executable, __file__, "--backend", args.peer, "--n",
                              str(args.n), "--p", str(args.p), "--run", str(args.run)],
                             capture_output=True, text=True)
        if out.returncode:
            print(f"  peer failed: {out.stderr.strip().splitlines()[-1:]}")
        else:
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  pyNN.{args.peer}: build {r['build']:.2f} s + first step "
                  f"{r['first_step']:.2f} s = {r['build'] + r['first_step']:.2f} s wall, "
                  f"peak {r['peak_mib']:.0f} MiB (import {r['import']:.2f} s, not counted)")
            if args.run:
                print(f"  pyNN.{args.peer}: run {args.run:g} ms: {r['run']:.2f} s wall, "
                      f"{args.run / 1000 / r['run']:.2f} s simulated per s")
        print(f"  pyNN.spinnaker2: {wall:.2f} s wall to an emulator ready to run")
    print("  sPyNNaker (DESIGN.md reference): 74 s on the host at n = 10,000, p = 0.1")


if __name__ == "__main__":
    main()
