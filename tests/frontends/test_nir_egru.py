"""The EGRU as a NIR extension node: PyNN -> NIR file -> ``nir.read`` -> PyNN runs bit for
bit the same; the node's parameters survive the file exactly and keep EvNN's layout; a
graph made by hand (and one from EvNN's own modules) imports and runs as the equations
say; malformed nodes give a FormatError that names them."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest

from pynn_spinnaker2.errors import FormatError, NetworkError
from pynn_spinnaker2.frontends.nir_egru import EDGES, EGRU, NODE_TYPES
from pynn_spinnaker2.frontends.nir_io import write_nir
from pynn_spinnaker2.frontends.nir_read import read_nir

STEPS = 40
ROOT = Path(__file__).resolve().parents[2]


def _evnn_weights(rng: np.random.Generator, n_in: int, n: int, prune: float = 0.7) -> tuple:
    """Random EvNN-layout parameters: kernel (in, 3n), recurrent_kernel (n, 3n), bias,
    recurrent_bias (3n), thr (n); a fraction ``prune`` of the weights set to zero."""
    w = rng.normal(0.0, 1.5 / np.sqrt(n_in * (1 - prune)), (n_in, 3 * n))
    v = rng.normal(0.0, 1.5 / np.sqrt(n * (1 - prune)), (n, 3 * n))
    w[rng.random(w.shape) < prune] = 0.0
    v[rng.random(v.shape) < prune] = 0.0
    return (w, v, rng.normal(0.0, 0.3, 3 * n), rng.normal(0.0, 0.3, 3 * n),
            rng.uniform(0.05, 0.5, n))


def _events(pop) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(unit, times, values) of every unit, from the recorded Neo spike trains."""
    seg = pop.get_data().segments[-1]
    return [(int(st.annotations["source_index"]), np.asarray(st.magnitude),
             np.asarray(st.array_annotations["value"])) for st in seg.spiketrains]


def _build_original(sim, rng: np.random.Generator) -> dict:
    """Two pruned EGRU layers from EvNN-layout weights: an embedding (graded) and a spike
    cue into layer 1 (split over PEs of 7 units, initial state), layer 1 and a skip
    connection from the embedding (two steps, lined up with the pipeline) into layer 2
    (zoneout)."""
    l1_w, l2_w = _evnn_weights(rng, 8, 30), _evnn_weights(rng, 30, 20)
    cue_w = rng.normal(0.0, 0.3, (3, 90))
    skip_w = rng.normal(0.0, 0.3, (8, 60)) * (rng.random((8, 60)) < 0.5)
    x = rng.normal(0.0, 1.0, (STEPS, 8))
    x[rng.random(x.shape) < 0.2] = 0.0
    cue_times = [[5.0, 9.0, 20.0], [7.0], []]
    sim.setup(timestep=1.0)
    emb = sim.Population(8, sim.GradedSourceArray.from_matrix(x), label="embedding")
    cue = sim.Population(3, sim.SpikeSourceArray(spike_times=cue_times), label="cue")
    l1 = sim.egru_layer(emb, *l1_w, label="egru1", max_per_core=7)
    l1.population.initialize(c=rng.uniform(0.0, 0.2, 30))
    for k, gate in enumerate(("update", "reset", "candidate")):
        sim.gate_projection(cue, l1.population, cue_w[:, k * 30:(k + 1) * 30], gate,
                            label=f"cue_{gate}")
    l2 = sim.egru_layer(l1.population, *l2_w, label="egru2", zoneout=0.1)
    for k, gate in enumerate(("update", "reset", "candidate")):
        sim.gate_projection(emb, l2.population, skip_w[:, k * 20:(k + 1) * 20], gate,
                            delay=2.0, label=f"skip_{gate}")
    for layer in (l1, l2):
        layer.population.record("spikes")
    return {"x": x, "cue_times": cue_times, "l1": l1_w, "l2": l2_w, "cue_w": cue_w,
            "skip_w": skip_w, "pops": (l1.population, l2.population),
            "c0": np.asarray(l1.population.initial_values["c"].evaluate(), dtype=float)}


