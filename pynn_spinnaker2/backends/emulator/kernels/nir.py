"""The kernel of the NIR neuron family (LIF, CubaLIF, IF, LI, CubaLI, I, Threshold) in float32.

One linear two-state update whose coefficients the host computed from the NIR parameters
(:mod:`pynn_spinnaker2.cells.nir_cuba`, which also holds the float64 reference).
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def nir_cuba(p: np.ndarray, s: dict[str, np.ndarray], inputs: np.ndarray,
             i_inj: np.ndarray | None) -> np.ndarray:
    """Input current held over the step (bias, injected current, this step's spikes), the
    exact (or Euler) step, then ``v > v_threshold`` and reset to ``v_reset``."""
    drive = p["bias"] + inputs[0] + inputs[1]
    if i_inj is not None:
        drive = drive + i_inj
    v = (p["v_leak"] + (s["v"] - p["v_leak"]) * p["a_vv"] + p["a_vi"] * s["i_syn"]
         + p["g_v"] * drive)
    s["i_syn"] = (p["a_ii"] * s["i_syn"] + p["g_i"] * drive).astype(F32)
    spiked = v > p["v_threshold"]
    s["v"] = np.where(spiked, p["v_reset"], v).astype(F32)
    return spiked
