"""NIR import: linear nodes (checked against torch's own conv/pool), delays, nested and
recurrent graphs, and an error naming the node for everything the chip cannot run."""

from __future__ import annotations

import nir
import numpy as np
import pytest

from pynn_spinnaker2.errors import NetworkError

DT = 1e-3


def _integrator(n: int) -> nir.I:
    """An I node whose v adds up its input (r dt = 1): v(n) = sum of the inputs so far."""
    return nir.I(r=np.full(n, 1.0 / DT))


def _run_graph(sim, nodes: dict, edges: list, raster: np.ndarray, steps: int) -> np.ndarray:
    sim.setup(timestep=1.0)
    net = sim.import_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), dt=DT)
    net.set_input("input", raster)
    sim.run(float(steps))
    return net.read_output("output")


def _cumulative(chain_out: list[np.ndarray]) -> np.ndarray:
    """v of the integrator: input of step n is the chain applied to raster row n - 1."""
    return np.cumsum(np.array(chain_out), axis=0)


def test_conv2d_pool_flatten_affine_match_torch(sim) -> None:
    torch = pytest.importorskip("torch", reason="torch computes the reference convolution")
    f = torch.nn.functional
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 2, 3, 3))
    b = rng.normal(size=4)
    fc = rng.normal(size=(5, 4 * 3 * 4))
    fc_b = rng.normal(size=5)
    nodes = {"input": nir.Input(input_type=np.array([2, 9, 8])),
             "conv": nir.Conv2d(input_shape=None, weight=w, stride=1, padding=1, dilation=1,
                                groups=1, bias=b),
             "sum": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                  padding=np.array([0, 0])),
             "avg": nir.AvgPool2d(kernel_size=np.array([2, 1]), stride=np.array([1, 1]),
                                  padding=np.array([0, 0])),
             "flat": nir.Flatten(input_type=None, start_dim=0, end_dim=-1),
             "fc": nir.Affine(weight=fc, bias=fc_b),
             "acc": _integrator(5), "output": nir.Output(output_type=np.array([5]))}
    names = list(nodes)
    edges = list(zip(names[:-1], names[1:], strict=True))
    steps = 12
    raster = (rng.random((steps, 2 * 9 * 8)) < 0.3).astype(float)
    v = _run_graph(sim, nodes, edges, raster, steps)

    def chain(x: np.ndarray) -> np.ndarray:
        t = torch.tensor(x.reshape(1, 2, 9, 8))
        t = f.conv2d(t, torch.tensor(w), torch.tensor(b), padding=1)
        t = f.avg_pool2d(t, 2, 2) * 4
        t = f.avg_pool2d(t, (2, 1), 1)
        return (torch.tensor(fc) @ t.flatten() + torch.tensor(fc_b)).numpy()

    inputs = [np.zeros(2 * 9 * 8)] + list(raster[:steps - 1])
    np.testing.assert_allclose(v, _cumulative([chain(x) for x in inputs]), rtol=1e-4,
                               atol=1e-3)


def test_conv1d_scale_linear_and_groups_match_torch(sim) -> None:
    torch = pytest.importorskip("torch", reason="torch computes the reference convolution")
    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 1, 3))
    scale = rng.normal(size=(4, 5))
    lin = rng.normal(size=(3, 20))
    nodes = {"input": nir.Input(input_type=np.array([2, 11])),
             "conv": nir.Conv1d(input_shape=11, weight=w, stride=2, padding=1, dilation=2,
                                groups=2, bias=np.zeros(4)),
             "scale": nir.Scale(scale=scale),
             "flat": nir.Flatten(input_type=np.array([4, 5]), start_dim=0),
             "lin": nir.Linear(weight=lin), "acc": _integrator(3),
             "output": nir.Output(output_type=np.array([3]))}
    names = list(nodes)
    steps = 10
    raster = (rng.random((steps, 22)) < 0.4).astype(float)
    v = _run_graph(sim, nodes, list(zip(names[:-1], names[1:], strict=True)), raster, steps)

    def chain(x: np.ndarray) -> np.ndarray:
        t = torch.nn.functional.conv1d(torch.tensor(x.reshape(1, 2, 11)), torch.tensor(w),
                                       stride=2, padding=1, dilation=2, groups=2)
        return lin @ (t[0].numpy() * scale).ravel()

    inputs = [np.zeros(22)] + list(raster[:steps - 1])
    np.testing.assert_allclose(v, _cumulative([chain(x) for x in inputs]), atol=1e-4)


