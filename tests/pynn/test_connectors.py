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


@pytest.mark.parametrize("use_views", [False, True])
def test_bulk_connectors_match_pynn_mock(use_views: bool) -> None:
    ours, theirs = _bulk_projections(s2, use_views), _bulk_projections(mock, use_views)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape[0] > 200
        np.testing.assert_array_equal(a, b)
