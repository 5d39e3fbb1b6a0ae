r"""IF_cond_exp: leaky integrate-and-fire neuron with exponentially decaying conductances.

.. math::

    c_m \frac{dv}{dt} = g_L (v_{rest} - v) + g_e (E_e - v) + g_i (E_i - v)
                        + I_{offset} + I_{inj}, \qquad
    \tau_{syn} \frac{dg}{dt} = -g, \quad g_L = c_m / \tau_m

A synaptic event of weight w adds w (uS) to g at its arrival time. Each step integrates v
exactly for the mean conductances over the step (an exponential integrator: v relaxes to the
step's equilibrium potential with the step's effective time constant), which is exact when
no event arrives and the conductances are constant, and second-order accurate otherwise.
"""

from __future__ import annotations

import numpy as np

from ._lif_kernels import conductance_step, decay_and_add, refractory_and_threshold
from .base import CellType, KernelOps, f32, pynn_defaults, refractory_steps, structured
from .registry import register

DEFAULTS, INITIAL = pynn_defaults("IF_cond_exp")

PARAM_DTYPE = np.dtype([
    ("v_rest", "<f4"), ("v_reset", "<f4"), ("v_thresh", "<f4"), ("i_offset", "<f4"),
    ("cm", "<f4"), ("g_leak", "<f4"), ("e_rev_e", "<f4"), ("e_rev_i", "<f4"),
    ("decay_e", "<f4"), ("decay_i", "<f4"), ("mean_e", "<f4"), ("mean_i", "<f4"),
    ("dt", "<f4"), ("refrac_steps", "<i4"),
])
STATE_DTYPE = np.dtype([("v", "<f4"), ("gsyn_exc", "<f4"), ("gsyn_inh", "<f4"),
                        ("refrac", "<i4")])


def mean_factor(tau: np.ndarray, dt: float) -> np.ndarray:
    """Mean over one step of a unit exponential decaying with ``tau``."""
    tau = np.asarray(tau, dtype=float)
    return tau / dt * (1.0 - np.exp(-dt / tau))


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region: PyNN parameters -> what the kernel reads."""
    return structured(
        PARAM_DTYPE, len(p["tau_m"]), v_rest=f32(p["v_rest"]), v_reset=f32(p["v_reset"]),
        v_thresh=f32(p["v_thresh"]), i_offset=f32(p["i_offset"]), cm=f32(p["cm"]),
        g_leak=f32(p["cm"] / p["tau_m"]), e_rev_e=f32(p["e_rev_E"]), e_rev_i=f32(p["e_rev_I"]),
        decay_e=f32(np.exp(-dt / p["tau_syn_E"])), decay_i=f32(np.exp(-dt / p["tau_syn_I"])),
        mean_e=f32(mean_factor(p["tau_syn_E"], dt)), mean_i=f32(mean_factor(p["tau_syn_I"], dt)),
        dt=f32(dt), refrac_steps=refractory_steps(p["tau_refrac"], dt),
    )


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0."""
    n = len(initial["v"])
    return structured(STATE_DTYPE, n, v=f32(initial["v"]),
                      gsyn_exc=f32(initial.get("gsyn_exc", np.zeros(n))),
                      gsyn_inh=f32(initial.get("gsyn_inh", np.zeros(n))), refrac=0)


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                   inputs: np.ndarray, i_inj: np.ndarray, dt: float
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One step in float64; ``inputs`` (2, n) are the summed conductance jumps (uS)."""
    # Written from the scheme in the module docstring on its own (nothing shared with
    # build_params or the kernel): a conductance g0 e^{-s/tau} averages
    # g0 (1/dt) integral_0^dt e^{-s/tau} ds = g0 tau (1 - e^{-dt/tau}) / dt over the step;
    # with those means v relaxes exactly towards the step's equilibrium potential.
    def step_mean(g0: np.ndarray, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        return g0 * (-np.expm1(-dt / tau)) * tau / dt

    g_leak = np.asarray(p["cm"], dtype=np.float64) / p["tau_m"]
    g_e = step_mean(s["gsyn_exc"], p["tau_syn_E"])
    g_i = step_mean(s["gsyn_inh"], p["tau_syn_I"])
    g_tot = g_leak + g_e + g_i
    v_inf = (g_leak * p["v_rest"] + g_e * p["e_rev_E"] + g_i * p["e_rev_I"]
             + p["i_offset"] + i_inj) / g_tot
    v_free = v_inf + (s["v"] - v_inf) * np.exp(-dt * g_tot / p["cm"])
    active = s["refrac"] == 0
    v = np.where(active, v_free, s["v"])
    refrac = np.where(active, 0, s["refrac"] - 1)
    gsyn_exc = s["gsyn_exc"] * np.exp(-dt / p["tau_syn_E"]) + inputs[0]
    gsyn_inh = s["gsyn_inh"] * np.exp(-dt / p["tau_syn_I"]) + inputs[1]
    spiked = v >= p["v_thresh"]
    v = np.where(spiked, p["v_reset"], v)
    refrac = np.where(spiked, np.rint(np.asarray(p["tau_refrac"], float) / dt).astype(int), refrac)
    return {"v": v, "gsyn_exc": gsyn_exc, "gsyn_inh": gsyn_inh, "refrac": refrac}, spiked


def lif_cond_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """IF_cond_exp: exponential integrator with the step's mean conductances."""
    v_free = conductance_step(p, s["v"], s["gsyn_exc"] * p["mean_e"],
                               s["gsyn_inh"] * p["mean_i"], i_inj)
    decay_and_add(s, "gsyn_exc", p["decay_e"], inputs[0])
    decay_and_add(s, "gsyn_inh", p["decay_i"], inputs[1])
    return refractory_and_threshold(p, s, v_free)


#: Arithmetic per neuron update, counted from the kernel above.
# conductances 2 mul, g_tot 2 add, v_inf 3 mul 3 add + 1 div, v_free 3 + exp argument 2,
# decays 2 mul 2 add, tests 2
LIF_COND_EXP_OPS = KernelOps(single=21, div=1, exp=1)

MODEL = register(CellType(
    name="IF_cond_exp", kernel="lif_cond_exp", defaults=DEFAULTS, initial=INITIAL,
    receptors=("excitatory", "inhibitory"),
    recordables={"spikes": "", "v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh"},
    units={"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS"},
    param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=build_params,
    build_state=build_state, reference_step=reference_step, weight_units="uS",
    conductance_based=True, kernel_step=lif_cond_exp, ops=LIF_COND_EXP_OPS,
))