def test_delay_node_shifts_each_element(sim) -> None:
    nodes = {"input": nir.Input(input_type=np.array([3])),
             "w": nir.Linear(weight=np.eye(3)),
             "d": nir.Delay(delay=np.array([0.0, 2 * DT, 5 * DT])),
             "acc": _integrator(3), "output": nir.Output(output_type=np.array([3]))}
    raster = np.zeros((15, 3))
    raster[2] = 1.0
    v = _run_graph(sim, nodes, [("input", "w"), ("w", "d"), ("d", "acc"), ("acc", "output")],
                   raster, 15)
    # Row 2 is the input of step 3 (v row 3); a delay of k dt moves it k steps later.
    assert [int(np.argmax(v[:, i] > 0.5)) for i in range(3)] == [3, 5, 8]


def test_nested_recurrent_graph_matches_closed_form_loop(sim) -> None:
    """A subgraph holding a LIF with a recurrent Linear, as snnTorch's RLeaky exports it."""
    rng = np.random.default_rng(2)
    n, n_in, steps = 6, 4, 150
    tau, r = rng.uniform(5e-3, 2e-2, n), rng.uniform(0.5, 1.5, n)
    w_in, b = rng.uniform(0, 3.0, (n, n_in)), rng.uniform(0.3, 0.9, n)
    w_rec = rng.uniform(-0.6, 0.6, (n, n))
    sub = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([n])),
                              "lif": nir.LIF(tau=tau, r=r, v_leak=np.zeros(n),
                                             v_threshold=np.ones(n)),
                              "rec": nir.Linear(weight=w_rec),
                              "output": nir.Output(output_type=np.array([n]))},
                       edges=[("input", "lif"), ("lif", "rec"), ("rec", "lif"),
                              ("lif", "output")], type_check=False)
    nodes = {"input": nir.Input(input_type=np.array([n_in])),
             "fc": nir.Affine(weight=w_in, bias=b), "layer": sub,
             "output": nir.Output(output_type=np.array([n]))}
    raster = (rng.random((steps, n_in)) < 0.3).astype(float)
    z = _run_graph(sim, nodes, [("input", "fc"), ("fc", "layer"), ("layer", "output")],
                   raster, steps)
    decay = np.exp(-DT / tau)
    v, spikes = np.zeros(n), np.zeros(n)
    expected = np.zeros((steps, n))
    for k in range(steps):
        s = b + (w_in @ raster[k - 1] if k else 0.0) + w_rec @ spikes
        v = v * decay + r * s * (1 - decay)
        spikes = (v > 1.0).astype(float)
        v[spikes > 0] = 0.0
        expected[k] = spikes
    np.testing.assert_array_equal(z, expected)
    assert expected.sum() > 50


def test_subgraph_ports_named_explicitly(sim) -> None:
    """Edges may name a subgraph's Input as 'sub.port' when it has several."""
    sub = nir.NIRGraph(nodes={"a": nir.Input(input_type=np.array([2])),
                              "b": nir.Input(input_type=np.array([2])),
                              "wa": nir.Linear(weight=np.diag([1.0, 0.0])),
                              "wb": nir.Linear(weight=np.diag([0.0, 2.0])),
                              "acc": _integrator(2),
                              "out": nir.Output(output_type=np.array([2]))},
                       edges=[("a", "wa"), ("b", "wb"), ("wa", "acc"), ("wb", "acc"),
                              ("acc", "out")], type_check=False)
    nodes = {"input": nir.Input(input_type=np.array([2])), "sub": sub,
             "output": nir.Output(output_type=np.array([2]))}
    raster = np.zeros((6, 2))
    raster[1] = 1.0
    v = _run_graph(sim, nodes, [("input", "sub.a"), ("input", "sub.b"), ("sub", "output")],
                   raster, 6)
    np.testing.assert_allclose(v[-1], [1.0, 2.0], rtol=1e-6)