def test_two_layers_export_nir_read_import_bit_identical(sim, tmp_path) -> None:
    rng = np.random.default_rng(11)
    net = _build_original(sim, rng)
    sim.run(STEPS + 3.0)
    original = [_events(p) for p in net["pops"]]
    path = tmp_path / "egru.nir"
    sim.export_nir(path)

    graph = nir.read(path)  # nir's own reader, type checks on: no error
    assert isinstance(graph.nodes["egru1"], nir.NIRGraph)
    assert graph.nodes["egru1"].metadata["nir_extension"] == "EGRU"

    sim.setup(timestep=1.0)
    imported = sim.import_nir(path)
    assert type(imported.inputs["embedding"].celltype).__name__ == "GradedSourceArray"
    assert type(imported.inputs["cue"].celltype).__name__ == "SpikeSourceArray"
    imported.set_input("embedding", net["x"])
    imported.inputs["cue"].set(spike_times=net["cue_times"])
    sim.run(STEPS + 3.0)
    again = [_events(imported.populations[k]) for k in ("egru1", "egru2")]
    n_events = 0
    for layer, (a, b) in enumerate(zip(original, again, strict=True)):
        for (unit, times, values), (unit2, times2, values2) in zip(a, b, strict=True):
            assert unit == unit2
            np.testing.assert_array_equal(times, times2, err_msg=f"layer {layer} unit {unit}")
            np.testing.assert_array_equal(values, values2, err_msg=f"layer {layer} unit {unit}")
            n_events += times.size
    silent = 1.0 - n_events / ((30 + 20) * STEPS)
    assert n_events > 300 and silent > 0.3, "the comparison needs events and silences"
    # read_output gives the same events as values, row t = the events stamped (t + 1) dt
    y2 = imported.read_output("egru2_output")
    for unit, times, values in again[1]:
        np.testing.assert_array_equal(y2[times.astype(int) - 1, unit], values)


def test_the_file_holds_evnn_layout_and_nir_read_returns_the_container(sim, tmp_path) -> None:
    """What ``nir.read`` returns for an EGRU: the container subgraph, whose W_/V_ Affine
    nodes are the gate blocks of EvNN's (kernel, recurrent_kernel) transposed; our reader
    returns the EGRU node with EvNN's matrices stacked in gate order z, r, g."""
    rng = np.random.default_rng(12)
    net = _build_original(sim, rng)
    path = tmp_path / "egru.nir"
    sim.export_nir(path)
    w, v, b, bv, thr = net["l1"]
    n = thr.size

    sub = nir.read(path).nodes["egru1"]
    assert {k: type(node).__name__ for k, node in sub.nodes.items()} == NODE_TYPES
    assert set(sub.edges) == set(EDGES)
    assert sub.metadata["nir_extension"] == "EGRU"
    assert sub.metadata["nir_extension_version"] == 1
    assert float(sub.metadata["zoneout"]) == 0.0
    np.testing.assert_array_equal(sub.metadata["initial_c"], net["c0"])
    for k, gate in enumerate(("update", "reset", "candidate")):
        rows = slice(k * n, (k + 1) * n)
        np.testing.assert_array_equal(sub.nodes[f"W_{gate}"].weight[:, :8], w[:, rows].T)
        np.testing.assert_array_equal(sub.nodes[f"W_{gate}"].weight[:, 8:],
                                      net["cue_w"][:, rows].T)
        np.testing.assert_array_equal(sub.nodes[f"V_{gate}"].weight, v[:, rows].T)
    np.testing.assert_array_equal(sub.nodes["cell"].threshold, thr)
    np.testing.assert_array_equal(sub.input_type["input"], [8 + 3])
    np.testing.assert_array_equal(sub.output_type["output"], [n])

    node = read_nir(path).nodes["egru1"]
    assert isinstance(node, EGRU)
    np.testing.assert_array_equal(node.weight_ih[:, :8], w.T)
    np.testing.assert_array_equal(node.weight_hh, v.T)
    np.testing.assert_array_equal(node.threshold, thr)
    # u and r depend on b + bv only: the population stores the sums, export puts them in
    # bias_ih; the candidate's two biases stay apart (r multiplies only the recurrent one)
    np.testing.assert_array_equal(node.bias_ih, np.r_[b[:2 * n] + bv[:2 * n], b[2 * n:]])
    np.testing.assert_array_equal(node.bias_hh, np.r_[np.zeros(2 * n), bv[2 * n:]])
    layer2 = read_nir(path).nodes["egru2"]
    assert float(layer2.zoneout) == 0.1
    # layer 2's input: layer 1 (one step) and the embedding (two steps: a Delay of one dt)
    np.testing.assert_array_equal(layer2.weight_ih[:, :30], net["l2"][0].T)
    np.testing.assert_array_equal(layer2.weight_ih[:, 30:], net["skip_w"].T)
    graph = read_nir(path)
    delays = [node for node in graph.nodes.values() if isinstance(node, nir.Delay)]
    assert len(delays) == 1 and np.all(delays[0].delay == 1e-3)


