r"""IF_cond_exp_gsfa_grr: the conductance-based leaky integrate-and-fire neuron with
spike-frequency adaptation and a relative refractory mechanism (Muller et al. 2007), NEST's
``iaf_cond_exp_sfa_rr``.

.. math::

    c_m \frac{dv}{dt} = g_L (v_{rest} - v) + g_e (E_e - v) + g_i (E_i - v)
                        + g_s (E_{sfa} - v) + g_r (E_{rr} - v) + I_{offset} + I_{inj},

    \tau_{syn} \frac{dg_{e,i}}{dt} = -g_{e,i}, \quad \tau_{sfa} \frac{dg_s}{dt} = -g_s,
    \quad \tau_{rr} \frac{dg_r}{dt} = -g_r, \quad g_L = c_m / \tau_m

A synaptic event of weight w adds w (uS) to :math:`g_{e,i}`. When v reaches ``v_thresh`` the
neuron spikes, v is reset to ``v_reset`` and held there for ``tau_refrac``, and the adaptation
conductances jump: :math:`g_s \mathrel{+}= q_{sfa}`, :math:`g_r \mathrel{+}= q_{rr}` (nS, as
PyNN gives them; the state region holds :math:`g_s` and :math:`g_r` in nS, recorded as such).

Each step integrates v exactly for the mean of each of the four conductances over the step,
as :mod:`.lif_cond_exp` does for two: v relaxes towards the step's equilibrium potential with
the step's effective time constant. This is exact for constant conductances and second-order
accurate otherwise; NEST integrates the same equations with an adaptive Runge-Kutta-Fehlberg
solver, and adds this step's synaptic events, tests the threshold and applies the jumps after
the step in the same order as here.
"""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from ._lif_kernels import drive, refractory_and_threshold
from .base import CellType, KernelOps, f32, pynn_defaults, refractory_steps, structured
from .registry import register

DEFAULTS, INITIAL = pynn_defaults("IF_cond_exp_gsfa_grr")

#: Conductances of the model: (state field, time-constant parameter, reversal parameter).
_CHANNELS = (("gsyn_exc", "tau_syn_E", "e_rev_E"), ("gsyn_inh", "tau_syn_I", "e_rev_I"),
             ("g_s", "tau_sfa", "e_rev_sfa"), ("g_r", "tau_rr", "e_rev_rr"))

PARAM_DTYPE = np.dtype(
    [("v_rest", "<f4"), ("v_reset", "<f4"), ("v_thresh", "<f4"), ("i_offset", "<f4"),
     ("cm", "<f4"), ("g_leak", "<f4"), ("dt", "<f4")]
    + [(f"e_{g}", "<f4") for g, _, _ in _CHANNELS]
    + [(f"decay_{g}", "<f4") for g, _, _ in _CHANNELS]
    + [(f"mean_{g}", "<f4") for g, _, _ in _CHANNELS]
    + [("q_sfa", "<f4"), ("q_rr", "<f4"), ("refrac_steps", "<i4")])
STATE_DTYPE = np.dtype([("v", "<f4"), ("gsyn_exc", "<f4"), ("gsyn_inh", "<f4"),
                        ("g_s", "<f4"), ("g_r", "<f4"), ("refrac", "<i4")])

#: nS -> uS: g_s and g_r are kept in nS (PyNN's unit for them), the others in uS.
_NS = {"gsyn_exc": 1.0, "gsyn_inh": 1.0, "g_s": 1e-3, "g_r": 1e-3}


