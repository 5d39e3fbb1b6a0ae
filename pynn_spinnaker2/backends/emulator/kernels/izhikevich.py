"""Izhikevich kernel in float32 (the float64 reference is in
:mod:`pynn_spinnaker2.cells.izhikevich`)."""

from __future__ import annotations

import numpy as np

F32 = np.float32
_SCALE, _V_PEAK = F32(1000.0), F32(30.0)
_A, _B, _C = F32(0.04), F32(5.0), F32(140.0)


def izhikevich(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
               i_inj: np.ndarray | None) -> np.ndarray:
    """Forward Euler from the step's start values, jumps, threshold and reset."""
    v, u = s["v"], s["u"]
    current = p["i_offset"] if i_inj is None else p["i_offset"] + _SCALE * i_inj
    dv = (_A * v * v + _B * v + _C) - u + current
    v_new = v + p["dt"] * dv + inputs[0] + inputs[1]
    u_new = u + p["dt"] * (p["a"] * (p["b"] * v - u))
    spiked = v_new >= _V_PEAK
    if np.count_nonzero(spiked):
        v_new = np.where(spiked, p["c"], v_new)
        u_new = np.where(spiked, u_new + p["d"], u_new)
    s["v"], s["u"] = v_new, u_new
    return spiked