def _random_node(rng: np.random.Generator, n_in: int = 5, n: int = 4, **kw) -> EGRU:
    w, v, b, bv, thr = _evnn_weights(rng, n_in, n, prune=0.3)
    node = EGRU.from_evnn(w, v, b, bv, thr, **kw)
    return node


def _fields(node: EGRU) -> dict:
    return {k: np.asarray(getattr(node, k)) for k in ("weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh", "threshold", "zoneout")}


def test_node_parameters_round_trip_exactly(sim, tmp_path) -> None:
    """Node -> file -> node is exact, through our reader and through ``nir.read`` (then
    import); node -> import -> export gives the same node, u and r biases summed."""
    rng = np.random.default_rng(5)
    node = _random_node(rng, zoneout=rng.uniform(0, 0.5, 4))
    node.metadata = {"initial_c": rng.uniform(-0.1, 0.1, 4), "trained_on": "tiny corpus"}
    graph = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([5])), "egru": node,
                                "y": nir.Output(output_type=np.array([4]))},
                         edges=[("x", "egru"), ("egru", "y")], type_check=False)
    path = tmp_path / "node.nir"
    write_nir(path, graph)
    back = read_nir(path).nodes["egru"]
    for name, value in _fields(node).items():
        np.testing.assert_array_equal(getattr(back, name), value, err_msg=name)
    np.testing.assert_array_equal(back.metadata["initial_c"], node.metadata["initial_c"])
    assert back.metadata["trained_on"] == "tiny corpus"
    assert set(back.metadata) == {"initial_c", "trained_on"}

    for source in (path, nir.read(path)):  # a path (our reader) or nir.read's graph
        sim.setup(timestep=1.0)
        sim.import_nir(source, dt=1e-3)
        again = sim.export_nir().nodes["egru"]
        assert isinstance(again, EGRU)
        for name in ("weight_ih", "weight_hh", "threshold", "zoneout"):
            np.testing.assert_array_equal(getattr(again, name), getattr(node, name), name)
        np.testing.assert_array_equal(again.bias_ih, np.r_[node.bias_ih[:8] + node.bias_hh[:8],
                                                          node.bias_ih[8:]])
        np.testing.assert_array_equal(again.bias_hh, np.r_[np.zeros(8), node.bias_hh[8:]])
        np.testing.assert_array_equal(again.metadata["initial_c"], node.metadata["initial_c"])
    evnn = node.to_evnn()
    np.testing.assert_array_equal(evnn[0], node.weight_ih.T)
    np.testing.assert_array_equal(EGRU.from_evnn(*evnn).weight_hh, node.weight_hh)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _egru_equations(node: EGRU, x: np.ndarray) -> tuple[np.ndarray, float]:
    """The node docstring's equations in float64: y (steps, H) and the smallest
    |c^ - threshold| met (events are only comparable across precisions with a margin)."""
    n = node.hidden_size
    w, v, b, bv = node.weight_ih, node.weight_hh, node.bias_ih, node.bias_hh
    c = np.asarray(node.metadata.get("initial_c", np.zeros(n)), dtype=float)
    y, out, margin = np.zeros(n), [], np.inf
    for t in range(x.shape[0]):
        a, r_ = w @ x[t] + b, v @ y + bv
        u = _sigmoid(a[:n] + r_[:n])
        r = _sigmoid(a[n:2 * n] + r_[n:2 * n])
        g = np.tanh(a[2 * n:] + r * r_[2 * n:])
        c_hat = u * c + (1 - u) * g
        c_hat = node.zoneout * c + (1 - node.zoneout) * c_hat
        margin = min(margin, float(np.abs(c_hat - node.threshold).min()))
        e = c_hat > node.threshold
        y, c = np.where(e, c_hat, 0.0), c_hat - e * node.threshold
        out.append(y)
    return np.array(out), margin


