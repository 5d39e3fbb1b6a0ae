"""The EGRU through pyNN.spinnaker2: closed forms, a stacked network across many PEs and
chips against the EvNN equations in float64, recording into Neo, pruning, and the errors
of mis-wired networks."""

from __future__ import annotations

import numpy as np
import pytest
from pyNN import errors as pynn_errors

from pynn_spinnaker2.errors import NetworkError
from pynn_spinnaker2.network import from_xml, to_xml


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _evnn_equations(x: np.ndarray, layers: list[tuple]) -> tuple[list[np.ndarray], float]:
    """EvNN's EGRU forward pass (EGRUScript) in float64 for stacked layers; returns each
    layer's output (steps, hidden) and the smallest |c^ - theta| met (the decision margin)."""
    outputs, margin = [], np.inf
    inp = x
    for w, v, b, bv, thr in layers:
        n = thr.size
        c, y, ys = np.zeros(n), np.zeros(n), []
        for t in range(inp.shape[0]):
            wx, rh = inp[t] @ w + b, y @ v + bv
            z = _sigmoid(wx[:n] + rh[:n])
            r = _sigmoid(wx[n:2 * n] + rh[n:2 * n])
            g = np.tanh(wx[2 * n:] + r * rh[2 * n:])
            c_hat = z * c + (1 - z) * g
            margin = min(margin, float(np.abs(c_hat - thr).min()))
            e = c_hat > thr
            y, c = np.where(e, c_hat, 0.0), c_hat - e * thr
            ys.append(y)
        outputs.append(np.array(ys))
        inp = outputs[-1]
    return outputs, margin


def _random_layer(rng: np.random.Generator, n_in: int, n: int, prune: float) -> tuple:
    w = rng.normal(0.0, 1.5 / np.sqrt(n_in * (1 - prune)), (n_in, 3 * n))
    v = rng.normal(0.0, 1.5 / np.sqrt(n * (1 - prune)), (n, 3 * n))
    w[rng.random(w.shape) < prune] = 0.0
    v[rng.random(v.shape) < prune] = 0.0
    return (w, v, rng.normal(0.0, 0.3, 3 * n), rng.normal(0.0, 0.3, 3 * n),
            rng.uniform(0.05, 0.5, n))


def test_single_unit_closed_form(sim) -> None:
    """No input, keep gate 1/2, candidate 0.8, threshold 0.3: an event every step from the
    first, of value c^_k = 0.5 - 0.1 / 2^k, stamped (k + 1) dt; c = c^ - 0.3."""
    sim.setup(timestep=1.0)
    pop = sim.Population(3, sim.EGRU(theta=0.3, bias_update=0.0, bias_reset=1.0,
                                     bias_candidate=np.arctanh(0.8)), label="unit")
    pop.record(["spikes", "c"])
    sim.run(10.0)
    train = pop.get_data().segments[0].spiketrains[1]
    k = np.arange(10)
    np.testing.assert_array_equal(train.times.magnitude, k + 1.0)
    np.testing.assert_allclose(train.array_annotations["value"], 0.5 - 0.1 / 2**k, atol=1e-6)
    c = pop.get_data("c").segments[0].analogsignals[0].magnitude[1:, 0]
    np.testing.assert_allclose(c, 0.2 - 0.1 / 2**k, atol=1e-6)
    assert sim.first_step(pop) == 1
    np.testing.assert_array_equal(sim.activity_sparsity(pop), np.zeros(10))


def test_initial_state(sim) -> None:
    """``initialize(c=...)`` sets the internal state; with a keep gate of 1 (bias 100) a unit
    started above its threshold fires its initial value at the first update."""
    sim.setup(timestep=1.0)
    pop = sim.Population(2, sim.EGRU(theta=0.3, bias_update=100.0), label="held")
    pop.initialize(c=np.array([0.25, 0.5]))
    pop.record(["spikes", "c"])
    sim.run(3.0)
    y = sim.graded_output(pop)
    np.testing.assert_allclose(y[:, 1], [0.5, 0.0, 0.0])
    assert not y[:, 0].any()
    c = pop.get_data("c").segments[0].analogsignals[0].magnitude
    np.testing.assert_allclose(c[:, 1], [0.5, 0.2, 0.2, 0.2], atol=1e-7)
    np.testing.assert_allclose(c[:, 0], 0.25)


