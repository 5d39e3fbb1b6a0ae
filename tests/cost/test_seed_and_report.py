"""The seed EGRU calibration's activity in closed form, and the report writers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pynn_spinnaker2.cost import estimate
from pynn_spinnaker2.cost.report import pe_grid, report_text, write_cost_report
from pynn_spinnaker2.cost.seed_egru import (
    PUBLISHED,
    SeedEGRU,
    calibration_markdown,
    calibration_rows,
    seed_activity,
)


def test_seed_weights_and_partition() -> None:
    """3 gates x (input + hidden) x hidden x 5 % per layer; 150 PEs shared by weight, and the
    weights (fp32 + 16-bit index) fit the ~96 KiB of data SRAM a PE had in the seed work."""
    model = SeedEGRU()
    np.testing.assert_allclose(model.weights(), [3 * 2100 * 1350 * 0.05,
                                                 3 * 2700 * 1350 * 0.05,
                                                 3 * 2100 * 750 * 0.05])
    pes = model.pes_per_layer()
    assert pes.sum() == 150 and pes.tolist() == [53, 68, 29]
    assert (model.weights() / pes * 6).max() < 96 * 1024


@pytest.mark.parametrize("a", [0.1, 0.2, 0.5])
def test_seed_steady_state_step_in_closed_form(a: float) -> None:
    """A step with all three layers busy: the dense embedding into layer 1 plus, for every
    event, 3 gates x 5 % of the units it feeds."""
    model = SeedEGRU(activity=a, tokens=10)
    act = seed_activity(model)
    step = 5  # layers hold tokens 5, 4, 3: all have a previous token
    events = act.sums["synaptic_events"][step].sum()
    expected = 0.05 * 3 * (750 * 1350 + a * 1350 * 1350 + a * 1350 * 1350
                           + a * 1350 * 1350 + a * 1350 * 750 + a * 750 * 750)
    assert events == pytest.approx(expected)
    assert act.sums["packets_sent"][step].sum() == pytest.approx(a * 3450)
    np.testing.assert_array_equal(act.sums["macs"], act.sums["synaptic_events"])
    assert act.n_steps == 12 and act.sums["neuron_updates"][0].sum() == 3450


def test_calibration_rows_compare_with_the_published_figures() -> None:
    rows = {r["quantity"]: r for r in calibration_rows()}
    assert rows["power"]["published"] == PUBLISHED["power_w"]
    for r in rows.values():
        assert r["real_time_ratio"] == pytest.approx(r["real_time"] / r["published"])
    # A guard, not a claim: the estimate against the published seed (doc/cost_model.md
    # explains the gap) is pinned, so a change of constants that moves it by more than 10 %
    # must be looked at and this table updated.
    ratios = {"power": 0.986, "latency per inference": 0.512, "energy per inference": 0.515}
    assert set(rows) == set(ratios)
    for quantity, ratio in ratios.items():
        assert rows[quantity]["real_time_ratio"] == pytest.approx(ratio, rel=0.1), quantity
    assert "| power | 0.39 W |" in calibration_markdown()


def test_pe_grid_places_pes_by_chip_and_number() -> None:
    act = seed_activity(SeedEGRU(tokens=2))
    report = estimate(act)
    values = np.arange(report.core_chip.size, dtype=float)
    grid = pe_grid(report, values)
    assert grid.shape == (10, 16)  # 152 PEs in rows of 16
    assert grid[0, 0] == 0 and grid[1, 3] == 19 and grid[9, 5] == 149
    assert np.isnan(grid[9, 6])


def test_pe_grid_places_chips_by_coordinates() -> None:
    from dataclasses import replace

    report = estimate(seed_activity(SeedEGRU(tokens=2, n_pes=4, hidden=(8, 8, 8),
                                             embedding=8)))
    report = replace(report, chips=((0, 0), (1, 1)), core_chip=np.array([0, 0, 1, 1]),
                     core_pe=np.array([0, 1, 0, 151]), pes_per_chip=152)
    grid = pe_grid(report, np.array([1.0, 2.0, 3.0, 4.0]))
    assert grid.shape == (21, 33)  # 2 x 2 chips of 10 x 16 with one row/column between
    assert grid[11, 0] == 1 and grid[11, 1] == 2  # chip (0, 0): bottom left
    assert grid[0, 17] == 3 and grid[9, 17 + 7] == 4  # chip (1, 1): top right


def test_report_writer_outputs(tmp_path) -> None:
    report = estimate(seed_activity(SeedEGRU(tokens=3)))
    text = report_text(report)
    assert "TIMER OVERRUN" in text and "150 PEs on 1 chip" in text
    write_cost_report(report, tmp_path)
    data = json.loads((tmp_path / "cost.json").read_text())
    assert data["summary"]["overrun"] is True
    assert data["constants"]["energy_pe_cycle"]["status"] == "estimate"
    assert (tmp_path / "cost_heatmap.png").stat().st_size > 10_000
