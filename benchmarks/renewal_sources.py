"""Run time of the spike sources the cores draw themselves: SpikeSourcePoisson (stateless)
beside SpikeSourceGamma and SpikeSourcePoissonRefractory (a state per neuron), the same
population size and rate, side by side in one process, and the same script on NEST.

    python benchmarks/renewal_sources.py                    # 3 sources, 100 s (PyNN's tests)
    python benchmarks/renewal_sources.py --n 10000 --t 2000 --peer none

Prints, per cell type, the wall and CPU seconds of ``sim.run`` (the machine is shared: CPU
seconds are the steadier figure), the spikes sent and the mean rate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from stages import timed_run  # noqa: E402

TYPES = {
    "SpikeSourcePoisson": lambda sim, rate: sim.SpikeSourcePoisson(rate=rate),
    "SpikeSourceGamma": lambda sim, rate: sim.SpikeSourceGamma(alpha=4, beta=4 * rate),
    "SpikeSourcePoissonRefractory": lambda sim, rate: sim.SpikeSourcePoissonRefractory(
        rate=rate, tau_refrac=2.0),
}


def run_one(sim: object, name: str, n: int, rate: float, t_stop: float) -> tuple:
    """(wall s, CPU s, spikes, mean rate Hz) of one run of ``n`` sources of type ``name``."""
    sim.setup(timestep=0.1)
    pop = sim.Population(n, TYPES[name](sim, rate))
    pop.record("spikes")
    wall, cpu, count = timed_run(sim, t_stop, pop)
    return wall, cpu, count, count / n / (t_stop / 1000.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3, help="sources per population")
    parser.add_argument("--rate", type=float, default=100.0, help="mean rate (Hz)")
    parser.add_argument("--t", type=float, default=100_000.0, help="simulated time (ms)")
    parser.add_argument("--peer", choices=("nest", "none"), default="nest")
    args = parser.parse_args()
    backends = [("spinnaker2", "pyNN.spinnaker2")]
    if args.peer == "nest":
        backends.append(("nest", "pyNN.nest"))
    print(f"{args.n} sources at {args.rate} Hz, {args.t} ms at dt = 0.1 ms")
    print(f"{'backend':<11} {'cell type':<29} {'wall s':>8} {'CPU s':>8} {'spikes':>10} "
          f"{'rate Hz':>8}")
    for label, module in backends:
        sim = __import__(module, fromlist=["setup"])
        for name in TYPES:
            wall, cpu, count, rate = run_one(sim, name, args.n, args.rate, args.t)
            print(f"{label:<11} {name:<29} {wall:8.2f} {cpu:8.2f} {count:10d} "
                  f"{np.round(rate, 2):8.2f}")


if __name__ == "__main__":
    main()
