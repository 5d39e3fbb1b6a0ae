r"""EIF_cond_exp_isfa_ista and EIF_cond_alpha_isfa_ista: the adaptive exponential
integrate-and-fire neuron (Brette & Gerstner 2005) with exponential or alpha-shaped
synaptic conductances.

.. math::

    c_m \frac{dV}{dt} = -g_L (V - E_L) + g_L \Delta_T e^{(V - V_T)/\Delta_T}
                        - g_e (V - E_e) - g_i (V - E_i) - w + I, \qquad
    \tau_w \frac{dw}{dt} = a (V - E_L) - w

with :math:`g_L = c_m / \tau_m`, a in nS (so a/1000 uS), w and b in nA. When V reaches
``v_spike`` (or ``v_thresh`` if :math:`\Delta_T = 0`) a spike is sent, :math:`V \leftarrow
V_{reset}`, :math:`w \leftarrow w + b`, and V is held at :math:`V_{reset}` for
``tau_refrac`` while w keeps evolving; as in NEST's ``aeif_cond_exp``/``aeif_cond_alpha``,
V is capped at the spike value inside the equations.

Each step integrates (V, w) with classical Runge-Kutta (RK4) substeps of at most
``MAX_SUBSTEP`` ms, the conductances being exact exponentials (or alpha functions) of time;
a spike is detected, and V reset, at the end of the substep it happens in (the neuron is then
clamped for the rest of the step when it has a refractory period), as NEST does within its
adaptive Runge-Kutta-Fehlberg 4(5) steps, and it is sent at the end of the step. This step's
synaptic events are added afterwards, as for the other conductance models. Spike times agree
with NEST's within the time step (tests compare them).
"""

from __future__ import annotations

import numpy as np

from .base import CellType, KernelOps, f32, pynn_defaults, refractory_steps, structured
from .registry import register

DEFAULTS, INITIAL = pynn_defaults("EIF_cond_exp_isfa_ista")
# PyNN gives both EIF types the same defaults; the test of defaults holds them to it.
#: Longest RK4 substep (ms): the upswing near the spike value is fast (~tau_m e^-5).
MAX_SUBSTEP = 0.025


def substeps(dt: float) -> int:
    """RK4 substeps per time step."""
    return max(1, int(np.ceil(dt / MAX_SUBSTEP - 1e-9)))

_COMMON = [
    ("cm", "<f4"), ("g_leak", "<f4"), ("v_rest", "<f4"), ("v_reset", "<f4"),
    ("v_thresh", "<f4"), ("v_peak", "<f4"), ("exp_scale", "<f4"), ("inv_delta", "<f4"),
    ("a", "<f4"), ("b", "<f4"), ("inv_tau_w", "<f4"), ("e_rev_e", "<f4"), ("e_rev_i", "<f4"),
    ("i_offset", "<f4"), ("h", "<f4"), ("half_e", "<f4"), ("half_i", "<f4"),
    ("decay_e", "<f4"), ("decay_i", "<f4"), ("substeps", "<i4"), ("refrac_steps", "<i4"),
]
EXP_PARAM_DTYPE = np.dtype(_COMMON)
ALPHA_PARAM_DTYPE = np.dtype(_COMMON + [("jump_e", "<f4"), ("jump_i", "<f4")])
EXP_STATE_DTYPE = np.dtype([("v", "<f4"), ("w", "<f4"), ("gsyn_exc", "<f4"),
                            ("gsyn_inh", "<f4"), ("refrac", "<i4")])
ALPHA_STATE_DTYPE = np.dtype([("v", "<f4"), ("w", "<f4"), ("gsyn_exc", "<f4"),
                              ("dgsyn_exc", "<f4"), ("gsyn_inh", "<f4"), ("dgsyn_inh", "<f4"),
                              ("refrac", "<i4")])


