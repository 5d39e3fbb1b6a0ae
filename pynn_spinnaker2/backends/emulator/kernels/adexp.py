"""Adaptive exponential integrate-and-fire kernels in float32 (the float64 reference and the
equations are in :mod:`pynn_spinnaker2.cells.adexp`): RK4 substeps of (V, w), the
conductances exact in time within them."""

from __future__ import annotations

import numpy as np

F32 = np.float32
_HALF, _SIXTH, _TWO = F32(0.5), F32(1.0 / 6.0), F32(2.0)


def _rhs(p: dict[str, np.ndarray], v: np.ndarray, w: np.ndarray, g_e: np.ndarray,
         g_i: np.ndarray, current: np.ndarray, clamp: np.ndarray | None
         ) -> tuple[np.ndarray, np.ndarray]:
    vc = np.minimum(v, p["v_peak"])
    if clamp is not None:
        vc = np.where(clamp, p["v_reset"], vc)
    from_rest = vc - p["v_rest"]
    spike = p["exp_scale"] * np.exp((vc - p["v_thresh"]) * p["inv_delta"])
    dv = (spike - p["g_leak"] * from_rest - g_e * (vc - p["e_rev_e"])
          - g_i * (vc - p["e_rev_i"]) - w + current) / p["cm"]
    dw = (p["a"] * from_rest - w) * p["inv_tau_w"]
    if clamp is not None:
        dv = np.where(clamp, F32(0.0), dv)
    return dv, dw


def _rk4(p: dict[str, np.ndarray], v: np.ndarray, w: np.ndarray, g_e: tuple, g_i: tuple,
         current: np.ndarray, clamp: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    h = p["h"]
    half = h * _HALF
    k1v, k1w = _rhs(p, v, w, g_e[0], g_i[0], current, clamp)
    k2v, k2w = _rhs(p, v + half * k1v, w + half * k1w, g_e[1], g_i[1], current, clamp)
    k3v, k3w = _rhs(p, v + half * k2v, w + half * k2w, g_e[1], g_i[1], current, clamp)
    k4v, k4w = _rhs(p, v + h * k3v, w + h * k3w, g_e[2], g_i[2], current, clamp)
    return (v + h * _SIXTH * (k1v + _TWO * (k2v + k3v) + k4v),
            w + h * _SIXTH * (k1w + _TWO * (k2w + k3w) + k4w))


def _step(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
          i_inj: np.ndarray | None, alpha: bool) -> np.ndarray:
    """RK4 substeps for (V, w) with threshold, reset and adaptation jump after each; the
    conductances one step on, then this step's events. Returns the spikes."""
    refrac = s["refrac"]
    busy = refrac > 0
    any_busy = bool(np.count_nonzero(busy))
    v = np.where(busy, p["v_reset"], s["v"]) if any_busy else s["v"]
    w = s["w"]
    current = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    held = p["refrac_steps"] > 0
    spiked = None
    g = {k: s[f"gsyn_{k}"] for k in ("exc", "inh")}
    d = {k: s[f"dgsyn_{k}"] for k in ("exc", "inh")} if alpha else None
    for _ in range(int(p["substeps"][0]) if p["substeps"].size else 1):
        stages = []
        for k, x in (("exc", "e"), ("inh", "i")):
            if alpha:
                mid = p[f"half_{x}"] * (g[k] + d[k] * (p["h"] * _HALF))
                end = p[f"decay_{x}"] * (g[k] + d[k] * p["h"])
                d[k] = d[k] * p[f"decay_{x}"]
            else:
                mid, end = g[k] * p[f"half_{x}"], g[k] * p[f"decay_{x}"]
            stages.append((g[k], mid, end))
            g[k] = end
        clamp = busy if spiked is None else busy | (spiked & held)
        clamp = clamp if any_busy or spiked is not None and clamp.any() else None
        v, w = _rk4(p, v, w, stages[0], stages[1], current, clamp)
        fired = v >= p["v_peak"]
        if clamp is not None:
            fired &= ~clamp
        if np.count_nonzero(fired):
            v = np.where(fired, p["v_reset"], v)
            w = np.where(fired, w + p["b"], w)
            spiked = fired if spiked is None else spiked | fired
    if alpha:
        s["gsyn_exc"], s["gsyn_inh"] = g["exc"], g["inh"]
        s["dgsyn_exc"] = d["exc"] + p["jump_e"] * inputs[0]
        s["dgsyn_inh"] = d["inh"] + p["jump_i"] * inputs[1]
    else:
        s["gsyn_exc"], s["gsyn_inh"] = g["exc"] + inputs[0], g["inh"] + inputs[1]
    if any_busy:
        refrac = refrac - busy
    if spiked is None:
        spiked = np.zeros(v.shape, bool)
    else:
        refrac = np.where(spiked, p["refrac_steps"], refrac)
    s["v"], s["w"], s["refrac"] = v, w, refrac
    return spiked


def adexp_cond_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """EIF_cond_exp_isfa_ista."""
    return _step(p, s, inputs, i_inj, alpha=False)


def adexp_cond_alpha(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                     i_inj: np.ndarray | None) -> np.ndarray:
    """EIF_cond_alpha_isfa_ista."""
    return _step(p, s, inputs, i_inj, alpha=True)
