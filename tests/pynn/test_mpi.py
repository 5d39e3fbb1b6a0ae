"""The PyNN layer's MPI helpers in one process: no launcher, no MPI; the network hash that
catches ranks with different networks; which cells a rank steps."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from pynn_spinnaker2.image.machine_image import CoreSlice
from pynn_spinnaker2.pynn import mpi


class _Ranks:
    """A communicator whose all-gather returns what each rank holds (given up front)."""

    def __init__(self, values: list) -> None:
        self.values = values

    def allgather(self, value: object) -> list:
        return self.values


def test_without_a_launcher_there_is_no_mpi(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in mpi.LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    assert mpi.launched_size() == 1
    assert mpi.world() is None


def test_one_process_has_rank_0_of_1(sim: object) -> None:
    assert (sim.num_processes(), sim.rank()) == (1, 0)


def test_a_launcher_without_mpi4py_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import fails
    with pytest.raises(ImportError, match="one of 2 MPI processes, but mpi4py is not"):
        mpi.world()


def _network(sim: object, seed: int) -> object:
    from pynn_spinnaker2.pynn.build import build_network
    from pynn_spinnaker2.pynn.simulator import state

    a = sim.Population(20, sim.SpikeSourcePoisson(rate=5.0), label="a")
    b = sim.Population(20, sim.IF_curr_exp(), label="b")
    sim.Projection(a, b, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=seed)))
    return build_network(state)


def test_the_hash_tells_networks_apart(sim: object) -> None:
    first = mpi.digest(_network(sim, 1))
    sim.setup(timestep=0.1)
    again = mpi.digest(_network(sim, 1))
    sim.setup(timestep=0.1)
    other = mpi.digest(_network(sim, 2))
    assert first == again != other
    mpi.check_same_network(_Ranks([first, first]), _network(sim, 1))  # no error
    with pytest.raises(mpi.RanksDifferError, match=r"MPI ranks \[2\] built a different"):
        mpi.check_same_network(_Ranks([first, first, other]), object())


def test_local_mask_follows_the_owner_of_each_core() -> None:
    index_map = (CoreSlice("x", 0, 5), CoreSlice("y", 0, 4), CoreSlice("x", 5, 9))
    owner = np.array([0, 1, 1])
    assert mpi.local_mask(owner, index_map, "x", 9, 1).tolist() == [False] * 5 + [True] * 4
    assert mpi.local_mask(owner, index_map, "y", 4, 0).tolist() == [False] * 4