def test_graph_made_by_hand_runs_the_equations(sim, tmp_path) -> None:
    """Input (values per step) -> Affine with bias -> EGRU -> Linear -> Output, and the EGRU
    itself to an Output: the Input becomes a GradedSourceArray, the Affine's bias a gate
    bias, and the events and the readout follow the equations (float64) within float32
    tolerance, at the documented steps."""
    rng = np.random.default_rng(8)
    steps, n0, n_in, n = 60, 5, 6, 12
    a, c = rng.normal(0, 0.6, (n_in, n0)), rng.normal(0, 0.3, n_in)
    node = _random_node(rng, n_in, n, zoneout=0.05)
    node.metadata = {"initial_c": rng.uniform(0, 0.1, n)}
    readout = rng.normal(0, 1.0, (3, n))
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([n0])),
               "embed": nir.Affine(weight=a, bias=c), "egru": node,
               "read": nir.Linear(weight=readout),
               "hidden": nir.Output(output_type=np.array([n])),
               "logits": nir.Output(output_type=np.array([3]))},
        edges=[("input", "embed"), ("embed", "egru"), ("egru", "read"), ("read", "logits"),
               ("egru", "hidden")], type_check=False)
    path = tmp_path / "hand.nir"
    nir.write(path, graph)
    nir.read(path)
    x = rng.normal(0, 1.0, (steps, n0))
    y_ref, margin = _egru_equations(node, x @ a.T + c)
    assert margin > 1e-4, "the events must not depend on float32 rounding"
    assert 0.05 < (y_ref > 0).mean() < 0.7

    sim.setup(timestep=1.0)
    net = sim.import_nir(path, dt=1e-3)
    assert type(net.inputs["input"].celltype).__name__ == "GradedSourceArray"
    net.set_input("input", x)
    sim.run(steps + 3.0)
    hidden = net.read_output("hidden")       # position k is stamped (k + 2) dt: row k + 1
    y = hidden[1:steps + 1]
    np.testing.assert_array_equal(y != 0, y_ref > 0)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=2e-6)
    assert not hidden[0].any()
    logits = net.read_output("logits")      # W y of position k, one step later: row k + 2
    np.testing.assert_allclose(logits[2:steps + 2], y_ref @ readout.T, rtol=1e-5, atol=1e-5)


# -- against EvNN itself ---------------------------------------------------------------------