def check(pop: object) -> None:
    """The adaptation time constants must be positive (NEST refuses others too); a zero
    one would divide by zero in the step's decay factors."""
    for name in ("tau_sfa", "tau_rr"):
        values = np.broadcast_to(pop.params.get(name, DEFAULTS[name]), (pop.size,))
        bad = np.flatnonzero(~(np.asarray(values) > 0))
        if bad.size:
            raise NetworkError(
                f"population {pop.label!r} ({pop.model}): {name} must be > 0 ms, neuron "
                f"{int(bad[0])} has {float(values[bad[0]]):g} ({bad.size} neurons in all); "
                f"set a positive time constant (a large one for no adaptation)")


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region: PyNN parameters -> what the kernel reads.

    ``mean_<g>`` is the mean over one step of a unit exponential of the channel's time
    constant, times the channel's unit factor to uS; ``decay_<g>`` its decay over a step.
    """
    cols: dict[str, np.ndarray] = {}
    for g, tau_name, e_name in _CHANNELS:
        tau = np.asarray(p[tau_name], dtype=float)
        cols[f"e_{g}"] = f32(p[e_name])
        cols[f"decay_{g}"] = f32(np.exp(-dt / tau))
        cols[f"mean_{g}"] = f32(_NS[g] * tau / dt * (1.0 - np.exp(-dt / tau)))
    return structured(
        PARAM_DTYPE, len(p["tau_m"]), v_rest=f32(p["v_rest"]), v_reset=f32(p["v_reset"]),
        v_thresh=f32(p["v_thresh"]), i_offset=f32(p["i_offset"]), cm=f32(p["cm"]),
        g_leak=f32(np.asarray(p["cm"], dtype=float) / p["tau_m"]), dt=f32(dt),
        q_sfa=f32(p["q_sfa"]), q_rr=f32(p["q_rr"]),
        refrac_steps=refractory_steps(p["tau_refrac"], dt), **cols)


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0 (g_s and g_r in nS)."""
    n = len(initial["v"])
    zeros = np.zeros(n)
    return structured(STATE_DTYPE, n, v=f32(initial["v"]), refrac=0,
                      **{g: f32(initial.get(g, zeros)) for g, _, _ in _CHANNELS})


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                   inputs: np.ndarray, i_inj: np.ndarray, dt: float
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One step in float64 from the PyNN parameters; ``inputs`` (2, n) in uS."""
    # Written on its own from the module docstring: g0 e^{-t/tau} averages
    # g0 tau (1 - e^{-dt/tau}) / dt over the step; g_s, g_r are in nS, hence the 1/1000.
    def averaged(g0: np.ndarray, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        return g0 * tau * -np.expm1(-dt / tau) / dt

    g_l = np.asarray(p["cm"], dtype=np.float64) / p["tau_m"]
    ge = averaged(s["gsyn_exc"], p["tau_syn_E"])
    gi = averaged(s["gsyn_inh"], p["tau_syn_I"])
    gs = averaged(s["g_s"], p["tau_sfa"]) / 1000.0
    gr = averaged(s["g_r"], p["tau_rr"]) / 1000.0
    total = g_l + ge + gi + gs + gr
    target = (g_l * p["v_rest"] + ge * p["e_rev_E"] + gi * p["e_rev_I"] + gs * p["e_rev_sfa"]
              + gr * p["e_rev_rr"] + p["i_offset"] + i_inj) / total
    free = target + (s["v"] - target) * np.exp(-dt * total / p["cm"])
    held = s["refrac"] > 0
    v = np.where(held, s["v"], free)
    out = {
        "gsyn_exc": s["gsyn_exc"] * np.exp(-dt / p["tau_syn_E"]) + inputs[0],
        "gsyn_inh": s["gsyn_inh"] * np.exp(-dt / p["tau_syn_I"]) + inputs[1],
        "g_s": s["g_s"] * np.exp(-dt / p["tau_sfa"]),
        "g_r": s["g_r"] * np.exp(-dt / p["tau_rr"]),
    }
    spiked = v >= p["v_thresh"]
    out["v"] = np.where(spiked, p["v_reset"], v)
    out["g_s"] = out["g_s"] + np.where(spiked, p["q_sfa"], 0.0)
    out["g_r"] = out["g_r"] + np.where(spiked, p["q_rr"], 0.0)
    steps = np.rint(np.asarray(p["tau_refrac"], dtype=float) / dt).astype(int)
    out["refrac"] = np.where(spiked, steps, np.where(held, s["refrac"] - 1, 0))
    return out, spiked


def lif_cond_exp_gsfa_grr(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                          inputs: np.ndarray, i_inj: np.ndarray | None) -> np.ndarray:
    """IF_cond_exp_gsfa_grr: exponential integrator with the four step-mean conductances,
    then the conductances one step on, threshold, reset and adaptation jumps."""
    ge = s["gsyn_exc"] * p["mean_gsyn_exc"]
    gi = s["gsyn_inh"] * p["mean_gsyn_inh"]
    gs = s["g_s"] * p["mean_g_s"]
    gr = s["g_r"] * p["mean_g_r"]
    g_tot = p["g_leak"] + ge + gi + gs + gr
    v_inf = (p["g_leak"] * p["v_rest"] + ge * p["e_gsyn_exc"] + gi * p["e_gsyn_inh"]
             + gs * p["e_g_s"] + gr * p["e_g_r"] + drive(p, i_inj)) / g_tot
    v_free = v_inf + (s["v"] - v_inf) * np.exp(-p["dt"] * g_tot / p["cm"])
    s["gsyn_exc"] = s["gsyn_exc"] * p["decay_gsyn_exc"] + inputs[0]
    s["gsyn_inh"] = s["gsyn_inh"] * p["decay_gsyn_inh"] + inputs[1]
    s["g_s"] = s["g_s"] * p["decay_g_s"]
    s["g_r"] = s["g_r"] * p["decay_g_r"]
    spiked = refractory_and_threshold(p, s, v_free)
    fired = spiked.nonzero()[0]
    if fired.size:
        s["g_s"][fired] += p["q_sfa"][fired]
        s["g_r"][fired] += p["q_rr"][fired]
    return spiked


#: Arithmetic per neuron update, counted from the kernel above.
# 4 step means (mul), g_tot 4 add, v_inf 5 mul 5 add + 1 div, v_free 3 + exp argument 2,
# 4 decays (mul) and 2 adds, threshold test 1, jumps 2 (on a spike)
LIF_COND_EXP_GSFA_GRR_OPS = KernelOps(single=33, div=1, exp=1)

MODEL = register(CellType(
    name="IF_cond_exp_gsfa_grr", kernel="lif_cond_exp_gsfa_grr", defaults=DEFAULTS,
    initial=INITIAL, receptors=("excitatory", "inhibitory"),
    recordables={"spikes": "", "v": "v", "g_r": "g_r", "g_s": "g_s", "gsyn_exc": "gsyn_exc",
                 "gsyn_inh": "gsyn_inh"},
    units={"v": "mV", "g_r": "nS", "g_s": "nS", "gsyn_exc": "uS", "gsyn_inh": "uS"},
    param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=build_params,
    build_state=build_state, reference_step=reference_step, weight_units="uS",
    conductance_based=True, kernel_step=lif_cond_exp_gsfa_grr, ops=LIF_COND_EXP_GSFA_GRR_OPS,
    extra={"check": check},
))
