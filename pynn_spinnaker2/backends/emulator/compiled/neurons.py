"""Compiled neuron kernels: per neuron, the float32 operations of the cell module's NumPy
kernel (the reference), in its order.

Each kernel is a plain Python function with the NumPy kernel's signature that hands the
fields of the parameter and state regions to one compiled loop (two around NumPy's ``exp``
for the conductance-based types, see :mod:`..compiled`). State is updated in place (the NumPy
kernels bind new arrays to the state fields instead: both leave the same values there).
Constants are float32 (a Python float would turn the arithmetic into float64).
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

_F32 = np.float32
_JIT = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


@numba.njit(**_JIT)
def _refractory_and_threshold(v_free, v, refrac, v_thresh, v_reset, refrac_steps):
    """``_lif_kernels.refractory_and_threshold`` for one neuron: returns its new ``v`` and
    ``refrac`` and whether it fired. Scalars only, and selects, not branches, so that the
    kernels' loops vectorise (array arguments would cost reference counting per neuron)."""
    busy = refrac != 0
    v_free = v if busy else v_free
    refrac = refrac - 1 if busy else refrac
    fire = v_free >= v_thresh
    return (v_reset if fire else v_free), (refrac_steps if fire else refrac), fire


@numba.njit(**_JIT)
def _lif_curr_exp(v_rest, v_reset, v_thresh, i_offset, decay_m, r_m, p21_e, p21_i, decay_e,
                  decay_i, refrac_steps, v, isyn_exc, isyn_inh, refrac, in0, in1, i_inj, spiked):
    for i in range(v.size):
        v_free = v_rest[i] + (v[i] - v_rest[i]) * decay_m[i]
        v_free += p21_e[i] * isyn_exc[i]
        v_free += p21_i[i] * isyn_inh[i]
        drive = i_offset[i] if i_inj is None else i_offset[i] + i_inj[i]
        v_free += r_m[i] * drive
        isyn_exc[i] = isyn_exc[i] * decay_e[i] + in0[i]
        isyn_inh[i] = isyn_inh[i] * decay_i[i] + in1[i]
        v[i], refrac[i], spiked[i] = _refractory_and_threshold(
            v_free, v[i], refrac[i], v_thresh[i], v_reset[i], refrac_steps[i])


@numba.njit(**_JIT)
def _lif_curr_delta(v_rest, v_reset, v_thresh, i_offset, decay_m, r_m, refrac_steps, v, refrac,
                    in0, in1, i_inj, spiked):
    for i in range(v.size):
        v_free = v_rest[i] + (v[i] - v_rest[i]) * decay_m[i]
        drive = i_offset[i] if i_inj is None else i_offset[i] + i_inj[i]
        v_free += r_m[i] * drive
        v_free += in0[i]
        v_free += in1[i]
        v[i], refrac[i], spiked[i] = _refractory_and_threshold(
            v_free, v[i], refrac[i], v_thresh[i], v_reset[i], refrac_steps[i])


@numba.njit(**_JIT)
def _lif_curr_alpha(v_rest, v_reset, v_thresh, i_offset, decay_m, r_m, p31_e, p32_e, p31_i,
                    p32_i, decay_e, decay_i, step_e, step_i, jump_e, jump_i, refrac_steps,
                    v, isyn_exc, disyn_exc, isyn_inh, disyn_inh, refrac, in0, in1, i_inj, spiked):
    for i in range(v.size):
        v_free = v_rest[i] + (v[i] - v_rest[i]) * decay_m[i]
        drive = i_offset[i] if i_inj is None else i_offset[i] + i_inj[i]
        v_free += r_m[i] * drive
        v_free += p31_e[i] * disyn_exc[i]
        v_free += p32_e[i] * isyn_exc[i]
        v_free += p31_i[i] * disyn_inh[i]
        v_free += p32_i[i] * isyn_inh[i]
        isyn_exc[i] = step_e[i] * disyn_exc[i] + decay_e[i] * isyn_exc[i]
        disyn_exc[i] = decay_e[i] * disyn_exc[i] + jump_e[i] * in0[i]
        isyn_inh[i] = step_i[i] * disyn_inh[i] + decay_i[i] * isyn_inh[i]
        disyn_inh[i] = decay_i[i] * disyn_inh[i] + jump_i[i] * in1[i]
        v[i], refrac[i], spiked[i] = _refractory_and_threshold(
            v_free, v[i], refrac[i], v_thresh[i], v_reset[i], refrac_steps[i])


