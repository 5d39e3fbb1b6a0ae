"""Every pyNN connector builds, through our bulk path, exactly the synapses it builds in
pyNN.mock (PyNN's reference backend skeleton), given the same random seed."""

from __future__ import annotations

import numpy as np
import pyNN.mock as mock
import pyNN.spinnaker2 as s2
import pytest
from pyNN.core import IndexBasedExpression
from pyNN.space import Grid2D


def _connectors(sim, n_pre: int) -> dict:
    rng = sim.NumpyRNG(seed=11)
    pairs = [(0, 1, 0.5, 1.0), (2, 3, 0.25, 2.0), (4, 0, 0.125, 3.0)]
    return {
        "all_to_all": sim.AllToAllConnector(allow_self_connections=False),
        "one_to_one": sim.OneToOneConnector(),
        "fixed_probability": sim.FixedProbabilityConnector(0.3, rng=rng),
        "fixed_number_pre": sim.FixedNumberPreConnector(3, rng=rng),
        "fixed_number_post": sim.FixedNumberPostConnector(4, rng=rng),
        "fixed_total_number": sim.FixedTotalNumberConnector(25, rng=rng),
        "distance_dependent": sim.DistanceDependentProbabilityConnector("d < 2.5", rng=rng),
        "index_based": sim.IndexBasedProbabilityConnector(
            _IndexProb(), rng=rng),
        "displacement": sim.DisplacementDependentProbabilityConnector(
            _gaussian_displacement, rng=rng),
        "from_list": sim.FromListConnector(pairs, column_names=["weight", "delay"]),
        "array": sim.ArrayConnector(np.eye(n_pre, dtype=bool)),
    }


def _gaussian_displacement(d: np.ndarray) -> np.ndarray:
    return np.exp(-(d[0] ** 2 + d[1] ** 2))


class _IndexProb(IndexBasedExpression):
    """Connection probability from the indices alone."""

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return ((i + j) % 3 == 0).astype(float)


def _build(sim, name: str) -> list[tuple]:
    sim.setup(timestep=0.1)
    pre = sim.Population(9, sim.IF_curr_exp(), structure=Grid2D(), label="pre")
    post = sim.Population(9, sim.IF_curr_exp(), structure=Grid2D(), label="post")
    connector = _connectors(sim, 9)[name]
    syn = sim.StaticSynapse(weight=sim.RandomDistribution("uniform", (0.1, 0.2),
                                                          rng=sim.NumpyRNG(seed=5)),
                            delay=0.5)
    prj = sim.Projection(pre, post, connector, syn)
    out = sorted(tuple(round(x, 12) for x in c)
                 for c in prj.get(["weight", "delay"], format="list"))
    sim.end()
    return out


@pytest.mark.parametrize("name", sorted(_connectors(mock, 9)))
def test_connector_matches_pynn_mock(name: str) -> None:
    ours, theirs = _build(s2, name), _build(mock, name)
    assert len(ours) > 0
    assert ours == theirs


def test_clone_and_from_file_connectors(tmp_path) -> None:
    """CloneConnector copies an existing projection's pattern; FromFileConnector reads one."""
    sim = s2
    sim.setup(timestep=0.1)
    pre = sim.Population(6, sim.IF_curr_exp(), label="pre")
    post = sim.Population(6, sim.IF_curr_exp(), label="post")
    first = sim.Projection(pre, post, sim.FixedProbabilityConnector(
        0.4, rng=sim.NumpyRNG(seed=3)), sim.StaticSynapse(weight=0.1))
    clone = sim.Projection(pre, post, sim.CloneConnector(first), sim.StaticSynapse(weight=0.2))
    def pairs(prj: object) -> list:
        return sorted((int(i), int(j)) for i, j, _ in prj.get(["weight"], format="list"))

    assert pairs(clone) == pairs(first) and len(first) > 0
    path = tmp_path / "conn.txt"
    np.savetxt(path, [(0, 1, 0.3, 1.0), (5, 2, 0.4, 2.0)])
    loaded = sim.Projection(pre, post, sim.FromFileConnector(str(path)))
    assert sorted(loaded.get(["weight", "delay"], format="list")) == [
        (0, 1, 0.3, 1.0), (5, 2, 0.4, 2.0)]
    sim.end()


