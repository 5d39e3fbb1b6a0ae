"""PyNN lets populations and projections share labels; the Network must still tell them apart."""

from __future__ import annotations

import numpy as np


def test_repeated_labels_keep_populations_and_projections_apart(sim) -> None:
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]), label="src")
    a = sim.Population(1, sim.IF_curr_delta(), label="cells")
    b = sim.Population(1, sim.IF_curr_delta(), label="cells")
    # Two projections between the same populations get the same default label.
    sim.Projection(src, a, sim.OneToOneConnector(), sim.StaticSynapse(weight=10.0, delay=1.0))
    sim.Projection(src, a, sim.OneToOneConnector(), sim.StaticSynapse(weight=-5.0, delay=3.0))
    sim.Projection(src, b, sim.OneToOneConnector(), sim.StaticSynapse(weight=2.0, delay=2.0))
    a.record("v")
    b.record("v")
    sim.run(10.0)
    va = np.asarray(a.get_data().segments[0].filter(name="v")[0].magnitude)[:, 0]
    vb = np.asarray(b.get_data().segments[0].filter(name="v")[0].magnitude)[:, 0]
    # a: +10 mV at 6 ms (below threshold), -5 mV at 8 ms; b: +2 mV at 7 ms.
    assert va[61] - va[59] > 9.0 and va[81] - va[79] < -4.0
    assert vb[71] - vb[69] > 1.9 and abs(vb[61] - vb[59]) < 1e-3
