"""The NIR neuron family: float32 kernel against the float64 reference step, and the
reference's Euler step against forward Euler written out from the NIR equations."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
from pynn_spinnaker2.cells import CELL_TYPES
from pynn_spinnaker2.cells.nir_cuba import DEFAULTS

DT = 1.0
MODELS = sorted(DEFAULTS)


def _params(name: str, n: int, rng: np.random.Generator, euler: float) -> dict:
    p = {k: np.full(n, v, dtype=float) for k, v in DEFAULTS[name].items()}
    for k in ("tau", "tau_mem"):
        if k in p:
            p[k] = rng.uniform(3, 30, n)
    if "tau_syn" in p:
        p["tau_syn"] = rng.uniform(1.5, 10, n)
        p["tau_syn"][:5] = p["tau_mem"][:5]  # the tau_syn = tau_mem limit
        p["w_in"] = rng.uniform(0.5, 2, n)
    p["r"] = rng.uniform(0.5, 2, n) * (0.1 if name in ("NIR_IF", "NIR_I") else 1.0)
    if "v_leak" in p:
        p["v_leak"] = rng.uniform(-0.3, 0.3, n)
    if "v_reset" in p:
        p["v_reset"] = rng.uniform(-0.3, 0.1, n)
    p["bias"] = rng.uniform(0, 0.8, n)
    if "euler" in p:
        p["euler"] = np.full(n, euler)
    if name == "NIR_Threshold":
        p["threshold"] = rng.uniform(0.5, 1.0, n)
    return p


CASES = [(m, 0.0) for m in MODELS] + [(m, 1.0) for m in MODELS if "euler" in DEFAULTS[m]]


@pytest.mark.parametrize("name, euler", CASES)
def test_kernel_step_matches_float64_reference(name: str, euler: float) -> None:
    rng = np.random.default_rng(MODELS.index(name))
    n = 200
    model = CELL_TYPES[name]
    p = _params(name, n, rng, euler)
    init = {"v": rng.uniform(-0.2, 0.9, n), "i_syn": rng.uniform(0, 0.5, n)}
    ref = {k: model.build_state(init, p)[k].astype(float) for k in model.state_dtype.names}
    region = model.build_params(p, DT)
    params = {k: np.ascontiguousarray(region[k]) for k in region.dtype.names}
    spikes_seen = 0
    for _ in range(300):
        inputs = np.where(rng.random((2, n)) < 0.1, rng.uniform(-0.3, 1.0, (2, n)), 0.0)
        state = {k: v.astype(np.float32) for k, v in ref.items()}
        ref, ref_spikes = model.reference_step(p, ref, inputs, np.zeros(n), DT)
        spikes = NEURON_KERNELS[model.kernel](params, state, inputs.astype(np.float32), None)
        np.testing.assert_array_equal(spikes, ref_spikes)
        np.testing.assert_allclose(state["v"], ref["v"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(state["i_syn"], ref["i_syn"], rtol=1e-5, atol=1e-5)
        spikes_seen += int(spikes.sum())
    if model.extra["spiking"]:
        assert spikes_seen > 100


@pytest.mark.parametrize("name", ["NIR_LIF", "NIR_CubaLIF", "NIR_LI", "NIR_CubaLI"])
def test_euler_step_is_forward_euler_of_the_nir_equations(name: str) -> None:
    """tau dv/dt = v_leak - v + R I and tau_syn dI/dt = -I + w_in S, one Euler step of dt
    each, v from the current at the start of the step (as Norse steps them)."""
    rng = np.random.default_rng(5)
    n, dt = 50, 0.7
    p = _params(name, n, rng, 1.0)
    s = {"v": rng.uniform(-1, 1, n), "i_syn": rng.uniform(-1, 1, n)}
    inputs = np.vstack((rng.uniform(0, 1, n), np.zeros(n)))
    drive = p["bias"] + inputs[0]
    new, _ = CELL_TYPES[name].reference_step(p, s, inputs, np.zeros(n), dt)
    if "tau_syn" in p:
        v = s["v"] + dt / p["tau_mem"] * (p["v_leak"] - s["v"] + p["r"] * s["i_syn"])
        i_syn = s["i_syn"] + dt / p["tau_syn"] * (-s["i_syn"] + p["w_in"] * drive)
        np.testing.assert_allclose(new["i_syn"], i_syn, rtol=1e-12)
    else:
        v = s["v"] + dt / p["tau"] * (p["v_leak"] - s["v"] + p["r"] * drive)
    spiked = v > p.get("v_threshold", np.inf)
    np.testing.assert_allclose(new["v"], np.where(spiked, p.get("v_reset", 0.0), v),
                               rtol=1e-12)
