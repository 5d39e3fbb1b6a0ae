r"""IF_curr_exp: leaky integrate-and-fire neuron with exponentially decaying synaptic currents.

.. math::

    \tau_m \frac{dv}{dt} = (v_{rest} - v) + R_m (I_e + I_i + I_{offset} + I_{inj}), \qquad
    \tau_{syn} \frac{dI}{dt} = -I

with :math:`R_m = \tau_m / c_m`. A spike is emitted when :math:`v \ge v_{thresh}`; then
:math:`v \leftarrow v_{reset}` and v is clamped for ``tau_refrac``. A synaptic event of
weight w adds w (nA) to I at its arrival time.

Integration is exact (the propagator matrix of Rotter & Diesmann 1999, as NEST's
``iaf_psc_exp``), with the same order of operations per step: membrane update from the
currents at the start of the step, current decay, arrival of this step's events, threshold.
"""

from __future__ import annotations

import numpy as np

from ._lif_kernels import decay_and_add, drive, leak, refractory_and_threshold
from .base import CellType, KernelOps, f32, pynn_defaults, refractory_steps, structured
from .registry import register

DEFAULTS, INITIAL = pynn_defaults("IF_curr_exp")

PARAM_DTYPE = np.dtype([
    ("v_rest", "<f4"), ("v_reset", "<f4"), ("v_thresh", "<f4"), ("i_offset", "<f4"),
    ("decay_m", "<f4"), ("r_m", "<f4"), ("p21_e", "<f4"), ("p21_i", "<f4"),
    ("decay_e", "<f4"), ("decay_i", "<f4"), ("refrac_steps", "<i4"),
])
STATE_DTYPE = np.dtype([("v", "<f4"), ("isyn_exc", "<f4"), ("isyn_inh", "<f4"),
                        ("refrac", "<i4")])


