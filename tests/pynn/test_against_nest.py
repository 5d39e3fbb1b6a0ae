"""The same deterministic PyNN scripts on NEST 3.10 and on pyNN.spinnaker2.

Each scenario is one function of the simulator module, run unchanged on both backends. The
chip steps in float32 and NEST in float64, with the same exact-integration schemes, so spike
times must agree within one time step and membrane traces within a small tolerance. The tests
skip where nest-simulator is not installed (``scripts/setup.sh`` installs it).
"""

from __future__ import annotations

import numpy as np
import pytest

nest_sim = pytest.importorskip("pyNN.nest", reason="nest-simulator (NEST 3.10) is not installed")

pytestmark = [pytest.mark.nest,
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

DT = 0.1


def _run(sim, scenario, duration: float) -> dict[str, object]:
    sim.setup(timestep=DT, min_delay=DT, spike_precision="on_grid")
    try:
        pops = scenario(sim)
        sim.run(duration)
        out = {}
        for label, pop in pops.items():
            seg = pop.get_data().segments[0]
            out[label] = [np.sort(np.asarray(st.rescale("ms").magnitude))
                          for st in seg.spiketrains]
            v = seg.filter(name="v")
            if v:
                out[label + ".v"] = np.asarray(v[0].magnitude)
        return out
    finally:
        sim.end()


def _both(scenario, duration: float) -> tuple[dict, dict]:
    import pyNN.spinnaker2 as s2

    return _run(nest_sim, scenario, duration), _run(s2, scenario, duration)


def _assert_same_spikes(ref: list[np.ndarray], got: list[np.ndarray], what: str) -> None:
    assert len(ref) == len(got), what
    for i, (a, b) in enumerate(zip(ref, got, strict=True)):
        assert a.size == b.size, (f"{what} neuron {i}: NEST fired {a.size} times at {a}, "
                                  f"spinnaker2 {b.size} times at {b}")
        if a.size:
            assert np.max(np.abs(a - b)) <= DT + 1e-9, f"{what} neuron {i}: {a} vs {b}"


def _assert_close_traces(ref: dict, got: dict, label: str, atol: float,
                         p99: float | None = None) -> None:
    """Membrane traces agree within ``atol`` (and 99 % of them within ``p99``) except at the
    samples next to a spike, where a crossing one step apart legitimately shows a reset
    value on one side only."""
    v_ref, v_got = ref[label + ".v"], got[label + ".v"]
    assert v_ref.shape == v_got.shape, label
    near = np.zeros(v_ref.shape, dtype=bool)
    for i, trains in enumerate(zip(ref[label], got[label], strict=True)):
        for t in np.concatenate(trains):
            k = int(round(t / DT))
            near[max(k - 1, 0):k + 2, i] = True
    assert near.mean() < 0.1, f"{label}: too few samples left to compare"
    np.testing.assert_allclose(v_got[~near], v_ref[~near], atol=atol, err_msg=label)
    if p99 is not None:
        assert np.quantile(np.abs(v_got[~near] - v_ref[~near]), 0.99) < p99, label


def _feed_forward_chain(sim) -> dict:
    """Spike sources -> IF_curr_exp -> IF_curr_exp with several delays and both receptors."""
    src = sim.Population(3, sim.SpikeSourceArray(
        spike_times=[[5.0, 20.0, 21.0, 40.0], [10.0, 30.5, 31.2], [50.0, 51.0, 52.0, 53.0]]),
        label="src")
    layer1 = sim.Population(4, sim.IF_curr_exp(tau_m=15.0, cm=0.5, tau_syn_E=3.0,
                                               tau_syn_I=6.0, tau_refrac=2.0),
                            label="layer1")
    layer2 = sim.Population(2, sim.IF_curr_exp(tau_m=10.0, cm=0.25, tau_refrac=1.0),
                            label="layer2")
    sim.Projection(src, layer1, sim.FromListConnector(
        [(0, 0, 3.5, 1.0), (0, 1, 3.0, 2.3), (1, 1, 4.0, 0.5), (1, 2, 5.0, 4.2),
         (2, 3, 2.5, 1.7), (2, 0, 1.0, 3.3)], column_names=["weight", "delay"]),
        sim.StaticSynapse(), receptor_type="excitatory")
    sim.Projection(src, layer1, sim.FromListConnector(
        [(2, 2, -1.5, 1.0), (0, 3, -0.5, 2.0)], column_names=["weight", "delay"]),
        sim.StaticSynapse(), receptor_type="inhibitory")
    sim.Projection(layer1, layer2, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=1.2, delay=1.5))
    for pop in (layer1, layer2):
        pop.record(["spikes", "v"])
    return {"layer1": layer1, "layer2": layer2}


def test_feed_forward_chain_matches_nest() -> None:
    ref, got = _both(_feed_forward_chain, 100.0)
    for label in ("layer1", "layer2"):
        _assert_same_spikes(ref[label], got[label], label)
        assert sum(s.size for s in ref[label]) >= 3, f"{label}: the scenario must spike"
        _assert_close_traces(ref, got, label, atol=0.05)


