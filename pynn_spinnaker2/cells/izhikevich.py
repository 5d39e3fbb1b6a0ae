r"""Izhikevich: the two-variable quadratic neuron of Izhikevich (2003).

.. math::

    \frac{dv}{dt} = 0.04 v^2 + 5 v + 140 - u + I, \qquad
    \frac{du}{dt} = a (b v - u)

with :math:`I = 1000 (i_{offset} + I_{inj})` (the equation is dimensionless in pA: PyNN's
currents are nA). When :math:`v \ge 30` mV a spike is emitted, :math:`v \leftarrow c` and
:math:`u \leftarrow u + d`. Synaptic events jump v by their weight (mV), as in NEST's
``izhikevich``.

Integration is forward Euler with the step's start values of both variables, NEST's
``consistent_integration`` scheme, with the same order of operations per step: the Euler
update, this step's synaptic jumps, the threshold test and reset. There is no refractory
period.
"""

from __future__ import annotations

import numpy as np

from .base import CellType, KernelOps, f32, pynn_defaults, structured
from .registry import register

DEFAULTS, INITIAL = pynn_defaults("Izhikevich")
#: The spike cut-off (mV), fixed in the model.
V_PEAK = 30.0
#: nA -> the model's current units (pA).
CURRENT_SCALE = 1000.0

PARAM_DTYPE = np.dtype([("a", "<f4"), ("b", "<f4"), ("c", "<f4"), ("d", "<f4"),
                        ("i_offset", "<f4"), ("dt", "<f4")])
STATE_DTYPE = np.dtype([("v", "<f4"), ("u", "<f4")])


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region; ``i_offset`` is stored in the model's pA units."""
    return structured(PARAM_DTYPE, len(p["a"]), a=f32(p["a"]), b=f32(p["b"]), c=f32(p["c"]),
                      d=f32(p["d"]), i_offset=f32(np.asarray(p["i_offset"]) * CURRENT_SCALE),
                      dt=f32(dt))


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0."""
    return structured(STATE_DTYPE, len(initial["v"]), v=f32(initial["v"]), u=f32(initial["u"]))


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                   inputs: np.ndarray, i_inj: np.ndarray, dt: float
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One step in float64 from the PyNN parameters; ``inputs`` (2, n) are jumps in mV."""
    # Its own constants (Izhikevich 2003; as NEST's izhikevich): currents in pA (1 nA =
    # 1000 pA) and the 30 mV cut-off, not the module's CURRENT_SCALE and V_PEAK.
    v, u = s["v"], s["u"]
    current = 1e3 * (p["i_offset"] + i_inj)
    v_new = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + current) + inputs[0] + inputs[1]
    u_new = u + dt * p["a"] * (p["b"] * v - u)
    spiked = v_new >= 30.0
    return {"v": np.where(spiked, p["c"], v_new),
            "u": np.where(spiked, u_new + p["d"], u_new)}, spiked


# The kernel's constants, as float32 so that the arithmetic stays in float32.
F32 = np.float32
_SCALE, _V_PEAK = F32(CURRENT_SCALE), F32(V_PEAK)
_A, _B, _C = F32(0.04), F32(5.0), F32(140.0)


def izhikevich(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
               i_inj: np.ndarray | None) -> np.ndarray:
    """Forward Euler from the step's start values, jumps, threshold and reset."""
    v, u = s["v"], s["u"]
    current = p["i_offset"] if i_inj is None else p["i_offset"] + _SCALE * i_inj
    dv = (_A * v * v + _B * v + _C) - u + current
    v_new = v + p["dt"] * dv + inputs[0] + inputs[1]
    u_new = u + p["dt"] * (p["a"] * (p["b"] * v - u))
    spiked = v_new >= _V_PEAK
    if np.count_nonzero(spiked):
        v_new = np.where(spiked, p["c"], v_new)
        u_new = np.where(spiked, u_new + p["d"], u_new)
    s["v"], s["u"] = v_new, u_new
    return spiked


MODEL = register(CellType(
    name="Izhikevich", kernel="izhikevich", defaults=DEFAULTS, initial=INITIAL,
    receptors=("excitatory", "inhibitory"), recordables={"spikes": "", "v": "v", "u": "u"},
    units={"v": "mV", "u": "mV/ms"}, param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE,
    build_params=build_params, build_state=build_state, reference_step=reference_step,
    weight_units="mV", kernel_step=izhikevich,
    # Euler step of v (7 mul/add) and u (4), two input adds, threshold, reset (2)
    ops=KernelOps(single=15, branches=2),
))