def _synapses(sim, make_connector, synapse, pre_size=30, post_size=25, same=False,
              views=False) -> list[tuple]:
    """Every synapse, in creation order (not sorted: the order must match too)."""
    sim.setup(timestep=0.1)
    pre = sim.Population(pre_size, sim.IF_curr_exp(), label="pre")
    post = pre if same else sim.Population(post_size, sim.IF_curr_exp(), label="post")
    if views:
        pre, post = pre[2:pre_size - 1], post[::2]
    prj = sim.Projection(pre, post, make_connector(sim), synapse(sim))
    out = [tuple(c) for c in prj.get(["weight", "delay"], format="list", with_address=True)]
    sim.end()
    # pyNN.spinnaker2 reads back the delays it simulates, in whole time steps; mock does not.
    return [(i, j, w, float(np.round(d / 0.1) * 0.1)) for i, j, w, d in out]


def _bulk_projections(sim, use_views: bool) -> list[np.ndarray]:
    """Large projections (the bulk path builds them many targets at a time), views and
    assemblies, one generator shared by several connectors, self-connections excluded."""
    sim.setup(timestep=0.1)
    a = sim.Population(300, sim.IF_curr_exp(), label="a")
    b = sim.Population(200, sim.IF_curr_exp(), label="b")
    rng = sim.NumpyRNG(seed=98765, parallel_safe=True)
    out = []
    for connector in (sim.FixedProbabilityConnector(0.05, rng=rng),
                      sim.AllToAllConnector(allow_self_connections=False),
                      sim.FixedProbabilityConnector(0.2, allow_self_connections=False, rng=rng),
                      sim.OneToOneConnector()):
        pre, post = (a[10:250], (a + b)[20:260]) if use_views else (a, a)
        prj = sim.Projection(pre, post, connector, sim.StaticSynapse(weight=0.1, delay=0.5),
                             receptor_type="excitatory")
        out.append(np.array(prj.get(["weight", "delay"], format="list", with_address=True)))
    sim.end()
    return out


def _weights(kind: str):
    def make(sim):
        if kind == "normal":
            w = sim.RandomDistribution("normal", (1.0, 0.2), rng=sim.NumpyRNG(seed=9))
        elif kind == "clipped":
            w = sim.RandomDistribution("normal_clipped", (1.0, 0.5, 0.0, 2.0),
                                       rng=sim.NumpyRNG(seed=9))
        else:
            w = 0.25
        d = sim.RandomDistribution("uniform", (0.2, 2.0), rng=sim.NumpyRNG(seed=4))
        return sim.StaticSynapse(weight=w, delay=d)
    return make


BULK_CASES = {
    "p_no_self": lambda sim: sim.FixedProbabilityConnector(
        0.2, allow_self_connections=False, rng=sim.NumpyRNG(seed=1)),
    "p_no_mutual": lambda sim: sim.FixedProbabilityConnector(
        0.3, allow_self_connections="NoMutual", rng=sim.NumpyRNG(seed=1)),
    "all_no_self": lambda sim: sim.AllToAllConnector(allow_self_connections=False),
    "pre_replace": lambda sim: sim.FixedNumberPreConnector(
        4, with_replacement=True, rng=sim.NumpyRNG(seed=2)),
    "pre_replace_no_self": lambda sim: sim.FixedNumberPreConnector(
        4, with_replacement=True, allow_self_connections=False, rng=sim.NumpyRNG(seed=2)),
    "pre_random_n": lambda sim: sim.FixedNumberPreConnector(
        sim.RandomDistribution("uniform_int", (1, 6), rng=sim.NumpyRNG(seed=8)),
        rng=sim.NumpyRNG(seed=2)),
    "pre_no_self": lambda sim: sim.FixedNumberPreConnector(
        3, allow_self_connections=False, rng=sim.NumpyRNG(seed=2)),
    "post_replace": lambda sim: sim.FixedNumberPostConnector(
        5, with_replacement=True, rng=sim.NumpyRNG(seed=3)),
    "post_no_self": lambda sim: sim.FixedNumberPostConnector(
        5, allow_self_connections=False, rng=sim.NumpyRNG(seed=3)),
    "one_to_one": lambda sim: sim.OneToOneConnector(),
    "from_list": lambda sim: sim.FromListConnector(
        [(3, 1, 0.5, 1.0), (0, 1, 0.2, 0.3), (2, 0, 0.1, 0.7), (3, 1, 0.5, 0.4)],
        column_names=["weight", "delay"]),
}


@pytest.mark.parametrize("weights", ["constant", "normal", "clipped"])
@pytest.mark.parametrize(("name", "same"), [
    (name, same) for name in sorted(BULK_CASES) for same in (False, True)
    if same or name != "p_no_mutual"])  # PyNN defines NoMutual only within one population
