"""StochasticTsodyksMarkramSynapse and MultiQuantalSynapse: release sites that recover and
release at random, drawn by the target core.

References nobody here wrote: the closed form of the mean (each of n sites is full before
spike k with probability p_k, p_{k+1} = 1 - (1 - p_k (1 - u_k)) exp(-h / tau_rec), and
releases with probability u_k, so a spike releases Binomial(n, u_k p_k) sites; for n = 1 the
mean is the deterministic Tsodyks-Markram synapse's U x_k), a per-synapse re-implementation of
PyNN's NEST extension ``stochastic_stp_synapse`` (its C++ ``send``, transcribed below), and
NEST 3.10's ``quantal_stp_synapse`` on the same script.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pynn_spinnaker2.errors import NetworkError

#: Regular train, then probes of the recovery after it.
TRAIN = np.concatenate((np.arange(10.0, 101.0, 10.0), [150.0, 300.0, 700.0]))


def _releases(sim, synapse: object, times: np.ndarray = TRAIN, n_targets: int = 1000,
              seed: int = 0, weight: float = 1.0, initial: dict | None = None,
              label: str = "stp") -> np.ndarray:
    """(spikes, synapses) quanta released: one source onto ``n_targets`` IF_curr_delta
    neurons that only integrate (tau_m 1e9 ms, no threshold), at dt = 1 ms."""
    sim.setup(timestep=1.0, seed=seed)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
    cells = sim.Population(n_targets, sim.IF_curr_delta(
        tau_m=1e9, v_thresh=1e9, tau_refrac=0.0, v_rest=0.0, v_reset=0.0),
        initial_values={"v": 0.0})
    prj = sim.Projection(source, cells, sim.AllToAllConnector(), synapse, label=label)
    if initial:
        prj.initialize(**initial)
    cells.record("v")
    sim.run(float(times[-1]) + 5.0)
    v = np.asarray(cells.get_data().segments[0].filter(name="v")[0].magnitude)
    sim.end()
    jumps = np.diff(v, axis=0)
    steps = np.round(times).astype(int)
    # The spike of step t reaches v one delay later; spikes are >= 10 steps apart.
    out = np.array([jumps[t:t + 4].sum(axis=0) for t in steps]) / weight
    return out


def _closed_form(U: float, tau_rec: float, tau_facil: float, times: np.ndarray,
                 u0: float | None = None, p0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(u_k, p_k) per spike: release probability of a full site and probability that a site
    is full, for the spike train ``times``."""
    u = np.empty(times.size)
    p = np.empty(times.size)
    u[0], p[0] = U if u0 is None else u0, p0
    for k in range(1, times.size):
        h = times[k] - times[k - 1]
        decay = math.exp(-h / tau_facil) if tau_facil > 0 else 0.0
        u[k] = U + u[k - 1] * (1 - U) * decay
        p[k] = 1 - (1 - p[k - 1] * (1 - u[k - 1])) * math.exp(-h / tau_rec)
    return u, p


def _assert_binomial_means(released: np.ndarray, n: int, q: np.ndarray) -> None:
    """Per spike, the mean over synapses of Binomial(n, q_k) counts, within 4.5 sigma."""
    n_syn = released.shape[1]
    sigma = np.sqrt(n * q * (1 - q) / n_syn)
    mean = released.mean(axis=1)
    assert np.all(np.abs(mean - n * q) <= 4.5 * sigma + 1e-12), (mean, n * q)


