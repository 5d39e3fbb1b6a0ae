"""The float32 emulator kernels against the float64 reference steps of the cell modules."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
from pynn_spinnaker2.cells import CELL_TYPES

DT = 0.1
MODELS = ["IF_curr_exp", "IF_curr_delta", "IF_cond_exp", "IF_curr_alpha", "IF_cond_alpha"]


def _random_params(model_name: str, n: int, rng: np.random.Generator) -> dict:
    model = CELL_TYPES[model_name]
    p = {k: np.full(n, v, dtype=float) for k, v in model.defaults.items()}
    p["tau_m"] = rng.uniform(5, 30, n)
    p["cm"] = rng.uniform(0.2, 2.0, n)
    p["tau_refrac"] = rng.uniform(0.0, 3.0, n)
    p["i_offset"] = rng.uniform(0.0, 2.0, n) * p["cm"]
    for name in ("tau_syn_E", "tau_syn_I"):
        if name in p:
            p[name] = rng.uniform(0.5, 10, n)
    return p


@pytest.mark.parametrize("model_name", MODELS)
def test_kernel_step_matches_float64_reference(model_name: str) -> None:
    """Each float32 step from the reference state agrees with the float64 step, 2,000 times.

    Starting every step from the (rounded) reference state keeps float32 drift out of it:
    what is compared is the arithmetic of one step, spikes and resets included.
    """
    rng = np.random.default_rng(1)
    n = 200
    model = CELL_TYPES[model_name]
    p = _random_params(model_name, n, rng)
    init = {k: np.full(n, v) for k, v in model.initial.items()}
    init["v"] = rng.uniform(-70, -52, n)
    ref = {name: model.build_state(init, p)[name].astype(float)
           for name in model.state_dtype.names}
    region = model.build_params(p, DT)
    params = {name: np.ascontiguousarray(region[name]) for name in region.dtype.names}
    kernel = NEURON_KERNELS[model.kernel]
    scale = 0.05 if "cond" in model_name else 1.0
    n_spikes = 0
    for _ in range(2000):
        inputs = np.where(rng.random((2, n)) < 0.05, rng.uniform(0, 1, (2, n)), 0.0) * scale
        if "cond" not in model_name:
            inputs[1] *= -1.0
        state = {k: v.astype(model.state_dtype[k]) for k, v in ref.items()}
        ref, ref_spikes = model.reference_step(p, ref, inputs, np.zeros(n), DT)
        spikes = kernel(params, state, inputs.astype(np.float32), None)
        np.testing.assert_array_equal(spikes, ref_spikes)
        np.testing.assert_allclose(state["v"], ref["v"], rtol=1e-6, atol=1e-4)
        np.testing.assert_array_equal(state["refrac"], ref["refrac"])
        n_spikes += int(spikes.sum())
    assert n_spikes > 500, "the comparison must cover many spikes and resets"


@pytest.mark.parametrize("model_name", MODELS)
def test_free_running_float32_stays_close_to_float64(model_name: str) -> None:
    """Left to run on its own for 2,000 steps, float32 loses less than 1 % of spikes."""
    rng = np.random.default_rng(2)
    n = 200
    model = CELL_TYPES[model_name]
    p = _random_params(model_name, n, rng)
    init = {k: np.full(n, v) for k, v in model.initial.items()}
    ref = {name: model.build_state(init, p)[name].astype(float)
           for name in model.state_dtype.names}
    state = {name: model.build_state(init, p)[name].copy() for name in model.state_dtype.names}
    region = model.build_params(p, DT)
    params = {name: np.ascontiguousarray(region[name]) for name in region.dtype.names}
    counts = np.zeros(2)
    for _ in range(2000):
        ref, ref_spikes = model.reference_step(p, ref, np.zeros((2, n)), np.zeros(n), DT)
        spikes = NEURON_KERNELS[model.kernel](params, state, np.zeros((2, n), np.float32), None)
        counts += ref_spikes.sum(), spikes.sum()
    assert counts[0] > 500
    assert abs(counts[1] - counts[0]) <= 0.01 * counts[0]