def test_stacked_network_across_many_pes_matches_evnn_equations(sim) -> None:
    """64 graded inputs -> 300 -> 200 EGRU units, 90 % pruned, 25 EGRU PEs on 4 chips of 8
    PEs, 80 steps: every event and value of both layers equals the EvNN equations in float64
    (within float32 rounding), through the one-step-per-layer pipeline; the recorded
    activity sparsity is the fraction of silent units per step; the stored synapses are
    the nonzero weights and take less memory than dense matrices."""
    rng = np.random.default_rng(12)
    steps, sizes = 80, (64, 300, 200)
    x = rng.normal(0.0, 1.0, (steps, sizes[0]))
    params = [_random_layer(rng, a, b, prune=0.9) for a, b in zip(sizes[:-1], sizes[1:],
                                                                     strict=True)]
    reference, margin = _evnn_equations(x, params)
    assert margin > 1e-5, "no decision may sit within float32 rounding of its threshold"
    sim.setup(timestep=1.0, machine=sim.Machine(width=2, height=2, pes_per_chip=8))
    pop = sim.Population(sizes[0], sim.GradedSourceArray.from_matrix(x), label="embedding")
    layers = []
    for k, p in enumerate(params):
        layer = sim.egru_layer(pop, *p, label=f"layer{k}", max_per_core=20)
        layer.population.record("spikes")
        layers.append(layer)
        pop = layer.population
    sim.run(steps + 2.0)
    compiled = sim.get_mapping()
    egru_cores = [c for c in compiled.image.cores if c.kernel == "egru"]
    assert len(egru_cores) == 25 and len({c.chip for c in egru_cores}) == 4
    for k, (layer, y_ref) in enumerate(zip(layers, reference, strict=True)):
        assert sim.first_step(layer.population) == 2 + k
        y = sim.graded_output(layer.population, steps)
        np.testing.assert_array_equal(y != 0, y_ref != 0)
        np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
        sparsity = sim.activity_sparsity(layer.population)[:steps]
        np.testing.assert_allclose(sparsity, 1.0 - (y_ref != 0).mean(axis=1))
        assert 0.3 < sparsity.mean() < 0.99
        signal = next(s for s in layer.population.get_data().segments[0].analogsignals
                      if s.name == "activity_sparsity")
        assert float(signal.t_start) == 2.0 + k
        np.testing.assert_allclose(signal.magnitude[:steps, 0], sparsity)
    nonzero = sum(int((p[0] != 0).sum() + (p[1] != 0).sum()) for p in params)
    assert sum(c.dram["synapses"].size for c in egru_cores) == nonzero
    memory = sim.synapse_memory()
    assert len(memory) == 25
    assert all(m["sparse_bytes"] < m["dense_bytes"] / 2 for m in memory)


def test_recording_values_state_and_gates(sim) -> None:
    """SpikeTrains hold the event values as the array annotation ``value`` (in time order,
    equal to graded_output); c and the gates are AnalogSignals sampled after each update;
    a graded source's trains hold its values too."""
    rng = np.random.default_rng(1)
    sim.setup(timestep=0.5)
    x = rng.normal(0.0, 1.0, (30, 10))
    src = sim.Population(10, sim.GradedSourceArray.from_matrix(x), label="x")
    layer = sim.egru_layer(src, *_random_layer(rng, 10, 40, prune=0.0), label="h")
    layer.population.record(["spikes", "c", "update", "reset", "candidate"])
    src.record("spikes")
    sim.run(16.0)
    seg = layer.population.get_data().segments[0]
    y = sim.graded_output(layer.population)
    assert y.shape == (31, 40)
    start = sim.first_step(layer.population)
    for i, train in enumerate(seg.spiketrains):
        pos = np.round(train.times.magnitude / 0.5).astype(int) - start
        np.testing.assert_array_equal(train.array_annotations["value"], y[pos, i])
        assert np.all(train.array_annotations["value"] > 0)
    signals = {s.name: s for s in seg.analogsignals}
    assert set(signals) == {"c", "update", "reset", "candidate", "activity_sparsity"}
    assert signals["c"].shape == (33, 40)
    gates = signals["update"].magnitude[start:]  # sampled after the update of each step
    assert 0 < gates.min() and gates.max() < 1
    assert not signals["update"].magnitude[:start].any()  # before the first update
    source_train = src.get_data().segments[0].spiketrains[3]
    np.testing.assert_allclose(source_train.array_annotations["value"], x[:, 3], rtol=1e-6)
    np.testing.assert_allclose(source_train.times.magnitude, 0.5 + 0.5 * np.arange(30))