@pytest.mark.parametrize("kind", ["depressing", "facilitating"])
def test_stochastic_tm_mean_is_the_deterministic_tm(kind: str) -> None:
    """Mean response per spike (including the recovery probes after the train) equals the
    deterministic TsodyksMarkramSynapse's response on the same script, and the closed form."""
    import pyNN.spinnaker2 as sim

    params = (dict(U=0.5, tau_rec=200.0, tau_facil=0.0) if kind == "depressing"
              else dict(U=0.1, tau_rec=50.0, tau_facil=200.0))
    w = 0.5
    released = _releases(sim, sim.StochasticTsodyksMarkramSynapse(weight=w, delay=1.0,
                                                                  **params), weight=w)
    assert set(np.unique(np.round(released, 4))) <= {0.0, 1.0}
    deterministic = _releases(sim, sim.TsodyksMarkramSynapse(weight=w, delay=1.0, **params),
                              n_targets=1, weight=w)[:, 0]
    u, p = _closed_form(params["U"], params["tau_rec"], params["tau_facil"], TRAIN)
    np.testing.assert_allclose(deterministic, u * p, rtol=1e-4)
    _assert_binomial_means(released, 1, u * p)
    # Depression shows, and recovers after the train.
    if kind == "depressing":
        assert released[9].mean() < 0.6 * released[0].mean()
        assert released[-1].mean() > 2 * released[9].mean()


def _stochastic_stp_synapse(times: np.ndarray, U: float, tau_rec: float, tau_fac: float,
                            rng: np.random.Generator) -> np.ndarray:
    """PyNN's ``pyNN/nest/extensions/stochastic_stp_synapse.h`` ``send()``, line by line, for
    one synapse (t_lastspike_ = t_surv_ = u_ = 0, R_ = 1 at creation): True where a spike
    is transmitted."""
    u_, R_, t_surv_, t_lastspike_ = 0.0, 1.0, 0.0, 0.0
    out = []
    for t_spike in times:
        if tau_fac > 1.0e-10:
            u_ *= math.exp(-(t_spike - t_lastspike_) / tau_fac)
            u_ += U * (1 - u_)
        else:
            u_ = U
        release = False
        if R_ == 0:
            p_surv = math.exp(-(t_spike - t_surv_) / tau_rec)
            if rng.random() > p_surv:
                R_ = 1
            else:
                t_surv_ = t_spike
        if R_ == 1:
            if rng.random() < u_:
                release = True
                R_ = 0
                t_surv_ = t_spike
        out.append(release)
        t_lastspike_ = t_spike
    return np.array(out)


def test_stochastic_tm_matches_a_transcription_of_nests_stochastic_stp_synapse() -> None:
    """Not only the mean: the joint statistics of successive releases (a released site
    cannot release again until it recovers) match the C++ model's, spike pair by spike
    pair."""
    import pyNN.spinnaker2 as sim

    params = dict(U=0.6, tau_rec=40.0, tau_facil=30.0)
    got = np.round(_releases(sim, sim.StochasticTsodyksMarkramSynapse(
        weight=1.0, delay=1.0, **params), n_targets=2000)).astype(bool)
    rng = np.random.default_rng(1)
    ref = np.array([_stochastic_stp_synapse(TRAIN, params["U"], params["tau_rec"],
                                            params["tau_facil"], rng)
                    for _ in range(2000)]).T
    for a, b in ((got[k], ref[k]) for k in range(TRAIN.size)):
        assert stats.fisher_exact([[a.sum(), (~a).sum()], [b.sum(), (~b).sum()]]).pvalue > 1e-4
    for k in range(TRAIN.size - 1):
        both_got = (got[k] & got[k + 1]).mean()
        both_ref = (ref[k] & ref[k + 1]).mean()
        sigma = math.sqrt(max(both_ref * (1 - both_ref), 1e-4) * 2 / 2000)
        assert abs(both_got - both_ref) < 4.5 * sigma, (k, both_got, both_ref)
    # Successive releases of one synapse are anticorrelated (depletion), as in the C++ model.
    assert (got[0] & got[1]).mean() < got[0].mean() * got[1].mean() - 0.05


@pytest.mark.parametrize("n", [1, 5])
def test_multiquantal_counts_are_binomial(n: int) -> None:
    """Each spike releases Binomial(n, u_k p_k) sites (sites are independent), so the counts
    have the closed-form mean and variance; weight x count reaches the target."""
    import pyNN.spinnaker2 as sim

    params = dict(U=0.3, tau_rec=100.0, tau_facil=50.0)
    w = 0.25
    released = _releases(sim, sim.MultiQuantalSynapse(n=n, weight=w, delay=1.0, **params),
                         weight=w)
    counts = np.round(released)
    np.testing.assert_allclose(released, counts, atol=1e-4)
    assert counts.min() >= 0 and counts.max() <= n
    u, p = _closed_form(params["U"], params["tau_rec"], params["tau_facil"], TRAIN)
    _assert_binomial_means(counts, n, u * p)
    for k in (0, 5, TRAIN.size - 1):
        expected = stats.binom(n, u[k] * p[k])
        observed = np.bincount(counts[k].astype(int), minlength=n + 1)
        assert stats.chisquare(observed, expected.pmf(np.arange(n + 1)) * counts.shape[1]
                               ).pvalue > 1e-4


