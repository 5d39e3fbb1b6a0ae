"""Small networks, the kind teaching labs and PyNN's examples run, on SpiNNaker 2 and on NEST
3.10 in the same run: build and run time, microseconds per time step and peak memory, side by
side.

    python benchmarks/small_networks.py [--tstop 10000] [--timestep 0.1] [--repeat 1]
                                        [--networks lif_array ...] [--peer nest|none]
                                        [--kernels numba numpy]

For small networks the run time is the fixed work of each time step, not the neurons: these
figures show it. Networks (all recorded as a lab script would record them):

- ``lif_array``: 10 IF_curr_exp driven one to one by SpikeSourceArrays (a spike every 10 ms
  each), spikes and v recorded;
- ``lif_poisson``: 100 IF_curr_exp driven by 20 Poisson sources at 20 Hz (p = 0.5), and a
  sparse recurrent excitatory projection (p = 0.05), spikes of all and v of 5 recorded;
- ``izhikevich``: a pair of Izhikevich neurons (as in PyNN's examples/Izhikevich.py: the
  first driven by its offset current and a DC step, and driving the second), spikes and v
  recorded;
- ``stdp``: PyNN's examples/simple_STDP.py reduced to a pair: one spike source onto one
  IF_curr_exp through an STDP synapse, a second source making it fire, spikes, v recorded.

Each (simulator, network) runs in its own process, so peak memory (VmHWM) is its own. Stages:
build (setup, populations, projections, recording), compile (SpiNNaker 2 only: what
``sim.run`` does before the first step), run (the simulated time; wall clock and the
process's CPU time, which varies less on a shared machine), and µs per step = run / steps;
then 1,000 one-step ``run()`` calls (µs per call). SpiNNaker 2 runs once per emulator kernel
choice (``--kernels``: the compiled numba kernels and the NumPy reference).
Timings vary from run to run on a shared machine (use ``--repeat``; the run with the least
wall-clock time is kept).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

NETWORKS = ("lif_array", "lif_poisson", "izhikevich", "stdp")


def _peak_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    import resource

    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(sim: object, network: str, timestep: float, t_stop: float) -> list:
    """Build ``network``; returns the populations whose spikes are counted."""
    import numpy as np

    sim.setup(timestep=timestep, min_delay=1.0, max_delay=10.0)
    if network == "lif_array":
        n = 10
        times = [np.arange(5.0 + j, t_stop, 10.0) for j in range(n)]
        src = sim.Population(n, sim.SpikeSourceArray(spike_times=times), label="sources")
        cells = sim.Population(n, sim.IF_curr_exp(tau_refrac=2.0), label="cells")
        sim.Projection(src, cells, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=2.0, delay=1.0))
        cells.record(["spikes", "v"])
        return [cells]
    if network == "lif_poisson":
        from pyNN.random import NumpyRNG

        rng = NumpyRNG(seed=4242)
        src = sim.Population(20, sim.SpikeSourcePoisson(rate=20.0), label="poisson")
        cells = sim.Population(100, sim.IF_curr_exp(tau_refrac=2.0), label="cells")
        sim.Projection(src, cells, sim.FixedProbabilityConnector(0.5, rng=rng),
                       sim.StaticSynapse(weight=0.5, delay=1.0))
        sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.05, rng=rng),
                       sim.StaticSynapse(weight=0.1, delay=2.0))
        cells.record("spikes")
        cells[0:5].record("v")
        return [cells]
    if network == "izhikevich":
        cells = sim.Population(2, sim.Izhikevich(i_offset=[0.014, 0.0]),
                               initial_values={"v": -70.0, "u": -14.0}, label="izh")
        step = sim.DCSource(amplitude=0.005, start=20.0, stop=t_stop)
        cells[0:1].inject(step)
        sim.Projection(cells[0:1], cells[1:2], sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=5.0, delay=1.0), receptor_type="excitatory")
        cells.record(["spikes", "v"])
        return [cells]
    if network == "stdp":
        pre = sim.Population(1, sim.SpikeSourceArray(
            spike_times=np.arange(10.0, t_stop, 100.0)), label="pre")
        driver = sim.Population(1, sim.SpikeSourceArray(
            spike_times=np.arange(15.0, t_stop, 100.0)), label="driver")
        post = sim.Population(1, sim.IF_curr_exp(tau_refrac=2.0), label="post")
        stdp = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01,
                                                A_minus=0.012),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=2.0),
            weight=0.5, delay=1.0)
        sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
        sim.Projection(driver, post, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=5.0, delay=1.0))
        post.record(["spikes", "v"])
        return [post]
    raise ValueError(f"unknown network {network!r}; choose from {', '.join(NETWORKS)}")


def child(simulator: str, network: str, timestep: float, t_stop: float) -> dict:
    """One simulator's run of one network, in this process (``spinnaker2/numba``: with the
    emulator's numba kernels)."""
    if simulator == "nest":
        import pyNN.nest as sim
    else:
        import os

        os.environ["PYNN_SPINNAKER2_KERNELS"] = simulator.partition("/")[2] or "numba"
        import pyNN.spinnaker2 as sim
    out: dict = {}
    start = time.perf_counter()
    counted = build(sim, network, timestep, t_stop)
    out["build"] = time.perf_counter() - start
    out["compile"] = 0.0
    if simulator.startswith("spinnaker2"):
        from pynn_spinnaker2.pynn.session import compile_state
        from pynn_spinnaker2.pynn.simulator import state

        start = time.perf_counter()
        compile_state(state)
        out["compile"] = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    sim.run(t_stop)
    out["run"] = time.perf_counter() - start
    out["run_cpu"] = time.process_time() - cpu
    out["steps"] = int(round(t_stop / timestep))
    out["us_per_step"] = out["run"] / out["steps"] * 1e6
    out["cpu_us_per_step"] = out["run_cpu"] / out["steps"] * 1e6
    out["spikes"] = int(sum(sum(p.get_spike_counts().values()) for p in counted))
    start = time.perf_counter()
    for _ in range(1000):
        sim.run(timestep)
    out["us_per_run_call"] = (time.perf_counter() - start) * 1e3
    out["peak_rss"] = _peak_mib()
    sim.end()
    return out


