"""Mapping reports: written after each compilation and on request, text/JSON and a picture."""

from __future__ import annotations

import json

import numpy as np
import pyNN.spinnaker2 as sim
import pytest


def _network() -> object:
    sim.set_number_of_neurons_per_core(sim.IF_curr_exp, 20)
    exc = sim.Population(100, sim.IF_curr_exp(), label="exc")
    noise = sim.Population(100, sim.SpikeSourcePoisson(rate=200.0), label="noise")
    sim.Projection(noise, exc, sim.OneToOneConnector(), sim.StaticSynapse(weight=2.0))
    sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(seed=1)),
                   sim.StaticSynapse(weight=0.1, delay=1.0))
    return exc


def test_reports_after_mapping_and_after_a_run(tmp_path) -> None:
    folder = tmp_path / "reports"
    sim.setup(timestep=1.0, reports=str(folder),
              machine=sim.Machine(width=2, height=1, pes_per_chip=4))
    _network()
    sim.run(50.0)
    names = {p.name for p in folder.iterdir()}
    # The mapping reports, and the cost of the run (written after it).
    assert names == {"summary.json", "placement.txt", "keys.txt", "router_tables.txt",
                     "packets.txt", "chips.png", "cost.json", "cost.txt", "cost_heatmap.png"}
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["pes_used"] == 6 and summary["chips_used"] == 2
    assert summary["router_entries_after_compression"] <= summary[
        "router_entries_before_compression"]
    assert (folder / "chips.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tables = (folder / "router_tables.txt").read_text()
    assert "chip (0, 0):" in tables and "before compression" in tables
    assert "population" in (folder / "keys.txt").read_text()
    assert "packets_sent" not in summary  # written at mapping, before the run

    later = tmp_path / "after"
    sim.write_reports(str(later))
    after = json.loads((later / "summary.json").read_text())
    assert after["run_steps"] == 50 and after["packets_sent"] > 0
    rows = (later / "packets.txt").read_text().splitlines()
    sent = np.array([int(r.split()[-2]) for r in rows[1:]])
    received = np.array([int(r.split()[-1]) for r in rows[1:]])
    # The one noise PE (100 sources) and every exc PE send each packet to all 5 exc PEs.
    assert sent[[" noise " in r for r in rows[1:]]].size == 1
    assert received.sum() == 5 * sent.sum()
    assert np.all(received[[" exc " in r for r in rows[1:]]] == sent.sum())
    sim.end()


def test_write_reports_needs_a_folder() -> None:
    sim.setup(timestep=1.0)
    _network()
    with pytest.raises(ValueError, match="needs a folder"):
        sim.write_reports()
    sim.end()