def test_initialize_sets_full_sites_and_first_release_probability() -> None:
    """``Projection.initialize(a=..., u=...)``: with u = 1 every full site releases at the
    first spike; with a = 0 nothing does (no site recovers before the first spike)."""
    import pyNN.spinnaker2 as sim

    times = np.array([10.0, 20.0])
    syn = dict(n=4, U=0.2, tau_rec=1e9, tau_facil=0.0, weight=1.0, delay=1.0)
    all_out = _releases(sim, sim.MultiQuantalSynapse(**syn), times, 50, initial={"u": 1.0})
    np.testing.assert_allclose(all_out[0], 4.0)
    np.testing.assert_allclose(all_out[1], 0.0, atol=1e-6)  # tau_rec 1e9: nothing refills
    some = _releases(sim, sim.MultiQuantalSynapse(**syn), times, 50,
                     initial={"a": 2.0, "u": 1.0})
    np.testing.assert_allclose(some[0], 2.0)
    none = _releases(sim, sim.MultiQuantalSynapse(**syn), times, 50, initial={"a": 0.0})
    np.testing.assert_allclose(none, 0.0, atol=1e-6)


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    import pyNN.spinnaker2 as sim

    def run(seed: int) -> np.ndarray:
        return _releases(sim, sim.MultiQuantalSynapse(n=3, U=0.5, tau_rec=30.0, weight=1.0,
                                                      delay=1.0), n_targets=100, seed=seed)

    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_several_packets_of_one_source_in_one_step_draw_apart() -> None:
    """A Poisson source that sends two packets in one step: each crosses the synapse with
    its own draws, in order (the second finds the sites the first left)."""
    import pyNN.spinnaker2 as sim

    sim.setup(timestep=1.0, seed=3)
    source = sim.Population(1, sim.SpikeSourcePoisson(rate=3000.0, duration=3.0))
    cells = sim.Population(400, sim.IF_curr_delta(tau_m=1e9, v_thresh=1e9, tau_refrac=0.0,
                                                  v_rest=0.0, v_reset=0.0),
                           initial_values={"v": 0.0})
    sim.Projection(source, cells, sim.AllToAllConnector(),
                   sim.MultiQuantalSynapse(n=2, U=1.0, tau_rec=1e9, weight=1.0, delay=1.0))
    source.record("spikes")
    cells.record("v")
    sim.run(10.0)
    spikes = source.get_data().segments[0].spiketrains[0]
    v = cells.get_data().segments[0].filter(name="v")[0].magnitude
    sim.end()
    assert len(spikes) >= 2
    # U = 1 and no recovery: the first packet takes both sites, later ones nothing.
    np.testing.assert_allclose(v[-1], 2.0)


@pytest.mark.parametrize(("synapse", "kwargs", "message"), [
    ("MultiQuantalSynapse", dict(n=70000), "whole number of release sites 1 <= n <= 65535"),
    ("MultiQuantalSynapse", dict(n=0), "whole number of release sites"),
    ("MultiQuantalSynapse", dict(U=1.5), r"0 <= U <= 1, tau_rec > 0 and tau_facil >= 0"),
    ("StochasticTsodyksMarkramSynapse", dict(tau_rec=0.0), r"tau_rec > 0"),
    ("StochasticTsodyksMarkramSynapse", dict(tau_facil=-1.0), r"tau_facil >= 0"),
])
def test_bad_parameters_name_the_projection(sim, synapse: str, kwargs: dict,
                                            message: str) -> None:
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    cells = sim.Population(2, sim.IF_curr_exp())
    sim.Projection(source, cells, sim.AllToAllConnector(),
                   getattr(sim, synapse)(weight=1.0, **kwargs), label="bad_sites")
    with pytest.raises(NetworkError, match=f"bad_sites.*{synapse}.*{message}"):
        sim.run(1.0)


