r"""The NIR neuron family: LIF, CubaLIF, IF, LI, CubaLI, I and Threshold as one kernel.

Every NIR neuron node (nir 1.0.8, ``nir/ir/neuron.py``) is a linear system of at most two
states driven by an input current S, with an optional threshold and reset:

.. math::

    \tau_{syn} \dot I = -I + w_{in} S, \qquad
    \tau_{mem} \dot v = (v_{leak} - v) + R I \quad (R S \text{ without the synapse}),
    \qquad z = [v > v_{threshold}], \quad v \leftarrow v_{reset} \text{ where } z

``IF`` and ``I`` are :math:`\dot v = R S` (no leak), ``LI``/``CubaLI``/``I`` never spike, and
``Threshold`` is memoryless: :math:`z = [S > \theta]`.

What S is on the chip: S = ``bias`` + injected current + the weights of the spikes that
arrive in this step. A spike is taken to be the value 1 held for one time step (the
convention of every discrete-time SNN library that exports NIR), so the input is piecewise
constant and the step is integrated exactly over it (zero-order hold). With ``euler = 1``
the step is instead the forward-Euler step that snnTorch and Norse compute:
``v += dt / tau (v_leak - v + R I)``, ``I += dt / tau_syn (w_in S - I)``, v from the current
at the start of the step. ``doc/nir.md`` gives the differences in numbers.

Units on the chip: time in ms (``tau``, ``tau_mem``, ``tau_syn``), everything else as the NIR
graph has it (v, thresholds, weights, ``bias`` and ``r`` are plain numbers, used as mV and
nA). ``r`` of ``IF`` and ``I`` multiplies a rate, so it is per ms.

All seven cell types share one kernel and one memory layout: the update
``v' = v_leak + (v - v_leak) a_vv + a_vi I + g_v S``, ``I' = a_ii I + g_i S`` with the
coefficients computed on the host from the NIR parameters and the time step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import CellType, KernelOps, f32, structured
from .registry import register

KERNEL = "nir_cuba"

PARAM_DTYPE = np.dtype([
    ("v_leak", "<f4"), ("v_threshold", "<f4"), ("v_reset", "<f4"), ("bias", "<f4"),
    ("a_vv", "<f4"), ("a_vi", "<f4"), ("a_ii", "<f4"), ("g_v", "<f4"), ("g_i", "<f4"),
])
STATE_DTYPE = np.dtype([("v", "<f4"), ("i_syn", "<f4")])

#: Cell type name -> NIR node type and default parameters (NIR's names, time in ms).
DEFAULTS: dict[str, dict[str, float]] = {
    "NIR_LIF": {"tau": 10.0, "r": 1.0, "v_leak": 0.0, "v_threshold": 1.0, "v_reset": 0.0,
                "bias": 0.0, "euler": 0.0},
    "NIR_CubaLIF": {"tau_syn": 5.0, "tau_mem": 10.0, "r": 1.0, "v_leak": 0.0,
                    "v_threshold": 1.0, "v_reset": 0.0, "w_in": 1.0, "bias": 0.0,
                    "euler": 0.0},
    "NIR_IF": {"r": 1.0, "v_threshold": 1.0, "v_reset": 0.0, "bias": 0.0},
    "NIR_LI": {"tau": 10.0, "r": 1.0, "v_leak": 0.0, "bias": 0.0, "euler": 0.0},
    "NIR_CubaLI": {"tau_syn": 5.0, "tau_mem": 10.0, "r": 1.0, "v_leak": 0.0, "w_in": 1.0,
                   "bias": 0.0, "euler": 0.0},
    "NIR_I": {"r": 1.0, "bias": 0.0},
    "NIR_Threshold": {"threshold": 0.0, "bias": 0.0},
}
#: NIR node type of each cell type.
NIR_TYPE = {name: name[len("NIR_"):] for name in DEFAULTS}


def _leaky(tau: np.ndarray, euler: np.ndarray, dt: float) -> np.ndarray:
    """Decay of a leaky state over one step: exact, or forward Euler where ``euler``."""
    tau = np.asarray(tau, dtype=float)
    return np.where(np.asarray(euler) > 0.5, 1.0 - dt / tau, np.exp(-dt / tau))


def synaptic_to_membrane(tau_mem: np.ndarray, tau_syn: np.ndarray, dt: float) -> np.ndarray:
    """v change over one exact step per unit R I of a synaptic current decaying with tau_syn
    (the P21 propagator element); the limit tau_syn -> tau_mem is handled."""
    tau_mem = np.asarray(tau_mem, dtype=float)
    tau_syn = np.asarray(tau_syn, dtype=float)
    same = np.isclose(tau_mem, tau_syn, rtol=1e-9)
    safe = np.where(same, tau_mem * (1 + 1e-6), tau_syn)
    general = safe / (safe - tau_mem) * (np.exp(-dt / safe) - np.exp(-dt / tau_mem))
    return np.where(same, dt / tau_mem * np.exp(-dt / tau_mem), general)


def coefficients(model: str, p: dict[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
    """The step coefficients (``v_leak``, ``a_vv``, ``a_vi``, ``a_ii``, ``g_v``, ``g_i``,
    ``v_threshold``, ``v_reset``) of one NIR cell type, in float64."""
    n = len(next(iter(p.values())))
    zero, one = np.zeros(n), np.ones(n)
    inf = np.full(n, np.inf)
    euler = np.asarray(p.get("euler", zero), dtype=float)
    c = {"v_leak": zero, "a_vi": zero, "a_ii": zero, "g_i": zero,
         "v_threshold": np.asarray(p.get("v_threshold", inf), dtype=float),
         "v_reset": np.asarray(p.get("v_reset", zero), dtype=float)}
    if model in ("NIR_LIF", "NIR_LI"):
        decay = _leaky(p["tau"], euler, dt)
        c.update(v_leak=p["v_leak"], a_vv=decay, g_v=p["r"] * (1.0 - decay))
    elif model in ("NIR_IF", "NIR_I"):
        c.update(a_vv=one, g_v=p["r"] * dt)
    elif model == "NIR_Threshold":
        c.update(a_vv=zero, g_v=one, v_threshold=np.asarray(p["threshold"], dtype=float))
    elif model in ("NIR_CubaLIF", "NIR_CubaLI"):
        dm = _leaky(p["tau_mem"], euler, dt)
        ds = _leaky(p["tau_syn"], euler, dt)
        p21 = synaptic_to_membrane(p["tau_mem"], p["tau_syn"], dt)
        is_euler = euler > 0.5
        c.update(v_leak=p["v_leak"], a_vv=dm, a_ii=ds, g_i=p["w_in"] * (1.0 - ds),
                 a_vi=p["r"] * np.where(is_euler, 1.0 - dm, p21),
                 g_v=np.where(is_euler, 0.0, p["r"] * p["w_in"] * (1.0 - dm - p21)))
    else:
        raise KeyError(f"{model!r} is not a NIR cell type; they are {sorted(DEFAULTS)}")
    return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in c.items()}


def _builder(model: str) -> Callable[[dict[str, np.ndarray], float], np.ndarray]:
    def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
        """The neuron region: NIR parameters -> the step coefficients the kernel reads."""
        c = coefficients(model, p, dt)
        return structured(PARAM_DTYPE, len(c["a_vv"]), bias=f32(p["bias"]),
                          **{k: f32(v) for k, v in c.items()})

    return build_params


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0."""
    n = len(initial["v"])
    return structured(STATE_DTYPE, n, v=f32(initial["v"]),
                      i_syn=f32(initial.get("i_syn", np.zeros(n))))