def test_nodes_from_evnn_modules_match_evnn(sim, evnn, tmp_path) -> None:
    """Two EvNN layers written as EGRU nodes (``EGRU.from_evnn``), saved, imported and run:
    each layer's events are EvNN's, position by position."""
    import torch

    torch.manual_seed(4)
    modules = []
    for n_in, n in ((16, 40), (40, 24)):
        layer = evnn.EGRU(n_in, n, use_custom_cuda=False)
        with torch.no_grad():
            layer.bias.normal_(0.0, 0.3)
            layer.recurrent_bias.normal_(0.0, 0.3)
            layer.kernel.mul_((torch.rand(layer.kernel.shape) >= 0.5).float())
        modules.append(layer.eval())
    nodes = [EGRU.from_evnn(m.kernel, m.recurrent_kernel, m.bias, m.recurrent_bias,
                            m.thr.clamp(0.0, 1.0)) for m in modules]
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([16])), "l1": nodes[0], "l2": nodes[1],
               "y1": nir.Output(output_type=np.array([40])),
               "y2": nir.Output(output_type=np.array([24]))},
        edges=[("x", "l1"), ("l1", "l2"), ("l1", "y1"), ("l2", "y2")], type_check=False)
    nir.write(tmp_path / "evnn.nir", graph)
    x = np.random.default_rng(2).normal(0.0, 1.0, (50, 16))
    with torch.no_grad():
        inp, ref = torch.tensor(x, dtype=torch.float32)[:, None, :], []
        for m in modules:
            inp, _ = m(inp)
            ref.append(inp[:, 0].numpy())
    sim.setup(timestep=1.0)
    net = sim.import_nir(tmp_path / "evnn.nir", dt=1e-3)
    net.set_input("x", x)
    sim.run(53.0)
    for k, (out, y_ref) in enumerate(zip(("y1", "y2"), ref, strict=True)):
        y = net.read_output(out)[k + 1:k + 51]
        assert (y_ref > 0).mean() > 0.02, f"layer {k} must send events"
        np.testing.assert_array_equal(y != 0, y_ref > 0, err_msg=f"layer {k}")
        np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=5e-6, err_msg=f"layer {k}")


# -- malformed nodes -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def egru_file(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([5])), "egru": _random_node(rng),
               "output": nir.Output(output_type=np.array([4]))},
        edges=[("input", "egru"), ("egru", "output")], type_check=False)
    path = tmp_path_factory.mktemp("egru") / "valid.nir"
    nir.write(path, graph)
    return path


def _replace(f: h5py.File, name: str, value: object) -> None:
    del f[name]
    if isinstance(value, str):
        f.create_dataset(name, data=value, dtype=h5py.string_dtype())
    else:
        f.create_dataset(name, data=value)