def test_output_of_a_linear_map_is_read_out_each_step(sim) -> None:
    """Input -> Affine -> Output and a second edge into the same Output: the recorded value
    of step k is the summed maps' value during step k (row k - 1 of the raster)."""
    rng = np.random.default_rng(4)
    w, b, w2 = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(3, 4))
    nodes = {"input": nir.Input(input_type=np.array([4])),
             "fc": nir.Affine(weight=w, bias=b), "fc2": nir.Linear(weight=w2),
             "output": nir.Output(output_type=np.array([3]))}
    raster = (rng.random((10, 4)) < 0.5).astype(float)
    sim.setup(timestep=1.0)
    net = sim.import_nir(nir.NIRGraph(nodes=nodes, edges=[
        ("input", "fc"), ("input", "fc2"), ("fc", "output"), ("fc2", "output")],
        type_check=False), dt=DT)
    assert net.outputs["output"][0].label == "output_readout"
    net.set_input("input", raster)
    sim.run(10.0)
    expected = [b + (w + w2) @ (raster[k - 1] if k else np.zeros(4)) for k in range(10)]
    np.testing.assert_allclose(net.read_output("output"), expected, rtol=1e-5, atol=1e-5)


def test_graph_from_file_with_metadata_dt(sim, tmp_path) -> None:
    graph = nir.NIRGraph.from_list(nir.Affine(weight=np.ones((2, 2)), bias=np.full(2, 2.0)),
                                   nir.LIF(tau=np.full(2, 0.01), r=np.ones(2),
                                           v_leak=np.zeros(2), v_threshold=np.ones(2)))
    graph.metadata = {"dt": 1e-3}
    nir.write(tmp_path / "g.nir", graph)
    sim.setup(timestep=1.0)
    net = sim.import_nir(tmp_path / "g.nir")
    assert net.dt == pytest.approx(1e-3)
    sim.run(30.0)
    # Constant drive r b = 2 over threshold 1: the first crossing at tau ln 2 = 6.9 ms.
    assert int(np.argmax(net.read_output("output")[:, 0])) == 6


# -- errors ------------------------------------------------------------------------------
def _lif(n: int = 2, **kw) -> nir.LIF:
    p = dict(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))
    p.update(kw)
    return nir.LIF(**p)


def _graph(*nodes: nir.NIRNode) -> nir.NIRGraph:
    return nir.NIRGraph.from_list(*nodes, type_check=False)


class _Unknown(nir.NIRNode):
    def __init__(self) -> None:
        self.input_type = {"input": np.array([2])}
        self.output_type = {"output": np.array([2])}
        self.metadata = {}