def _reference(model: str) -> Callable[..., tuple[dict[str, np.ndarray], np.ndarray]]:
    def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray],
                       inputs: np.ndarray, i_inj: np.ndarray, dt: float
                       ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """One step in float64 from the NIR parameters, written from the node equations on
        its own (nothing shared with :func:`coefficients`, the parameter builder or the
        kernel).

        ``inputs`` (2, n): the summed weights of the spikes arriving in this step (each
        spike is the value 1 held over the step); ``i_inj``: injected current. S is held
        over the step: exact solution of the linear system (zero-order hold), or the
        forward-Euler step from the step's start where ``euler`` is 1.
        """
        n = len(s["v"])
        big_s = np.broadcast_to(p["bias"] + i_inj + inputs[0] + inputs[1], (n,))
        v0 = np.asarray(s["v"], dtype=np.float64)
        i0 = np.asarray(s.get("i_syn", np.zeros(n)), dtype=np.float64)
        euler = np.asarray(p.get("euler", np.zeros(n)), dtype=np.float64) > 0.5
        threshold = np.asarray(p.get("v_threshold", np.full(n, np.inf)), dtype=np.float64)
        i1 = np.zeros(n)
        if model in ("NIR_LIF", "NIR_LI"):
            tau, target = p["tau"], p["v_leak"] + p["r"] * big_s
            v1 = np.where(euler, v0 + dt / tau * (target - v0),
                          target + (v0 - target) * np.exp(-dt / tau))
        elif model in ("NIR_IF", "NIR_I"):
            v1 = v0 + p["r"] * big_s * dt
        elif model == "NIR_Threshold":
            v1, threshold = big_s.astype(np.float64), np.asarray(p["threshold"], np.float64)
        else:  # NIR_CubaLIF, NIR_CubaLI
            tau_m = np.asarray(p["tau_mem"], dtype=np.float64)
            tau_s = np.asarray(p["tau_syn"], dtype=np.float64)
            i_inf = p["w_in"] * big_s
            e_m = np.exp(-dt / tau_m)
            # u = v - v_leak: u' = -u/tau_m + r I/tau_m with I(t) = i_inf + (I0 - i_inf)
            # e^{-t/tau_s}; the transient's part is e_m/tau_m * integral_0^dt e^{a t} dt,
            # a = 1/tau_m - 1/tau_s.
            a = 1.0 / tau_m - 1.0 / tau_s
            tiny = np.abs(a * dt) < 1e-12
            integral = np.where(tiny, dt, np.expm1(a * dt) / np.where(tiny, 1.0, a))
            u1_exact = ((v0 - p["v_leak"]) * e_m + p["r"] * i_inf * -np.expm1(-dt / tau_m)
                        + p["r"] * (i0 - i_inf) * e_m * integral / tau_m)
            u1_euler = (v0 - p["v_leak"]) + dt / tau_m * (p["r"] * i0 - (v0 - p["v_leak"]))
            v1 = p["v_leak"] + np.where(euler, u1_euler, u1_exact)
            i1 = np.where(euler, i0 + dt / tau_s * (i_inf - i0),
                          i_inf + (i0 - i_inf) * np.exp(-dt / tau_s))
        spiked = v1 > threshold
        reset = np.asarray(p.get("v_reset", np.zeros(n)), dtype=np.float64)
        return {"v": np.where(spiked, reset, v1), "i_syn": i1}, spiked

    return reference_step


