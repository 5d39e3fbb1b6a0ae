"""Build + map time of a Brunel-style balanced network (80 % excitatory IF_curr_exp, 20 %
inhibitory, FixedProbabilityConnector, Poisson drive), the network sPyNNaker needs 74 s on the
host to build at 10,000 neurons (p = 0.1).

    python benchmarks/brunel.py --n 10000 --p 0.1 [--run 100]

Prints the time of each stage (PyNN build, XML round trip, mapping, image, emulator load),
the machine used, router entries before/after compression, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import pyNN.spinnaker2 as sim

from pynn_spinnaker2.pynn.compile import compile_state
from pynn_spinnaker2.pynn.simulator import state
from pynn_spinnaker2.reports import summary


def build(n: int, p: float, seed: int = 1) -> None:
    """The Brunel network of Brunel (2000), model A, with PyNN's standard cells."""
    n_exc, n_inh = int(0.8 * n), n - int(0.8 * n)
    cell = sim.IF_curr_exp(tau_m=20.0, cm=0.25, tau_refrac=2.0, v_thresh=-50.0,
                           v_reset=-65.0, v_rest=-65.0, tau_syn_E=0.5, tau_syn_I=0.5)
    rng = sim.NumpyRNG(seed=seed)
    exc = sim.Population(n_exc, cell, label="exc")
    inh = sim.Population(n_inh, cell, label="inh")
    noise = sim.Population(n, sim.SpikeSourcePoisson(rate=20.0), label="noise")
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--p", type=float, default=0.1)
    parser.add_argument("--chips", type=int, default=4)
    parser.add_argument("--run", type=float, default=0.0, help="ms to simulate afterwards")
    args = parser.parse_args()
    t0 = time.perf_counter()
    sim.setup(timestep=0.1, n_chips=args.chips)
    build(args.n, args.p)
    t1 = time.perf_counter()
    compile_state(state)
    t2 = time.perf_counter()
    figures = summary(state.compiled)
    print(json.dumps(figures, indent=2))
    print(f"neurons {args.n}, p {args.p}: PyNN build {t1 - t0:.2f} s, compile (XML round "
          f"trip + map + image + load) {t2 - t1:.2f} s, total {t2 - t0:.2f} s "
          f"(sPyNNaker: 74 s on the host for n = 10,000, p = 0.1)")
    if args.run:
        sim.run(args.run)
        print(f"run {args.run} ms: {time.perf_counter() - t2:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB")
    sim.end()


if __name__ == "__main__":
    main()
