r"""IF_curr_delta: leaky integrate-and-fire neuron whose synaptic events jump the membrane.

.. math::

    \tau_m \frac{dv}{dt} = (v_{rest} - v) + R_m (I_{offset} + I_{inj}), \qquad
    v \leftarrow v + w \text{ at each event}

Weights are in mV. Exact integration between events, as NEST's ``iaf_psc_delta``: events
arriving during the refractory period are discarded.
"""

from __future__ import annotations

import numpy as np

from ._lif_kernels import drive, leak, refractory_and_threshold
from .base import CellType, KernelOps, f32, pynn_defaults, refractory_steps, structured
from .registry import register

DEFAULTS, INITIAL = pynn_defaults("IF_curr_delta")

PARAM_DTYPE = np.dtype([
    ("v_rest", "<f4"), ("v_reset", "<f4"), ("v_thresh", "<f4"), ("i_offset", "<f4"),
    ("decay_m", "<f4"), ("r_m", "<f4"), ("refrac_steps", "<i4"),
])
STATE_DTYPE = np.dtype([("v", "<f4"), ("refrac", "<i4")])


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region: PyNN parameters -> what the kernel reads."""
    decay_m = np.exp(-dt / p["tau_m"])
    return structured(
        PARAM_DTYPE, len(p["tau_m"]), v_rest=f32(p["v_rest"]), v_reset=f32(p["v_reset"]),
        v_thresh=f32(p["v_thresh"]), i_offset=f32(p["i_offset"]), decay_m=f32(decay_m),
        r_m=f32(p["tau_m"] / p["cm"] * (1.0 - decay_m)),
        refrac_steps=refractory_steps(p["tau_refrac"], dt),
    )


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0."""
    return structured(STATE_DTYPE, len(initial["v"]), v=f32(initial["v"]), refrac=0)


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                   inputs: np.ndarray, i_inj: np.ndarray, dt: float
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One step in float64; ``inputs`` (2, n) are the summed jumps (mV) arriving now."""
    # From the ODE on its own (nothing shared with build_params or the kernel): v - v_rest
    # decays by e^{-dt/tau_m}, a constant current I adds I tau_m/c_m (1 - e^{-dt/tau_m}).
    tau_m = np.asarray(p["tau_m"], dtype=np.float64)
    v_free = (p["v_rest"] + (s["v"] - p["v_rest"]) * np.exp(-dt / tau_m)
              + (p["i_offset"] + i_inj) * tau_m * -np.expm1(-dt / tau_m) / p["cm"]
              + inputs[0] + inputs[1])
    active = s["refrac"] == 0
    v = np.where(active, v_free, s["v"])
    refrac = np.where(active, 0, s["refrac"] - 1)
    spiked = v >= p["v_thresh"]
    v = np.where(spiked, p["v_reset"], v)
    refrac = np.where(spiked, np.rint(np.asarray(p["tau_refrac"], float) / dt).astype(int),
                      refrac)
    return {"v": v, "refrac": refrac}, spiked


def lif_curr_delta(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """IF_curr_delta: events jump v (mV); those arriving while refractory are lost."""
    v_free = leak(p, s["v"])
    v_free += p["r_m"] * drive(p, i_inj)
    v_free += inputs[0]
    v_free += inputs[1]
    return refractory_and_threshold(p, s, v_free)


#: Arithmetic per neuron update, counted from the kernel above.
# v_free: 1 sub, 2 mul, 5 add; refractory + threshold
LIF_CURR_DELTA_OPS = KernelOps(single=10)

MODEL = register(CellType(
    name="IF_curr_delta", kernel="lif_curr_delta", defaults=DEFAULTS, initial=INITIAL,
    receptors=("excitatory", "inhibitory"), recordables={"spikes": "", "v": "v"},
    units={"v": "mV"}, param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE,
    build_params=build_params, build_state=build_state, reference_step=reference_step,
    weight_units="mV", kernel_step=lif_curr_delta, ops=LIF_CURR_DELTA_OPS,
))