F32 = np.float32


def nir_cuba(p: np.ndarray, s: dict[str, np.ndarray], inputs: np.ndarray,
             i_inj: np.ndarray | None) -> np.ndarray:
    """Input current held over the step (bias, injected current, this step's spikes), the
    exact (or Euler) step, then ``v > v_threshold`` and reset to ``v_reset``."""
    drive = p["bias"] + inputs[0] + inputs[1]
    if i_inj is not None:
        drive = drive + i_inj
    v = (p["v_leak"] + (s["v"] - p["v_leak"]) * p["a_vv"] + p["a_vi"] * s["i_syn"]
         + p["g_v"] * drive)
    s["i_syn"] = (p["a_ii"] * s["i_syn"] + p["g_i"] * drive).astype(F32)
    spiked = v > p["v_threshold"]
    s["v"] = np.where(spiked, p["v_reset"], v).astype(F32)
    return spiked


# drive 3 adds, v 1 sub 3 mul 3 add, i_syn 2 mul 1 add, threshold/reset
OPS = KernelOps(single=14, branches=2)


def _model(name: str) -> CellType:
    spiking = "v_threshold" in DEFAULTS[name] or name == "NIR_Threshold"
    synaptic = "tau_syn" in DEFAULTS[name]
    recordables = {"v": "v"}
    units = {"v": "mV"}
    if spiking:
        recordables["spikes"] = ""
    if synaptic:
        recordables["i_syn"] = "i_syn"
        units["i_syn"] = "nA"
    return CellType(
        name=name, kernel=KERNEL, defaults=DEFAULTS[name], initial={"v": 0.0, "i_syn": 0.0},
        receptors=("excitatory", "inhibitory"), recordables=recordables, units=units,
        param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=_builder(name),
        build_state=build_state, reference_step=_reference(name),
        extra={"nir_type": NIR_TYPE[name], "spiking": spiking}, kernel_step=nir_cuba,
        ops=OPS,
    )


#: The seven cell models, by name.
MODELS: dict[str, CellType] = {name: register(_model(name)) for name in DEFAULTS}
