"""The EGRU kernel in float32, as the Cortex-M4F's FPU computes it.

The float64 reference and the equations are in :mod:`pynn_spinnaker2.cells.egru`; tests hold
the two together and compare this kernel, run through the whole chip model, with EvNN.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32
ONE = F32(1.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return ONE / (ONE + np.exp(-x))


def egru(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
         i_inj: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """One update of a group of EGRU units.

    ``inputs`` rows are the receptors update, reset, candidate, candidate_recurrent. Returns
    the event vector and the graded output per unit (the payload of each event packet: the
    pre-reset state where the unit fires).
    """
    idle = s["wait"] > 0
    u = _sigmoid(inputs[0] + p["bias_update"])
    r = _sigmoid(inputs[1] + p["bias_reset"])
    g = np.tanh(inputs[2] + p["bias_candidate"] + r * (inputs[3] + p["bias_candidate_recurrent"]))
    c = s["c"]
    c_hat = u * c + (ONE - u) * g
    zoneout = p["zoneout"]
    if np.any(zoneout > 0):
        c_hat = np.where(zoneout > 0, zoneout * c + (ONE - zoneout) * c_hat, c_hat)
    fired = (c_hat > p["theta"]) & ~idle
    s["c"] = np.where(idle, c, np.where(fired, c_hat - p["theta"], c_hat)).astype(F32)
    if idle.any():
        s["update"] = np.where(idle, s["update"], u).astype(F32)
        s["reset"] = np.where(idle, s["reset"], r).astype(F32)
        s["candidate"] = np.where(idle, s["candidate"], g).astype(F32)
        s["wait"] = np.where(idle, s["wait"] - 1, 0).astype(np.int32)
    else:
        s["update"], s["reset"], s["candidate"] = u, r, g
    return fired, c_hat


#: Its events are graded: the emulator counts each of their synaptic events as a MAC.
egru.graded = True
