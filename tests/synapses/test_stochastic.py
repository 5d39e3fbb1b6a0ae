"""SimpleStochasticSynapse: each spike crosses with probability p, drawn by the target core."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats


def _received(sim, p: float, n_spikes: int = 400, seed: int = 0) -> np.ndarray:
    """Spikes of one source onto 40 IF_curr_delta neurons that jump by 1 mV per event."""
    sim.setup(timestep=1.0, seed=seed)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(1.0, n_spikes + 1)))
    cells = sim.Population(40, sim.IF_curr_delta(tau_m=1e9, v_thresh=1e9, tau_refrac=0.0,
                                                 v_rest=0.0, v_reset=0.0),
                           initial_values={"v": 0.0})
    sim.Projection(source, cells, sim.AllToAllConnector(),
                   sim.SimpleStochasticSynapse(weight=1.0, delay=1.0, p=p))
    cells.record("v")
    sim.run(n_spikes + 2.0)
    v = np.asarray(cells.get_data().segments[0].filter(name="v")[0].magnitude)
    return np.diff(v, axis=0)  # 1 where a spike got through in that step


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_transmissions_are_bernoulli(sim, p: float) -> None:
    """Counts per synapse are Binomial(400, p); the draws of different synapses and of
    successive spikes are independent (no two synapses share a sequence)."""
    jumps = _received(sim, p)
    assert set(np.unique(np.round(jumps, 6))) <= {0.0, 1.0}
    counts = np.round(jumps).sum(axis=0)
    if p in (0.0, 1.0):
        assert np.all(counts == 400 * p)
        return
    assert stats.kstest(counts, stats.binom(400, p).cdf).pvalue > 1e-3
    through = np.round(jumps[:, :10]).astype(bool)
    assert len({row.tobytes() for row in through.T}) == 10
    # Successive draws of one synapse are uncorrelated.
    lag = np.corrcoef(through[1:].ravel(), through[:-1].ravel())[0, 1]
    assert abs(lag) < 0.1


def test_same_draws_for_the_same_seed_and_other_draws_for_another(sim) -> None:
    a = _received(sim, 0.5, seed=1)
    sim.end()
    b = _received(sim, 0.5, seed=1)
    sim.end()
    c = _received(sim, 0.5, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_p_out_of_range_is_refused(sim) -> None:
    from pynn_spinnaker2.errors import NetworkError

    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    cells = sim.Population(2, sim.IF_curr_exp())
    sim.Projection(source, cells, sim.AllToAllConnector(),
                   sim.SimpleStochasticSynapse(weight=1.0, p=1.5), label="too_likely")
    with pytest.raises(NetworkError, match="too_likely.*0 <= p <= 1"):
        sim.run(1.0)