@pytest.mark.parametrize(("initial", "message"), [
    (dict(a=3.0), "whole number 0 <= a <= n"),
    (dict(a=0.5), "whole number 0 <= a <= n"),
    (dict(u=-0.1), r"u must be in \[0, 1\]"),
])
def test_bad_initial_state_names_the_projection(sim, initial: dict, message: str) -> None:
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    cells = sim.Population(2, sim.IF_curr_exp())
    prj = sim.Projection(source, cells, sim.AllToAllConnector(),
                         sim.MultiQuantalSynapse(n=2, weight=1.0), label="bad_state")
    prj.initialize(**initial)
    with pytest.raises(NetworkError, match=f"bad_state.*{message}.*initialize"):
        sim.run(1.0)


def test_initialize_of_an_unknown_variable_names_the_projection(sim) -> None:
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    cells = sim.Population(2, sim.IF_curr_exp())
    prj = sim.Projection(source, cells, sim.AllToAllConnector(),
                         sim.StochasticTsodyksMarkramSynapse(weight=1.0), label="no_state")
    with pytest.raises(NotImplementedError, match="no_state.*no state variable 'a'"):
        prj.initialize(a=1)


def test_xml_round_trip_keeps_the_synapse_types_and_their_state(tmp_path) -> None:
    """Saved to the XML form and loaded into a fresh setup, both synapse types (with an
    initialized MultiQuantalSynapse) give the same draws and write back the same file."""
    import pyNN.spinnaker2 as sim

    from pynn_spinnaker2.network import from_xml, to_xml
    from pynn_spinnaker2.pynn.build import build_network
    from pynn_spinnaker2.pynn.simulator import state

    def results(pops: dict) -> list[np.ndarray]:
        return [np.asarray(p.get_data().segments[0].filter(name="v")[0].magnitude)
                for p in pops.values()]

    path = tmp_path / "net.xml"
    sim.setup(timestep=1.0, seed=5)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=TRAIN[:6]), label="src")
    pops = {}
    for name, syn in (("tm", sim.StochasticTsodyksMarkramSynapse(U=0.4, tau_rec=30.0,
                                                                  tau_facil=10.0, weight=1.0)),
                      ("mq", sim.MultiQuantalSynapse(n=3, U=0.3, tau_rec=20.0, weight=1.0))):
        pops[name] = sim.Population(50, sim.IF_curr_delta(tau_m=1e9, v_thresh=1e9),
                                    label=name)
        prj = sim.Projection(source, pops[name], sim.AllToAllConnector(), syn,
                             label=f"to_{name}")
        pops[name].record("v")
    prj.initialize(a=2.0, u=0.9)
    sim.save_network(path, compress=False)
    net = from_xml(path.read_bytes())
    by_label = {p.label: p for p in net.projections}
    assert by_label["to_tm"].synapse == "StochasticTsodyksMarkramSynapse"
    assert sorted(by_label["to_mq"].params) == ["U", "a", "n", "tau_facil", "tau_rec", "u"]
    np.testing.assert_array_equal(by_label["to_mq"].params["a"], 2.0)
    sim.run(70.0)
    first = results(pops)
    sim.end()

    sim.setup(timestep=1.0)
    loaded = sim.load_network(path)
    assert to_xml(build_network(state)) == path.read_bytes()
    sim.run(70.0)
    again = results({k: loaded.populations[k] for k in pops})
    sim.end()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.ptp(first[1][-1]) > 0  # releases differ between synapses: the draws mattered