def test_reset_replays_the_same_events(sim) -> None:
    rng = np.random.default_rng(2)
    sim.setup(timestep=1.0)
    src = sim.Population(8, sim.GradedSourceArray.from_matrix(rng.normal(size=(20, 8))))
    layer = sim.egru_layer(src, *_random_layer(rng, 8, 30, prune=0.5), label="h")
    layer.population.record("spikes")
    sim.run(22.0)
    first = sim.graded_output(layer.population)
    sim.reset()
    sim.run(22.0)
    np.testing.assert_array_equal(sim.graded_output(layer.population), first)
    assert np.count_nonzero(first) > 20


def test_spike_sources_drive_an_egru_with_payload_one(sim) -> None:
    """A SpikeSourceArray spike (payload 1) of weight 0.7 into the candidate, sent at 2 ms,
    changes the update of step 3 exactly as the reference step with candidate input 0.7."""
    from pynn_spinnaker2.cells.egru import reference_step

    sim.setup(timestep=1.0)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0]), label="spikes")
    p = {"theta": 0.3, "bias_update": 0.2, "bias_reset": -0.1, "bias_candidate": 0.1,
         "bias_candidate_recurrent": 0.0, "zoneout": 0.0}
    pop = sim.Population(1, sim.EGRU(**p), label="h")
    for gate, w in (("update", 0.0), ("reset", 0.0), ("candidate", 0.7)):
        sim.gate_projection(src, pop, np.array([[w]]), gate)
    pop.record("c")
    sim.run(4.0)
    assert sim.first_step(pop) == 2  # a spike source starts at step 1, plus the delay
    c = pop.get_data().segments[0].analogsignals[0].magnitude[:, 0]
    p = {k: np.array([v]) for k, v in p.items()}
    s, expected = {"c": np.zeros(1), "wait": np.array([1])}, [0.0]
    for candidate in (0.0, 0.0, 0.7, 0.0):
        s, _ = reference_step(p, s, np.array([[0.0], [0.0], [candidate], [0.0]]))
        expected.append(float(s["c"][0]))
    np.testing.assert_allclose(c, expected, atol=1e-6)
    assert expected[3] != expected[2]


def test_torch_gru_layout_is_reordered_to_evnn() -> None:
    """nn.GRU rows (r, z, n) -> EvNN columns (z, r, g)."""
    from pynn_spinnaker2.pynn.egru import evnn_layout_from_torch_gru

    hidden, n_in = 2, 3
    w_ih = np.arange(3 * hidden * n_in, dtype=float).reshape(3 * hidden, n_in)
    w_hh = -np.arange(3 * hidden * hidden, dtype=float).reshape(3 * hidden, hidden)
    b_ih, b_hh = np.arange(6.0), 10 + np.arange(6.0)
    kernel, recurrent, bias, recurrent_bias = evnn_layout_from_torch_gru(w_ih, w_hh, b_ih, b_hh)
    assert kernel.shape == (n_in, 3 * hidden) and recurrent.shape == (hidden, 3 * hidden)
    np.testing.assert_array_equal(kernel[:, :hidden], w_ih[hidden:2 * hidden].T)  # z
    np.testing.assert_array_equal(kernel[:, hidden:2 * hidden], w_ih[:hidden].T)  # r
    np.testing.assert_array_equal(recurrent[:, 2 * hidden:], w_hh[2 * hidden:].T)  # n
    np.testing.assert_array_equal(bias, [2, 3, 0, 1, 4, 5])
    np.testing.assert_array_equal(recurrent_bias, [12, 13, 10, 11, 14, 15])


