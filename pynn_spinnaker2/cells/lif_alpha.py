r"""IF_curr_alpha and IF_cond_alpha: leaky integrate-and-fire neurons with alpha-shaped
synaptic currents or conductances.

An event of weight w starts the synaptic trace :math:`s(t) = w \frac{t}{\tau}
e^{1 - t/\tau}`, which peaks at w after :math:`\tau`. As two linear states per receptor,
:math:`\dot{d} = -d/\tau,\ \dot{s} = d - s/\tau`, an event adds :math:`w e / \tau` to d.

IF_curr_alpha integrates exactly (the propagators of NEST's ``iaf_psc_alpha``, same order of
operations). IF_cond_alpha uses the exponential integrator of IF_cond_exp with the alpha
conductances' exact means over the step.
"""

from __future__ import annotations

import numpy as np

from ._lif_kernels import alpha_synapses, conductance_step, drive, leak, refractory_and_threshold
from .base import CellType, KernelOps, f32, pynn_defaults, refractory_steps, structured
from .lif_curr_exp import current_to_voltage
from .registry import register

CURR_DEFAULTS, CURR_INITIAL = pynn_defaults("IF_curr_alpha")
COND_ALPHA_DEFAULTS, COND_INITIAL = pynn_defaults("IF_cond_alpha")


def derivative_to_voltage(tau_m: np.ndarray, tau_syn: np.ndarray, cm: np.ndarray,
                          dt: float) -> np.ndarray:
    """Voltage change over one step caused by a unit alpha-derivative state (P31)."""
    tau_m, tau_syn, cm = (np.asarray(x, dtype=float) for x in (tau_m, tau_syn, cm))
    c = 1.0 / tau_syn - 1.0 / tau_m
    small = np.abs(c * dt) < 1e-6
    safe_c = np.where(small, 1.0, c)
    general = (np.exp(-dt / tau_m) - np.exp(-dt / tau_syn) * (1 + safe_c * dt)) / (
        cm * safe_c**2)
    limit = dt**2 / 2 * np.exp(-dt / tau_m) / cm
    return np.where(small, limit, general)


