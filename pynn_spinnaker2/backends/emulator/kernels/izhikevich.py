"""Izhikevich kernel in float32 (the float64 reference is in
:mod:`pynn_spinnaker2.cells.izhikevich`)."""

from __future__ import annotations

import numpy as np

F32 = np.float32
_SCALE, _V_PEAK = F32(1000.0), F32(30.0)


def izhikevich(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
               i_inj: np.ndarray | None) -> np.ndarray:
    """Forward Euler from the step's start values, jumps, threshold and reset (in place)."""
    v, u = s["v"], s["u"]
    current = p["i_offset"] if i_inj is None else p["i_offset"] + _SCALE * i_inj
    dv = (F32(0.04) * v * v + F32(5.0) * v + F32(140.0)) - u + current
    du = p["a"] * (p["b"] * v - u)
    v += p["dt"] * dv
    v += inputs[0]
    v += inputs[1]
    u += p["dt"] * du
    spiked = v >= _V_PEAK
    if spiked.any():
        v[spiked] = p["c"][spiked]
        u[spiked] += p["d"][spiked]
    return spiked
