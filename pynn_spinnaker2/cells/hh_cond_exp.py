r"""HH_cond_exp: the single-compartment Hodgkin-Huxley neuron of Traub & Miles (1991) with
exponentially decaying synaptic conductances, NEST's ``hh_cond_exp_traub``.

.. math::

    c_m \frac{dV}{dt} = -\bar g_{Na} m^3 h (V - E_{Na}) - \bar g_K n^4 (V - E_K)
                        - g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i) + I, \qquad
    \frac{dx}{dt} = \alpha_x(u) - (\alpha_x(u) + \beta_x(u))\,x \quad (x = m, h, n)

with :math:`u = V - V_{offset}` (mV) and the rates (1/ms)

.. math::

    \alpha_n = \frac{0.032 (15 - u)}{e^{(15 - u)/5} - 1}, \;
    \beta_n = 0.5 e^{(10 - u)/40}, \;
    \alpha_m = \frac{0.32 (13 - u)}{e^{(13 - u)/4} - 1}, \;
    \beta_m = \frac{0.28 (u - 40)}{e^{(u - 40)/5} - 1}, \;
    \alpha_h = 0.128 e^{(17 - u)/18}, \;
    \beta_h = \frac{4}{1 + e^{(40 - u)/5}}

and :math:`\tau_{syn} \dot g = -g`; a synaptic event of weight w adds w (uS) to g. There is
no reset: a spike is sent at the end of a step when V is at or above :math:`V_{offset} +
30` mV and lower than at the step's start (the peak has passed), and then no spike for the
next ``DEAD_TIME`` ms (NEST's ``t_ref``, which PyNN leaves at NEST's default of 2 ms).

Each step integrates (V, m, h, n) with classical Runge-Kutta (RK4) substeps of at most
``MAX_SUBSTEP`` ms, the conductances being exact exponentials of time within it; this step's
synaptic events are added afterwards, and the spike test follows, in NEST's order. NEST
integrates with adaptive Runge-Kutta-Fehlberg 4(5) steps at an absolute error of 1e-3 per
step; the tests compare spike times and traces with it.
"""

from __future__ import annotations

import numpy as np

from .base import CellType, KernelOps, f32, pynn_defaults, structured
from .registry import register

DEFAULTS, INITIAL = pynn_defaults("HH_cond_exp")
#: Longest RK4 substep (ms): the sodium upstroke has a time constant near 0.01 ms.
MAX_SUBSTEP = 0.01
#: No spike is sent for this long after one (ms): NEST's default ``t_ref``.
DEAD_TIME = 2.0


def substeps(dt: float) -> int:
    """RK4 substeps per time step."""
    return max(1, int(np.ceil(dt / MAX_SUBSTEP - 1e-9)))


PARAM_DTYPE = np.dtype([
    ("inv_cm", "<f4"), ("g_na", "<f4"), ("g_k", "<f4"), ("g_leak", "<f4"), ("e_na", "<f4"),
    ("e_k", "<f4"), ("e_leak", "<f4"), ("e_rev_e", "<f4"), ("e_rev_i", "<f4"),
    ("v_offset", "<f4"), ("v_spike", "<f4"), ("i_offset", "<f4"), ("h", "<f4"),
    ("half_e", "<f4"), ("half_i", "<f4"), ("decay_e", "<f4"), ("decay_i", "<f4"),
    ("substeps", "<i4"), ("dead_steps", "<i4"),
])
STATE_DTYPE = np.dtype([("v", "<f4"), ("m", "<f4"), ("h", "<f4"), ("n", "<f4"),
                        ("gsyn_exc", "<f4"), ("gsyn_inh", "<f4"), ("refrac", "<i4")])


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region; ``h`` is the substep, ``half_*``/``decay_*`` the conductance decay
    over half a substep and a substep."""
    n_sub = substeps(dt)
    h = dt / n_sub
    n = len(p["cm"])
    tau_e = np.asarray(p["tau_syn_E"], dtype=float)
    tau_i = np.asarray(p["tau_syn_I"], dtype=float)
    return structured(
        PARAM_DTYPE, n, inv_cm=f32(1.0 / np.asarray(p["cm"], dtype=float)),
        g_na=f32(p["gbar_Na"]), g_k=f32(p["gbar_K"]), g_leak=f32(p["g_leak"]),
        e_na=f32(p["e_rev_Na"]), e_k=f32(p["e_rev_K"]), e_leak=f32(p["e_rev_leak"]),
        e_rev_e=f32(p["e_rev_E"]), e_rev_i=f32(p["e_rev_I"]), v_offset=f32(p["v_offset"]),
        v_spike=f32(np.asarray(p["v_offset"], dtype=float) + 30.0),
        i_offset=f32(p["i_offset"]), h=f32(np.full(n, h)),
        half_e=f32(np.exp(-h / 2 / tau_e)), half_i=f32(np.exp(-h / 2 / tau_i)),
        decay_e=f32(np.exp(-h / tau_e)), decay_i=f32(np.exp(-h / tau_i)),
        substeps=np.full(n, n_sub, np.int32),
        dead_steps=np.full(n, int(round(DEAD_TIME / dt)), np.int32))


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0 (PyNN's initial values: h = 1, m = n = 0 unless set)."""
    size = len(initial["v"])
    out = structured(STATE_DTYPE, size, refrac=0)
    for k in ("v", "m", "h", "n", "gsyn_exc", "gsyn_inh"):
        out[k] = f32(initial.get(k, np.full(size, INITIAL[k])))
    return out


