"""Leaky integrate-and-fire kernels in float32, as the Cortex-M4F's FPU computes them.

The float64 references live beside each model's memory layout in
:mod:`pynn_spinnaker2.cells`; tests hold the two together.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _refractory_and_threshold(p: np.ndarray, s: dict[str, np.ndarray], v_free: np.ndarray
                              ) -> np.ndarray:
    """Clamp refractory neurons, count down, test the threshold and reset; returns spikes."""
    active = s["refrac"] == 0
    v = np.where(active, v_free, s["v"])
    s["refrac"] = np.where(active, 0, s["refrac"] - 1).astype(np.int32)
    spiked = v >= p["v_thresh"]
    s["v"] = np.where(spiked, p["v_reset"], v).astype(F32)
    s["refrac"] = np.where(spiked, p["refrac_steps"], s["refrac"]).astype(np.int32)
    return spiked


def lif_curr_exp(p: np.ndarray, s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_exp: exact propagators precomputed in the parameter region."""
    drive = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    v_free = (p["v_rest"] + (s["v"] - p["v_rest"]) * p["decay_m"]
              + p["p21_e"] * s["isyn_exc"] + p["p21_i"] * s["isyn_inh"] + p["r_m"] * drive)
    s["isyn_exc"] = s["isyn_exc"] * p["decay_e"] + inputs[0]
    s["isyn_inh"] = s["isyn_inh"] * p["decay_i"] + inputs[1]
    return _refractory_and_threshold(p, s, v_free)


def lif_curr_delta(p: np.ndarray, s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_delta: events jump v (mV); those arriving while refractory are lost."""
    drive = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    v_free = (p["v_rest"] + (s["v"] - p["v_rest"]) * p["decay_m"] + p["r_m"] * drive
              + inputs[0] + inputs[1])
    return _refractory_and_threshold(p, s, v_free)


def lif_cond_exp(p: np.ndarray, s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """IF_cond_exp: exponential integrator with the step's mean conductances."""
    drive = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    g_e = s["gsyn_exc"] * p["mean_e"]
    g_i = s["gsyn_inh"] * p["mean_i"]
    g_tot = p["g_leak"] + g_e + g_i
    v_inf = (p["g_leak"] * p["v_rest"] + g_e * p["e_rev_e"] + g_i * p["e_rev_i"] + drive) / g_tot
    v_free = v_inf + (s["v"] - v_inf) * np.exp(-p["dt"] * g_tot / p["cm"])
    s["gsyn_exc"] = s["gsyn_exc"] * p["decay_e"] + inputs[0]
    s["gsyn_inh"] = s["gsyn_inh"] * p["decay_i"] + inputs[1]
    return _refractory_and_threshold(p, s, v_free)


def _alpha_synapses(p: np.ndarray, s: dict[str, np.ndarray], trace: str, deriv: str,
                    inputs: np.ndarray) -> None:
    """Both receptors' alpha states one step on, then this step's events (d += w e / tau)."""
    for k, (suffix, x) in enumerate((("exc", "e"), ("inh", "i"))):
        t, d = f"{trace}_{suffix}", f"{deriv}_{suffix}"
        s[t] = p[f"step_{x}"] * s[d] + p[f"decay_{x}"] * s[t]
        s[d] = p[f"decay_{x}"] * s[d] + p[f"jump_{x}"] * inputs[k]


def lif_curr_alpha(p: np.ndarray, s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_alpha: exact propagators (NEST's iaf_psc_alpha order of operations)."""
    drive = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    v_free = (p["v_rest"] + (s["v"] - p["v_rest"]) * p["decay_m"] + p["r_m"] * drive
              + p["p31_e"] * s["disyn_exc"] + p["p32_e"] * s["isyn_exc"]
              + p["p31_i"] * s["disyn_inh"] + p["p32_i"] * s["isyn_inh"])
    _alpha_synapses(p, s, "isyn", "disyn", inputs)
    return _refractory_and_threshold(p, s, v_free)


def lif_cond_alpha(p: np.ndarray, s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_cond_alpha: exponential integrator with the alpha conductances' step means."""
    drive = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    g_e = s["gsyn_exc"] * p["mean_e"] + s["dgsyn_exc"] * p["mean_de"]
    g_i = s["gsyn_inh"] * p["mean_i"] + s["dgsyn_inh"] * p["mean_di"]
    g_tot = p["g_leak"] + g_e + g_i
    v_inf = (p["g_leak"] * p["v_rest"] + g_e * p["e_rev_e"] + g_i * p["e_rev_i"] + drive) / g_tot
    v_free = v_inf + (s["v"] - v_inf) * np.exp(-p["dt"] * g_tot / p["cm"])
    _alpha_synapses(p, s, "gsyn", "dgsyn", inputs)
    return _refractory_and_threshold(p, s, v_free)