def _columns(p: dict[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
    """Per neuron; ``h`` is the substep, ``half_*``/``decay_*`` the conductance decay over
    half a substep and a substep."""
    delta = np.asarray(p["delta_T"], dtype=float)
    n_sub = substeps(dt)
    h = dt / n_sub
    g_leak = np.asarray(p["cm"], dtype=float) / p["tau_m"]
    return {
        "cm": f32(p["cm"]), "g_leak": f32(g_leak), "v_rest": f32(p["v_rest"]),
        "v_reset": f32(p["v_reset"]), "v_thresh": f32(p["v_thresh"]),
        # NEST: with delta_T = 0 the neuron is a LIF that spikes at v_thresh.
        "v_peak": f32(np.where(delta > 0, p["v_spike"], p["v_thresh"])),
        "exp_scale": f32(g_leak * delta),
        "inv_delta": f32(np.where(delta > 0, 1.0 / np.where(delta > 0, delta, 1.0), 0.0)),
        "a": f32(np.asarray(p["a"]) / 1000.0), "b": f32(p["b"]),
        "inv_tau_w": f32(1.0 / np.asarray(p["tau_w"], dtype=float)),
        "e_rev_e": f32(p["e_rev_E"]), "e_rev_i": f32(p["e_rev_I"]),
        "i_offset": f32(p["i_offset"]), "h": f32(np.full(len(delta), h)),
        "half_e": f32(np.exp(-h / 2 / np.asarray(p["tau_syn_E"]))),
        "half_i": f32(np.exp(-h / 2 / np.asarray(p["tau_syn_I"]))),
        "decay_e": f32(np.exp(-h / np.asarray(p["tau_syn_E"]))),
        "decay_i": f32(np.exp(-h / np.asarray(p["tau_syn_I"]))),
        "substeps": np.full(len(delta), n_sub, np.int32),
        "refrac_steps": refractory_steps(p["tau_refrac"], dt),
    }


def build_exp_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The EIF_cond_exp_isfa_ista neuron region."""
    return structured(EXP_PARAM_DTYPE, len(p["cm"]), **_columns(p, dt))


def build_alpha_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The EIF_cond_alpha_isfa_ista neuron region (alpha events add w e / tau to dg)."""
    return structured(ALPHA_PARAM_DTYPE, len(p["cm"]), **_columns(p, dt),
                      jump_e=f32(np.e / np.asarray(p["tau_syn_E"])),
                      jump_i=f32(np.e / np.asarray(p["tau_syn_I"])))


def build_exp_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    n = len(initial["v"])
    return structured(EXP_STATE_DTYPE, n, v=f32(initial["v"]),
                      w=f32(initial.get("w", np.zeros(n))),
                      gsyn_exc=f32(initial.get("gsyn_exc", np.zeros(n))),
                      gsyn_inh=f32(initial.get("gsyn_inh", np.zeros(n))), refrac=0)


def build_alpha_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]
                      ) -> np.ndarray:
    n = len(initial["v"])
    return structured(ALPHA_STATE_DTYPE, n, v=f32(initial["v"]),
                      w=f32(initial.get("w", np.zeros(n))),
                      gsyn_exc=f32(initial.get("gsyn_exc", np.zeros(n))),
                      gsyn_inh=f32(initial.get("gsyn_inh", np.zeros(n))), refrac=0)


def _conductances(p: dict[str, np.ndarray], s: dict[str, np.ndarray], alpha: bool,
                  h: float) -> tuple[list, list]:
    """(g_e, g_i) at the start, middle and end of a substep of h (exact, no events), and
    the alpha derivatives at its end."""
    out = []
    for suffix, tau in (("exc", p["tau_syn_E"]), ("inh", p["tau_syn_I"])):
        g = s[f"gsyn_{suffix}"]
        d = s[f"dgsyn_{suffix}"] if alpha else 0.0
        out.append([np.exp(-t / tau) * (g + d * t) for t in (0.0, h / 2, h)]
                   + [d * np.exp(-h / tau)])
    return out[0], out[1]


def _rk4(p: dict[str, np.ndarray], v: np.ndarray, w: np.ndarray, busy: np.ndarray,
         g_e: list, g_i: list, current: np.ndarray, h: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """One RK4 substep of (V, w) in float64, NEST's right-hand side."""
    g_leak = p["cm"] / p["tau_m"]
    delta = p["delta_T"]
    v_peak = np.where(delta > 0, p["v_spike"], p["v_thresh"])

    def rhs(v: np.ndarray, w: np.ndarray, ge: np.ndarray, gi: np.ndarray) -> tuple:
        vc = np.where(busy, p["v_reset"], np.minimum(v, v_peak))
        with np.errstate(divide="ignore", invalid="ignore"):
            spike = np.where(delta > 0, g_leak * delta * np.exp(
                (vc - p["v_thresh"]) / np.where(delta > 0, delta, 1.0)), 0.0)
        dv = (-g_leak * (vc - p["v_rest"]) + spike - ge * (vc - p["e_rev_E"])
              - gi * (vc - p["e_rev_I"]) - w + current) / p["cm"]
        dw = (p["a"] / 1000.0 * (vc - p["v_rest"]) - w) / p["tau_w"]
        return np.where(busy, 0.0, dv), dw

    k1 = rhs(v, w, g_e[0], g_i[0])
    k2 = rhs(v + h / 2 * k1[0], w + h / 2 * k1[1], g_e[1], g_i[1])
    k3 = rhs(v + h / 2 * k2[0], w + h / 2 * k2[1], g_e[1], g_i[1])
    k4 = rhs(v + h * k3[0], w + h * k3[1], g_e[2], g_i[2])
    return (v + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
            w + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]))


