"""PyNN -> NIR -> PyNN: the same network runs identically; the file is plain NIR (nir.read
reads it); extension nodes go through our reader; what NIR cannot hold is refused by name."""

from __future__ import annotations

from dataclasses import dataclass

import nir
import numpy as np
import pytest
from pyNN.parameters import Sequence

from pynn_spinnaker2.frontends import nir_extensions as ext
from pynn_spinnaker2.frontends.nir_extensions import LoweredNode, NIRExtension
from pynn_spinnaker2.frontends.nir_read import read_nir

STEPS = 200


def _build(sim, spike_times: list[list[float]]) -> dict:
    """Inputs -> LIF (recurrent, two delays) -> CubaLIF (euler) -> LI readout, plus an IF
    with only a bias, an I and a Threshold: every NIR cell type, with non-default initial
    values."""
    rng = np.random.default_rng(7)
    src = sim.Population(6, sim.SpikeSourceArray(spike_times=spike_times), label="stimulus")
    lif = sim.Population(10, sim.NIR_LIF(tau=rng.uniform(5, 20, 10), r=1.5,
                                         v_threshold=rng.uniform(0.8, 1.2, 10),
                                         v_reset=-0.1, bias=rng.uniform(0, 0.3, 10)),
                         initial_values={"v": rng.uniform(0, 0.5, 10)}, label="hidden")
    cuba = sim.Population(4, sim.NIR_CubaLIF(tau_syn=3.0, tau_mem=rng.uniform(8, 12, 4),
                                             w_in=2.0, v_threshold=0.7, euler=1.0),
                          label="cuba")
    li = sim.Population(3, sim.NIR_LI(tau=15.0, r=2.0, v_leak=0.1), label="readout")
    lone = sim.Population(2, sim.NIR_IF(r=0.05, v_threshold=1.0, bias=[0.5, 0.8]),
                          label="lone")
    integ = sim.Population(2, sim.NIR_I(r=0.1), label="integ")
    thr = sim.Population(3, sim.NIR_Threshold(threshold=0.5, bias=0.1), label="thr")
    conn = [(i, j, w, d) for i in range(6) for j in range(10)
            for w, d in [(rng.uniform(0, 1.5), float(rng.choice([1.0, 3.0])))]
            if rng.random() < 0.6]
    sim.Projection(src, lif, sim.FromListConnector(conn, column_names=["weight", "delay"]),
                   label="in")
    sim.Projection(lif, lif, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(1)),
                   sim.StaticSynapse(weight=-0.4, delay=1.0), receptor_type="inhibitory",
                   label="rec")
    sim.Projection(lif, cuba, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=sim.RandomDistribution("uniform", (0, 0.6),
                                                                   rng=sim.NumpyRNG(2)),
                                     delay=2.0), label="ff")
    sim.Projection(cuba, li, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.5),
                   receptor_type="inhibitory", label="read")
    sim.Projection(src[:2], integ, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.0),
                   label="count")
    sim.Projection(src, thr, sim.FixedNumberPreConnector(2, rng=sim.NumpyRNG(3)),
                   sim.StaticSynapse(weight=0.45), label="coincide")
    pops = {"hidden": lif, "cuba": cuba, "readout": li, "lone": lone, "integ": integ,
            "thr": thr}
    for pop in pops.values():
        pop.record(["spikes", "v"] if "spikes" in pop.celltype.recordable else ["v"])
    return pops


def _results(pops: dict) -> dict:
    out = {}
    for name, pop in pops.items():
        seg = pop.get_data().segments[0]
        out[name] = ([np.asarray(st.magnitude) for st in seg.spiketrains],
                     np.asarray(seg.filter(name="v")[0].magnitude))
    return out


def test_pynn_nir_pynn_runs_identically(sim, tmp_path) -> None:
    rng = np.random.default_rng(3)
    times = [sorted(set(np.round(rng.uniform(1, STEPS, 40)).tolist())) for _ in range(6)]
    sim.setup(timestep=1.0)
    original = _results_after_run(sim, _build(sim, times))
    path = tmp_path / "net.nir"
    sim.export_nir(path)
    nir.read(path)  # plain NIR: nir's own reader, with its type checks, accepts it

    sim.setup(timestep=1.0)
    net = sim.import_nir(path)
    net.inputs["stimulus"].set(spike_times=[Sequence(t) for t in times])
    for pop in net.populations.values():
        if "spikes" in pop.celltype.recordable:
            pop.record("spikes")
        pop.record("v")
    sim.run(float(STEPS))
    again = _results({k: v for k, v in net.populations.items() if k in original})
    assert set(again) == set(original)
    n_spikes = 0
    for name, (spikes, v) in original.items():
        for a, b in zip(spikes, again[name][0], strict=True):
            np.testing.assert_array_equal(a, b)
            n_spikes += a.size
        np.testing.assert_array_equal(v, again[name][1])
    assert n_spikes > 100