@pytest.mark.nest
def test_multiquantal_statistics_match_nest_quantal_stp_synapse(on_both) -> None:
    """The same script on NEST 3.10 (``quantal_stp_synapse``) and here: per spike of a train
    and its recovery probes, the mean number of sites released over 1000 synapses agrees.

    The script initializes a = n and u = U (as PyNN's multiquantal_synapses.py example
    does): pyNN.nest leaves NEST's own defaults otherwise (a = 1, u = 0.5)."""
    n, w = 4, 0.01
    params = dict(U=0.4, tau_rec=80.0, tau_facil=40.0, n=n, weight=w, delay=1.0)
    times = TRAIN + 0.5

    def script(sim) -> np.ndarray:
        sim.setup(timestep=0.1, min_delay=0.1, spike_precision="on_grid")
        source = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
        # A conductance that never decays sums the quanta: sampled every 5 ms it shows each
        # spike's release as the step between the samples around its arrival.
        cells = sim.Population(1000, sim.IF_cond_exp(tau_syn_E=1e9))
        synapse = sim.MultiQuantalSynapse(**params)
        prj = sim.Projection(source, cells, sim.AllToAllConnector(), synapse)
        # As the example does it (NEST takes a only as an integer).
        prj.initialize(a=synapse.parameter_space["n"], u=synapse.parameter_space["U"])
        cells.record("gsyn_exc", sampling_interval=5.0)
        sim.run(float(times[-1]) + 10.0)
        g = np.asarray(cells.get_data().segments[0].filter(name="gsyn_exc")[0].magnitude)
        sample = np.floor((times + 1.0) / 5.0).astype(int)
        return (g[sample + 1] - g[sample]) / w

    ref, got = on_both(script)
    assert ref.shape == got.shape == (TRAIN.size, 1000)
    np.testing.assert_allclose(got, np.round(got), atol=1e-3)
    np.testing.assert_allclose(ref, np.round(ref), atol=1e-3)
    u, p = _closed_form(params["U"], params["tau_rec"], params["tau_facil"], TRAIN)
    _assert_binomial_means(np.round(ref), n, u * p)  # NEST itself follows the closed form
    _assert_binomial_means(np.round(got), n, u * p)
    for k in range(TRAIN.size):
        assert stats.mannwhitneyu(np.round(ref[k]), np.round(got[k])).pvalue > 1e-4, k


def test_sites_stay_empty_across_runs_and_refill_at_reset(sim) -> None:
    """The sites' state lives on the machine: a second run() (even after set(), which
    reloads the image) finds the sites the first left; sim.reset() restores the image's."""
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 15.0]))
    cells = sim.Population(3, sim.IF_curr_delta(tau_m=1e9, v_thresh=1e9, v_rest=0.0),
                           initial_values={"v": 0.0})
    prj = sim.Projection(source, cells, sim.AllToAllConnector(),
                         sim.MultiQuantalSynapse(n=2, U=1.0, tau_rec=1e9, weight=1.0))
    cells.record("v")
    sim.run(10.0)
    prj.set(weight=3.0)
    sim.run(10.0)
    v = cells.get_data().segments[0].filter(name="v")[0].magnitude
    np.testing.assert_allclose(v[-1], 2.0)  # both sites at 5 ms, none left at 15 ms
    sim.reset()
    sim.run(10.0)
    v = cells.get_data().segments[-1].filter(name="v")[0].magnitude
    np.testing.assert_allclose(v[-1], 6.0)  # full again: 2 sites x the new weight


def test_quantal_beside_stochastic_and_deterministic_synapses_on_one_core(sim) -> None:
    """Release probabilities, Tsodyks-Markram dynamics and release sites are regions parallel
    to the same synaptic rows: each synapse reads its own."""
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    cells = sim.Population(4, sim.IF_curr_delta(tau_m=1e9, v_thresh=1e9, v_rest=0.0),
                           initial_values={"v": 0.0})
    for syn in (sim.SimpleStochasticSynapse(p=1.0, weight=1.0),
                sim.MultiQuantalSynapse(n=2, U=1.0, weight=10.0),
                sim.TsodyksMarkramSynapse(U=0.5, weight=100.0),
                sim.StaticSynapse(weight=1000.0)):
        sim.Projection(source, cells, sim.AllToAllConnector(), syn)
    cells.record("v")
    sim.run(10.0)
    v = cells.get_data().segments[0].filter(name="v")[0].magnitude
    np.testing.assert_allclose(v[-1], 1.0 + 20.0 + 50.0 + 1000.0, rtol=1e-6)
