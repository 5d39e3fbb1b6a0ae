"""Leaky integrate-and-fire kernels in float32, as the Cortex-M4F's FPU computes them.

The float64 references live beside each model's memory layout in
:mod:`pynn_spinnaker2.cells`; tests hold the two together. Each kernel follows its
reference's order of operations (so the same float32 rounding) in as few array operations as
that allows, in their cheapest form (operators, no keyword arguments): the emulator calls it
once per time step, and for small populations the cost of a step is the number of calls.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _drive(p: dict[str, np.ndarray], i_inj: np.ndarray | None) -> np.ndarray:
    return p["i_offset"] if i_inj is None else p["i_offset"] + i_inj


def _refractory_and_threshold(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
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


def _leak(p: dict[str, np.ndarray], v: np.ndarray) -> np.ndarray:
    """v_rest + (v - v_rest) decay_m, as a new array (to add the other terms into)."""
    return p["v_rest"] + (v - p["v_rest"]) * p["decay_m"]


def _decay_and_add(s: dict[str, np.ndarray], name: str, decay: np.ndarray,
                   arriving: np.ndarray) -> None:
    s[name] = s[name] * decay + arriving


def lif_curr_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_exp: exact propagators precomputed in the parameter region."""
    v_free = _leak(p, s["v"])
    v_free += p["p21_e"] * s["isyn_exc"]
    v_free += p["p21_i"] * s["isyn_inh"]
    v_free += p["r_m"] * _drive(p, i_inj)
    _decay_and_add(s, "isyn_exc", p["decay_e"], inputs[0])
    _decay_and_add(s, "isyn_inh", p["decay_i"], inputs[1])
    return _refractory_and_threshold(p, s, v_free)


def lif_curr_delta(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_delta: events jump v (mV); those arriving while refractory are lost."""
    v_free = _leak(p, s["v"])
    v_free += p["r_m"] * _drive(p, i_inj)
    v_free += inputs[0]
    v_free += inputs[1]
    return _refractory_and_threshold(p, s, v_free)


def _conductance_step(p: dict[str, np.ndarray], v: np.ndarray, g_e: np.ndarray,
                      g_i: np.ndarray, i_inj: np.ndarray | None) -> np.ndarray:
    """Exponential integrator with the step's mean conductances ``g_e``, ``g_i``."""
    g_tot = p["g_leak"] + g_e + g_i
    v_inf = (p["g_leak"] * p["v_rest"] + g_e * p["e_rev_e"] + g_i * p["e_rev_i"]
             + _drive(p, i_inj)) / g_tot
    return v_inf + (v - v_inf) * np.exp(-p["dt"] * g_tot / p["cm"])


def lif_cond_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """IF_cond_exp: exponential integrator with the step's mean conductances."""
    v_free = _conductance_step(p, s["v"], s["gsyn_exc"] * p["mean_e"],
                               s["gsyn_inh"] * p["mean_i"], i_inj)
    _decay_and_add(s, "gsyn_exc", p["decay_e"], inputs[0])
    _decay_and_add(s, "gsyn_inh", p["decay_i"], inputs[1])
    return _refractory_and_threshold(p, s, v_free)


def _alpha_synapses(p: dict[str, np.ndarray], s: dict[str, np.ndarray], trace: str,
                    deriv: str, inputs: np.ndarray) -> None:
    """Both receptors' alpha states one step on, then this step's events (d += w e / tau)."""
    for k, (suffix, x) in enumerate((("exc", "e"), ("inh", "i"))):
        t, d = f"{trace}_{suffix}", f"{deriv}_{suffix}"
        s[t] = p[f"step_{x}"] * s[d] + p[f"decay_{x}"] * s[t]
        s[d] = p[f"decay_{x}"] * s[d] + p[f"jump_{x}"] * inputs[k]


def lif_curr_alpha(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_alpha: exact propagators (NEST's iaf_psc_alpha order of operations)."""
    v_free = _leak(p, s["v"])
    v_free += p["r_m"] * _drive(p, i_inj)
    v_free += p["p31_e"] * s["disyn_exc"]
    v_free += p["p32_e"] * s["isyn_exc"]
    v_free += p["p31_i"] * s["disyn_inh"]
    v_free += p["p32_i"] * s["isyn_inh"]
    _alpha_synapses(p, s, "isyn", "disyn", inputs)
    return _refractory_and_threshold(p, s, v_free)


def lif_cond_alpha(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_cond_alpha: exponential integrator with the alpha conductances' step means."""
    g_e = s["gsyn_exc"] * p["mean_e"] + s["dgsyn_exc"] * p["mean_de"]
    g_i = s["gsyn_inh"] * p["mean_i"] + s["dgsyn_inh"] * p["mean_di"]
    v_free = _conductance_step(p, s["v"], g_e, g_i, i_inj)
    _alpha_synapses(p, s, "gsyn", "dgsyn", inputs)
    return _refractory_and_threshold(p, s, v_free)
