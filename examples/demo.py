"""Demonstration: a balanced network of 1,000 IF_curr_exp neurons compiled for SpiNNaker 2
and run on the built-in emulator.

    python examples/demo.py [--n 1000] [--duration 1000] [--out reports/demo]

Prints what the mapper did (PEs, chips, router entries before and after compression, SRAM per
PE), the firing rates, and writes the mapping reports and a raster/membrane plot.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyNN.spinnaker2 as sim

from pynn_spinnaker2.reports import summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of neurons")
    parser.add_argument("--duration", type=float, default=1000.0, help="ms to simulate")
    parser.add_argument("--out", default="reports/demo", help="folder for reports and plot")
    args = parser.parse_args()
    out = Path(args.out)

    start = time.perf_counter()
    sim.setup(timestep=0.1, n_chips=4, reports=str(out), progress=True, seed=1)
    n_exc, n_inh = int(args.n * 0.8), args.n - int(args.n * 0.8)
    cell = sim.IF_curr_exp(tau_m=20.0, tau_refrac=2.0, v_thresh=-50.0, v_reset=-65.0,
                           tau_syn_E=5.0, tau_syn_I=5.0)
    rng = sim.NumpyRNG(seed=42)
    exc = sim.Population(n_exc, cell, label="excitatory")
    inh = sim.Population(n_inh, cell, label="inhibitory")
    for pop in (exc, inh):
        pop.initialize(v=sim.RandomDistribution("uniform", (-65.0, -55.0), rng=rng))
    noise = sim.Population(args.n, sim.SpikeSourcePoisson(rate=1000.0), label="poisson")
    connector = sim.FixedProbabilityConnector(0.1, rng=rng)
    sim.Projection(exc, exc, connector, sim.StaticSynapse(weight=0.10, delay=1.5),
                   receptor_type="excitatory", label="exc->exc")
    sim.Projection(exc, inh, connector, sim.StaticSynapse(weight=0.10, delay=1.5),
                   receptor_type="excitatory", label="exc->inh")
    sim.Projection(inh, exc, connector, sim.StaticSynapse(weight=-0.45, delay=1.5),
                   receptor_type="inhibitory", label="inh->exc")
    sim.Projection(inh, inh, connector, sim.StaticSynapse(weight=-0.45, delay=1.5),
                   receptor_type="inhibitory", label="inh->inh")
    sim.Projection(noise[:n_exc], exc, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=0.17, delay=1.0), label="drive->exc")
    sim.Projection(noise[n_exc:], inh, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=0.17, delay=1.0), label="drive->inh")
    exc.record("spikes")
    inh.record("spikes")
    exc[:5].record("v")
    built = time.perf_counter()

    sim.run(args.duration)
    ran = time.perf_counter()

    figures = summary(sim.get_mapping())
    data = exc.get_data().segments[0]
    rate_exc = exc.mean_spike_count() / args.duration * 1000.0
    rate_inh = inh.mean_spike_count() / args.duration * 1000.0
    print(json.dumps(figures, indent=2))
    print(f"mean rate: excitatory {rate_exc:.1f} Hz, inhibitory {rate_inh:.1f} Hz")
    print(f"time: build {built - start:.2f} s, compile + run {ran - built:.2f} s "
          f"(emulator, {args.duration:.0f} ms simulated)")
    _plot(data, out / "demo.png")
    print(f"reports and plot in {out}/")
    sim.end()


def _plot(segment: object, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from pyNN.utility.plotting import Figure, Panel
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    v = segment.filter(name="v")[0]
    spikes = segment.spiketrains[:200]
    Figure(Panel(spikes, xticks=False, yticks=True, markersize=0.5,
                 ylabel="excitatory neuron"),
           Panel(v, xlabel="time (ms)", ylabel="v (mV)", yticks=True, data_labels=["v"]),
           title="Balanced network on the SpiNNaker 2 emulator").save(str(path))
    np.asarray(v)  # the plot is the figure; nothing else to return


if __name__ == "__main__":
    main()