# -- the float64 reference, written from the equations on its own

def _reference_rates(u: np.ndarray) -> tuple[np.ndarray, ...]:
    """(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n) in 1/ms, NEST's expressions; the
    removable singularities of x / (e^x - 1) take their limit 1."""
    def ratio(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(x) < 1e-12, 1.0, x / (np.exp(x) - 1.0))

    return (0.32 * 4.0 * ratio((13.0 - u) / 4.0), 0.28 * 5.0 * ratio((u - 40.0) / 5.0),
            0.128 * np.exp((17.0 - u) / 18.0), 4.0 / (1.0 + np.exp((40.0 - u) / 5.0)),
            0.032 * 5.0 * ratio((15.0 - u) / 5.0), 0.5 * np.exp((10.0 - u) / 40.0))


def _reference_rhs(p: dict[str, np.ndarray], y: tuple, ge: np.ndarray, gi: np.ndarray,
                   current: np.ndarray) -> tuple:
    v, m, h, n = y
    i_ion = (p["gbar_Na"] * m ** 3 * h * (v - p["e_rev_Na"])
             + p["gbar_K"] * n ** 4 * (v - p["e_rev_K"]) + p["g_leak"] * (v - p["e_rev_leak"])
             + ge * (v - p["e_rev_E"]) + gi * (v - p["e_rev_I"]))
    am, bm, ah, bh, an, bn = _reference_rates(v - p["v_offset"])
    return ((current - i_ion) / p["cm"], am - (am + bm) * m, ah - (ah + bh) * h,
            an - (an + bn) * n)


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray, dt: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One step in float64 from the PyNN parameters; ``inputs`` (2, n) in uS."""
    n_sub = max(1, int(np.ceil(round(dt / 0.01, 9))))
    step = dt / n_sub
    y = (s["v"], s["m"], s["h"], s["n"])
    ge0, gi0 = s["gsyn_exc"], s["gsyn_inh"]
    current = p["i_offset"] + i_inj
    for k in range(n_sub):
        t0 = k * step
        ge = [ge0 * np.exp(-(t0 + f * step) / p["tau_syn_E"]) for f in (0.0, 0.5, 1.0)]
        gi = [gi0 * np.exp(-(t0 + f * step) / p["tau_syn_I"]) for f in (0.0, 0.5, 1.0)]
        k1 = _reference_rhs(p, y, ge[0], gi[0], current)
        k2 = _reference_rhs(p, tuple(a + step / 2 * b for a, b in zip(y, k1, strict=True)),
                            ge[1], gi[1], current)
        k3 = _reference_rhs(p, tuple(a + step / 2 * b for a, b in zip(y, k2, strict=True)),
                            ge[1], gi[1], current)
        k4 = _reference_rhs(p, tuple(a + step * b for a, b in zip(y, k3, strict=True)),
                            ge[2], gi[2], current)
        y = tuple(a + step / 6 * (b + 2 * c + 2 * d + e)
                  for a, b, c, d, e in zip(y, k1, k2, k3, k4, strict=True))
    out = {"v": y[0], "m": y[1], "h": y[2], "n": y[3],
           "gsyn_exc": ge0 * np.exp(-dt / p["tau_syn_E"]) + inputs[0],
           "gsyn_inh": gi0 * np.exp(-dt / p["tau_syn_I"]) + inputs[1]}
    waiting = s["refrac"] > 0
    spiked = ~waiting & (y[0] >= p["v_offset"] + 30.0) & (s["v"] > y[0])
    out["refrac"] = np.where(spiked, int(round(2.0 / dt)), np.where(waiting, s["refrac"] - 1, 0))
    return out, spiked


# -- the float32 kernel

F32 = np.float32
_HALF, _SIXTH, _TWO, _ONE = F32(0.5), F32(1.0 / 6.0), F32(2.0), F32(1.0)
_TINY = F32(1e-30)


def _x_over_expm1(x: np.ndarray) -> np.ndarray:
    """x / (e^x - 1), with expm1 so that it keeps float32 precision near x = 0 (limit 1)."""
    x = np.where(x == 0, _TINY, x)
    return x / np.expm1(x)


def _rhs(p: dict[str, np.ndarray], v: np.ndarray, m: np.ndarray, h: np.ndarray,
         n: np.ndarray, ge: np.ndarray, gi: np.ndarray, current: np.ndarray) -> tuple:
    u = v - p["v_offset"]
    a_m = F32(1.28) * _x_over_expm1((F32(13.0) - u) * F32(0.25))
    b_m = F32(1.4) * _x_over_expm1((u - F32(40.0)) * F32(0.2))
    a_h = F32(0.128) * np.exp((F32(17.0) - u) * F32(1.0 / 18.0))
    b_h = F32(4.0) / (_ONE + np.exp((F32(40.0) - u) * F32(0.2)))
    a_n = F32(0.16) * _x_over_expm1((F32(15.0) - u) * F32(0.2))
    b_n = F32(0.5) * np.exp((F32(10.0) - u) * F32(0.025))
    m3h = m * m * m * h
    n2 = n * n
    i_ion = (p["g_na"] * m3h * (v - p["e_na"]) + p["g_k"] * (n2 * n2) * (v - p["e_k"])
             + p["g_leak"] * (v - p["e_leak"]) + ge * (v - p["e_rev_e"])
             + gi * (v - p["e_rev_i"]))
    return ((current - i_ion) * p["inv_cm"], a_m - (a_m + b_m) * m, a_h - (a_h + b_h) * h,
            a_n - (a_n + b_n) * n)


def hh_cond_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                i_inj: np.ndarray | None) -> np.ndarray:
    """RK4 substeps of (V, m, h, n), the conductances one step on, then this step's events
    and the spike test (past the peak above v_offset + 30 mV). Returns the spikes."""
    v0 = s["v"]
    y = (v0, s["m"], s["h"], s["n"])
    ge, gi = s["gsyn_exc"], s["gsyn_inh"]
    current = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    step = p["h"]
    half = step * _HALF
    for _ in range(int(p["substeps"][0]) if p["substeps"].size else 1):
        ge_mid, gi_mid = ge * p["half_e"], gi * p["half_i"]
        ge_end, gi_end = ge * p["decay_e"], gi * p["decay_i"]
        k1 = _rhs(p, *y, ge, gi, current)
        k2 = _rhs(p, *(a + half * b for a, b in zip(y, k1, strict=True)), ge_mid, gi_mid,
                  current)
        k3 = _rhs(p, *(a + half * b for a, b in zip(y, k2, strict=True)), ge_mid, gi_mid,
                  current)
        k4 = _rhs(p, *(a + step * b for a, b in zip(y, k3, strict=True)), ge_end, gi_end,
                  current)
        y = tuple(a + step * _SIXTH * (b + _TWO * (c + d) + e)
                  for a, b, c, d, e in zip(y, k1, k2, k3, k4, strict=True))
        ge, gi = ge_end, gi_end
    s["v"], s["m"], s["h"], s["n"] = y
    s["gsyn_exc"], s["gsyn_inh"] = ge + inputs[0], gi + inputs[1]
    refrac = s["refrac"]
    waiting = refrac > 0
    spiked = (y[0] >= p["v_spike"]) & (v0 > y[0]) & ~waiting
    s["refrac"] = np.where(spiked, p["dead_steps"], refrac - waiting)
    return spiked


MODEL = register(CellType(
    name="HH_cond_exp", kernel="hh_cond_exp", defaults=DEFAULTS, initial=INITIAL,
    receptors=("excitatory", "inhibitory"),
    recordables={"spikes": "", "v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh",
                 "m": "m", "h": "h", "n": "n"},
    units={"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS", "m": "", "h": "", "n": ""},
    param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=build_params,
    build_state=build_state, reference_step=reference_step, weight_units="uS",
    conductance_based=True, kernel_step=hh_cond_exp,
    # per RK4 stage: 6 exponentials (expm1 counted as exp), 4 divisions, ~45 single ops
    # (rates 16, guards 3, currents 18, gates 9); 4 stages per substep, 10 substeps at
    # dt = 0.1 ms (substeps of at most 0.01 ms: an estimate for the usual step);
    # conductances 4 per substep; the spike test 4
    ops=KernelOps(single=10 * (4 * 45 + 4 + 16) + 4, div=160, exp=240, branches=14),
))
