"""SpikeSourceGamma and SpikeSourcePoissonRefractory against closed forms: mean rates, the
Gamma and exponential (geometric on the grid) interval distributions, the dead time, the
active window, parameters changed between runs; the block computation against the core's
step-by-step rule; errors; memory, cost and NIR export know the kernels.

Runs use fixed seeds (the network seed 0 seeds every core), so the statistical tolerances,
set at about 5 sigma / a 0.1 % KS level, cannot flake.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pynn_spinnaker2.cells import CELL_TYPES
from pynn_spinnaker2.cells.renewal_sources import gamma_spikes, refractory_spikes
from pynn_spinnaker2.errors import NetworkError

DT = 0.1
#: KS critical value factor at the 0.1 % level (D_crit = KS_001 / sqrt(n)).
KS_001 = 1.95


def _trains(pop) -> list[np.ndarray]:
    return [np.asarray(st.magnitude) for st in pop.get_data().segments[0].spiketrains]


def _isis(trains: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.diff(t) for t in trains])


def _ks_bound_gamma(alpha: float, scale: float, n: int) -> float:
    """KS distance allowed against Gamma(alpha, scale): the statistical 0.1 % level plus
    the time grid (a spike is stamped at the end of its step, so each interval moves by
    less than one step, which moves the CDF by at most max(pdf) * dt)."""
    mode = (alpha - 1) * scale
    return KS_001 / np.sqrt(n) + stats.gamma.pdf(mode, alpha, scale=scale) * DT


# -- SpikeSourceGamma ---------------------------------------------------------------------
GAMMA_GROUPS = [(2, 200.0), (4, 400.0), (6, 300.0)]  # (alpha, beta Hz): 100, 100, 50 Hz


def test_gamma_rate_and_intervals_follow_the_gamma_distribution(sim) -> None:
    """Per-neuron (alpha, beta): spike counts match beta / alpha with NEST's start (one
    sub-event to the first spike), intervals are Gamma(alpha, rate beta) (KS), and their
    squared coefficient of variation is 1 / alpha."""
    per, t_stop = 100, 2000.0
    alpha = np.repeat([a for a, _ in GAMMA_GROUPS], per)
    beta = np.repeat([b for _, b in GAMMA_GROUPS], per)
    pop = sim.Population(alpha.size, sim.SpikeSourceGamma(alpha=alpha, beta=beta))
    pop.record("spikes")
    sim.run(t_stop)
    trains = _trains(pop)
    for k, (a, b) in enumerate(GAMMA_GROUPS):
        mine = trains[k * per:(k + 1) * per]
        count = sum(t.size for t in mine)
        # Renewal count from a delayed start: E N(T) = T / mu + E[X^2] / (2 mu^2) - E[X1] / mu
        # with mu = a / b, E[X^2] = a (a + 1) / b^2, E[X1] = 1 / b; Var N = T / mu / a.
        mean_per = t_stop / 1000.0 * b / a + (a - 1) / (2 * a)
        sd = np.sqrt(per * t_stop / 1000.0 * b / a / a)
        assert abs(count - per * mean_per) < 5 * sd, (a, b, count, per * mean_per)
        isi = _isis(mine)
        scale = 1000.0 / b
        d = stats.kstest(isi, "gamma", args=(a, 0, scale)).statistic
        assert d < _ks_bound_gamma(a, scale, isi.size), (a, b, d)
        cv2 = isi.var() / isi.mean() ** 2
        assert abs(cv2 - 1.0 / a) < 0.1 / a, (a, cv2)


def test_gamma_with_the_wrong_order_fails_the_same_checks(sim) -> None:
    """The KS check of the test above can fail: order 3 intervals are not Gamma(2)."""
    pop = sim.Population(100, sim.SpikeSourceGamma(alpha=3, beta=300.0))
    pop.record("spikes")
    sim.run(2000.0)
    isi = _isis(_trains(pop))
    d = stats.kstest(isi, "gamma", args=(2, 0, 1000.0 / 200.0)).statistic
    assert d > 3 * _ks_bound_gamma(2, 5.0, isi.size)


# -- SpikeSourcePoissonRefractory ---------------------------------------------------------
REFRACTORY_GROUPS = [(100.0, 0.0), (100.0, 5.0), (50.0, 5.0), (200.0, 2.5)]  # (Hz, ms)


def test_refractory_rate_dead_time_and_exponential_intervals(sim) -> None:
    """Per-neuron (rate, tau_refrac): the mean rate is ``rate``; no interval is shorter than
    tau_refrac (on the grid: than tau_refrac + dt); interval - tau_refrac is exponential of
    mean 1000 / rate - tau_refrac (KS, within the grid's own distance from it) and exactly
    geometric on the grid (chi-square against scipy's geom)."""
    per, t_stop = 100, 2000.0
    rate = np.repeat([r for r, _ in REFRACTORY_GROUPS], per)
    tau = np.repeat([t for _, t in REFRACTORY_GROUPS], per)
    pop = sim.Population(rate.size, sim.SpikeSourcePoissonRefractory(rate=rate, tau_refrac=tau))
    pop.record("spikes")
    sim.run(t_stop)
    trains = _trains(pop)
    for k, (r, t_ref) in enumerate(REFRACTORY_GROUPS):
        mine = trains[k * per:(k + 1) * per]
        mu, live = 1000.0 / r, 1000.0 / r - t_ref  # mean interval, mean live time (ms)
        count = sum(t.size for t in mine)
        # Renewal count (first spike after the live time only): T / mu + E[X^2] / (2 mu^2)
        # - E[X1] / mu, E[X^2] = t_ref^2 + 2 t_ref live + 2 live^2; Var N = T / mu * CV^2.
        mean_per = (t_stop / mu + (t_ref**2 + 2 * t_ref * live + 2 * live**2) / (2 * mu**2)
                    - live / mu)
        sd = np.sqrt(per * t_stop / mu * (live / mu) ** 2)
        assert abs(count - per * mean_per) < 5 * sd, (r, t_ref, count, per * mean_per)
        isi = _isis(mine)
        assert isi.min() >= t_ref + DT - 1e-6, (r, t_ref, isi.min())
        excess = isi - t_ref
        # On the grid the live time is k dt, k ~ Geometric(p = dt / live): its CDF is a
        # staircase under the exponential; the largest gap between the two is the grid's
        # share of the KS distance.
        p = DT / live
        k_grid = np.arange(1, int(40 * live / DT))
        grid_gap = np.max(np.abs(stats.expon.cdf(k_grid * DT, scale=live)
                                 - stats.geom.cdf(k_grid - 1, p)))
        d = stats.kstest(excess, "expon", args=(0, live)).statistic
        assert d < grid_gap + KS_001 / np.sqrt(excess.size), (r, t_ref, d, grid_gap)
        steps = np.round(excess / DT).astype(np.int64)
        edges = np.unique(stats.geom.ppf(np.linspace(0, 1, 21)[1:-1], p)).astype(np.int64)
        observed = np.bincount(np.searchsorted(edges, steps, side="left"),
                               minlength=edges.size + 1)
        cdf = np.concatenate(([0.0], stats.geom.cdf(edges, p), [1.0]))
        expected = np.diff(cdf) * steps.size
        assert stats.chisquare(observed, expected).pvalue > 1e-3, (r, t_ref)


def test_refractory_intervals_are_not_those_of_the_plain_poisson_rate(sim) -> None:
    """The exponential check above can fail: with the dead time, interval - tau_refrac is not
    exponential of mean 1000 / rate (the hazard is raised to keep the mean rate)."""
    pop = sim.Population(100, sim.SpikeSourcePoissonRefractory(rate=100.0, tau_refrac=5.0))
    pop.record("spikes")
    sim.run(2000.0)
    excess = _isis(_trains(pop)) - 5.0
    d = stats.kstest(excess, "expon", args=(0, 10.0)).statistic
    assert d > 0.2


def test_first_spikes_follow_nests_start(sim) -> None:
    """NEST's single processes start one transition short of a spike (gamma) and live
    (refractory): the first spike comes after an exponential time of rate beta, and of mean
    1000 / rate - tau_refrac; from a full interval (alpha sub-events, or the dead time
    first) the KS checks fail."""
    n = 500
    gamma = sim.Population(n, sim.SpikeSourceGamma(alpha=4, beta=100.0, start=20.0))
    refr = sim.Population(n, sim.SpikeSourcePoissonRefractory(rate=100.0, tau_refrac=5.0,
                                                              start=20.0))
    gamma.record("spikes")
    refr.record("spikes")
    sim.run(300.0)
    for pop, scale in ((gamma, 10.0), (refr, 5.0)):
        first = np.array([t[0] for t in _trains(pop) if t.size]) - 20.0
        assert first.size > 0.99 * n
        d = stats.kstest(first, "expon", args=(0, scale)).statistic
        assert d < KS_001 / np.sqrt(first.size) + DT / scale, (pop.label, d)


def test_same_statistics_as_nest(on_both) -> None:
    """The same script on NEST 3.10 (gamma_sup_generator, ppd_sup_generator): mean rate,
    coefficient of variation of the intervals, shortest interval and mean first-spike time
    agree within 5 sigma of the difference of two independent runs."""
    n, t_stop = 200, 2000.0

    def script(sim):
        sim.setup(timestep=DT)
        pops = (sim.Population(n, sim.SpikeSourceGamma(alpha=4, beta=400.0)),
                sim.Population(n, sim.SpikeSourcePoissonRefractory(rate=100.0,
                                                                   tau_refrac=5.0)))
        for pop in pops:
            pop.record("spikes")
        sim.run(t_stop)
        out = []
        for pop in pops:
            trains = _trains(pop)
            isi = _isis(trains)
            first = np.array([t[0] for t in trains if t.size])
            out.append((sum(t.size for t in trains), isi.std() / isi.mean(), isi.min(),
                        first.mean()))
        return out

    nest, ours = on_both(script)
    # (count sd, CV sd, first-spike sd) of one run: renewal counts (CV^2 = 1/4, 1/4), the
    # CV of ~20,000 intervals, exponential first times (means 2.5 and 5 ms).
    for (cn, vn, _, fn), (co, vo, _, fo), first_scale in zip(nest, ours, (2.5, 5.0),
                                                               strict=True):
        pair = np.sqrt(2.0)  # the sd of a difference of two independent runs, per unit
        assert abs(co - cn) < 5 * pair * np.sqrt(cn * 0.25), (co, cn)
        assert abs(vo - vn) < 5 * pair * 0.005, (vo, vn)
        # NEST's spikes pass through parrot neurons (PyNN's uses_parrot): a step or two later
        assert abs(fo - fn) < 5 * pair * first_scale / np.sqrt(n) + 2 * DT, (fo, fn)
    assert ours[1][2] == pytest.approx(nest[1][2])  # the dead time plus one step


# -- both: window, parameters between runs ------------------------------------------------
@pytest.mark.parametrize(("celltype", "rate"), [
    (lambda sim: sim.SpikeSourceGamma(alpha=3, beta=3000.0, start=100.0, duration=50.0),
     1000.0),
    (lambda sim: sim.SpikeSourcePoissonRefractory(rate=500.0, tau_refrac=1.0, start=100.0,
                                                  duration=50.0), 500.0),
])
def test_no_spike_outside_start_and_duration(sim, celltype, rate: float) -> None:
    pop = sim.Population(50, celltype(sim))
    pop.record("spikes")
    sim.run(300.0)
    times = np.concatenate(_trains(pop))
    assert times.size > 0.5 * 50 * rate * 0.05
    assert times.min() >= 100.0 and times.max() < 150.0


def test_parameters_set_between_runs_take_effect(sim) -> None:
    """set() between runs: the new rates hold in the second run (counts within 5 sigma of a
    Poisson bound), and the dead time holds across the run boundary."""
    gamma = sim.Population(100, sim.SpikeSourceGamma(alpha=2, beta=100.0))
    refr = sim.Population(100, sim.SpikeSourcePoissonRefractory(rate=20.0, tau_refrac=4.0))
    gamma.record("spikes")
    refr.record("spikes")
    sim.run(1000.0)
    gamma.set(beta=np.repeat([400.0, 800.0], 50))
    refr.set(rate=np.repeat([100.0, 150.0], 50))
    sim.run(1000.0)
    for pop, first, second in ((gamma, [50.0] * 2, [200.0, 400.0]),
                               (refr, [20.0] * 2, [100.0, 150.0])):
        trains = _trains(pop)
        for half, r1, r2 in zip((slice(0, 50), slice(50, 100)), first, second, strict=True):
            times = np.concatenate(trains[half])
            for got, want in (((times <= 1000.0).sum(), 50 * r1),
                              ((times > 1000.0).sum(), 50 * r2)):
                assert abs(got - want) < 5 * np.sqrt(want) + 50, (pop.label, got, want)
    assert _isis(_trains(refr)).min() >= 4.0 + DT - 1e-6


# -- the block computation is the core's step-by-step rule --------------------------------
def _gamma_params(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    model = CELL_TYPES["SpikeSourceGamma"]
    p = {"alpha": rng.integers(1, 6, n).astype(float), "beta": rng.uniform(0, 3000, n),
         "start": rng.choice([0.0, 3.0], n), "duration": rng.choice([1e10, 20.0], n)}
    arr = model.build_params(p, DT)
    return {name: arr[name] for name in arr.dtype.names}


def _refractory_params(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    model = CELL_TYPES["SpikeSourcePoissonRefractory"]
    p = {"rate": rng.uniform(0, 400, n), "tau_refrac": rng.choice([0.0, 0.3, 1.0, 2.0], n),
         "start": rng.choice([0.0, 3.0], n), "duration": rng.choice([1e10, 20.0], n)}
    arr = model.build_params(p, DT)
    return {name: arr[name] for name in arr.dtype.names}


def _gamma_by_step(rng, params, left, n_steps):
    """What the core does: per step, draw the sub-events, send a spike per alpha of them."""
    out = []
    left = left.astype(np.int64)
    alpha = params["alpha"].astype(np.int64)
    for s in range(n_steps):
        on = (params["start_step"] <= s) & (s < params["end_step"])
        k = rng.poisson(np.where(on, params["sub_per_step"], 0.0))
        fire = k >= left
        out.append(np.where(fire, 1 + (k - left) // alpha, 0))
        left = np.where(fire, alpha - (k - left) % alpha, left - k)
    return np.array(out), left


def _refractory_by_step(rng, params, dead_left, n_steps):
    """What the core does: per step, a dead neuron counts down; a live one fires when its
    uniform is below p and is then dead for dead_steps steps."""
    out = []
    dead_left = dead_left.astype(np.int64)
    for s in range(n_steps):
        on = (params["start_step"] <= s) & (s < params["end_step"])
        u = rng.random(dead_left.size)
        fire = (dead_left == 0) & on & (u < params["p_fire"])
        out.append(fire.astype(np.int64))
        dead_left = np.where(fire, params["dead_steps"].astype(np.int64),
                             np.maximum(dead_left - 1, 0))
    return np.array(out), dead_left


def _counts(ptr: np.ndarray, neurons: np.ndarray, n_steps: int, n: int) -> np.ndarray:
    counts = np.zeros((n_steps, n), np.int64)
    step = np.repeat(np.arange(n_steps), np.diff(ptr))
    np.add.at(counts, (step, neurons), 1)
    return counts


@pytest.mark.parametrize("kind", ["gamma", "refractory"])
def test_blocks_of_steps_give_the_step_by_step_spikes(kind: str) -> None:
    """Blocks of any length, one after the other, send the spikes (and leave the state) of
    the core's per-step rule run on the same random stream, from any state (as left by
    parameters set between runs: more sub-events due than alpha, dead steps pending where
    the dead time is now 0)."""
    n, blocks = 40, [1, 7, 64, 3, 250]
    params = (_gamma_params if kind == "gamma" else _refractory_params)(
        n, np.random.default_rng(1))
    field = "left" if kind == "gamma" else "dead_left"
    start = np.random.default_rng(2).integers(1 if kind == "gamma" else 0, 9, n).astype(
        np.uint32)
    by_step = _gamma_by_step if kind == "gamma" else _refractory_by_step
    want, want_state = by_step(np.random.default_rng(7), params, start, sum(blocks))
    generate = gamma_spikes if kind == "gamma" else refractory_spikes
    rng, state, first, got = np.random.default_rng(7), {field: start.copy()}, 0, []
    for size in blocks:
        ptr, neurons = generate(rng, params, state, 5, first, size)
        got.append(_counts(ptr, neurons - 5, size, n))
        first += size
    assert want.sum() > 100
    np.testing.assert_array_equal(np.concatenate(got), want)
    np.testing.assert_array_equal(state[field], want_state)


# -- errors ---------------------------------------------------------------------------------
def test_gamma_with_alpha_below_one_is_refused(sim) -> None:
    sim.Population(3, sim.SpikeSourceGamma(alpha=[2, 0, 3], beta=100.0), label="noise")
    with pytest.raises(NetworkError, match="'noise'.*alpha must be a whole number >= 1.*0"):
        sim.run(1.0)


def test_gamma_with_a_fractional_alpha_is_refused() -> None:
    """PyNN makes alpha an integer itself; a Network (an XML file) may still hold 2.5."""
    from pynn_spinnaker2.network import Network, PopulationSpec, validate

    pop = PopulationSpec("noise", "SpikeSourceGamma", 3,
                         params={"alpha": np.array([2.0, 2.5, 3.0])})
    with pytest.raises(NetworkError, match="'noise'.*alpha must be a whole number.*2.5"):
        validate(Network(DT, (pop,)))


def test_gamma_with_a_negative_beta_is_refused(sim) -> None:
    sim.Population(3, sim.SpikeSourceGamma(alpha=2, beta=-1.0), label="noise")
    with pytest.raises(NetworkError, match="'noise'.*beta must be >= 0"):
        sim.run(1.0)


def test_refractory_rate_above_what_the_dead_time_allows_is_refused(sim) -> None:
    sim.Population(2, sim.SpikeSourcePoissonRefractory(rate=[100.0, 250.0], tau_refrac=4.0),
                   label="drive")
    with pytest.raises(NetworkError, match="'drive'.*neuron 1.*250.0 Hz.*4.1 ms.*lower the "
                                           "rate below 243.9"):
        sim.run(1.0)


def test_refractory_negative_parameters_are_refused(sim) -> None:
    sim.Population(2, sim.SpikeSourcePoissonRefractory(rate=10.0, tau_refrac=-1.0),
                   label="drive")
    with pytest.raises(NetworkError, match="'drive'.*tau_refrac must be >= 0"):
        sim.run(1.0)


# -- memory, cost, NIR -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SpikeSourceGamma", "SpikeSourcePoissonRefractory"])
def test_memory_model_and_cost_model_know_the_kernel(sim, name: str) -> None:
    """The image's neuron regions are the memory model's bytes per neuron, within the
    piece's estimate, and the cost model prices a run."""
    from pynn_spinnaker2.mapping import memory
    from pynn_spinnaker2.pynn.simulator import state

    pop = sim.Population(300, getattr(sim, name)(), label="src")
    sim.set_number_of_neurons_per_core(getattr(sim, name), 128)
    pop.record("spikes")
    sim.run(10.0)
    compiled = state.compiled
    model = CELL_TYPES[name]
    assert len(compiled.image.cores) == 3
    for core, piece in zip(compiled.image.cores, compiled.mapping.pieces, strict=True):
        assert core.kernel == model.kernel
        regions = core.sram["neuron_params"].nbytes + core.sram["neuron_state"].nbytes
        assert regions == core.n_neurons * model.bytes_per_neuron() > 0
        assert core.sram_bytes <= piece.sram - memory.FIXED_OVERHEAD
    n_spikes = sum(len(st) for st in pop.get_data().segments[0].spiketrains)
    assert n_spikes > 0
    # one multicast packet per spike of a source
    assert sim.get_cost().summary()["totals"]["packets_sent"] == n_spikes


@pytest.mark.parametrize("name", ["SpikeSourceGamma", "SpikeSourcePoissonRefractory"])
def test_nir_export_makes_the_source_an_input(sim, name: str, tmp_path) -> None:
    """As for SpikeSourcePoisson, the source is stimulus: an Input node of its size."""
    import nir

    src = sim.Population(4, getattr(sim, name)(), label="drive")
    out = sim.Population(2, sim.NIR_LIF(), label="out")
    sim.Projection(src, out, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1))
    path = tmp_path / "net.nir"
    sim.export_nir(str(path))
    graph = nir.read(str(path))
    inputs = [n for n in graph.nodes.values() if isinstance(n, nir.Input)]
    assert [int(np.prod(n.input_type["input"])) for n in inputs] == [4]
