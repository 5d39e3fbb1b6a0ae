"""MPI-distributed runs: the same PyNN script on one process and under ``mpirun -n 2`` gives
the same spikes, graded values, sampled state and learnt weights, bit for bit, on every rank
(:mod:`pynn_spinnaker2.backends.emulator.distributed`); PyNN's MPI conventions hold.

The scripts are ``mpi_scenario.py`` beside this file; without mpirun or mpi4py the tests that
start it skip (under CI=true they fail: scripts/setup.sh installs both).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator import Emulator
from pynn_spinnaker2.backends.emulator.distributed import (
    DistributedEmulator,
    divide,
    split_layout,
)
from pynn_spinnaker2.backends.emulator.layout import is_source_kernel, lay_out

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("mpi_scenario.py")
SCENARIOS = ("brunel_dt", "brunel_delay", "stdp", "sources", "egru")
#: What only differs between ranks by design.
PER_RANK = ("rank", "local_trains", "written", "num_processes")


def _run(command: list[str], out: Path, *scenarios: str) -> subprocess.CompletedProcess:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*command, str(SCRIPT), str(out), *scenarios], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def results(mpirun: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Every scenario run on one process and on two."""
    base = tmp_path_factory.mktemp("mpi")
    one, two = base / "one", base / "two"
    done = _run([sys.executable], one)
    assert done.returncode == 0, done.stderr[-3000:]
    done = _run(mpirun, two)
    assert done.returncode == 0, done.stderr[-3000:]
    return one, two


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_two_ranks_give_one_process_results_on_every_rank(results: tuple[Path, Path],
                                                          scenario: str) -> None:
    one, two = results
    reference = _load(one / f"{scenario}.rank0.npz")
    spikes = sum(v.size for k, v in reference.items() if ".spikes." in k and "value" not in k)
    assert spikes > 250, "the scenario must be busy enough for the comparison to mean much"
    for rank in (0, 1):
        got = _load(two / f"{scenario}.rank{rank}.npz")
        assert set(got) == set(reference)
        assert int(got["num_processes"]) == 2 and int(got["rank"]) == rank
        for key in set(reference) - set(PER_RANK):
            np.testing.assert_array_equal(got[key], reference[key], err_msg=f"{key}, rank {rank}")


def test_get_data_without_gather_gives_each_rank_its_own_cells(
        results: tuple[Path, Path]) -> None:
    """Each cell on exactly one rank (both have some); one process has them all."""
    one, two = results
    for scenario in SCENARIOS:
        total = int(_load(one / f"{scenario}.rank0.npz")["local_trains"])
        parts = [int(_load(two / f"{scenario}.rank{r}.npz")["local_trains"]) for r in (0, 1)]
        assert sum(parts) == total, scenario
    parts = [int(_load(two / f"stdp.rank{r}.npz")["local_trains"]) for r in (0, 1)]
    assert min(parts) > 0


def test_write_data_writes_from_rank_0_only(results: tuple[Path, Path]) -> None:
    one, two = results
    assert int(_load(one / "brunel_dt.rank0.npz")["written"]) == 1
    assert [int(_load(two / f"brunel_dt.rank{r}.npz")["written"]) for r in (0, 1)] == [1, 0]
    assert (two / "brunel_dt.pkl").stat().st_size > 0


def test_stdp_scenario_learns(results: tuple[Path, Path]) -> None:
    """The plastic weights moved away from 0.8 (else the comparison tests nothing)."""
    weights = _load(results[0] / "stdp.rank0.npz")["weights.0"]
    learnt = weights[~np.isnan(weights)]
    assert learnt.size > 100 and np.abs(learnt - 0.8).max() > 0.01


def test_ranks_that_built_different_networks_are_refused(mpirun: list[str],
                                                         tmp_path: Path) -> None:
    done = _run(mpirun, tmp_path, "unseeded")
    assert done.returncode != 0
    assert "MPI ranks [1] built a different network from rank 0" in done.stderr
    assert "NumpyRNG(seed=...)" in done.stderr