def _conductance_cells(sim) -> dict:
    """IF_cond_exp driven by a DC step and by excitatory and inhibitory spike trains."""
    cells = sim.Population(3, sim.IF_cond_exp(tau_m=12.0, cm=0.3, tau_refrac=3.0,
                                              tau_syn_E=2.0, tau_syn_I=8.0),
                           label="cond")
    src = sim.Population(2, sim.SpikeSourceArray(
        spike_times=[list(np.arange(10.0, 150.0, 7.3).round(1)),
                     list(np.arange(15.0, 150.0, 11.1).round(1))]), label="src")
    sim.Projection(src[0:1], cells, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=0.02, delay=1.0), receptor_type="excitatory")
    sim.Projection(src[1:2], cells[1:3], sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=0.03, delay=2.0), receptor_type="inhibitory")
    sim.DCSource(amplitude=0.35, start=20.0, stop=120.0).inject_into(cells[0:2])
    cells.record(["spikes", "v"])
    return {"cond": cells}


def test_conductance_based_cells_match_nest() -> None:
    ref, got = _both(_conductance_cells, 150.0)
    _assert_same_spikes(ref["cond"], got["cond"], "cond")
    assert sum(s.size for s in ref["cond"]) >= 5
    # IF_cond_exp is integrated by NEST with an adaptive ODE solver and here with the step's
    # mean conductance: traces agree closely but not to float32 precision.
    # Measured: at most 0.40 mV, 99 % of samples within 0.14 mV (the scheme's error around
    # synaptic events, not float32).
    _assert_close_traces(ref, got, "cond", atol=0.45, p99=0.2)


def _recurrent_network(sim) -> dict:
    """A small excitatory-inhibitory network with fixed random wiring and DC drive."""
    rng = np.random.default_rng(42)
    n_exc, n_inh = 16, 4
    exc = sim.Population(n_exc, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=2.0, tau_syn_I=4.0),
                         initial_values={"v": list(rng.uniform(-65.0, -55.0, n_exc))},
                         label="exc")
    inh = sim.Population(n_inh, sim.IF_curr_exp(tau_refrac=1.0),
                         initial_values={"v": list(rng.uniform(-65.0, -55.0, n_inh))},
                         label="inh")
    # Distinct drives give distinct, well-separated threshold crossings.
    exc.set(i_offset=list(np.linspace(0.80, 1.10, n_exc)))
    inh.set(i_offset=0.5)

    def wiring(n_pre: int, n_post: int, p: float, w: float) -> list[tuple]:
        pairs = np.argwhere(rng.random((n_pre, n_post)) < p)
        delays = rng.integers(5, 30, len(pairs)) * DT
        return [(int(i), int(j), w, float(d)) for (i, j), d in zip(pairs, delays, strict=True)]

    def connect(pre, post, p, w, receptor):
        sim.Projection(pre, post, sim.FromListConnector(
            wiring(pre.size, post.size, p, w), column_names=["weight", "delay"]),
            sim.StaticSynapse(), receptor_type=receptor)

    connect(exc, exc, 0.2, 0.05, "excitatory")
    connect(exc, inh, 0.5, 0.4, "excitatory")
    connect(inh, exc, 0.5, -0.3, "inhibitory")
    exc.record("spikes")
    inh.record("spikes")
    return {"exc": exc, "inh": inh}


def test_recurrent_network_matches_nest() -> None:
    ref, got = _both(_recurrent_network, 200.0)
    for label in ("exc", "inh"):
        _assert_same_spikes(ref[label], got[label], label)
    assert sum(s.size for s in ref["inh"]) >= 5, "the inhibitory loop must be exercised"


def _alpha_delta_and_depression(sim) -> dict:
    """IF_curr_alpha, IF_curr_delta and a depressing Tsodyks-Markram synapse."""
    src = sim.Population(1, sim.SpikeSourceArray(
        spike_times=[[10.0, 12.0, 14.0, 16.0, 18.0, 60.0, 62.0, 64.0]]), label="src")
    alpha = sim.Population(1, sim.IF_curr_alpha(tau_syn_E=2.0, tau_refrac=2.0), label="alpha")
    # PyNN 0.13's NEST backend cannot set v of iaf_psc_delta, which starts at NEST's default
    # of -70 mV: start both there.
    delta = sim.Population(1, sim.IF_curr_delta(tau_refrac=2.0), initial_values={"v": -70.0},
                           label="delta")
    tm = sim.Population(1, sim.IF_curr_exp(tau_syn_E=3.0), label="tm")
    sim.Projection(src, alpha, sim.AllToAllConnector(), sim.StaticSynapse(weight=2.0, delay=1.0))
    sim.Projection(src, delta, sim.AllToAllConnector(), sim.StaticSynapse(weight=6.0, delay=1.0))
    sim.Projection(src, tm, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse(
        weight=9.0, delay=1.0, U=0.5, tau_rec=100.0, tau_facil=0.0))
    for pop in (alpha, tm):
        pop.record(["spikes", "v"])
    # PyNN 0.13's NEST backend cannot record v of iaf_psc_delta ("unknown recordable v").
    delta.record("spikes")
    return {"alpha": alpha, "delta": delta, "tm": tm}


def test_alpha_delta_and_depressing_synapses_match_nest() -> None:
    ref, got = _both(_alpha_delta_and_depression, 100.0)
    for label in ("alpha", "delta", "tm"):
        _assert_same_spikes(ref[label], got[label], label)
    for label in ("alpha", "tm"):
        _assert_close_traces(ref, got, label, atol=0.05)
    assert all(sum(s.size for s in ref[label]) >= 1 for label in ("alpha", "delta", "tm"))
