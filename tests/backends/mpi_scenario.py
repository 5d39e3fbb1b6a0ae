"""A PyNN script the MPI tests run on one process and under ``mpirun -n 2``.

    python tests/backends/mpi_scenario.py OUT_DIR [SCENARIO ...]

For each scenario (default: all), every rank writes what it got (spikes, graded values and
sampled values of every recorded cell, from ``get_data()``; the connections' weights;
``num_processes()``, ``rank()``, how many cells ``get_data(gather=False)`` gave, and how
often ``write_data`` wrote) to ``OUT_DIR/<scenario>.rank<r>.npz``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyNN.spinnaker2 as sim
from neo.io import PickleIO


def brunel(delay_exc: float, delay_inh: float) -> list:
    """A small Brunel-type network (excitatory, inhibitory, Poisson drive) over many
    cores; delays in ms."""
    n_exc, n_inh = 240, 60
    cell = sim.IF_curr_exp(tau_m=20.0, cm=0.25, tau_refrac=2.0, v_thresh=-50.0,
                           v_reset=-65.0, v_rest=-65.0, tau_syn_E=0.5, tau_syn_I=0.5)
    rng = sim.NumpyRNG(seed=7)
    exc = sim.Population(n_exc, cell, label="exc")
    inh = sim.Population(n_inh, cell, label="inh")
    noise = sim.Population(n_exc + n_inh, sim.SpikeSourcePoisson(rate=200.0), label="noise")
    conn = sim.FixedProbabilityConnector(0.1, rng=rng)
    for pre, w, d, rec in ((exc, 0.3, delay_exc, "excitatory"),
                           (inh, -1.2, delay_inh, "inhibitory")):
        for post in (exc, inh):
            sim.Projection(pre, post, conn, sim.StaticSynapse(weight=w, delay=d),
                           receptor_type=rec)
    sim.Projection(noise[:n_exc], exc, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=2.5, delay=1.0))
    sim.Projection(noise[n_exc:], inh, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=2.5, delay=1.0))
    exc.record(["spikes", "v"])
    inh.record("spikes")
    noise[:20].record("spikes")
    return [exc, inh, noise]


def stdp() -> list:
    """Poisson sources into neurons through STDP synapses, and the neurons onto each other."""
    src = sim.Population(60, sim.SpikeSourcePoisson(rate=40.0), label="src")
    post = sim.Population(80, sim.IF_curr_exp(tau_m=10.0, v_thresh=-55.0), label="post")
    mechanism = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.02,
                                            A_minus=0.024),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.5),
        weight=0.8, delay=1.0)
    sim.Projection(src, post, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=3)),
                   mechanism, label="learning")
    sim.Projection(post, post, sim.FixedProbabilityConnector(0.1, rng=sim.NumpyRNG(seed=4)),
                   sim.StaticSynapse(weight=0.2, delay=0.5))
    post.record(["spikes", "v"])
    return [src, post]


def sources() -> list:
    """Spike source arrays and current sources (DC, step, AC, noise) driving neurons."""
    times = [[1.0, 5.0, 5.5, 20.0], [2.0, 3.0], [], [7.3, 7.4, 30.0]] * 10
    src = sim.Population(40, sim.SpikeSourceArray(spike_times=times), label="array")
    cells = sim.Population(40, sim.IF_cond_exp(), label="cells")
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.002,
                                                                          delay=0.2))
    sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=5)),
                   sim.StaticSynapse(weight=0.003, delay=0.1))
    sim.DCSource(amplitude=0.6, start=5.0, stop=40.0).inject_into(cells[0:15])
    sim.StepCurrentSource(times=[10.0, 20.0], amplitudes=[0.8, 0.2]).inject_into(cells[15:25])
    sim.ACSource(start=0.0, stop=50.0, amplitude=0.5, offset=0.7, frequency=40.0,
                 phase=0.0).inject_into(cells[25:35])
    sim.NoisyCurrentSource(mean=0.9, stdev=0.5, start=0.0, stop=50.0,
                           dt=0.1).inject_into(cells[35:40])
    cells.record(["spikes", "v", "gsyn_exc"])
    src.record("spikes")
    return [src, cells]


def egru() -> list:
    """Graded events: a graded source into two EGRU layers over several cores each."""
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 1.0, (40, 10))
    src = sim.Population(10, sim.GradedSourceArray.from_matrix(x), label="x")
    layers = []
    pre = src
    for k, (n_in, n) in enumerate(((10, 40), (40, 20))):
        w = rng.normal(0.0, 1.5 / np.sqrt(n_in), (n_in, 3 * n))
        v = rng.normal(0.0, 1.5 / np.sqrt(n), (n, 3 * n))
        layer = sim.egru_layer(pre, w, v, rng.normal(0.0, 0.3, 3 * n),
                               rng.normal(0.0, 0.3, 3 * n), rng.uniform(0.05, 0.5, n),
                               label=f"h{k}", max_per_core=8)
        layer.population.record(["spikes", "c"])
        layers.append(layer.population)
        pre = layer.population
    return layers


def unseeded() -> list:
    """Connections drawn with a seed that differs by rank: refused before the run."""
    a = sim.Population(10, sim.SpikeSourcePoisson(rate=5.0), label="a")
    b = sim.Population(10, sim.IF_curr_exp(), label="b")
    sim.Projection(a, b, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=1 + sim.rank())))
    return [a, b]


SCENARIOS = {
    "brunel_dt": lambda: brunel(0.1, 0.1),  # smallest delay one step: a window per step
    "brunel_delay": lambda: brunel(1.5, 0.8),  # windows of 8 steps
    "stdp": stdp,
    "sources": sources,
    "egru": egru,
    "unseeded": unseeded,
}
#: What runs without scenario names.
DEFAULT = ("brunel_dt", "brunel_delay", "stdp", "sources", "egru")


class CountingIO(PickleIO):
    """Neo's pickle IO, counting the blocks this process writes."""

    written = 0

    def write_block(self, block: object, **kwargs: object) -> None:
        CountingIO.written += 1
        super().write_block(block, **kwargs)


