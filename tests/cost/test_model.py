"""The cost model on hand-computed cases: cycles, overruns, time and energy in closed form."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.cost import (
    DEFAULT_CONSTANTS,
    Activity,
    ActivityRecorder,
    Constant,
    CostModelError,
    estimate,
)
from pynn_spinnaker2.cost.activity import PER_CHIP, PER_CORE

# One lif_curr_exp neuron update, by hand: 11 parameter + 4 state + 2 input words loaded
# (2 cycles each) = 34, 4 state + 2 input words stored (1 cycle) = 6, 16 single-cycle float
# ops, 3 branches x 3 cycles = 9, loop 3: 68 cycles.
LIF_UPDATE = 68
# A received packet with a 1-entry master population table: 36 + 9 x ceil(log2(2)) = 45.
PACKET_1_ENTRY = 45


def _activity(steps: np.ndarray | None = None, n_steps: int = 10, **counts: float) -> Activity:
    """One lif_curr_exp core on one chip; ``counts`` per step (scalars or per-step lists)."""
    lengths = np.ones(n_steps, np.int64) if steps is None else steps
    n = lengths.size
    sums = {name: np.zeros((n, 1)) for name in PER_CORE}
    for name, value in counts.items():
        sums[name][:, 0] = np.broadcast_to(np.asarray(value, float), n) * lengths
    return Activity(
        timestep_ms=1.0, block_lengths=lengths, sums=sums,
        peaks={k: v / np.maximum(lengths, 1)[:, None] for k, v in sums.items()},
        chip_sums={name: np.zeros((n, 1)) for name in PER_CHIP}, chips=((0, 0),),
        core_chip=np.zeros(1, np.int64), core_pe=np.zeros(1, np.int64),
        kernels=("lif_curr_exp",), n_neurons=np.array([counts.get("neuron_updates", 0)]),
        param_words=np.array([11]), state_words=np.array([4]), n_receptors=np.array([2]),
        mpt_entries=np.array([1]), rows_in_dram=np.array([True]))


def test_cycles_are_the_documented_sum() -> None:
    """100 neurons, 7 packets in (1-entry table), 300 synaptic events, 5 packets out."""
    act = _activity(neuron_updates=100, packets_received=7, rows_fetched=7,
                    synaptic_events=300, packets_sent=5)
    report = estimate(act)
    per_step = 200 + 100 * LIF_UPDATE + 7 * PACKET_1_ENTRY + 300 * 20 + 5 * 6
    assert report.cycles_peak[0] == per_step
    assert report.cycles_total[0] == 10 * per_step
    assert report.exact and not report.overrun


def test_energy_is_the_documented_sum() -> None:
    """Dynamic energy from the counts and constants; static from power x wall time."""
    act = _activity(neuron_updates=100, packets_received=7, rows_fetched=7,
                    synaptic_events=300, packets_sent=5)
    report = estimate(act)
    cycles = 10 * (200 + 100 * LIF_UPDATE + 7 * PACKET_1_ENTRY + 300 * 20 + 5 * 6)
    dram = 10 * (7 * 8 + 300 * 8)  # row index entry + 8-byte synaptic words, DRAM rows
    expected_dynamic = (cycles * 7.4e-12 + dram * 0.76e-12 + dram * 40e-12
                        + 10 * 7 * 20e-12)
    assert report.energy_dynamic_j == pytest.approx(expected_dynamic, rel=1e-12)
    assert report.static_power_w == pytest.approx(0.2 + 0.5e-3)
    assert report.wall_time_s == pytest.approx((0.01, 0.01))
    assert report.energy_static_j == pytest.approx(0.2005 * 0.01)
    assert report.power_w == pytest.approx(report.energy_j / 0.01)


def test_overrun_flag_at_the_timestep_budget() -> None:
    """150 MHz x 1 ms = 150,000 cycles: exactly at the budget is no overrun, above is."""
    fixed = 200 + 100 * LIF_UPDATE
    at_budget = (150_000 - fixed) / 20
    assert at_budget == int(at_budget)
    fine = estimate(_activity(neuron_updates=100, synaptic_events=at_budget))
    assert not fine.overrun and fine.load_peak[0] == pytest.approx(1.0)
    events = [at_budget] * 10
    events[3] = events[7] = at_budget + 1
    late = estimate(_activity(neuron_updates=100, synaptic_events=events))
    assert late.overrun and late.overrun_steps == (2, 2)
    assert late.overrun_steps_pe[0][0] == 2
    # real time: overrunning steps last their compute time, the others a timestep
    assert late.wall_time_s[0] == pytest.approx(8e-3 + 2 * (150_000 + 20) / 150e6)


def test_overrun_moves_with_the_clock() -> None:
    act = _activity(neuron_updates=100, synaptic_events=7000)  # 147,000 cycles per step
    assert not estimate(act).overrun
    assert estimate(act, clock_hz=140e6).overrun


def test_dram_bandwidth_overrun() -> None:
    """6.4 GB/s x 1 ms = 6.4 MB per step per chip; a faster clock does not help."""
    words = 6.4e6 / 8
    act = _activity(synaptic_events=words * 1.01, rows_fetched=0)
    report = estimate(act, clock_hz=1e12)
    assert report.overrun and report.dram_load_peak[0] == pytest.approx(1.01)


def test_free_running_time_is_the_compute_time() -> None:
    act = _activity(neuron_updates=100, synaptic_events=1000)
    per_step = (200 + 100 * LIF_UPDATE + 1000 * 20) / 150e6
    report = estimate(act, timing="free_running", inferences=5)
    assert report.wall_time_s == pytest.approx((10 * per_step,) * 2)
    assert report.latency_per_inference_s == pytest.approx(2 * per_step)
    assert report.energy_per_inference_j == pytest.approx(report.energy_j / 5)


def test_a_changed_constant_changes_the_result() -> None:
    act = _activity(neuron_updates=10, synaptic_events=100)
    slower = replace(DEFAULT_CONSTANTS, cycles_synaptic_event=Constant(
        40, "cycles", "estimate", "test"))
    assert (estimate(act, slower).cycles_peak[0] - estimate(act).cycles_peak[0]
            == pytest.approx(100 * 20))


def test_bad_arguments_are_refused() -> None:
    act = _activity(neuron_updates=1)
    with pytest.raises(CostModelError, match="timing must be one of"):
        estimate(act, timing="fast")
    with pytest.raises(CostModelError, match="at least one inference"):
        estimate(act, inferences=0)
    with pytest.raises(CostModelError, match="clock must be positive"):
        estimate(act, clock_hz=0)
    unknown = replace(act, kernels=("hodgkin_huxley",))
    with pytest.raises(CostModelError, match="kernel 'hodgkin_huxley'.*CostConstants.kernel_ops"):
        estimate(unknown)
    with pytest.raises(ValueError, match="published, derived or estimate"):
        Constant(1, "s", "guess", "nowhere")


def test_every_constant_names_its_source() -> None:
    for name, c in DEFAULT_CONSTANTS.constants().items():
        assert c.source and c.unit, name
        assert c.status == "published" or len(c.note) > 20, f"{name}: explain the estimate"


class _Counters:
    def __init__(self, n: int) -> None:
        self.packets_sent = np.zeros(n, np.int64)
        self.synaptic_events = np.zeros(n, np.int64)


def _recorded(series: np.ndarray, budget: int) -> ActivityRecorder:
    """Feed per-step (steps, 2 counters, cores) increments through a recorder."""
    rec = ActivityRecorder(series.shape[2], budget=budget)
    counters = _Counters(series.shape[2])
    for step in series:
        counters.packets_sent += step[0]
        counters.synaptic_events += step[1]
        rec.record(counters)
    return rec


def test_recorder_merges_blocks_and_keeps_sums_and_maxima() -> None:
    series = np.zeros((200, 2, 1), np.int64)
    series[:, 1, 0] = np.arange(200)
    rec = _recorded(series, budget=3 * 64)  # 64 blocks of one core
    lengths, sums, peaks = rec.blocks()
    assert rec.block_steps == 4 and lengths.sum() == 200 and len(lengths) == 50
    assert sums["synaptic_events"].sum() == np.arange(200).sum()
    np.testing.assert_array_equal(peaks["synaptic_events"][:, 0], np.arange(3, 200, 4))
    assert sums["macs"].sum() == 0  # counters without macs record none


def _from_recorder(rec: ActivityRecorder) -> Activity:
    lengths, rec_sums, rec_peaks = rec.blocks()
    n = lengths.size
    sums = {**rec_sums, "neuron_updates": 100 * lengths[:, None].astype(float),
            "packets_received": rec_sums["packets_sent"], "rows_fetched": rec_sums["packets_sent"]}
    peaks = {**rec_peaks, "neuron_updates": np.full((n, 1), 100.0),
             "packets_received": rec_peaks["packets_sent"],
             "rows_fetched": rec_peaks["packets_sent"]}
    base = _activity(n_steps=n, neuron_updates=100)
    return replace(base, block_lengths=lengths, sums=sums, peaks=peaks)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 8000)), min_size=70,
                max_size=300))
def test_blocked_runs_bound_the_exact_figures(steps: list[tuple[int, int]]) -> None:
    """A run kept in merged blocks gives the same totals and energy, and per-step bounds
    that contain the exact per-step figures."""
    series = np.array(steps, np.int64)[:, :, None]
    exact = estimate(_from_recorder(_recorded(series, budget=1 << 20)))
    blocked = estimate(_from_recorder(_recorded(series, budget=3 * 64)))
    assert exact.exact and not blocked.exact
    assert blocked.energy_dynamic_j == pytest.approx(exact.energy_dynamic_j, rel=1e-9)
    np.testing.assert_allclose(blocked.cycles_total, exact.cycles_total)
    lo, hi = blocked.overrun_steps
    assert lo <= exact.overrun_steps[0] <= hi
    assert blocked.wall_time_s[0] <= exact.wall_time_s[0] * (1 + 1e-9)
    assert exact.wall_time_s[0] <= blocked.wall_time_s[1] * (1 + 1e-9)
    assert blocked.cycles_peak[0] >= exact.cycles_peak[0]


def test_graded_events_cost_their_multiply() -> None:
    """A kernel that reports ``macs`` beside its counters pays 2 extra cycles per MAC."""
    plain = estimate(_activity(neuron_updates=10, synaptic_events=100))
    graded = estimate(_activity(neuron_updates=10, synaptic_events=100, macs=100))
    assert graded.cycles_peak[0] - plain.cycles_peak[0] == 100 * 2

    class WithMacs(_Counters):
        def __init__(self, n: int) -> None:
            super().__init__(n)
            self.macs = np.zeros(n, np.int64)

    rec = ActivityRecorder(2)
    counters = WithMacs(2)
    for step in range(3):
        counters.synaptic_events += [10, 0]
        counters.macs += [10 * step, 0]
        rec.record(counters)
    _, sums, _ = rec.blocks()
    np.testing.assert_array_equal(sums["macs"][:, 0], [0, 10, 20])
