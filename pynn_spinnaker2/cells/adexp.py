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

from .base import CellModel, f32, refractory_steps, structured

DEFAULTS = {
    "cm": 0.281, "tau_refrac": 0.1, "v_spike": -40.0, "v_reset": -70.6, "v_rest": -70.6,
    "tau_m": 9.3667, "i_offset": 0.0, "a": 4.0, "b": 0.0805, "delta_T": 2.0, "tau_w": 144.0,
    "v_thresh": -50.4, "e_rev_E": 0.0, "tau_syn_E": 5.0, "e_rev_I": -80.0, "tau_syn_I": 5.0,
}
INITIAL = {"v": -70.6, "w": 0.0, "gsyn_exc": 0.0, "gsyn_inh": 0.0}
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
        n_sub = substeps(dt)
        h = dt / n_sub
        refrac = s["refrac"]
        busy = refrac > 0
        v_peak = np.where(p["delta_T"] > 0, p["v_spike"], p["v_thresh"])
        steps = refractory_steps(p["tau_refrac"], dt)
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


_RECORDABLES = {"spikes": "", "v": "v", "w": "w", "gsyn_exc": "gsyn_exc",
                "gsyn_inh": "gsyn_inh"}
_UNITS = {"v": "mV", "w": "nA", "gsyn_exc": "uS", "gsyn_inh": "uS"}

EIF_COND_EXP = CellModel(
    name="EIF_cond_exp_isfa_ista", kernel="adexp_cond_exp", defaults=DEFAULTS,
    initial=INITIAL, receptors=("excitatory", "inhibitory"), recordables=_RECORDABLES,
    units=_UNITS, param_dtype=EXP_PARAM_DTYPE, state_dtype=EXP_STATE_DTYPE,
    build_params=build_exp_params, build_state=build_exp_state,
    reference_step=_reference(alpha=False), weight_units="uS", conductance_based=True,
)

EIF_COND_ALPHA = CellModel(
    name="EIF_cond_alpha_isfa_ista", kernel="adexp_cond_alpha", defaults=DEFAULTS,
    initial=INITIAL, receptors=("excitatory", "inhibitory"), recordables=_RECORDABLES,
    units=_UNITS, param_dtype=ALPHA_PARAM_DTYPE, state_dtype=ALPHA_STATE_DTYPE,
    build_params=build_alpha_params, build_state=build_alpha_state,
    reference_step=_reference(alpha=True), weight_units="uS", conductance_based=True,
)