def alpha_means(tau: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean over one step of the trace s, per unit of s and per unit of d at the step start."""
    tau = np.asarray(tau, dtype=float)
    a = np.exp(-dt / tau)
    return tau / dt * (1 - a), tau**2 / dt * (1 - a * (1 + dt / tau))


CURR_PARAM_DTYPE = np.dtype([
    ("v_rest", "<f4"), ("v_reset", "<f4"), ("v_thresh", "<f4"), ("i_offset", "<f4"),
    ("decay_m", "<f4"), ("r_m", "<f4"), ("p31_e", "<f4"), ("p32_e", "<f4"), ("p31_i", "<f4"),
    ("p32_i", "<f4"), ("decay_e", "<f4"), ("decay_i", "<f4"), ("step_e", "<f4"),
    ("step_i", "<f4"), ("jump_e", "<f4"), ("jump_i", "<f4"), ("refrac_steps", "<i4"),
])
CURR_STATE_DTYPE = np.dtype([("v", "<f4"), ("isyn_exc", "<f4"), ("disyn_exc", "<f4"),
                             ("isyn_inh", "<f4"), ("disyn_inh", "<f4"), ("refrac", "<i4")])
COND_PARAM_DTYPE = np.dtype([
    ("v_rest", "<f4"), ("v_reset", "<f4"), ("v_thresh", "<f4"), ("i_offset", "<f4"),
    ("cm", "<f4"), ("g_leak", "<f4"), ("e_rev_e", "<f4"), ("e_rev_i", "<f4"),
    ("decay_e", "<f4"), ("decay_i", "<f4"), ("step_e", "<f4"), ("step_i", "<f4"),
    ("jump_e", "<f4"), ("jump_i", "<f4"), ("mean_e", "<f4"), ("mean_de", "<f4"),
    ("mean_i", "<f4"), ("mean_di", "<f4"), ("dt", "<f4"), ("refrac_steps", "<i4"),
])
COND_STATE_DTYPE = np.dtype([("v", "<f4"), ("gsyn_exc", "<f4"), ("dgsyn_exc", "<f4"),
                             ("gsyn_inh", "<f4"), ("dgsyn_inh", "<f4"), ("refrac", "<i4")])


def _synapse_columns(p: dict[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
    return {
        "decay_e": f32(np.exp(-dt / p["tau_syn_E"])), "decay_i": f32(np.exp(-dt / p["tau_syn_I"])),
        "step_e": f32(dt * np.exp(-dt / p["tau_syn_E"])),
        "step_i": f32(dt * np.exp(-dt / p["tau_syn_I"])),
        "jump_e": f32(np.e / p["tau_syn_E"]), "jump_i": f32(np.e / p["tau_syn_I"]),
    }


def build_curr_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The IF_curr_alpha neuron region."""
    decay_m = np.exp(-dt / p["tau_m"])
    return structured(
        CURR_PARAM_DTYPE, len(p["tau_m"]), v_rest=f32(p["v_rest"]),
        v_reset=f32(p["v_reset"]), v_thresh=f32(p["v_thresh"]), i_offset=f32(p["i_offset"]),
        decay_m=f32(decay_m), r_m=f32(p["tau_m"] / p["cm"] * (1.0 - decay_m)),
        p31_e=f32(derivative_to_voltage(p["tau_m"], p["tau_syn_E"], p["cm"], dt)),
        p32_e=f32(current_to_voltage(p["tau_m"], p["tau_syn_E"], p["cm"], dt)),
        p31_i=f32(derivative_to_voltage(p["tau_m"], p["tau_syn_I"], p["cm"], dt)),
        p32_i=f32(current_to_voltage(p["tau_m"], p["tau_syn_I"], p["cm"], dt)),
        refrac_steps=refractory_steps(p["tau_refrac"], dt), **_synapse_columns(p, dt),
    )


def build_cond_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The IF_cond_alpha neuron region."""
    mean_e, mean_de = alpha_means(p["tau_syn_E"], dt)
    mean_i, mean_di = alpha_means(p["tau_syn_I"], dt)
    return structured(
        COND_PARAM_DTYPE, len(p["tau_m"]), v_rest=f32(p["v_rest"]),
        v_reset=f32(p["v_reset"]), v_thresh=f32(p["v_thresh"]), i_offset=f32(p["i_offset"]),
        cm=f32(p["cm"]), g_leak=f32(p["cm"] / p["tau_m"]), e_rev_e=f32(p["e_rev_E"]),
        e_rev_i=f32(p["e_rev_I"]), mean_e=f32(mean_e), mean_de=f32(mean_de),
        mean_i=f32(mean_i), mean_di=f32(mean_di), dt=f32(dt),
        refrac_steps=refractory_steps(p["tau_refrac"], dt), **_synapse_columns(p, dt),
    )


def build_curr_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The IF_curr_alpha state region at t = 0."""
    n = len(initial["v"])
    return structured(CURR_STATE_DTYPE, n, v=f32(initial["v"]),
                      isyn_exc=f32(initial.get("isyn_exc", np.zeros(n))),
                      isyn_inh=f32(initial.get("isyn_inh", np.zeros(n))), refrac=0)


def build_cond_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The IF_cond_alpha state region at t = 0."""
    n = len(initial["v"])
    return structured(COND_STATE_DTYPE, n, v=f32(initial["v"]),
                      gsyn_exc=f32(initial.get("gsyn_exc", np.zeros(n))),
                      gsyn_inh=f32(initial.get("gsyn_inh", np.zeros(n))), refrac=0)


# -- float64 references, written from the ODEs on their own: nothing here is shared with the
# parameter builders or the kernels (derivative_to_voltage, current_to_voltage, alpha_means).
# Per receptor d(t) = d0 e^{-t/tau} and s(t) = (s0 + d0 t) e^{-t/tau}.

def _ref_alpha_synapses(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                        names: tuple[str, str], inputs: np.ndarray, dt: float) -> None:
    """Both receptors' (trace, derivative) at the step's end, then this step's events
    (each adds w e / tau to the derivative, so the trace peaks at w after tau)."""
    for k, (tau, suffix) in enumerate(((p["tau_syn_E"], "exc"), (p["tau_syn_I"], "inh"))):
        trace, deriv = f"{names[0]}_{suffix}", f"{names[1]}_{suffix}"
        e_syn = np.exp(-dt / np.asarray(tau, dtype=np.float64))
        s[trace] = (s[trace] + s[deriv] * dt) * e_syn
        s[deriv] = s[deriv] * e_syn + inputs[k] * np.exp(1.0) / tau


def _ref_finish(p: dict[str, np.ndarray], s: dict[str, np.ndarray], v_free: np.ndarray,
                dt: float) -> np.ndarray:
    active = s["refrac"] == 0
    v = np.where(active, v_free, s["v"])
    refrac = np.where(active, 0, s["refrac"] - 1)
    spiked = v >= p["v_thresh"]
    s["v"] = np.where(spiked, p["v_reset"], v)
    s["refrac"] = np.where(spiked, np.rint(np.asarray(p["tau_refrac"], float) / dt)
                           .astype(int), refrac)
    return spiked


def curr_reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                        inputs: np.ndarray, i_inj: np.ndarray, dt: float
                        ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One IF_curr_alpha step in float64 from the PyNN parameters.

    v - v_rest decays by e^{-dt/tau_m}; the synaptic current adds
    e^{-dt/tau_m}/c_m * integral_0^dt (s0 + d0 u) e^{a u} du with a = 1/tau_m - 1/tau_syn,
    i.e. s0 (e^{a dt} - 1)/a + d0 (dt e^{a dt}/a - (e^{a dt} - 1)/a^2), whose limits at a = 0
    are s0 dt and d0 dt^2/2.
    """
    s = dict(s)
    tau_m = np.asarray(p["tau_m"], dtype=np.float64)
    c_m = np.asarray(p["cm"], dtype=np.float64)
    e_m = np.exp(-dt / tau_m)
    v_free = (p["v_rest"] + (s["v"] - p["v_rest"]) * e_m
              + (p["i_offset"] + i_inj) * tau_m * -np.expm1(-dt / tau_m) / c_m)
    for tau, suffix in ((p["tau_syn_E"], "exc"), (p["tau_syn_I"], "inh")):
        a = 1.0 / tau_m - 1.0 / np.asarray(tau, dtype=np.float64)
        small = np.abs(a * dt) < 1e-5
        safe = np.where(small, 1.0, a)
        i0 = np.where(small, dt * (1 + a * dt / 2), np.expm1(a * dt) / safe)
        i1 = np.where(small, dt**2 * (0.5 + a * dt / 3),
                      dt * np.exp(a * dt) / safe - np.expm1(a * dt) / safe**2)
        v_free = v_free + e_m / c_m * (s[f"isyn_{suffix}"] * i0 + s[f"disyn_{suffix}"] * i1)
    _ref_alpha_synapses(p, s, ("isyn", "disyn"), inputs, dt)
    return s, _ref_finish(p, s, v_free, dt)


def cond_reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                        inputs: np.ndarray, i_inj: np.ndarray, dt: float
                        ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One IF_cond_alpha step in float64 from the PyNN parameters: the exponential
    integrator with the step means of the alpha conductances,
    (1/dt) integral_0^dt (g0 + d0 u) e^{-u/tau} du
    = g0 tau (1 - e^{-x})/dt + d0 tau^2 (1 - e^{-x} - x e^{-x})/dt with x = dt/tau."""
    s = dict(s)

    def step_mean(g0: np.ndarray, d0: np.ndarray, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        x = dt / tau
        return (g0 * tau * -np.expm1(-x) + d0 * tau**2 * (-np.expm1(-x) - x * np.exp(-x))) / dt

    g_leak = np.asarray(p["cm"], dtype=np.float64) / p["tau_m"]
    g_e = step_mean(s["gsyn_exc"], s["dgsyn_exc"], p["tau_syn_E"])
    g_i = step_mean(s["gsyn_inh"], s["dgsyn_inh"], p["tau_syn_I"])
    g_tot = g_leak + g_e + g_i
    v_inf = (g_leak * p["v_rest"] + g_e * p["e_rev_E"] + g_i * p["e_rev_I"]
             + p["i_offset"] + i_inj) / g_tot
    v_free = v_inf + (s["v"] - v_inf) * np.exp(-dt * g_tot / p["cm"])
    _ref_alpha_synapses(p, s, ("gsyn", "dgsyn"), inputs, dt)
    return s, _ref_finish(p, s, v_free, dt)


def lif_curr_alpha(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_alpha: exact propagators (NEST's iaf_psc_alpha order of operations)."""
    v_free = leak(p, s["v"])
    v_free += p["r_m"] * drive(p, i_inj)
    v_free += p["p31_e"] * s["disyn_exc"]
    v_free += p["p32_e"] * s["isyn_exc"]
    v_free += p["p31_i"] * s["disyn_inh"]
    v_free += p["p32_i"] * s["isyn_inh"]
    alpha_synapses(p, s, "isyn", "disyn", inputs)
    return refractory_and_threshold(p, s, v_free)


def lif_cond_alpha(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_cond_alpha: exponential integrator with the alpha conductances' step means."""
    g_e = s["gsyn_exc"] * p["mean_e"] + s["dgsyn_exc"] * p["mean_de"]
    g_i = s["gsyn_inh"] * p["mean_i"] + s["dgsyn_inh"] * p["mean_di"]
    v_free = conductance_step(p, s["v"], g_e, g_i, i_inj)
    alpha_synapses(p, s, "gsyn", "dgsyn", inputs)
    return refractory_and_threshold(p, s, v_free)


#: Arithmetic per neuron update, counted from the kernel above.
# v_free 1 sub 1 mul 1 add + drive 2 + 4 (mul, add); alpha states 12; tests 2
LIF_CURR_ALPHA_OPS = KernelOps(single=27)
LIF_COND_ALPHA_OPS = KernelOps(single=33, div=1, exp=1)

IF_CURR_ALPHA = register(CellType(
    name="IF_curr_alpha", kernel="lif_curr_alpha", defaults=CURR_DEFAULTS,
    initial=CURR_INITIAL,
    receptors=("excitatory", "inhibitory"),
    recordables={"spikes": "", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh"},
    units={"v": "mV", "isyn_exc": "nA", "isyn_inh": "nA"},
    param_dtype=CURR_PARAM_DTYPE, state_dtype=CURR_STATE_DTYPE, build_params=build_curr_params,
    build_state=build_curr_state, reference_step=curr_reference_step,
    kernel_step=lif_curr_alpha, ops=LIF_CURR_ALPHA_OPS,
))

IF_COND_ALPHA = register(CellType(
    name="IF_cond_alpha", kernel="lif_cond_alpha", defaults=COND_ALPHA_DEFAULTS,
    initial=COND_INITIAL,
    receptors=("excitatory", "inhibitory"),
    recordables={"spikes": "", "v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
    units={"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS"},
    param_dtype=COND_PARAM_DTYPE, state_dtype=COND_STATE_DTYPE, build_params=build_cond_params,
    build_state=build_cond_state, reference_step=cond_reference_step, weight_units="uS",
    conductance_based=True, kernel_step=lif_cond_alpha, ops=LIF_COND_ALPHA_OPS,
))