@numba.njit(**_JIT)
def _conductance_before_exp(g_leak, v_rest, e_rev_e, e_rev_i, i_offset, dt, cm, g_e, g_i,
                            i_inj, v_inf, exponent):
    """``_lif_kernels.conductance_step`` up to its ``exp``: ``v_inf`` and the exponent."""
    for i in range(v_inf.size):
        g_tot = g_leak[i] + g_e[i] + g_i[i]
        drive = i_offset[i] if i_inj is None else i_offset[i] + i_inj[i]
        v_inf[i] = (g_leak[i] * v_rest[i] + g_e[i] * e_rev_e[i] + g_i[i] * e_rev_i[i]
                    + drive) / g_tot
        exponent[i] = -dt[i] * g_tot / cm[i]


@numba.njit(**_JIT)
def _cond_exp_means(gsyn_exc, mean_e, gsyn_inh, mean_i, g_e, g_i):
    for i in range(g_e.size):
        g_e[i] = gsyn_exc[i] * mean_e[i]
        g_i[i] = gsyn_inh[i] * mean_i[i]


@numba.njit(**_JIT)
def _cond_exp_after(v_reset, v_thresh, decay_e, decay_i, refrac_steps, v, gsyn_exc, gsyn_inh,
                    refrac, v_inf, factor, in0, in1, spiked):
    for i in range(v.size):
        v_free = v_inf[i] + (v[i] - v_inf[i]) * factor[i]
        gsyn_exc[i] = gsyn_exc[i] * decay_e[i] + in0[i]
        gsyn_inh[i] = gsyn_inh[i] * decay_i[i] + in1[i]
        v[i], refrac[i], spiked[i] = _refractory_and_threshold(
            v_free, v[i], refrac[i], v_thresh[i], v_reset[i], refrac_steps[i])


@numba.njit(**_JIT)
def _cond_alpha_means(gsyn_exc, mean_e, dgsyn_exc, mean_de, gsyn_inh, mean_i, dgsyn_inh,
                      mean_di, g_e, g_i):
    for i in range(g_e.size):
        g_e[i] = gsyn_exc[i] * mean_e[i] + dgsyn_exc[i] * mean_de[i]
        g_i[i] = gsyn_inh[i] * mean_i[i] + dgsyn_inh[i] * mean_di[i]


@numba.njit(**_JIT)
def _cond_alpha_after(v_reset, v_thresh, decay_e, decay_i, step_e, step_i, jump_e, jump_i,
                      refrac_steps, v, gsyn_exc, dgsyn_exc, gsyn_inh, dgsyn_inh, refrac,
                      v_inf, factor, in0, in1, spiked):
    for i in range(v.size):
        v_free = v_inf[i] + (v[i] - v_inf[i]) * factor[i]
        gsyn_exc[i] = step_e[i] * dgsyn_exc[i] + decay_e[i] * gsyn_exc[i]
        dgsyn_exc[i] = decay_e[i] * dgsyn_exc[i] + jump_e[i] * in0[i]
        gsyn_inh[i] = step_i[i] * dgsyn_inh[i] + decay_i[i] * gsyn_inh[i]
        dgsyn_inh[i] = decay_i[i] * dgsyn_inh[i] + jump_i[i] * in1[i]
        v[i], refrac[i], spiked[i] = _refractory_and_threshold(
            v_free, v[i], refrac[i], v_thresh[i], v_reset[i], refrac_steps[i])


_SCALE, _V_PEAK = _F32(1000.0), _F32(30.0)
_A, _B, _C = _F32(0.04), _F32(5.0), _F32(140.0)


@numba.njit(**_JIT)
def _izhikevich(a, b, c, d, i_offset, dt, v, u, in0, in1, i_inj, spiked):
    for i in range(v.size):
        vi, ui = v[i], u[i]
        current = i_offset[i] if i_inj is None else i_offset[i] + _SCALE * i_inj[i]
        dv = (_A * vi * vi + _B * vi + _C) - ui + current
        v_new = vi + dt[i] * dv + in0[i] + in1[i]
        u_new = ui + dt[i] * (a[i] * (b[i] * vi - ui))
        fire = v_new >= _V_PEAK
        v[i] = c[i] if fire else v_new
        u[i] = u_new + d[i] if fire else u_new
        spiked[i] = fire


@numba.njit(**_JIT)
def _nir_cuba(bias, v_leak, a_vv, a_vi, g_v, a_ii, g_i, v_threshold, v_reset, v, i_syn,
              in0, in1, i_inj, spiked):
    for i in range(v.size):
        drive = bias[i] + in0[i] + in1[i]
        if i_inj is not None:
            drive = drive + i_inj[i]
        vi = (v_leak[i] + (v[i] - v_leak[i]) * a_vv[i] + a_vi[i] * i_syn[i]
              + g_v[i] * drive)
        i_syn[i] = a_ii[i] * i_syn[i] + g_i[i] * drive
        fire = vi > v_threshold[i]
        v[i] = v_reset[i] if fire else vi
        spiked[i] = fire