def main(scenario: str, out: Path) -> None:
    sim.setup(timestep=0.1, max_neurons_per_core={"IF_curr_exp": 32, "IF_cond_exp": 8,
                                                  "SpikeSourcePoisson": 64,
                                                  "SpikeSourceArray": 16})
    populations = SCENARIOS[scenario]()
    if scenario == "brunel_dt":  # a run, then reset(): the recordings start a new segment
        sim.run(13.0)
        sim.reset()
    sim.run(30.0)
    sim.run(20.0)  # two runs: the window continues across them
    result = {"num_processes": sim.num_processes(), "rank": sim.rank()}
    for pop in populations:
        block = pop.get_data()
        result[f"{pop.label}.n_segments"] = len(block.segments)
        seg = block.segments[-1]
        result[f"{pop.label}.n_trains"] = len(seg.spiketrains)
        for st in seg.spiketrains:
            key = f"{pop.label}.spikes.{st.annotations['source_index']}"
            result[key] = st.magnitude
            if "value" in st.array_annotations:
                result[key + ".value"] = np.asarray(st.array_annotations["value"])
        for sig in seg.analogsignals:
            result[f"{pop.label}.{sig.name}"] = sig.magnitude
    for k, prj in enumerate(_projections()):
        result[f"weights.{k}"] = np.asarray(prj.get("weight", format="array"), float)
    local = populations[-1].get_data(gather=False).segments[0].spiketrains
    result["local_trains"] = len(local)
    CountingIO.written = 0
    populations[-1].write_data(CountingIO(str(out / f"{scenario}.pkl")), "spikes")
    result["written"] = CountingIO.written
    np.savez(out / f"{scenario}.rank{sim.rank()}.npz", **result)
    sim.end()


def _projections() -> list:
    from pyNN.spinnaker2 import simulator

    return list(simulator.state.projections)


if __name__ == "__main__":
    for name in sys.argv[2:] or DEFAULT:
        main(name, Path(sys.argv[1]))