def test_zero_weights_make_no_synapses(sim) -> None:
    """A gate projection built from a dense matrix with AllToAllConnector keeps only its
    nonzero weights."""
    sim.setup(timestep=1.0)
    w = np.zeros((5, 4))
    w[1, 2], w[3, 0] = 0.5, -0.25
    src = sim.Population(5, sim.SpikeSourceArray(spike_times=[1.0]))
    pop = sim.Population(4, sim.EGRU())
    prj = sim.Projection(src, pop, sim.AllToAllConnector(), sim.StaticSynapse(weight=w),
                         receptor_type="update")
    assert sorted(prj.get(["weight"], format="list")) == [(1, 2, 0.5), (3, 0, -0.25)]


def test_graded_source_round_trips_through_xml(sim) -> None:
    from pynn_spinnaker2.pynn.build import build_network
    from pynn_spinnaker2.pynn.simulator import state

    sim.setup(timestep=1.0)
    x = np.array([[0.5, 0.0], [-1.25, 2.0], [0.0, 3.0]])
    sim.Population(2, sim.GradedSourceArray.from_matrix(x), label="x")
    network = build_network(state)
    back = from_xml(to_xml(network)).population("x")
    np.testing.assert_array_equal(back.spike_values[0], [0.5, -1.25])
    np.testing.assert_array_equal(back.spike_times[1], [2.0, 3.0])
    assert back.params["start"][0] == 1.0


# -- errors -------------------------------------------------------------------------------

def _two_populations(sim, n_in: int = 4, n: int = 3):
    sim.setup(timestep=1.0)
    src = sim.Population(n_in, sim.GradedSourceArray.from_matrix(np.ones((5, n_in))),
                         label="x")
    pop = sim.Population(n, sim.EGRU(), label="h")
    return src, pop


def test_missing_gate_is_an_error(sim) -> None:
    src, pop = _two_populations(sim)
    for gate in ("update", "reset"):
        sim.gate_projection(src, pop, np.ones((4, 3)), gate, label=f"x_{gate}")
    with pytest.raises(NetworkError, match=r"EGRU 'h'.*from 'x'.*not \['candidate'\]"):
        sim.run(3.0)


def test_missing_recurrent_gate_is_an_error(sim) -> None:
    src, pop = _two_populations(sim)
    for gate in ("update", "reset", "candidate"):
        sim.gate_projection(src, pop, np.ones((4, 3)), gate)
    sim.gate_projection(pop, pop, np.ones((3, 3)), "update")
    with pytest.raises(NetworkError, match=r"from 'h'.*\['reset', 'candidate_recurrent'\]"):
        sim.run(3.0)


def test_shape_mismatch_is_an_error(sim) -> None:
    src, _ = _two_populations(sim)
    rng = np.random.default_rng(0)
    w, v, b, bv, thr = _random_layer(rng, 5, 6, prune=0.0)  # 5 inputs, but x has 4
    with pytest.raises(NetworkError, match=r"'layer'.*kernel has shape \(5, 18\), expected "
                                           r"\(4, 18\)"):
        sim.egru_layer(src, w, v, b, bv, thr, label="layer")
    with pytest.raises(NetworkError, match=r"recurrent_kernel has shape \(5, 18\), expected "
                                           r"\(6, 18\)"):
        sim.egru_layer(src, w[:4], v[:5], b, bv, thr, label="layer")


def test_weight_matrix_shape_mismatch_is_an_error(sim) -> None:
    src, pop = _two_populations(sim)
    with pytest.raises(NetworkError, match=r"'bad'.*shape \(3, 4\), expected \(pre, post\) = "
                                           r"\(4, 3\)"):
        sim.gate_projection(src, pop, np.ones((3, 4)), "update", label="bad")


def test_gate_projection_into_a_non_egru_cell_is_an_error(sim) -> None:
    src, _ = _two_populations(sim)
    lif = sim.Population(3, sim.IF_curr_exp(), label="lif")
    with pytest.raises(pynn_errors.ConnectionError, match=r"'update' is an EGRU gate.*"
                                                          r"IF_curr_exp"):
        sim.Projection(src, lif, sim.AllToAllConnector(), receptor_type="update")