# -- in one process: the division and the windowed exchange ---------------------------------
class _OneRank:
    """An mpi4py communicator of one process."""

    def Get_rank(self) -> int:  # noqa: N802 (mpi4py's name)
        return 0

    def Get_size(self) -> int:  # noqa: N802
        return 1

    def allgather(self, value: object) -> list:
        return [value]


def _image(sim: object, delay: float) -> object:
    """The image of a small Brunel network with the given delay (ms) between neurons."""
    from pynn_spinnaker2.pynn import simulator

    n = 200
    cell = sim.IF_curr_exp(cm=0.25, tau_syn_E=0.5, tau_syn_I=0.5, v_thresh=-50.0,
                           v_reset=-65.0)
    exc = sim.Population(160, cell, label="exc")
    inh = sim.Population(40, cell, label="inh")
    noise = sim.Population(n, sim.SpikeSourcePoisson(rate=300.0), label="noise")
    rng = sim.NumpyRNG(seed=2)
    for pre, w in ((exc, 0.4), (inh, -1.5)):
        for post in (exc, inh):
            sim.Projection(pre, post, sim.FixedProbabilityConnector(0.1, rng=rng),
                           sim.StaticSynapse(weight=w, delay=delay))
    sim.Projection(noise[:160], exc, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=3.0, delay=delay))
    sim.Projection(noise[160:], inh, sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=3.0, delay=delay))
    exc.record(["spikes", "v"])
    sim.set_number_of_neurons_per_core(sim.IF_curr_exp, 30)
    sim.run(0.1)
    return simulator.state.compiled.image


@pytest.mark.parametrize("delay", [0.1, 1.2])
def test_windowed_exchange_equals_the_step_loop(sim: object, delay: float) -> None:
    """One rank that delivers each window at its end (delay 1.2 ms: 12-step windows) records
    what the plain emulator records, bit for bit, over two runs."""
    image = _image(sim, delay)
    plain, windowed = Emulator(image), DistributedEmulator(image, _OneRank())
    assert windowed.exchange.window == round(delay / 0.1)
    for em in (plain, windowed):
        em.run(137)
        em.run(63)
    assert windowed.exchange_stats.windows >= 200 // windowed.exchange.window
    a, b = plain.recordings(), windowed.recordings()
    assert sum(r.spike_steps.size for r in a) > 150
    for ra, rb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ra.spike_steps, rb.spike_steps)
        np.testing.assert_array_equal(ra.spike_neurons, rb.spike_neurons)
        for name, signal in ra.signals.items():
            np.testing.assert_array_equal(signal.data, rb.signals[name].data)


def test_divide_gives_contiguous_balanced_runs_and_plans_sources_everywhere(sim: object
                                                                            ) -> None:
    image = _image(sim, 0.5)
    layout = lay_out(image)
    for n_ranks in (2, 3, 5):
        rank = divide(image, layout, n_ranks)
        source = np.array([is_source_kernel(c.kernel) for c in image.cores])
        assert np.all(rank[source] == -1)
        order = np.argsort(layout.offsets, kind="stable")
        stepped = [rank[i] for i in order if not source[i]]
        assert stepped == sorted(stepped) and set(stepped) == set(range(n_ranks))
        neurons = np.bincount(rank[~source], [c.n_neurons for c, s in
                                              zip(image.cores, source, strict=True) if not s])
        assert neurons.max() - neurons.min() <= 2 * max(c.n_neurons for c in image.cores)
        split = split_layout(layout, rank)
        for g in split.groups:
            assert len({int(rank[c]) for c in g.cores}) == 1
            assert g.hi - g.lo == sum(image.cores[c].n_neurons for c in g.cores)
        assert [g.lo for g in split.groups] == sorted(g.lo for g in split.groups)