def _reference(alpha: bool):
    def step(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
             i_inj: np.ndarray, dt: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """One step in float64 from the PyNN parameters; ``inputs`` (2, n) in uS."""
        s = dict(s)
        # its own substep count (RK4 substeps of at most 0.025 ms) and refractory rounding,
        # not the module's substeps() and refractory_steps()
        n_sub = max(1, int(np.ceil(round(dt / 0.025, 9))))
        h = dt / n_sub
        refrac = s["refrac"]
        busy = refrac > 0
        v_peak = np.where(p["delta_T"] > 0, p["v_spike"], p["v_thresh"])
        steps = np.rint(np.asarray(p["tau_refrac"], dtype=float) / dt).astype(int)
        v, w = np.where(busy, p["v_reset"], s["v"]), s["w"]
        spiked = np.zeros(v.shape, bool)
        for _ in range(n_sub):
            g_e, g_i = _conductances(p, s, alpha, h)
            clamp = busy | (spiked & (steps > 0))
            v, w = _rk4(p, v, w, clamp, g_e, g_i, p["i_offset"] + i_inj, h)
            fired = ~clamp & (v >= v_peak)
            v = np.where(fired, p["v_reset"], v)
            w = np.where(fired, w + p["b"], w)
            spiked |= fired
            for k, suffix in enumerate(("exc", "inh")):
                s[f"gsyn_{suffix}"] = (g_e, g_i)[k][2]
                if alpha:
                    s[f"dgsyn_{suffix}"] = (g_e, g_i)[k][3]
        for k, suffix in enumerate(("exc", "inh")):
            tau = p[f"tau_syn_{'E' if k == 0 else 'I'}"]
            if alpha:
                s[f"dgsyn_{suffix}"] = s[f"dgsyn_{suffix}"] + np.e / tau * inputs[k]
            else:
                s[f"gsyn_{suffix}"] = s[f"gsyn_{suffix}"] + inputs[k]
        s["v"], s["w"] = v, w
        s["refrac"] = np.where(spiked, steps, np.where(busy, refrac - 1, 0))
        return s, spiked

    return step


# -- the float32 kernels: RK4 substeps of (V, w), the conductances exact in time within them

F32 = np.float32
_HALF, _SIXTH, _TWO = F32(0.5), F32(1.0 / 6.0), F32(2.0)


def _rhs_f32(p: dict[str, np.ndarray], v: np.ndarray, w: np.ndarray, g_e: np.ndarray,
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


def _rk4_f32(p: dict[str, np.ndarray], v: np.ndarray, w: np.ndarray, g_e: tuple, g_i: tuple,
         current: np.ndarray, clamp: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    h = p["h"]
    half = h * _HALF
    k1v, k1w = _rhs_f32(p, v, w, g_e[0], g_i[0], current, clamp)
    k2v, k2w = _rhs_f32(p, v + half * k1v, w + half * k1w, g_e[1], g_i[1], current, clamp)
    k3v, k3w = _rhs_f32(p, v + half * k2v, w + half * k2w, g_e[1], g_i[1], current, clamp)
    k4v, k4w = _rhs_f32(p, v + h * k3v, w + h * k3w, g_e[2], g_i[2], current, clamp)
    return (v + h * _SIXTH * (k1v + _TWO * (k2v + k3v) + k4v),
            w + h * _SIXTH * (k1w + _TWO * (k2w + k3w) + k4w))


def _kernel_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
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
        v, w = _rk4_f32(p, v, w, stages[0], stages[1], current, clamp)
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
    return _kernel_step(p, s, inputs, i_inj, alpha=False)


def adexp_cond_alpha(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                     i_inj: np.ndarray | None) -> np.ndarray:
    """EIF_cond_alpha_isfa_ista."""
    return _kernel_step(p, s, inputs, i_inj, alpha=True)


_RECORDABLES = {"spikes": "", "v": "v", "w": "w", "gsyn_exc": "gsyn_exc",
                "gsyn_inh": "gsyn_inh"}
_UNITS = {"v": "mV", "w": "nA", "gsyn_exc": "uS", "gsyn_inh": "uS"}

EIF_COND_EXP = register(CellType(
    name="EIF_cond_exp_isfa_ista", kernel="adexp_cond_exp", defaults=DEFAULTS,
    initial=INITIAL, receptors=("excitatory", "inhibitory"), recordables=_RECORDABLES,
    units=_UNITS, param_dtype=EXP_PARAM_DTYPE, state_dtype=EXP_STATE_DTYPE,
    build_params=build_exp_params, build_state=build_exp_state,
    reference_step=_reference(alpha=False), weight_units="uS", conductance_based=True,
    kernel_step=adexp_cond_exp,
    # RK4 of (V, w): per stage one exp, one division (by cm) and ~20 single ops, four
    # stages per substep, four substeps at dt = 0.1 ms (substeps of at most 0.025 ms: the
    # count grows with dt; an estimate for the usual 0.1 ms step); conductances 6 per substep
    ops=KernelOps(single=4 * (4 * 20 + 6), div=16, exp=16, branches=8),
))

EIF_COND_ALPHA = register(CellType(
    name="EIF_cond_alpha_isfa_ista", kernel="adexp_cond_alpha", defaults=DEFAULTS,
    initial=INITIAL, receptors=("excitatory", "inhibitory"), recordables=_RECORDABLES,
    units=_UNITS, param_dtype=ALPHA_PARAM_DTYPE, state_dtype=ALPHA_STATE_DTYPE,
    build_params=build_alpha_params, build_state=build_alpha_state,
    reference_step=_reference(alpha=True), weight_units="uS", conductance_based=True,
    kernel_step=adexp_cond_alpha,
    ops=KernelOps(single=4 * (4 * 20 + 10), div=16, exp=16, branches=8),
))