ERRORS = [
    ("unknown node type",
     lambda: _graph(nir.Linear(weight=np.eye(2)), _Unknown(), _lif()),
     NotImplementedError, r"node '_unknown' \(_Unknown\) cannot run on SpiNNaker 2"),
    ("non-spiking node feeding a linear node",
     lambda: _graph(nir.Linear(weight=np.eye(2)),
                    nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)),
                    nir.Linear(weight=np.eye(2)), _lif()),
     NetworkError, r"node 'li' \(LI\) does not spike.*node 'linear_1' \(Linear\)"),
    ("negative time constant",
     lambda: _graph(nir.Linear(weight=np.eye(2)), _lif(tau=np.array([0.01, -1.0]))),
     NetworkError, r"node 'lif' \(LIF\): tau must be > 0"),
    ("non-finite weight",
     lambda: _graph(nir.Linear(weight=np.array([[1.0, np.nan], [0, 1]])), _lif()),
     NetworkError, r"node 'linear' \(Linear\): 'weight' has non-finite values"),
    ("shape mismatch",
     lambda: _graph(nir.Linear(weight=np.ones((3, 2))), _lif(2)),
     NetworkError, r"node 'lif' \(LIF\) has 2 neurons but receives 3 values"),
    ("weight not fitting its input",
     lambda: nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([3])),
                                 "w": nir.Linear(weight=np.ones((2, 2))), "lif": _lif()},
                          edges=[("input", "w"), ("w", "lif")], type_check=False),
     NetworkError, r"node 'w' \(Linear\): weight \(2, 2\) takes 2 inputs"),
    ("delay off the time grid",
     lambda: _graph(nir.Linear(weight=np.eye(2)), nir.Delay(delay=np.array([0.0015, 0.0])),
                    _lif()),
     NetworkError, r"node 'delay' \(Delay\): delay 0.0015 is not a multiple of dt"),
    ("algebraic loop",
     lambda: nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                                 "a": nir.Linear(weight=np.eye(2)),
                                 "b": nir.Linear(weight=np.eye(2)), "lif": _lif()},
                          edges=[("input", "a"), ("a", "b"), ("b", "a"), ("b", "lif")],
                          type_check=False),
     NetworkError, r"algebraic loop"),
    ("subgraph with two inputs named as a whole",
     lambda: nir.NIRGraph(
         nodes={"input": nir.Input(input_type=np.array([2])),
                "sub": nir.NIRGraph(nodes={"a": nir.Input(input_type=np.array([2])),
                                           "b": nir.Input(input_type=np.array([2])),
                                           "lif": _lif()},
                                    edges=[("a", "lif"), ("b", "lif")], type_check=False)},
         edges=[("input", "sub")], type_check=False),
     NetworkError, r"subgraph 'sub', which has 2 Input nodes"),
    ("convolution too large to expand",
     lambda: nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([1, 4, 4])),
                                 "conv": nir.Conv2d(input_shape=None,
                                                    weight=np.ones((1, 1, 3, 3)), stride=1,
                                                    padding=10**12, dilation=1, groups=1,
                                                    bias=np.zeros(1)),
                                 "lif": _lif(16)},
                          edges=[("input", "conv"), ("conv", "lif")], type_check=False),
     NetworkError, r"node 'conv' \(Conv2d\): padding .* weight terms, more than"),
    ("edge to a missing node",
     lambda: nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([2])),
                                 "lif": _lif()},
                          edges=[("input", "nowhere")], type_check=False),
     NetworkError, r"edge end 'nowhere' is not a node"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_name_the_node(sim, case) -> None:
    _, build, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        sim.import_nir(build(), dt=DT)


def test_missing_dt_and_bad_discretisation_are_explained(sim) -> None:
    graph = _graph(nir.Linear(weight=np.eye(2)), _lif())
    with pytest.raises(NetworkError, match="NIR stores no time step: pass dt="):
        sim.import_nir(graph)
    with pytest.raises(NetworkError, match="discretisation must be one of"):
        sim.import_nir(graph, dt=DT, discretisation="rk4")
    with pytest.raises(NetworkError, match="dt must be a positive"):
        sim.import_nir(graph, dt=-1.0)


def test_input_raster_errors(sim) -> None:
    sim.setup(timestep=1.0)
    net = sim.import_nir(_graph(nir.Linear(weight=np.eye(2)), _lif()), dt=DT)
    with pytest.raises(NetworkError, match=r"Input 'input': the raster needs shape \(steps, 2\)"):
        net.set_input("input", np.zeros((4, 3)))
    with pytest.raises(NetworkError, match="spike counts"):
        net.set_input("input", np.full((4, 2), 0.5))
    with pytest.raises(KeyError, match="inputs are"):
        net.set_input("nope", np.zeros((4, 2)))