def _results_after_run(sim, pops: dict) -> dict:
    sim.run(float(STEPS))
    return _results(pops)


def test_export_refuses_what_nir_cannot_describe(sim) -> None:
    sim.setup(timestep=1.0)
    pop = sim.Population(2, sim.IF_curr_exp(), label="classic")
    with pytest.raises(NotImplementedError, match=r"population 'classic' is an IF_curr_exp"):
        sim.export_nir()
    sim.setup(timestep=1.0)
    pop = sim.Population(2, sim.NIR_LIF(), label="a")
    sim.DCSource(amplitude=1.0).inject_into(pop)
    with pytest.raises(NotImplementedError, match=r"current source 'DCSource0'.*'bias'"):
        sim.export_nir()
    sim.setup(timestep=1.0)
    pop = sim.Population(2, sim.NIR_LIF(euler=[0.0, 1.0]), label="mixed")
    with pytest.raises(NotImplementedError, match="'mixed' mixes euler and exact"):
        sim.export_nir()
    sim.setup(timestep=1.0)
    a = sim.Population(2, sim.NIR_LIF(), label="a")
    sim.Projection(a, a, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse(weight=0.1),
                   label="dyn")
    with pytest.raises(NotImplementedError, match="projection 'dyn' uses TsodyksMarkram"):
        sim.export_nir()


def test_export_refuses_huge_dense_matrices(sim, monkeypatch) -> None:
    from pynn_spinnaker2.frontends import nir_units

    monkeypatch.setattr(nir_units, "MAX_DENSE", 50)
    sim.setup(timestep=1.0)
    a = sim.Population(10, sim.NIR_LIF(), label="a")
    sim.Projection(a, a, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1), label="big")
    with pytest.raises(NotImplementedError, match=r"'big' \(10 x 10\) would be a dense"):
        sim.export_nir()


# -- extension nodes ----------------------------------------------------------------------
@dataclass(eq=False)
class DoubleLIF(nir.NIRNode):
    """A toy extension: a LIF whose input counts twice (stands in for the EGRU node)."""

    tau: np.ndarray

    def __post_init__(self) -> None:
        self.input_type = {"input": np.array(self.tau.shape)}
        self.output_type = {"output": np.array(self.tau.shape)}


def _lower(node: DoubleLIF, name: str, shape: tuple, time_scale: float) -> LoweredNode:
    n = int(np.prod(shape))
    from pynn_spinnaker2.frontends.nir_ops import diagonal

    params = {"tau": np.asarray(node.tau, float) * time_scale, "r": np.ones(n),
              "v_leak": np.zeros(n), "v_threshold": np.ones(n), "v_reset": np.zeros(n),
              "bias": np.zeros(n), "euler": np.zeros(n)}
    return LoweredNode("NIR_LIF", n, params, {"v": np.zeros(n), "i_syn": np.zeros(n)}, True,
                       {"excitatory": diagonal(np.full(n, 2.0))})


@pytest.fixture
def double_lif():
    ext.register(NIRExtension("DoubleLIF", lambda d: DoubleLIF(tau=d["tau"]), _lower,
                              model="NIR_DoubleLIF_unused"))
    yield
    ext.unregister("DoubleLIF")


def test_extension_node_is_read_and_imported_by_us_only(sim, tmp_path, double_lif) -> None:
    graph = nir.NIRGraph.from_list(nir.Linear(weight=np.eye(2)),
                                   DoubleLIF(tau=np.full(2, 0.01)), type_check=False)
    nir.write(tmp_path / "ext.nir", graph)
    with pytest.raises(AssertionError):
        nir.read(tmp_path / "ext.nir")  # nir.read knows no extension types
    back = read_nir(tmp_path / "ext.nir")
    assert isinstance(back.nodes["doublelif"], DoubleLIF)
    sim.setup(timestep=1.0)
    net = sim.import_nir(back, dt=1e-3)
    (prj,) = net.projections.values()
    np.testing.assert_array_equal(prj.get("weight", format="array"), 2 * np.eye(2) +
                                  np.where(np.eye(2) > 0, 0, np.nan))
