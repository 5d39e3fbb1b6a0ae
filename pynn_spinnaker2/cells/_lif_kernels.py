"""Code shared by the leaky integrate-and-fire kernels (float32, as the Cortex-M4F's FPU
computes it); each kernel lives in its cell type's module.

Each kernel follows its reference's order of operations (so the same float32 rounding) in as
few array operations as that allows, in their cheapest form (operators, no keyword
arguments): the emulator calls it once per time step, and for small populations the cost of
a step is the number of calls.
"""

from __future__ import annotations

import numpy as np


def drive(p: dict[str, np.ndarray], i_inj: np.ndarray | None) -> np.ndarray:
    """The constant drive ``i_offset`` plus the injected current, if any."""
    return p["i_offset"] if i_inj is None else p["i_offset"] + i_inj


def refractory_and_threshold(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                             v_free: np.ndarray) -> np.ndarray:
    """Clamp refractory neurons, count down, test the threshold and reset; returns spikes.

    ``v_free`` (a new array) becomes the state; the few refractory and spiking neurons are
    handled by index, so a step costs three passes over the population.
    """
    refrac = s["refrac"]
    busy = refrac.nonzero()[0]
    if busy.size:
        v_free[busy] = s["v"][busy]
        refrac[busy] -= 1
    spiked = v_free >= p["v_thresh"]
    fired = spiked.nonzero()[0]
    if fired.size:
        v_free[fired] = p["v_reset"][fired]
        refrac[fired] = p["refrac_steps"][fired]
    s["v"] = v_free
    return spiked


def leak(p: dict[str, np.ndarray], v: np.ndarray) -> np.ndarray:
    """v_rest + (v - v_rest) decay_m, as a new array (to add the other terms into)."""
    return p["v_rest"] + (v - p["v_rest"]) * p["decay_m"]


def decay_and_add(s: dict[str, np.ndarray], name: str, decay: np.ndarray,
                  arriving: np.ndarray) -> None:
    """Decay state ``name`` by one step, then add this step's arriving weights."""
    s[name] = s[name] * decay + arriving


def conductance_step(p: dict[str, np.ndarray], v: np.ndarray, g_e: np.ndarray,
                     g_i: np.ndarray, i_inj: np.ndarray | None) -> np.ndarray:
    """Exponential integrator with the step's mean conductances ``g_e``, ``g_i``."""
    g_tot = p["g_leak"] + g_e + g_i
    v_inf = (p["g_leak"] * p["v_rest"] + g_e * p["e_rev_e"] + g_i * p["e_rev_i"]
             + drive(p, i_inj)) / g_tot
    return v_inf + (v - v_inf) * np.exp(-p["dt"] * g_tot / p["cm"])


def alpha_synapses(p: dict[str, np.ndarray], s: dict[str, np.ndarray], trace: str,
                   deriv: str, inputs: np.ndarray) -> None:
    """Both receptors' alpha states one step on, then this step's events (d += w e / tau)."""
    for k, (suffix, x) in enumerate((("exc", "e"), ("inh", "i"))):
        t, d = f"{trace}_{suffix}", f"{deriv}_{suffix}"
        s[t] = p[f"step_{x}"] * s[d] + p[f"decay_{x}"] * s[t]
        s[d] = p[f"decay_{x}"] * s[d] + p[f"jump_{x}"] * inputs[k]
