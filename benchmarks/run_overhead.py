"""Cost of splitting a run into many short ``run()`` calls, as PyNN's callbacks do (the
weight recorder of PyNN's examples/simple_STDP.py calls back every millisecond): the same
simulated time in one call, in 1 ms calls, and in 1 ms calls that read every plastic weight
back, on SpiNNaker 2 and on NEST 3.10 in the same run.

    python benchmarks/run_overhead.py [--tstop 1000] [--timestep 0.01]

The network is simple_STDP's (60 spike sources onto one IF_cond_exp neuron through
STDP synapses, a driver making it fire every 100 ms). Goal: 1,000 one-millisecond calls
cost at most twice one call. Each case is built and compiled first and then timed (wall
clock, best of ``--repeat``); the machine is shared, so the figures vary between runs.
"""

from __future__ import annotations

import argparse
import importlib
import time

import numpy as np


def build(sim: object, timestep: float, t_stop: float) -> object:
    """simple_STDP's network; returns the plastic projection."""
    from pyNN.parameters import Sequence

    n, period, delta_t, delay = 60, 100.0, 1.0, 3.0
    extra = {"spike_precision": "on_grid"} if sim.__name__ == "pyNN.nest" else {}
    sim.setup(timestep=timestep, min_delay=delay, max_delay=delay, **extra)
    times = [Sequence(np.arange(period + j * delta_t, t_stop, period))
             for j in np.arange(n) - n // 2]
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=times), label="presynaptic")
    post = sim.Population(1, sim.IF_cond_exp(tau_m=10.0, v_thresh=-50.0, v_reset=-60.0,
                                             v_rest=-60.0, cm=1.0, tau_refrac=period / 2),
                          initial_values={"v": -60.0}, label="postsynaptic")
    driver = sim.Population(1, sim.SpikeSourceArray(
        spike_times=np.arange(period - delay, t_stop, period)), label="driver")
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01,
                                            A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0, w_max=1e-7),
        weight=5e-8, delay=delay)
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    sim.Projection(driver, post, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=10.0, delay=delay))
    pre.record("spikes")
    post.record(["spikes", "v"])
    return prj


def time_case(sim: object, case: str, timestep: float, t_stop: float) -> float:
    prj = build(sim, timestep, t_stop)
    sim.run(timestep)  # compile and load (sPyNNaker and NEST also prepare on the first run)
    reads = []

    def every_ms(t: float) -> float:
        if case == "1 ms calls + weight reads":
            reads.append(prj.get("weight", format="list", with_address=False))
        return t + 1.0

    start = time.perf_counter()
    if case == "one call":
        sim.run(t_stop)
    else:
        sim.run(t_stop, callbacks=[every_ms])
    elapsed = time.perf_counter() - start
    sim.end()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tstop", type=float, default=1000.0)
    parser.add_argument("--timestep", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--simulators", nargs="+", default=["spinnaker2", "nest"])
    args = parser.parse_args()
    cases = ["one call", "1 ms calls", "1 ms calls + weight reads"]
    table = {}
    for name in args.simulators:
        sim = importlib.import_module(f"pyNN.{name}")
        table[name] = [min(time_case(sim, case, args.timestep, args.tstop)
                           for _ in range(args.repeat)) for case in cases]
    print(f"\nsimple_STDP network, {args.tstop:g} ms at dt = {args.timestep} ms "
          f"({int(round(args.tstop / args.timestep))} steps); wall-clock seconds, best of "
          f"{args.repeat}")
    print(f"{'':<40}" + "".join(f"{name:>14}" for name in table))
    for k, case in enumerate(cases):
        print(f"{case:<40}" + "".join(f"{table[name][k]:>14.2f}" for name in table))
    for k, case in enumerate(cases[1:], start=1):
        print(f"{case + ' / one call':<40}"
              + "".join(f"{table[name][k] / table[name][0]:>14.2f}" for name in table))


if __name__ == "__main__":
    main()
