"""Adaptive exponential integrate-and-fire: the float32 kernels against the float64
reference, and against NEST's ``aeif_cond_exp``/``aeif_cond_alpha`` on the same script."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
from pynn_spinnaker2.cells import CELL_TYPES

MODELS = ["EIF_cond_exp_isfa_ista", "EIF_cond_alpha_isfa_ista"]


def _params(model_name: str, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    p = {k: np.full(n, v, dtype=float) for k, v in CELL_TYPES[model_name].defaults.items()}
    p["i_offset"] = rng.uniform(0.3, 1.2, n)
    p["a"] = rng.uniform(0.0, 20.0, n)
    p["b"] = rng.uniform(0.0, 0.2, n)
    p["tau_refrac"] = rng.uniform(0.0, 3.0, n)
    p["delta_T"] = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0.5, 3.0, n))
    return p


@pytest.mark.parametrize("model_name", MODELS)
@pytest.mark.parametrize("dt", [0.1, 0.01])
def test_kernel_step_matches_float64_reference(model_name: str, dt: float) -> None:
    """From the reference state each float32 step agrees with the float64 step: RK4 stages,
    capping at the spike value, refractory clamp, reset and adaptation jump."""
    rng = np.random.default_rng(6)
    n = 200
    model = CELL_TYPES[model_name]
    p = _params(model_name, n, rng)
    region = model.build_params(p, dt)
    kernel_p = {name: np.ascontiguousarray(region[name]) for name in region.dtype.names}
    init = {k: np.full(n, v) for k, v in model.initial.items()}
    init["v"] = rng.uniform(-72, -45, n)
    ref = {name: model.build_state(init, p)[name].astype(float)
           for name in model.state_dtype.names}
    n_spikes = n_refractory = 0
    for _ in range(1200 if dt < 0.1 else 500):
        inputs = np.where(rng.random((2, n)) < 0.05, rng.uniform(0, 0.01, (2, n)), 0.0)
        i_inj = rng.uniform(0, 0.2, n)
        state = {k: v.astype(model.state_dtype[k]) for k, v in ref.items()}
        n_refractory += int(np.count_nonzero(ref["refrac"]))
        ref, ref_spikes = model.reference_step(p, ref, inputs, i_inj, dt)
        spikes = NEURON_KERNELS[model.kernel](kernel_p, state, inputs.astype(np.float32),
                                              i_inj.astype(np.float32))
        np.testing.assert_array_equal(spikes, ref_spikes)
        for name in ("v", "w", "gsyn_exc", "gsyn_inh"):
            np.testing.assert_allclose(state[name], ref[name], rtol=1e-4, atol=2e-3)
        np.testing.assert_array_equal(state["refrac"], ref["refrac"])
        n_spikes += int(spikes.sum())
    assert n_spikes > 150 and n_refractory > 150


def _script(model_name: str, dt: float):
    def script(sim):
        sim.setup(timestep=dt, min_delay=1.0, spike_precision="on_grid")
        cells = sim.Population(4, getattr(sim, model_name)(
            a=[0.0, 4.0, 20.0, 4.0], b=[0.0805, 0.0, 0.1, 0.5], tau_refrac=[0.1, 2.0, 5.0, 1.0],
            i_offset=[0.8, 0.5, 0.0, 1.0]), initial_values={"v": -65.0, "w": 0.0})
        drive = sim.Population(2, sim.SpikeSourceArray(spike_times=[
            np.arange(5.0, 300.0, 7.0), np.arange(9.0, 300.0, 23.0)]))
        sim.Projection(drive[0:1], cells, sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=0.02, delay=1.0), receptor_type="excitatory")
        sim.Projection(drive[1:2], cells, sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=0.03, delay=1.5), receptor_type="inhibitory")
        sim.StepCurrentSource(times=[50.0, 150.0], amplitudes=[0.6, 0.0]).inject_into(cells[2:3])
        cells.record(["spikes", "w"])
        sim.run(300.0)
        seg = cells.get_data().segments[0]
        return ([np.asarray(st.magnitude) for st in seg.spiketrains],
                np.asarray(seg.filter(name="w")[0].magnitude))
    return script


@pytest.mark.nest
@pytest.mark.parametrize(("model_name", "dt"), [(MODELS[0], 0.1), (MODELS[1], 0.1),
                                               (MODELS[0], 0.01)])
def test_same_as_nest_aeif(on_both, model_name: str, dt: float) -> None:
    """Same spikes as NEST's adaptive Runge-Kutta-Fehlberg integration, each within one
    time step (plus a drift of 2e-4 of the time: RK4 is fourth order, RKF45 adaptive), and
    the adaptation current close (away from the steps where one of the two
    has already jumped by b and the other not yet)."""
    (s_nest, w_nest), (s_ours, w_ours) = on_both(_script(model_name, dt))
    assert sum(s.size for s in s_nest) > 40
    times = np.arange(w_nest.shape[0]) * dt
    for i, (a, b) in enumerate(zip(s_nest, s_ours, strict=True)):
        assert a.size == b.size
        np.testing.assert_allclose(b, a, rtol=2e-4, atol=dt + 1e-9)
        spikes = np.concatenate((a, b))
        away = (np.min(np.abs(times[:, None] - spikes[None, :]), axis=1) > 1.5 * dt
                if spikes.size else np.ones(times.size, bool))
        np.testing.assert_allclose(w_ours[away, i], w_nest[away, i], atol=2e-3)
