"""Mapping a network of 1,000,000 neurons (sparse), which sPyNNaker cannot map.

    python benchmarks/million.py                      # 10^6 neurons on one 48-chip board
    python benchmarks/million.py --n 1000000 --image  # and build the machine image
    python benchmarks/million.py --n 200000           # smaller
    python benchmarks/million.py --reports reports/million   # with reports and chips.png
    python benchmarks/million.py --run 100            # image, emulator load, 100 ms run

The network is a ring of cortical modules of 10,000 IF_curr_exp neurons (80 % excitatory):
each neuron receives 40 excitatory and 10 inhibitory synapses from its own module, 10 from the
excitatory neurons of the next module, and 5 from the module's Poisson drive (1,000 sources),
all through FixedNumberPreConnector (with replacement). Built with the PyNN API, then compiled
stage by stage as the PyNN layer does (XML round trip, checks, mapping); prints the time of
each stage (wall and CPU; the machine is shared), the chips, PEs, router entries before and
after compression, and the peak memory. sPyNNaker's reference point (DESIGN.md): it cannot map
10^6 neurons.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from stages import Clock, compile_stages, mapping_figures, overall_peak_mib  # noqa: E402

MODULE = 10_000


def build(sim: object, n: int, seed: int = 1, rate: float = 10.0) -> None:
    """The ring of modules (see the module docstring)."""
    rng = sim.NumpyRNG(seed=seed)
    cell = sim.IF_curr_exp(tau_m=20.0, cm=0.25, tau_refrac=2.0, v_thresh=-50.0,
                           v_reset=-65.0, v_rest=-65.0, tau_syn_E=0.5, tau_syn_I=0.5)
    n_mod = max(1, n // MODULE)
    size = n // n_mod
    exc = [sim.Population(int(size * 0.8), cell, label=f"exc{m}") for m in range(n_mod)]
    inh = [sim.Population(size - int(size * 0.8), cell, label=f"inh{m}") for m in range(n_mod)]
    drive = [sim.Population(size // 10, sim.SpikeSourcePoisson(rate=rate), label=f"drive{m}")
             for m in range(n_mod)]

    def fan_in(k: int) -> object:
        return sim.FixedNumberPreConnector(k, with_replacement=True, rng=rng)

    ex = sim.StaticSynapse(weight=0.1, delay=1.5)
    ih = sim.StaticSynapse(weight=-0.5, delay=1.5)
    for m in range(n_mod):
        for post in (exc[m], inh[m]):
            sim.Projection(exc[m], post, fan_in(40), ex, receptor_type="excitatory")
            sim.Projection(inh[m], post, fan_in(10), ih, receptor_type="inhibitory")
            sim.Projection(exc[(m + 1) % n_mod], post, fan_in(10), ex,
                           receptor_type="excitatory")
            sim.Projection(drive[m], post, fan_in(5), sim.StaticSynapse(weight=1.0, delay=1.0),
                           receptor_type="excitatory")
        exc[m][:100].record("spikes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="IF_curr_exp neurons")
    parser.add_argument("--boards", type=int, default=1, help="48-chip boards")
    parser.add_argument("--image", action="store_true", help="build the machine image too")
    parser.add_argument("--reports", default=None, help="write the mapping reports here")
    parser.add_argument("--rate", type=float, default=10.0,
                        help="rate of the Poisson drive (Hz); 10 Hz leaves the cells silent")
    parser.add_argument("--run", type=float, default=0.0,
                        help="load the emulator and simulate this many ms (implies --image)")
    args = parser.parse_args()
    args.image = args.image or args.run > 0
    start = time.perf_counter()
    import pyNN.spinnaker2 as sim

    from pynn_spinnaker2.pynn.build import build_network
    from pynn_spinnaker2.pynn.simulator import state

    print(f"{args.n} neurons in modules of {MODULE} (import: "
          f"{time.perf_counter() - start:.2f} s, not counted)")
    clock = Clock()
    clock("sim.setup", lambda: sim.setup(timestep=0.1, n_boards=args.boards))
    clock("PyNN build (bulk connectors)", lambda: build(sim, args.n, rate=args.rate))
    network = clock("Network from the PyNN objects", lambda: build_network(state))
    neurons = sum(p.size for p in network.populations)
    synapses = sum(len(p) for p in network.projections)
    print(f"  {len(network.populations)} populations ({neurons} neurons with the Poisson "
          f"drive), {len(network.projections)} projections, {synapses} synapses")
    stages = compile_stages(clock, network, image=args.image, load=args.run > 0)
    if args.run:
        emulator = stages["emulator"]
        steps = int(round(args.run / network.timestep))
        clock(f"run {args.run:g} ms ({steps} steps)", lambda: emulator.run(steps))
        counts = emulator.counters
        print(f"    {int(counts.packets_sent.sum())} packets sent, "
              f"{int(counts.synaptic_events.sum())} synaptic events "
              f"({counts.packets_sent.sum() / neurons / (args.run / 1000):.1f} Hz per neuron, "
              f"the Poisson sources included)")
    wall, cpu = clock.total()
    end = ("the end of the run" if args.run else "the machine image" if args.image
           else "a checked mapping")
    print(f"total: {wall:.2f} s wall, {cpu:.2f} s cpu, from sim.setup to {end}")
    print(mapping_figures(stages["mapping"]))
    peak = overall_peak_mib()
    print(f"  peak memory: {peak:.0f} MiB ({peak * 2**20 / max(synapses, 1):.0f} bytes per "
          f"synapse); per stage above")
    if args.reports:
        from types import SimpleNamespace

        from pynn_spinnaker2.reports import write_reports

        write_reports(SimpleNamespace(network=stages["network"], mapping=stages["mapping"],
                                      image=stages.get("image"), emulator=None, timings={}),
                      args.reports)
        print(f"  reports in {args.reports}")
    print("  sPyNNaker (DESIGN.md reference): cannot map 10^6 neurons")


if __name__ == "__main__":
    main()
