"""``sim.get_cost``, ``sim.cost_report`` and ``setup(reports=...)`` after PyNN runs."""

from __future__ import annotations

import json

import numpy as np
import pytest


def _network(sim, n_spikes: int = 6) -> None:
    src = sim.Population(3, sim.SpikeSourceArray(spike_times=[5.0 * (k + 1)
                                                              for k in range(n_spikes)]))
    cells = sim.Population(20, sim.IF_curr_exp())
    sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=1e-6,
                                                                           delay=1.0))


def test_get_cost_before_any_run_says_what_to_do(sim) -> None:
    _network(sim)
    with pytest.raises(RuntimeError, match=r"call sim.run\(...\) first"):
        sim.get_cost()


def test_get_cost_counts_the_run(sim) -> None:
    """3 sources x 6 spikes, all-to-all onto 20 cells: 18 packets, 360 synaptic events."""
    sim.setup(timestep=1.0)
    _network(sim)
    sim.run(50.0)
    report = sim.get_cost()
    assert report.n_steps == 50
    assert report.totals["packets_sent"] == 18
    assert report.totals["synaptic_events"] == 18 * 20
    assert report.timestep_s == pytest.approx(1e-3)
    assert not report.overrun and report.energy_j > 0
    sim.run(10.0)  # a second run extends the count
    assert sim.get_cost().n_steps == 60
    sim.reset()
    sim.run(20.0)
    assert sim.get_cost().n_steps == 20


def test_clock_comes_from_the_machine(sim) -> None:
    from pynn_spinnaker2.machine import Machine

    sim.setup(timestep=1.0, machine=Machine(clock_hz=300e6))
    _network(sim)
    sim.run(10.0)
    assert sim.get_cost().clock_hz == 300e6
    assert sim.get_cost(clock_hz=150e6).clock_hz == 150e6


def test_reports_folder_gets_the_cost_after_each_run(sim, tmp_path) -> None:
    sim.setup(timestep=1.0, reports=str(tmp_path))
    _network(sim)
    sim.run(30.0)
    data = json.loads((tmp_path / "cost.json").read_text())
    assert data["summary"]["steps"] == 30
    assert data["summary"]["totals"]["packets_sent"] == 18
    assert len(data["pes"]) == 2 and "constants" in data
    assert "Real-time check" in (tmp_path / "cost.txt").read_text()
    assert (tmp_path / "cost_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sim.run(10.0)
    assert json.loads((tmp_path / "cost.json").read_text())["summary"]["steps"] == 40


def test_cost_report_writes_where_asked(sim, tmp_path) -> None:
    sim.setup(timestep=1.0)
    _network(sim)
    sim.run(20.0)
    report = sim.cost_report(tmp_path / "cost", timing="free_running", inferences=4)
    assert report.inferences == 4 and report.timing == "free_running"
    summary = json.loads((tmp_path / "cost" / "cost.json").read_text())["summary"]
    assert summary["energy_per_inference_j"] == pytest.approx(report.energy_j / 4)
    assert np.isclose(summary["wall_time_s"][0], report.compute_time_s[0])


def test_graded_events_are_counted_as_macs_on_an_egru(sim) -> None:
    """Every synaptic event of a graded packet is a multiply-accumulate; the EGRU and its
    graded source are costed like any other kernel."""
    sim.setup(timestep=1.0)
    rng = np.random.default_rng(1)
    n_in, n, steps = 5, 8, 6
    src = sim.Population(n_in, sim.GradedSourceArray.from_matrix(rng.normal(size=(steps, n_in))
                                                                 + 3.0))
    kernel = np.zeros((n_in, 3 * n))
    kernel[:, 2 * n:] = 1.0  # candidate only: every input event reaches n synapses
    layer = sim.egru_layer(src, kernel, np.zeros((n, 3 * n)), np.zeros(3 * n), np.zeros(3 * n),
                           np.full(n, 100.0), label="egru")  # never fires: no recurrent events
    layer.population.record("spikes")
    sim.run(steps + 2)
    totals = sim.get_cost().summary()["totals"]
    assert totals["packets_sent"] == steps * n_in
    assert totals["synaptic_events"] == steps * n_in * n
    assert totals["macs"] == totals["synaptic_events"]


def test_every_neuron_kernel_has_an_operation_count() -> None:
    """A kernel the cost model cannot price makes ``get_cost`` fail after a run."""
    from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
    from pynn_spinnaker2.cells import CELL_TYPES
    from pynn_spinnaker2.cost.constants import KERNEL_OPS

    kernels = set(NEURON_KERNELS) | {m.kernel for m in CELL_TYPES.values()}
    assert kernels <= set(KERNEL_OPS), kernels - set(KERNEL_OPS)