def test_bulk_synapses_match_mock_in_order(name: str, same: bool, weights: str) -> None:
    """The same synapses, parameters and order as pyNN.mock, for self-projections too."""
    make = BULK_CASES[name]
    ours = _synapses(s2, make, _weights(weights), same=same)
    theirs = _synapses(mock, make, _weights(weights), same=same)
    assert len(ours) > 0
    assert ours == theirs


@pytest.mark.parametrize("name", ["p_no_self", "all_no_self", "pre_replace", "post_replace"])
def test_bulk_synapses_match_mock_between_views(name: str) -> None:
    make = BULK_CASES[name]
    ours = _synapses(s2, make, _weights("normal"), same=True, views=True)
    assert ours == _synapses(mock, make, _weights("normal"), same=True, views=True)


def test_bulk_path_is_taken_for_the_common_connectors(sim) -> None:
    """The listed connectors never go through PyNN's per-target path."""
    from pynn_spinnaker2.pynn import projections

    pre = sim.Population(20, sim.IF_curr_exp())
    calls = []
    original = projections.Projection._convergent_connect
    projections.Projection._convergent_connect = lambda self, *a, **k: calls.append(1)
    try:
        for name, make in BULK_CASES.items():
            sim.Projection(pre, pre, make(sim), _weights("normal")(sim))
            assert not calls, name
    finally:
        projections.Projection._convergent_connect = original


def test_shared_rng_still_matches_mock() -> None:
    """One RNG for connections and weights: PyNN draws the weights from a copy taken before
    the connections, and so do we."""
    def make_syn(sim):
        return sim.StaticSynapse(weight=sim.RandomDistribution("uniform", (0, 1), rng=_RNG[0]))

    def make_conn(sim):
        _RNG[0] = sim.NumpyRNG(seed=6)
        return sim.FixedProbabilityConnector(0.4, rng=_RNG[0])

    _RNG: list = [None]
    ours = _synapses(s2, make_conn, make_syn)
    assert ours == _synapses(mock, make_conn, make_syn)


def _weight_check_outcome(sim, weight: object, receptor: str) -> str:
    sim.setup(timestep=0.1)
    pre = sim.Population(6, sim.IF_curr_exp())
    if isinstance(weight, tuple):
        weight = sim.RandomDistribution("uniform", weight, rng=sim.NumpyRNG(seed=1))
    try:
        sim.Projection(pre, pre, sim.FixedProbabilityConnector(0.5, rng=sim.NumpyRNG(seed=2)),
                       sim.StaticSynapse(weight=weight), receptor_type=receptor)
        return "ok"
    except Exception as exc:  # noqa: BLE001 (the outcome itself is compared)
        return f"{type(exc).__name__}: {exc}"
    finally:
        sim.end()


@pytest.mark.parametrize("receptor", ["excitatory", "inhibitory"])
@pytest.mark.parametrize("weight", [0.1, -0.1, (-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0)])
def test_weight_sign_checks_as_pynn_does(weight: object, receptor: str) -> None:
    """PyNN checks weight signs per target; the bulk check raises exactly when it does."""
    assert _weight_check_outcome(s2, weight, receptor) == _weight_check_outcome(
        mock, weight, receptor)


@pytest.mark.parametrize("name", ["p_no_self", "pre_replace", "pre_no_self", "post_replace",
                                  "post_no_self"])
def test_a_connector_reused_for_several_projections(name: str) -> None:
    """PyNN draws FixedProbabilityConnector's numbers from a copy of its RNG (so every
    projection made with it gets the same stream) but FixedNumber* from the RNG itself:
    the bulk path must do the same, projection after projection."""
    def run(sim) -> list:
        sim.setup(timestep=0.1)
        a = sim.Population(30, sim.IF_curr_exp(), label="a")
        b = sim.Population(25, sim.IF_curr_exp(), label="b")
        connector = BULK_CASES[name](sim)
        prjs = [sim.Projection(pre, post, connector, sim.StaticSynapse(weight=0.1))
                for pre, post in ((a, a), (a, b), (b, a), (b, b))]
        out = [p.get(["weight"], format="list", with_address=True) for p in prjs]
        sim.end()
        return [[tuple(map(float, c)) for c in conns] for conns in out]

    ours, theirs = run(s2), run(mock)
    assert all(len(x) for x in ours)
    assert ours == theirs


@pytest.mark.parametrize("use_views", [False, True])
def test_bulk_connectors_match_pynn_mock(use_views: bool) -> None:
    ours, theirs = _bulk_projections(s2, use_views), _bulk_projections(mock, use_views)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape[0] > 200
        np.testing.assert_array_equal(a, b)
