"""Spike-pair STDP: closed-form pair sums, NEST's ``stdp_synapse`` on the same script, and
what PyNN scripts do with plastic weights (read back mid-run, set, reset)."""

from __future__ import annotations

import math

import numpy as np
import pytest

RULE = {"tau_plus": 16.8, "tau_minus": 33.7, "A_plus": 0.3, "A_minus": 0.2}
W_MIN, W_MAX = 0.0, 1e-4  # tiny: the plastic synapses do not move the postsynaptic spikes


def _pair_sum_weights(pre: np.ndarray, post: np.ndarray, delay: float, w0: float,
                      multiplicative: bool) -> np.ndarray:
    """The weight after each presynaptic spike, written here from the pair-sum equations
    (NEST's ``stdp_synapse``), sharing nothing with the package's plasticity code.

    Postsynaptic spikes reach the synapse ``delay`` later. At a presynaptic spike t: each
    postsynaptic spike s seen since the previous presynaptic spike potentiates with
    K+ = sum over earlier presynaptic spikes t' of exp(-(s - t') / tau_plus):
    additive w += A+ (w_max - w_min) K+, multiplicative w += A+ (w_max - w) K+, capped at
    w_max; then K- = sum over postsynaptic spikes s < t of exp(-(t - s) / tau_minus)
    depresses: additive w -= A- (w_max - w_min) K-, multiplicative w -= A- (w - w_min) K-,
    floored at w_min.
    """
    pre = np.sort(np.asarray(pre, dtype=float))
    post = np.sort(np.asarray(post, dtype=float)) + delay
    w, last, out = float(w0), -np.inf, []
    for i, t in enumerate(pre):
        for s in post[(post > last) & (post <= t)]:
            k_plus = sum(math.exp(-(s - tp) / RULE["tau_plus"]) for tp in pre[:i])
            room = (W_MAX - w) if multiplicative else (W_MAX - W_MIN)
            w = min(w + RULE["A_plus"] * room * k_plus, W_MAX)
        k_minus = sum(math.exp(-(t - s) / RULE["tau_minus"]) for s in post[post < t])
        room = (w - W_MIN) if multiplicative else (W_MAX - W_MIN)
        w = max(w - RULE["A_minus"] * room * k_minus, W_MIN)
        out.append(w)
        last = t
    return np.array(out)


def _grid(times: np.ndarray, t_stop: float) -> np.ndarray:
    times = np.unique(np.round(times, 1))
    return times[(times > 0.5) & (times < t_stop)]


def _network(sim, weight_dependence: str, delays: tuple[float, ...], n_pre: int = 12,
             seed: int = 7):
    """Presynaptic spike trains onto postsynaptic neurons that a strong driver makes fire
    at fixed random times; one plastic projection per delay."""
    rng = np.random.default_rng(seed)
    pre = sim.Population(n_pre, sim.SpikeSourceArray(spike_times=[
        _grid(np.cumsum(rng.exponential(25.0, 60)), 600.0) for _ in range(n_pre)]),
        label="pre")
    post = sim.Population(3, sim.IF_curr_exp(tau_refrac=2.0), label="post")
    driver = sim.Population(3, sim.SpikeSourceArray(spike_times=[
        _grid(np.cumsum(rng.exponential(20.0, 60)), 600.0) for _ in range(3)]), label="driver")
    sim.Projection(driver, post, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=20.0, delay=1.0))
    wd = getattr(sim, weight_dependence)(w_min=W_MIN, w_max=W_MAX)
    projections = []
    for delay in delays:
        stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(**RULE),
                                 weight_dependence=wd, weight=0.5 * W_MAX, delay=delay)
        projections.append(sim.Projection(pre, post, sim.AllToAllConnector(), stdp))
    post.record("spikes")
    return pre, post, projections


@pytest.mark.parametrize("weight_dependence", ["AdditiveWeightDependence",
                                               "MultiplicativeWeightDependence"])
def test_weights_follow_the_pair_sums(sim, weight_dependence: str) -> None:
    """Every synapse's final weight is the closed-form all-to-all pair sum (with clipping at
    both bounds) of its own pre spikes and the postsynaptic spikes that happened."""
    delays = (1.0, 2.5)
    pre, post, projections = _network(sim, weight_dependence, delays)
    sim.run(650.0)
    post_spikes = [np.asarray(st.magnitude) for st in post.get_data().segments[0].spiketrains]
    assert min(s.size for s in post_spikes) > 15
    multiplicative = weight_dependence.startswith("Multiplicative")
    clipped = 0
    for prj, delay in zip(projections, delays, strict=True):
        got = prj.get("weight", format="list", with_address=True)
        for i, j, w in got:
            times = pre.get("spike_times")[int(i)].value
            expected = _pair_sum_weights(times, post_spikes[int(j)], delay, 0.5 * W_MAX,
                                         multiplicative)
            np.testing.assert_allclose(w, expected[-1], rtol=2e-5, atol=1e-12)
            clipped += int(np.any(np.isclose(expected, W_MIN) | np.isclose(expected, W_MAX)))
    if not multiplicative:
        assert clipped > 5, "the comparison must include weights held at a bound"


