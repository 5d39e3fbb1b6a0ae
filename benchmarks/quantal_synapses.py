"""Run time of the synapse types with per-synapse state or draws: StaticSynapse,
TsodyksMarkramSynapse, SimpleStochasticSynapse, StochasticTsodyksMarkramSynapse and
MultiQuantalSynapse, on the same network side by side in one process, and MultiQuantalSynapse
on NEST 3.10 (``quantal_stp_synapse``; PyNN's ``stochastic_stp_synapse`` is not built there).

    python benchmarks/quantal_synapses.py                   # 100 Poisson x 1000 cells, 1 s
    python benchmarks/quantal_synapses.py --pre 200 --post 2000 --peer none

Prints, per synapse type, the wall and CPU seconds of ``sim.run`` (the machine is shared: CPU
seconds are the steadier figure) and the mean rate of the targets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from stages import timed_run  # noqa: E402

TYPES = {
    "StaticSynapse": lambda sim, w: sim.StaticSynapse(weight=w),
    "TsodyksMarkramSynapse": lambda sim, w: sim.TsodyksMarkramSynapse(weight=w),
    "SimpleStochasticSynapse": lambda sim, w: sim.SimpleStochasticSynapse(weight=w, p=0.5),
    "StochasticTsodyksMarkramSynapse": lambda sim, w: sim.StochasticTsodyksMarkramSynapse(
        weight=w),
    "MultiQuantalSynapse(n=5)": lambda sim, w: sim.MultiQuantalSynapse(n=5, weight=w),
}


def run_one(sim: object, name: str, n_pre: int, n_post: int, t_stop: float) -> tuple:
    """(wall s, CPU s, mean target rate Hz) of one run with synapse type ``name``."""
    sim.setup(timestep=0.1, min_delay=0.1)
    src = sim.Population(n_pre, sim.SpikeSourcePoisson(rate=20.0))
    cells = sim.Population(n_post, sim.IF_curr_exp())
    prj = sim.Projection(src, cells, sim.AllToAllConnector(), TYPES[name](sim, 0.2))
    if name.startswith("MultiQuantal"):
        syn = prj.synapse_type
        prj.initialize(a=syn.parameter_space["n"], u=syn.parameter_space["U"])
    cells.record("spikes")
    wall, cpu, count = timed_run(sim, t_stop, cells)
    return wall, cpu, count / n_post / (t_stop / 1000.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pre", type=int, default=100, help="Poisson sources (20 Hz)")
    parser.add_argument("--post", type=int, default=1000, help="IF_curr_exp targets")
    parser.add_argument("--t", type=float, default=1000.0, help="simulated ms")
    parser.add_argument("--peer", choices=("nest", "none"), default="nest")
    args = parser.parse_args()
    import pyNN.spinnaker2 as s2

    runs = [("spinnaker2", s2, name) for name in TYPES]
    if args.peer == "nest":
        try:
            import pyNN.nest as nest_sim
        except ImportError:
            print("NEST not installed: no peer")
        else:
            runs.append(("nest", nest_sim, "MultiQuantalSynapse(n=5)"))
    print(f"{args.pre} Poisson sources x {args.post} IF_curr_exp, all-to-all, "
          f"{args.t:g} ms at dt 0.1 ms")
    for backend, sim, name in runs:
        wall, cpu, rate = run_one(sim, name, args.pre, args.post, args.t)
        print(f"{backend:10s} {name:32s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
              f"target rate {rate:6.1f} Hz", flush=True)


if __name__ == "__main__":
    main()