def current_to_voltage(tau_m: np.ndarray, tau_syn: np.ndarray, cm: np.ndarray,
                       dt: float) -> np.ndarray:
    """Voltage change over one step caused by a unit synaptic current decaying with tau_syn.

    This is the P21 element of the exact propagator; the limit tau_syn -> tau_m is handled.
    """
    tau_m = np.asarray(tau_m, dtype=float)
    tau_syn = np.asarray(tau_syn, dtype=float)
    cm = np.asarray(cm, dtype=float)
    same = np.isclose(tau_m, tau_syn, rtol=1e-9)
    safe_syn = np.where(same, tau_m * (1 + 1e-6), tau_syn)
    general = (tau_m * safe_syn / (cm * (safe_syn - tau_m))
               * (np.exp(-dt / safe_syn) - np.exp(-dt / tau_m)))
    limit = dt / cm * np.exp(-dt / tau_m)
    return np.where(same, limit, general)


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region: PyNN parameters -> what the kernel reads."""
    n = len(p["tau_m"])
    decay_m = np.exp(-dt / p["tau_m"])
    return structured(
        PARAM_DTYPE, n,
        v_rest=f32(p["v_rest"]), v_reset=f32(p["v_reset"]), v_thresh=f32(p["v_thresh"]),
        i_offset=f32(p["i_offset"]), decay_m=f32(decay_m),
        r_m=f32(p["tau_m"] / p["cm"] * (1.0 - decay_m)),
        p21_e=f32(current_to_voltage(p["tau_m"], p["tau_syn_E"], p["cm"], dt)),
        p21_i=f32(current_to_voltage(p["tau_m"], p["tau_syn_I"], p["cm"], dt)),
        decay_e=f32(np.exp(-dt / p["tau_syn_E"])), decay_i=f32(np.exp(-dt / p["tau_syn_I"])),
        refrac_steps=refractory_steps(p["tau_refrac"], dt),
    )


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0."""
    n = len(initial["v"])
    return structured(STATE_DTYPE, n, v=f32(initial["v"]),
                      isyn_exc=f32(initial.get("isyn_exc", np.zeros(n))),
                      isyn_inh=f32(initial.get("isyn_inh", np.zeros(n))), refrac=0)


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                   inputs: np.ndarray, i_inj: np.ndarray, dt: float
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One step in float64, computed from the PyNN parameters directly.

    Parameters
    ----------
    p
        PyNN parameters (arrays).
    s
        State: ``v``, ``isyn_exc``, ``isyn_inh``, ``refrac`` (remaining refractory steps).
    inputs
        Shape (2, n): summed weights arriving at the end of this step, per receptor.
    i_inj
        Injected current during this step (nA).
    dt
        Time step (ms).

    Returns
    -------
    new_state, spiked
    """
    # Written from the ODE on its own (nothing shared with build_params or the kernel):
    # over one step, v - v_rest decays by e^{-dt/tau_m}; a constant current I adds
    # I/c_m * integral_0^dt e^{-(dt-s)/tau_m} ds = I tau_m/c_m (1 - e^{-dt/tau_m}); a current
    # I0 e^{-s/tau_s} adds I0/c_m e^{-dt/tau_m} (e^{a dt} - 1)/a with a = 1/tau_m - 1/tau_s
    # (-> I0 dt/c_m e^{-dt/tau_m} when a = 0).
    tau_m = np.asarray(p["tau_m"], dtype=np.float64)
    c_m = np.asarray(p["cm"], dtype=np.float64)
    e_m = np.exp(-dt / tau_m)

    def psc_to_v(tau_s: np.ndarray) -> np.ndarray:
        a = 1.0 / tau_m - 1.0 / np.asarray(tau_s, dtype=np.float64)
        tiny = np.abs(a * dt) < 1e-12
        integral = np.where(tiny, dt, np.expm1(a * dt) / np.where(tiny, 1.0, a))
        return e_m * integral / c_m

    v_free = (p["v_rest"] + (s["v"] - p["v_rest"]) * e_m
              + psc_to_v(p["tau_syn_E"]) * s["isyn_exc"]
              + psc_to_v(p["tau_syn_I"]) * s["isyn_inh"]
              + (p["i_offset"] + i_inj) * tau_m * -np.expm1(-dt / tau_m) / c_m)
    active = s["refrac"] == 0
    v = np.where(active, v_free, s["v"])
    refrac = np.where(active, 0, s["refrac"] - 1)
    isyn_exc = s["isyn_exc"] * np.exp(-dt / p["tau_syn_E"]) + inputs[0]
    isyn_inh = s["isyn_inh"] * np.exp(-dt / p["tau_syn_I"]) + inputs[1]
    spiked = v >= p["v_thresh"]
    v = np.where(spiked, p["v_reset"], v)
    refrac = np.where(spiked, np.rint(np.asarray(p["tau_refrac"], float) / dt).astype(int), refrac)
    return {"v": v, "isyn_exc": isyn_exc, "isyn_inh": isyn_inh, "refrac": refrac}, spiked


def lif_curr_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_exp: exact propagators precomputed in the parameter region."""
    v_free = leak(p, s["v"])
    v_free += p["p21_e"] * s["isyn_exc"]
    v_free += p["p21_i"] * s["isyn_inh"]
    v_free += p["r_m"] * drive(p, i_inj)
    decay_and_add(s, "isyn_exc", p["decay_e"], inputs[0])
    decay_and_add(s, "isyn_inh", p["decay_i"], inputs[1])
    return refractory_and_threshold(p, s, v_free)


#: Arithmetic per neuron update, counted from the kernel above.
# v_free: 1 sub, 4 mul, 5 add; two synaptic decays: 2 mul, 2 add; refractory + threshold
LIF_CURR_EXP_OPS = KernelOps(single=16)

MODEL = register(CellType(
    name="IF_curr_exp", kernel="lif_curr_exp", defaults=DEFAULTS, initial=INITIAL,
    receptors=("excitatory", "inhibitory"),
    recordables={"spikes": "", "v": "v", "isyn_exc": "isyn_exc", "isyn_inh": "isyn_inh"},
    units={"v": "mV", "isyn_exc": "nA", "isyn_inh": "nA"},
    param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=build_params,
    build_state=build_state, reference_step=reference_step, kernel_step=lif_curr_exp,
    ops=LIF_CURR_EXP_OPS,
))