def _nest_script(weight_dependence: str):
    def script(sim):
        sim.setup(timestep=0.1, min_delay=1.0, spike_precision="on_grid")
        _, post, projections = _network(sim, weight_dependence, (1.0, 3.0), n_pre=8)
        samples = []

        def sample(t: float) -> float:
            samples.append(np.concatenate([p.get("weight", format="array").ravel()
                                           for p in projections]))
            return t + 5.0

        sim.run(650.0, callbacks=[sample])
        spikes = [np.asarray(st.magnitude) for st in post.get_data().segments[0].spiketrains]
        return np.array(samples), spikes
    return script


@pytest.mark.nest
@pytest.mark.parametrize("weight_dependence", ["AdditiveWeightDependence",
                                               "MultiplicativeWeightDependence"])
def test_same_weights_as_nest_stdp_synapse(on_both, weight_dependence: str) -> None:
    """Same script on NEST: the weights read every 5 ms agree (NEST computes in float64, the
    cores in float32) and so do the postsynaptic spikes."""
    (w_nest, s_nest), (w_ours, s_ours) = on_both(_nest_script(weight_dependence))
    for a, b in zip(s_nest, s_ours, strict=True):
        np.testing.assert_allclose(b, a, atol=1e-9)
    assert w_ours.shape == w_nest.shape == (131, 2 * 8 * 3)
    assert np.ptp(w_nest[-1]) > 0.2 * W_MAX, "the weights must have learnt something"
    np.testing.assert_allclose(w_ours, w_nest, rtol=1e-5, atol=1e-6 * W_MAX)


def test_reset_restores_and_set_overrides_learnt_weights(sim) -> None:
    _, _, (prj,) = _network(sim, "AdditiveWeightDependence", (1.0,))
    initial = prj.get("weight", format="array")
    sim.run(300.0)
    learnt = prj.get("weight", format="array")
    assert not np.allclose(learnt, initial)
    sim.run(300.0)
    assert not np.allclose(prj.get("weight", format="array"), learnt)
    sim.reset()
    np.testing.assert_array_equal(prj.get("weight", format="array"), initial)
    sim.run(300.0)
    np.testing.assert_allclose(prj.get("weight", format="array"), learnt, rtol=1e-6)
    prj.set(weight=0.25 * W_MAX)  # mid-run: the cores take the new weights now
    sim.run(1.0)
    changed = prj.get("weight", format="array")
    assert np.sum(np.isclose(changed, 0.25 * W_MAX, rtol=1e-6)) > 0.8 * changed.size


def test_mid_run_change_keeps_learning(sim) -> None:
    """A parameter change mid-run rebuilds the image; learnt weights and traces carry on,
    so two runs with a no-op change in between equal one run."""
    _, post, (prj,) = _network(sim, "MultiplicativeWeightDependence", (1.5,))
    sim.run(300.0)
    post.set(tau_m=20.0)  # the default value: nothing changes but the image is rebuilt
    sim.run(300.0)
    split = prj.get("weight", format="array")
    sim.reset()
    sim.run(600.0)
    np.testing.assert_allclose(prj.get("weight", format="array"), split, rtol=1e-6)


def test_tau_minus_must_agree_per_neuron(sim) -> None:
    from pynn_spinnaker2.errors import MappingError

    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    post = sim.Population(2, sim.IF_curr_exp(), label="post")
    for tau_minus in (20.0, 30.0):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
            sim.SpikePairRule(tau_minus=tau_minus), sim.AdditiveWeightDependence(),
            weight=0.1), label=f"plastic{tau_minus:.0f}")
    with pytest.raises(MappingError, match="plastic20.*plastic30.*'post'.*tau_minus"):
        sim.run(1.0)


@pytest.mark.parametrize(("rule", "weights", "message"), [
    ({"tau_plus": -1.0}, {}, "tau_plus > 0 and tau_minus > 0"),
    ({"A_minus": -0.1}, {}, "A_plus and A_minus must be >= 0"),
    ({}, {"w_min": 0.5, "w_max": 0.1}, "w_min <= w_max"),
])
def test_bad_stdp_parameters_name_the_projection(sim, rule: dict, weights: dict,
                                                 message: str) -> None:
    from pynn_spinnaker2.errors import NetworkError

    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    post = sim.Population(2, sim.IF_curr_exp())
    sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        sim.SpikePairRule(**rule), sim.AdditiveWeightDependence(**weights), weight=0.1),
        label="learner")
    with pytest.raises(NetworkError, match=f"'learner'.*{message}"):
        sim.run(1.0)