def _row(label: str, values: list, fmt: str = "{:>18.2f}") -> str:
    cells = [fmt.format(v) if isinstance(v, (int, float)) else f"{v:>18}" for v in values]
    return f"{label:<22}" + "".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tstop", type=float, default=10000.0, help="ms to simulate")
    parser.add_argument("--timestep", type=float, default=0.1, help="ms")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (best kept)")
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--peer", default="nest", choices=["nest", "none"])
    parser.add_argument("--kernels", nargs="+", default=["numba", "numpy"],
                        choices=["numba", "numpy"], help="emulator kernels to run")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.timestep, args.tstop)))
        return
    ours = [f"spinnaker2/{k}" for k in args.kernels]
    sims = ours + ([] if args.peer == "none" else [args.peer])
    results: dict = {}
    for network in args.networks:
        for simulator in sims:
            runs = []
            for k in range(args.repeat):
                print(f"[{network} / {simulator}] run {k + 1}/{args.repeat} ...",
                      file=sys.stderr, flush=True)
                proc = subprocess.run([sys.executable, __file__, "--child", simulator, network,
                                       "--timestep", str(args.timestep),
                                       "--tstop", str(args.tstop)],
                                      capture_output=True, text=True)
                if proc.returncode:
                    sys.stderr.write(proc.stderr)
                    raise SystemExit(f"{network} on {simulator} failed")
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            results[network, simulator] = min(runs, key=lambda r: r["run"])
    steps = int(round(args.tstop / args.timestep))
    print(f"\nSmall networks, {args.tstop:g} ms at dt = {args.timestep} ms ({steps} steps); "
          f"wall-clock seconds (best of {args.repeat}), µs per step, peak RSS MiB")
    for network in args.networks:
        print(f"\n{network}")
        print(_row("", sims))
        for label, key, fmt in (("build", "build", "{:>18.3f}"),
                                ("compile", "compile", "{:>18.3f}"),
                                ("run", "run", "{:>18.3f}"),
                                ("run (CPU s)", "run_cpu", "{:>18.3f}"),
                                ("µs per step", "us_per_step", "{:>18.1f}"),
                                ("CPU µs per step", "cpu_us_per_step", "{:>18.1f}"),
                                ("one-step run() µs", "us_per_run_call", "{:>18.1f}"),
                                ("spikes counted", "spikes", "{:>18d}"),
                                ("peak RSS (MiB)", "peak_rss", "{:>18.0f}")):
            print(_row(label, [results[network, s][key] for s in sims], fmt))
        if args.peer != "none":
            peer = results[network, args.peer]
            print("run: " + ", ".join(f"{s} / {args.peer} = "
                                      f"{results[network, s]['run'] / peer['run']:.2f}x"
                                      for s in ours))


if __name__ == "__main__":
    main()
