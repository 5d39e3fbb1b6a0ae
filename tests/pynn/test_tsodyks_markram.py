"""Tsodyks-Markram short-term plasticity against its closed form.

For a regular presynaptic train with interval h and no facilitation (tau_facil = 0), NEST's
``tsodyks_synapse`` update gives u = U for every spike, and the resources before spike k+1
obey x_{k+1} = 1 + (x_k - U x_k - 1) e^{-h/tau_rec} once the active part y has decayed
(tau_psc << h); each spike delivers U x_k times the weight.
"""

from __future__ import annotations

import numpy as np


def test_depressing_synapse_follows_closed_form(sim) -> None:
    U, tau_rec, h, w = 0.4, 200.0, 50.0, 1.0
    times = np.arange(1, 9) * h
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
    post = sim.Population(1, sim.IF_curr_delta(v_rest=-65.0, v_thresh=100.0, tau_m=1e6,
                                               tau_refrac=0.1))
    syn = sim.TsodyksMarkramSynapse(U=U, tau_rec=tau_rec, tau_facil=0.0, weight=w, delay=1.0)
    prj = sim.Projection(src, post, sim.OneToOneConnector(), syn)
    post.record("v")
    sim.run(times[-1] + 10.0)
    v = post.get_data().segments[0].filter(name="v")[0].magnitude[:, 0]
    arrivals = np.round((times + 1.0) / 0.1).astype(int)
    jumps = v[arrivals] - v[arrivals - 1]
    x, expected = 1.0, []
    for _ in times:
        expected.append(U * x * w)
        x = 1 + (x - U * x - 1) * np.exp(-h / tau_rec)
    # tau_m = 1e6 ms: the leak changes v by < 1e-5 mV between steps.
    np.testing.assert_allclose(jumps, expected, rtol=1e-4)
    assert prj.get("U", format="list", with_address=False) == [U]