def _fields(*names: str) -> Callable[[dict[str, np.ndarray]], tuple[np.ndarray, ...]]:
    return lambda region: tuple(region[n] for n in names)


def _simple(core: Callable[..., None], params: tuple[str, ...], state: tuple[str, ...]
            ) -> Callable[..., np.ndarray]:
    """A kernel that is one compiled loop over ``params`` and ``state`` fields."""
    take_p, take_s = _fields(*params), _fields(*state)

    def kernel(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
               i_inj: np.ndarray | None) -> np.ndarray:
        spiked = np.empty(inputs.shape[1], np.bool_)
        core(*take_p(p), *take_s(s), inputs[0], inputs[1], i_inj, spiked)
        return spiked

    kernel.__name__ = kernel.__qualname__ = core.__name__.lstrip("_")
    kernel.__doc__ = f"Compiled ``{kernel.__name__}`` (the cell module's NumPy kernel, per neuron)."
    return kernel


_LIF = ("v_rest", "v_reset", "v_thresh", "i_offset", "decay_m", "r_m")
_COND = ("g_leak", "v_rest", "e_rev_e", "e_rev_i", "i_offset", "dt", "cm")


def lif_cond_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """Compiled ``lif_cond_exp``: NumPy's ``exp`` between two compiled loops."""
    n = inputs.shape[1]
    g_e, g_i = np.empty(n, _F32), np.empty(n, _F32)
    _cond_exp_means(s["gsyn_exc"], p["mean_e"], s["gsyn_inh"], p["mean_i"], g_e, g_i)
    return _conductance(p, s, inputs, i_inj, g_e, g_i, False)


def lif_cond_alpha(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None) -> np.ndarray:
    """Compiled ``lif_cond_alpha``: NumPy's ``exp`` between two compiled loops."""
    n = inputs.shape[1]
    g_e, g_i = np.empty(n, _F32), np.empty(n, _F32)
    _cond_alpha_means(s["gsyn_exc"], p["mean_e"], s["dgsyn_exc"], p["mean_de"],
                      s["gsyn_inh"], p["mean_i"], s["dgsyn_inh"], p["mean_di"], g_e, g_i)
    return _conductance(p, s, inputs, i_inj, g_e, g_i, True)


def _conductance(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None, g_e: np.ndarray, g_i: np.ndarray, alpha: bool
                 ) -> np.ndarray:
    n = inputs.shape[1]
    v_inf, exponent = np.empty(n, _F32), np.empty(n, _F32)
    _conductance_before_exp(*(p[k] for k in _COND), g_e, g_i, i_inj, v_inf, exponent)
    factor = np.exp(exponent)
    spiked = np.empty(n, np.bool_)
    if alpha:
        _cond_alpha_after(p["v_reset"], p["v_thresh"], p["decay_e"], p["decay_i"], p["step_e"],
                          p["step_i"], p["jump_e"], p["jump_i"], p["refrac_steps"], s["v"],
                          s["gsyn_exc"], s["dgsyn_exc"], s["gsyn_inh"], s["dgsyn_inh"],
                          s["refrac"], v_inf, factor, inputs[0], inputs[1], spiked)
    else:
        _cond_exp_after(p["v_reset"], p["v_thresh"], p["decay_e"], p["decay_i"],
                        p["refrac_steps"], s["v"], s["gsyn_exc"], s["gsyn_inh"], s["refrac"],
                        v_inf, factor, inputs[0], inputs[1], spiked)
    return spiked


#: Kernel name -> compiled kernel.
KERNELS: dict[str, Callable[..., object]] = {
    "lif_curr_exp": _simple(_lif_curr_exp, (*_LIF, "p21_e", "p21_i", "decay_e", "decay_i",
                                            "refrac_steps"),
                            ("v", "isyn_exc", "isyn_inh", "refrac")),
    "lif_curr_delta": _simple(_lif_curr_delta, (*_LIF, "refrac_steps"), ("v", "refrac")),
    "lif_curr_alpha": _simple(_lif_curr_alpha, (*_LIF, "p31_e", "p32_e", "p31_i", "p32_i",
                                                "decay_e", "decay_i", "step_e", "step_i",
                                                "jump_e", "jump_i", "refrac_steps"),
                              ("v", "isyn_exc", "disyn_exc", "isyn_inh", "disyn_inh",
                               "refrac")),
    "lif_cond_exp": lif_cond_exp,
    "lif_cond_alpha": lif_cond_alpha,
    "izhikevich": _simple(_izhikevich, ("a", "b", "c", "d", "i_offset", "dt"), ("v", "u")),
    "nir_cuba": _simple(_nir_cuba, ("bias", "v_leak", "a_vv", "a_vi", "g_v", "a_ii", "g_i",
                                    "v_threshold", "v_reset"), ("v", "i_syn")),
}