def test_gate_receptor_on_non_egru_target_in_a_network_is_an_error() -> None:
    from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec, validate

    pops = (PopulationSpec("h", "EGRU", 2), PopulationSpec("lif", "IF_curr_exp", 2))
    proj = ProjectionSpec("p", "h", "lif", np.array([0]), np.array([1]), np.array([0.5]),
                          np.array([1.0]), "reset")
    with pytest.raises(NetworkError, match=r"'p'.*EGRU gate.*'lif' is a IF_curr_exp"):
        validate(Network(1.0, pops, (proj,)))


def test_recurrent_input_into_the_feedforward_candidate_is_an_error(sim) -> None:
    _, pop = _two_populations(sim)
    sim.gate_projection(pop, pop, np.ones((3, 3)), "candidate", label="rec")
    with pytest.raises(NetworkError, match=r"'rec' is recurrent.*'candidate_recurrent'"):
        sim.run(3.0)


def test_feedforward_input_into_the_recurrent_candidate_is_an_error(sim) -> None:
    src, pop = _two_populations(sim)
    sim.gate_projection(src, pop, np.ones((4, 3)), "candidate_recurrent", label="ff")
    with pytest.raises(NetworkError, match=r"'ff' from 'x' into EGRU 'h'.*only the recurrent"):
        sim.run(3.0)


def test_recurrent_delay_other_than_one_step_is_an_error(sim) -> None:
    _, pop = _two_populations(sim)
    for gate in ("update", "reset", "candidate_recurrent"):
        sim.gate_projection(pop, pop, np.ones((3, 3)), gate, delay=2.0, label=f"rec_{gate}")
    with pytest.raises(NetworkError, match=r"recurrent.*delays of \[2\] steps.*y_\(t-1\)"):
        sim.run(3.0)


def test_inputs_arriving_in_different_steps_are_an_error(sim) -> None:
    """A skip connection from the input straight into layer 2 carries position k one step
    before layer 1's output does."""
    rng = np.random.default_rng(0)
    src, _ = _two_populations(sim)
    one = sim.egru_layer(src, *_random_layer(rng, 4, 5, prune=0.0), label="one")
    two = sim.egru_layer(one.population, *_random_layer(rng, 5, 6, prune=0.0), label="two")
    for gate in ("update", "reset", "candidate"):
        sim.gate_projection(src, two.population, np.ones((4, 6)), gate, label=f"skip_{gate}")
    with pytest.raises(NetworkError, match=r"EGRU 'two'.*different steps \(step 2: \['skip_"):
        sim.run(3.0)


def test_current_source_into_egru_is_an_error(sim) -> None:
    _, pop = _two_populations(sim)
    with pytest.raises(TypeError, match="can't inject current into 'h': a EGRU takes no"):
        sim.DCSource(amplitude=1.0).inject_into(pop)


def test_graded_events_need_one_value_per_time() -> None:
    from pynn_spinnaker2.network import Network, PopulationSpec, validate

    pop = PopulationSpec("x", "GradedSourceArray", 1, params={"start": np.zeros(1)},
                         spike_times=(np.array([1.0, 2.0]),), spike_values=(np.array([0.5]),))
    with pytest.raises(NetworkError, match=r"'x', neuron 0: 2 event times but 1 values"):
        validate(Network(1.0, (pop,)))


def test_graded_source_from_a_vector_is_an_error(sim) -> None:
    with pytest.raises(pynn_errors.InvalidParameterValueError, match=r"\(steps, neurons\)"):
        sim.GradedSourceArray.from_matrix(np.ones(5))


def test_graded_output_of_a_silent_layer_is_zeros(sim) -> None:
    sim.setup(timestep=1.0)
    n_in, n, steps = 3, 4, 5
    src = sim.Population(n_in, sim.GradedSourceArray.from_matrix(np.ones((steps, n_in))))
    layer = sim.egru_layer(src, np.ones((n_in, 3 * n)), np.zeros((n, 3 * n)), np.zeros(3 * n),
                           np.zeros(3 * n), np.full(n, 50.0), label="silent")
    layer.population.record("spikes")
    sim.run(steps + 1)
    out = sim.graded_output(layer.population, steps)
    assert out.shape == (steps, n) and not out.any()
