"""Closed-form checks: what the emulator computes against what the equations say."""

from __future__ import annotations

import numpy as np
import pytest


def _spike_times(pop) -> list[np.ndarray]:
    return [np.asarray(st.magnitude) for st in pop.get_data().segments[0].spiketrains]


def test_constant_current_spikes_at_analytic_times(sim) -> None:
    """IF_curr_exp with i_offset fires at t_k = k (T + t_ref) on the time grid.

    From v_reset = v_rest the membrane reaches threshold after
    T = tau_m ln(R I / (R I - (v_thresh - v_rest))); the crossing is seen at the end of the
    step it happens in, and the neuron is clamped for tau_refrac afterwards.
    """
    dt, tau_m, cm, i_offset, t_ref = 0.1, 20.0, 0.5, 0.9, 2.0
    v_rest, v_thresh = -65.0, -50.0
    cell = sim.IF_curr_exp(tau_m=tau_m, cm=cm, i_offset=i_offset, v_rest=v_rest,
                           v_reset=v_rest, v_thresh=v_thresh, tau_refrac=t_ref)
    pop = sim.Population(1, cell, initial_values={"v": v_rest})
    pop.record("spikes")
    sim.run(300.0)
    r_i = tau_m / cm * i_offset
    period = tau_m * np.log(r_i / (r_i - (v_thresh - v_rest)))
    expected, t = [], 0.0
    while True:
        t_spike = np.ceil((t + period) / dt - 1e-9) * dt
        if t_spike > 300.0:
            break
        expected.append(t_spike)
        t = t_spike + t_ref
    got = _spike_times(pop)[0]
    assert len(expected) >= 10
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_psp_matches_analytic_curve(sim) -> None:
    """One input spike into IF_curr_exp: v(t) follows the difference of exponentials."""
    tau_m, tau_s, cm, w, delay, t_in = 20.0, 5.0, 1.0, 2.0, 1.5, 10.0
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[t_in]))
    pop = sim.Population(1, sim.IF_curr_exp(tau_m=tau_m, tau_syn_E=tau_s, cm=cm,
                                            v_rest=-65.0, v_thresh=0.0))
    sim.Projection(src, pop, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=w, delay=delay))
    pop.record("v")
    sim.run(100.0)
    v = pop.get_data().segments[0].filter(name="v")[0]
    t = np.asarray(v.times.rescale("ms").magnitude)
    onset = t_in + delay
    s = np.clip(t - onset, 0, None)
    analytic = -65.0 + w * tau_m * tau_s / (cm * (tau_s - tau_m)) * (
        np.exp(-s / tau_s) - np.exp(-s / tau_m))
    # float32 (the chip's precision) at -65 mV: 1 ulp is 7.6e-6 mV; rounding accumulates.
    np.testing.assert_allclose(np.asarray(v.magnitude)[:, 0], analytic, rtol=0, atol=5e-4)
    t_peak = tau_m * tau_s / (tau_m - tau_s) * np.log(tau_m / tau_s)
    assert abs(t[np.argmax(v.magnitude[:, 0])] - (onset + t_peak)) <= 0.1 + 1e-9


@pytest.mark.parametrize("delay", [0.1, 1.0, 3.7, 12.3])
def test_delays_arrive_exactly(sim, delay: float) -> None:
    """The first effect of a spike sent at t is at t + delay, not a step earlier or later."""
    t_in = 5.0
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[t_in]))
    pop = sim.Population(1, sim.IF_curr_delta(v_rest=-65.0, v_thresh=0.0, tau_refrac=0.1))
    sim.Projection(src, pop, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=5.0, delay=delay))
    pop.record("v")
    sim.run(30.0)
    v = np.asarray(pop.get_data().segments[0].filter(name="v")[0].magnitude)[:, 0]
    jumped = np.flatnonzero(v > -65.0 + 1e-6)
    assert jumped[0] == int(round((t_in + delay) / 0.1))
    assert v[jumped[0]] == pytest.approx(-60.0, abs=1e-5)


def test_poisson_rate_within_statistical_bounds(sim) -> None:
    """200 sources at 40 Hz for 5 s: the count is Poisson(40,000); intervals exponential."""
    rate, duration, n = 40.0, 5000.0, 200
    pop = sim.Population(n, sim.SpikeSourcePoisson(rate=rate))
    pop.record("spikes")
    sim.run(duration)
    trains = _spike_times(pop)
    count = sum(t.size for t in trains)
    expected = rate * duration / 1000.0 * n
    assert abs(count - expected) < 5 * np.sqrt(expected)
    isi = np.concatenate([np.diff(t) for t in trains])
    cv = isi.std() / isi.mean()
    assert 0.95 < cv < 1.05


def test_poisson_start_and_duration(sim) -> None:
    """No spike outside [start, start + duration)."""
    pop = sim.Population(50, sim.SpikeSourcePoisson(rate=200.0, start=100.0, duration=50.0))
    pop.record("spikes")
    sim.run(300.0)
    times = np.concatenate(_spike_times(pop))
    assert times.size > 0.5 * 50 * 200 * 0.05
    assert times.min() >= 100.0 and times.max() < 150.0