G = "node/nodes/egru"


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.__delitem__(f"{G}/nodes/W_reset/weight"),
     r"W_reset \(Affine\) is missing the dataset\(s\) \['W_reset/weight'\]"),
    (lambda f: f.__delitem__(f"{G}/nodes/cell"), r"missing \['cell'\]"),
    (lambda f: f.__delitem__(f"{G}/metadata/zoneout"), "no 'zoneout'"),
    (lambda f: _replace(f, f"{G}/nodes/W_update/weight", np.ones((4, 6))),
     r"the W_\* nodes' weight must have one shape"),
    (lambda f: [_replace(f, f"{G}/nodes/{k}/weight", np.ones((4, 4))) for k in
                ("V_update", "V_reset", "V_candidate")] and
     [_replace(f, f"{G}/nodes/{k}/weight", np.ones((4, 6))) for k in
      ("W_update", "W_reset", "W_candidate")],
     r"input/shape is 5, but the W_ weights take 6 inputs"),
    (lambda f: _replace(f, f"{G}/nodes/V_candidate/bias", np.ones(3)),
     r"the V_\* nodes' bias must have one shape"),
    (lambda f: _replace(f, f"{G}/nodes/cell/threshold", np.ones(5)),
     r"output/shape is 4, but cell/threshold has 5 units"),
    (lambda f: _replace(f, f"{G}/nodes/cell/threshold", np.array([0.1, np.nan, 0.2, 0.3])),
     "cell/threshold has non-finite values"),
    (lambda f: _replace(f, f"{G}/nodes/cell/threshold", "high"),
     "cell/threshold must be numbers"),
    (lambda f: _replace(f, f"{G}/metadata/zoneout", 1.5), r"zoneout is a probability"),
    (lambda f: _replace(f, f"{G}/metadata/nir_extension_version", 2),
     "this reader knows layout version 1"),
    (lambda f: _replace(f, f"{G}/nodes/W_reset/type", "Linear"),
     "W_reset must be of type Affine, found 'Linear'"),
    (lambda f: f[f"{G}/nodes/cell"].create_dataset("colour", data=1.0),
     r"cell \(Threshold\) has unexpected entries \['colour'\]"),
    (lambda f: _replace(f, f"{G}/edges", np.array([["input", "W_update"]], dtype="S")),
     r"the container's edges must be"),
])
def test_malformed_egru_nodes_name_the_node(egru_file, tmp_path, mutate, message) -> None:
    path = tmp_path / "bad.nir"
    shutil.copy(egru_file, path)
    with h5py.File(path, "r+") as f:
        mutate(f)
    with pytest.raises(FormatError, match=r"bad.nir: node 'egru' \(EGRU\): .*" + message):
        read_nir(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda f: _replace(f, f"{G}/metadata/nir_extension", "GRU9"),
     r"node 'egru' \(NIRGraph\): the subgraph is an extension node of type 'GRU9', which "
     r"this reader does not know"),
    (lambda f: f.__delitem__(f"{G}/metadata/nir_extension"),
     r"node 'egru' \(NIRGraph\): .*'nir_extension_version' but no 'nir_extension'"),
])
def test_damaged_marker_is_refused(egru_file, tmp_path, mutate, message) -> None:
    """A subgraph that says it is an extension node is never read as plain NIR."""
    path = tmp_path / "bad.nir"
    shutil.copy(egru_file, path)
    with h5py.File(path, "r+") as f:
        mutate(f)
    with pytest.raises(FormatError, match=message):
        read_nir(path)
    graph = nir.read(path)  # nir reads it as a plain subgraph; our importer refuses that
    with pytest.raises(NetworkError, match=r"node 'egru' \(a subgraph marked as an extension"):
        from pynn_spinnaker2.frontends.nir_lower import nir_to_network

        nir_to_network(graph, dt=1e-3)


def test_bad_nodes_in_memory_and_wrong_input_size() -> None:
    from pynn_spinnaker2.frontends.nir_lower import nir_to_network

    rng = np.random.default_rng(3)
    good = _random_node(rng)
    with pytest.raises(ValueError, match=r"weight_hh has shape \(12, 5\); 4 units need"):
        EGRU(good.weight_ih, np.ones((12, 5)), good.bias_ih, good.bias_hh, good.threshold)
    with pytest.raises(ValueError, match=r"threshold must be one value per unit"):
        EGRU(good.weight_ih, good.weight_hh, good.bias_ih, good.bias_hh, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"initial_c has shape \(3,\)"):
        EGRU(good.weight_ih, good.weight_hh, good.bias_ih, good.bias_hh, good.threshold,
             metadata={"initial_c": np.zeros(3)})
    graph = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([7])), "egru": good},
                         edges=[("x", "egru")], type_check=False)
    with pytest.raises(NetworkError, match=r"node 'egru' \(EGRU\) takes 5 input values but "
                                           r"receives 7"):
        nir_to_network(graph, dt=1e-3)


def test_export_refusals(sim, monkeypatch) -> None:
    from pynn_spinnaker2.frontends import nir_units

    sim.setup(timestep=1.0)
    sim.Population(3, sim.EGRU(bias_candidate=1.0), label="alone")
    with pytest.raises(NotImplementedError, match="EGRU population 'alone' has no "
                                                  "feed-forward input"):
        sim.export_nir()
    sim.setup(timestep=1.0)
    src = sim.Population(4, sim.GradedSourceArray.from_matrix(np.ones((3, 4))), label="x")
    sim.egru_layer(src, *_evnn_weights(np.random.default_rng(0), 4, 5), label="big")
    monkeypatch.setattr(nir_units, "MAX_DENSE", 50)
    with pytest.raises(NotImplementedError, match="'big': weight_ih would be a dense matrix "
                                                  "of 60 entries"):
        sim.export_nir()
