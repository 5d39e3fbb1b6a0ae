"""The float32 EGRU kernel against the float64 reference step, and both against closed
forms."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
from pynn_spinnaker2.cells import CELL_TYPES
from pynn_spinnaker2.cells.egru import reference_step

MODEL = CELL_TYPES["EGRU"]


def _params(n: int, rng: np.random.Generator, zoneout: bool) -> dict[str, np.ndarray]:
    p = {name: rng.normal(0.0, 0.5, n) for name in MODEL.defaults}
    p["theta"] = rng.uniform(0.05, 0.6, n)
    p["zoneout"] = rng.uniform(0.0, 0.5, n) if zoneout else np.zeros(n)
    return p


def _kernel_state(ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.asarray(ref[name]).astype(MODEL.state_dtype[name])
            for name in MODEL.state_dtype.names}


@pytest.mark.parametrize("zoneout", [False, True])
def test_kernel_step_matches_float64_reference(zoneout: bool) -> None:
    """1,000 steps of 300 units, each float32 step started from the (rounded) reference
    state: the same events (except within 1e-5 of the threshold, where float32 rounding
    may decide) and values, states and gates within float32 resolution; idle units
    (``wait`` > 0) hold their state and send nothing."""
    rng = np.random.default_rng(4)
    n = 300
    p = _params(n, rng, zoneout)
    region = MODEL.build_params(p, 1.0)
    params = {name: np.ascontiguousarray(region[name]) for name in region.dtype.names}
    init = {"c": rng.uniform(-0.5, 0.8, n)}
    start = rng.integers(1, 6, n).astype(float)
    state0 = MODEL.build_state(init, {**p, "first_step": start})
    ref = {name: state0[name].astype(float) for name in state0.dtype.names}
    n_events = n_close = 0
    for _ in range(1000):
        inputs = rng.normal(0.0, 1.0, (4, n)) * (rng.random((4, n)) < 0.7)
        state = _kernel_state(ref)
        was_idle = ref["wait"] > 0
        c_before = ref["c"].copy()
        ref, ref_events = reference_step(p, ref, inputs)
        events, values = NEURON_KERNELS["egru"](params, state, inputs.astype(np.float32), None)
        c_hat = np.where(ref_events, ref["c"] + p["theta"], ref["c"])
        close = np.abs(c_hat - p["theta"]) < 1e-5
        n_close += int(close.sum())
        np.testing.assert_array_equal(events[~close], ref_events[~close])
        assert not events[was_idle].any()
        np.testing.assert_array_equal(state["c"][was_idle], c_before[was_idle].astype(np.float32))
        sure = ~close
        np.testing.assert_allclose(values[events & sure], ref["y"][events & sure],
                                   rtol=1e-6, atol=1e-6)
        for name in ("c", "update", "reset", "candidate"):
            np.testing.assert_allclose(state[name][sure], ref[name][sure], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(state["wait"], ref["wait"])
        n_events += int(events.sum())
    assert n_events > 25_000, "the comparison must cover many events and resets"
    assert n_close < 10


def test_reference_closed_form_single_unit() -> None:
    """No input, keep gate 1/2 (bias 0), candidate 0.8, threshold 0.3: the pre-reset state
    obeys c^_n = c^_(n-1) / 2 + 0.25 from 0.4, i.e. c^_n = 0.5 - 0.1 / 2^n, and every update
    fires (c^ > 0.3) with that value."""
    p = {"theta": np.array([0.3]), "bias_update": np.array([0.0]),
         "bias_reset": np.array([2.0]), "bias_candidate": np.array([np.arctanh(0.8)]),
         "bias_candidate_recurrent": np.array([0.0]), "zoneout": np.array([0.0])}
    s = {"c": np.zeros(1), "wait": np.zeros(1, int)}
    for k in range(12):
        s, fired = reference_step(p, s, np.zeros((4, 1)))
        assert fired[0]
        assert s["y"][0] == pytest.approx(0.5 - 0.1 / 2**k, abs=1e-12)
        assert s["c"][0] == pytest.approx(0.2 - 0.1 / 2**k, abs=1e-12)


def test_threshold_is_strict_and_reset_subtracts() -> None:
    """EvNN's Heaviside gives 0 at 0: c^ exactly at the threshold sends nothing. A keep gate
    of exactly 1 (bias 100) makes c^ = c, exact in both precisions."""
    p = {"theta": np.array([0.25, 0.25]), "bias_update": np.array([100.0, 100.0]),
         "bias_reset": np.zeros(2), "bias_candidate": np.zeros(2),
         "bias_candidate_recurrent": np.zeros(2), "zoneout": np.zeros(2)}
    c0 = np.array([0.25, 0.375])
    region = MODEL.build_params(p, 1.0)
    params = {name: region[name] for name in region.dtype.names}
    state = _kernel_state({"c": c0, "update": np.zeros(2), "reset": np.zeros(2),
                           "candidate": np.zeros(2), "wait": np.zeros(2, int)})
    events, values = NEURON_KERNELS["egru"](params, state, np.zeros((4, 2), np.float32), None)
    ref, ref_events = reference_step(p, {"c": c0, "wait": np.zeros(2, int)}, np.zeros((4, 2)))
    assert ref_events.tolist() == events.tolist() == [False, True]
    assert ref["c"].tolist() == state["c"].tolist() == [0.25, 0.125]
    assert values[1] == ref["y"][1] == 0.375


def test_exact_ties_never_fire_over_many_steps() -> None:
    """Units held at c = theta exactly (keep gate exactly 1) for 20 steps send nothing, in the
    kernel and in the reference, for thresholds of several magnitudes (float32 values, so the
    tie is exact in both precisions); the next float32 value above theta fires on the first
    step, with y = c^, and then stays below."""
    theta = np.array([0.1, 0.25, 0.3, 1.0, 7.5, 1e-3], dtype=np.float32).astype(float)
    above = np.nextafter(theta.astype(np.float32), np.float32(np.inf)).astype(float)
    n = 2 * theta.size
    p = {"theta": np.concatenate([theta, theta]), "bias_update": np.full(n, 100.0),
         "bias_reset": np.zeros(n), "bias_candidate": np.full(n, 0.5),
         "bias_candidate_recurrent": np.zeros(n), "zoneout": np.zeros(n)}
    c0 = np.concatenate([theta, above])
    region = MODEL.build_params(p, 1.0)
    params = {name: region[name] for name in region.dtype.names}
    state = _kernel_state({"c": c0, "update": np.zeros(n), "reset": np.zeros(n),
                           "candidate": np.zeros(n), "wait": np.zeros(n, int)})
    ref = {"c": c0, "wait": np.zeros(n, int)}
    tie = np.arange(n) < theta.size
    for step in range(20):
        events, values = NEURON_KERNELS["egru"](params, state, np.zeros((4, n), np.float32),
                                                None)
        ref, ref_events = reference_step(p, ref, np.zeros((4, n)))
        assert not events[tie].any() and not ref_events[tie].any()
        assert state["c"][tie].tolist() == ref["c"][tie].tolist() == theta.tolist()
        assert events[~tie].tolist() == ref_events[~tie].tolist() == [step == 0] * theta.size
        if step == 0:
            assert values[~tie].tolist() == ref["y"][~tie].tolist() == above.tolist()
