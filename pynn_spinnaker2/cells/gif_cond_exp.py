r"""GIF_cond_exp: the generalized integrate-and-fire neuron of Mensi et al. (2012) and
Pozzorini et al. (2015) with exponential synaptic conductances, NEST's ``gif_cond_exp``.

.. math::

    c_m \frac{dV}{dt} = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V) - \eta(t) + I,
    \qquad g_L = c_m / \tau_m,

    \eta(t) = \sum_k \eta_k, \quad \dot\eta_k = -\eta_k / \tau_{\eta,k}, \qquad
    V_T(t) = V_T^* + \sum_k \gamma_k, \quad \dot\gamma_k = -\gamma_k / \tau_{\gamma,k}

The neuron fires stochastically with the hazard :math:`\lambda = \lambda_0
e^{(V - V_T)/\Delta_V}`: in a step of length dt it spikes with probability :math:`1 -
e^{-\lambda\,dt}`, drawn from its own xorshift32 generator (a 32-bit state per neuron in
the state region, seeded from the network's seed, the population and the neuron). A spike
adds :math:`a_{\eta,k}` (nA) to each :math:`\eta_k` and :math:`a_{\gamma,k}` (mV) to each
:math:`\gamma_k`; for ``tau_refrac`` afterwards V is held and then set to ``v_reset`` at the
end of each step, and no spike is drawn. As in NEST, V is not reset in the step of the
spike itself, and with ``tau_refrac`` = 0 never.

Each step follows NEST's order: :math:`\eta` and :math:`V_T` are summed (these are the
recorded ``i_eta`` and ``v_t``) and their components decay; V is integrated over the step
exactly for the step's mean conductances with :math:`\eta` held (as :mod:`.lif_cond_exp`);
this step's synaptic events are added; then the spike is drawn. PyNN's ``tau_eta``,
``a_eta``, ``tau_gamma`` and ``a_gamma`` are arrays of ``N_COMPONENTS`` values per neuron;
the PyNN class stores them as one parameter column per component (``tau_eta_0``...).
"""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from .base import CellType, KernelOps, f32, pynn_defaults, refractory_steps, structured
from .registry import register

#: Components of the spike-triggered current and of the moving threshold (PyNN's default).
N_COMPONENTS = 3
#: PyNN's array-valued parameters, each stored as N_COMPONENTS columns ``<name>_<k>``.
ARRAY_PARAMETERS = ("tau_eta", "a_eta", "tau_gamma", "a_gamma")


def _defaults() -> tuple[dict[str, float], dict[str, float]]:
    """PyNN's defaults, the array parameters split into their components."""
    from pyNN.standardmodels import cells

    scalars, initial = pynn_defaults("GIF_cond_exp")
    out = {k: v for k, v in scalars.items() if k not in ARRAY_PARAMETERS}
    for name in ARRAY_PARAMETERS:
        values = np.asarray(cells.GIF_cond_exp.default_parameters[name].value, dtype=float)
        out.update({f"{name}_{k}": float(values[k]) for k in range(N_COMPONENTS)})
    return out, initial


DEFAULTS, INITIAL = _defaults()
_K = range(N_COMPONENTS)

PARAM_DTYPE = np.dtype(
    [("v_rest", "<f4"), ("v_reset", "<f4"), ("i_offset", "<f4"), ("cm", "<f4"),
     ("g_leak", "<f4"), ("e_rev_e", "<f4"), ("e_rev_i", "<f4"), ("decay_e", "<f4"),
     ("decay_i", "<f4"), ("mean_e", "<f4"), ("mean_i", "<f4"), ("dt", "<f4"),
     ("v_t_star", "<f4"), ("inv_delta_v", "<f4"), ("lambda_dt", "<f4")]
    + [(f"decay_eta_{k}", "<f4") for k in _K] + [(f"a_eta_{k}", "<f4") for k in _K]
    + [(f"decay_gamma_{k}", "<f4") for k in _K] + [(f"a_gamma_{k}", "<f4") for k in _K]
    + [("refrac_steps", "<i4")])
STATE_DTYPE = np.dtype(
    [("v", "<f4"), ("gsyn_exc", "<f4"), ("gsyn_inh", "<f4"), ("i_eta", "<f4"), ("v_t", "<f4")]
    + [(f"eta_{k}", "<f4") for k in _K] + [(f"gamma_{k}", "<f4") for k in _K]
    + [("refrac", "<i4"), ("rng", "<u4")])


def check(pop: object) -> None:
    """Time constants and threshold sharpness must be positive (NEST refuses others)."""
    names = ["delta_v"] + [f"{a}_{k}" for a in ("tau_eta", "tau_gamma") for k in _K]
    for name in names:
        values = np.broadcast_to(pop.params.get(name, DEFAULTS[name]), (pop.size,))
        bad = np.flatnonzero(~(np.asarray(values) > 0))
        if bad.size:
            raise NetworkError(
                f"population {pop.label!r} ({pop.model}): {name} must be > 0, neuron "
                f"{int(bad[0])} has {float(values[bad[0]]):g} ({bad.size} neurons in all)")
    lam = np.broadcast_to(pop.params.get("lambda0", DEFAULTS["lambda0"]), (pop.size,))
    if np.any(np.asarray(lam) < 0):
        raise NetworkError(f"population {pop.label!r} ({pop.model}): lambda0 must be >= 0 Hz")


def derived_params(network: object, pop: object) -> dict[str, np.ndarray]:
    """``rng_seed``: a distinct nonzero 32-bit seed per neuron, from the network's seed, the
    population's position in the network and the neuron's index (splitmix64 finaliser)."""
    position = [p.label for p in network.populations].index(pop.label)
    with np.errstate(over="ignore"):
        z = (np.uint64(int(network.seed) & 0xFFFFFFFF) << np.uint64(32)) ^ (
            np.uint64(position) << np.uint64(20)) ^ np.arange(pop.size, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    seed = (z & np.uint64(0xFFFFFFFF)).astype(np.float64)
    return {"rng_seed": np.where(seed == 0, 1.0, seed)}


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region: PyNN parameters -> what the kernel reads."""
    tau_e = np.asarray(p["tau_syn_E"], dtype=float)
    tau_i = np.asarray(p["tau_syn_I"], dtype=float)
    cols = {}
    for k in _K:
        cols[f"decay_eta_{k}"] = f32(np.exp(-dt / np.asarray(p[f"tau_eta_{k}"], dtype=float)))
        cols[f"decay_gamma_{k}"] = f32(np.exp(-dt / np.asarray(p[f"tau_gamma_{k}"],
                                                                dtype=float)))
        cols[f"a_eta_{k}"] = f32(p[f"a_eta_{k}"])
        cols[f"a_gamma_{k}"] = f32(p[f"a_gamma_{k}"])
    return structured(
        PARAM_DTYPE, len(p["tau_m"]), v_rest=f32(p["v_rest"]), v_reset=f32(p["v_reset"]),
        i_offset=f32(p["i_offset"]), cm=f32(p["cm"]),
        g_leak=f32(np.asarray(p["cm"], dtype=float) / p["tau_m"]), e_rev_e=f32(p["e_rev_E"]),
        e_rev_i=f32(p["e_rev_I"]), decay_e=f32(np.exp(-dt / tau_e)),
        decay_i=f32(np.exp(-dt / tau_i)), mean_e=f32(tau_e / dt * -np.expm1(-dt / tau_e)),
        mean_i=f32(tau_i / dt * -np.expm1(-dt / tau_i)), dt=f32(dt),
        v_t_star=f32(p["v_t_star"]), inv_delta_v=f32(1.0 / np.asarray(p["delta_v"], float)),
        lambda_dt=f32(np.asarray(p["lambda0"], dtype=float) / 1000.0 * dt),
        refrac_steps=refractory_steps(p["tau_refrac"], dt), **cols)


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0: no spike history, the generator seeded. ``i_eta`` and
    ``v_t`` are computed from the history at each step; their initial values are only the
    t = 0 sample (as pyNN.nest records them; NEST cannot set them)."""
    n = len(initial["v"])
    seed = p.get("rng_seed", np.arange(1, n + 1))
    return structured(STATE_DTYPE, n, v=f32(initial["v"]),
                      gsyn_exc=f32(initial.get("gsyn_exc", np.zeros(n))),
                      gsyn_inh=f32(initial.get("gsyn_inh", np.zeros(n))),
                      i_eta=f32(initial.get("i_eta", np.zeros(n))),
                      v_t=f32(initial.get("v_t", p["v_t_star"])), refrac=0,
                      rng=np.asarray(seed, dtype=np.float64).astype(np.uint32))


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray, dt: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One step in float64 from the PyNN parameters (component columns ``<name>_<k>``)."""
    out = dict(s)
    comps = range(3)
    stc = sum(s[f"eta_{k}"] for k in comps)
    threshold = p["v_t_star"] + sum(s[f"gamma_{k}"] for k in comps)
    for k in comps:
        out[f"eta_{k}"] = s[f"eta_{k}"] * np.exp(-dt / p[f"tau_eta_{k}"])
        out[f"gamma_{k}"] = s[f"gamma_{k}"] * np.exp(-dt / p[f"tau_gamma_{k}"])
    # V relaxes exactly towards the step's equilibrium for the conductances' step means
    tau_e, tau_i = np.asarray(p["tau_syn_E"], float), np.asarray(p["tau_syn_I"], float)
    ge = s["gsyn_exc"] * tau_e * (1.0 - np.exp(-dt / tau_e)) / dt
    gi = s["gsyn_inh"] * tau_i * (1.0 - np.exp(-dt / tau_i)) / dt
    gl = np.asarray(p["cm"], float) / p["tau_m"]
    total = gl + ge + gi
    v_eq = (gl * p["v_rest"] + ge * p["e_rev_E"] + gi * p["e_rev_I"] + p["i_offset"] + i_inj
            - stc) / total
    held = s["refrac"] > 0
    v = np.where(held, s["v"], v_eq + (s["v"] - v_eq) * np.exp(-dt * total / p["cm"]))
    out["gsyn_exc"] = s["gsyn_exc"] * np.exp(-dt / tau_e) + inputs[0]
    out["gsyn_inh"] = s["gsyn_inh"] * np.exp(-dt / tau_i) + inputs[1]
    # Marsaglia's xorshift32 (shifts 13, 17, 5) on 64-bit integers kept to 32 bits
    x = np.asarray(s["rng"]).astype(np.uint64)
    mask = np.uint64(0xFFFFFFFF)
    x = (x ^ (x << np.uint64(13))) & mask
    x = x ^ (x >> np.uint64(17))
    x = (x ^ (x << np.uint64(5))) & mask
    uniform = (x >> np.uint64(8)).astype(np.float64) / 16777216.0
    rate = np.asarray(p["lambda0"], float) / 1000.0 * np.exp(
        np.minimum((v - threshold) / p["delta_v"], 700.0))
    spiked = ~held & (uniform < 1.0 - np.exp(-rate * dt))
    for k in comps:
        out[f"eta_{k}"] = out[f"eta_{k}"] + np.where(spiked, p[f"a_eta_{k}"], 0.0)
        out[f"gamma_{k}"] = out[f"gamma_{k}"] + np.where(spiked, p[f"a_gamma_{k}"], 0.0)
    out["v"] = np.where(held, p["v_reset"], v)
    steps = np.rint(np.asarray(p["tau_refrac"], float) / dt).astype(int)
    out["refrac"] = np.where(spiked, steps, np.where(held, s["refrac"] - 1, 0))
    out["rng"], out["i_eta"], out["v_t"] = x, stc, threshold
    return out, spiked


_U24 = np.float32(2.0 ** -24)
_CAP = np.float32(80.0)


def gif_cond_exp(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                 i_inj: np.ndarray | None) -> np.ndarray:
    """GIF_cond_exp: adaptation sums and decays, V for the step's mean conductances with
    eta held, this step's events, then the spike drawn from the neuron's generator."""
    i_eta = s["eta_0"] + s["eta_1"] + s["eta_2"]
    v_t = p["v_t_star"] + (s["gamma_0"] + s["gamma_1"] + s["gamma_2"])
    for k in _K:
        s[f"eta_{k}"] = s[f"eta_{k}"] * p[f"decay_eta_{k}"]
        s[f"gamma_{k}"] = s[f"gamma_{k}"] * p[f"decay_gamma_{k}"]
    ge = s["gsyn_exc"] * p["mean_e"]
    gi = s["gsyn_inh"] * p["mean_i"]
    g_tot = p["g_leak"] + ge + gi
    drive = p["i_offset"] if i_inj is None else p["i_offset"] + i_inj
    v_inf = (p["g_leak"] * p["v_rest"] + ge * p["e_rev_e"] + gi * p["e_rev_i"] + drive
             - i_eta) / g_tot
    v = v_inf + (s["v"] - v_inf) * np.exp(-p["dt"] * g_tot / p["cm"])
    refrac = s["refrac"]
    held = refrac > 0
    s["gsyn_exc"] = s["gsyn_exc"] * p["decay_e"] + inputs[0]
    s["gsyn_inh"] = s["gsyn_inh"] * p["decay_i"] + inputs[1]
    x = s["rng"]
    x = x ^ (x << np.uint32(13))
    x = x ^ (x >> np.uint32(17))
    x = x ^ (x << np.uint32(5))
    uniform = (x >> np.uint32(8)).astype(np.float32) * _U24
    hazard = p["lambda_dt"] * np.exp(np.minimum((v - v_t) * p["inv_delta_v"], _CAP))
    spiked = (uniform < -np.expm1(-hazard)) & ~held
    fired = spiked.nonzero()[0]
    if fired.size:
        for k in _K:
            s[f"eta_{k}"][fired] += p[f"a_eta_{k}"][fired]
            s[f"gamma_{k}"][fired] += p[f"a_gamma_{k}"][fired]
    s["v"] = np.where(held, p["v_reset"], v)
    s["refrac"] = np.where(spiked, p["refrac_steps"], refrac - held)
    s["rng"], s["i_eta"], s["v_t"] = x, i_eta, v_t
    return spiked


MODEL = register(CellType(
    name="GIF_cond_exp", kernel="gif_cond_exp", defaults=DEFAULTS, initial=INITIAL,
    receptors=("excitatory", "inhibitory"),
    recordables={"spikes": "", "v": "v", "gsyn_exc": "gsyn_exc", "gsyn_inh": "gsyn_inh",
                 "i_eta": "i_eta", "v_t": "v_t"},
    units={"v": "mV", "gsyn_exc": "uS", "gsyn_inh": "uS", "i_eta": "nA", "v_t": "mV"},
    param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=build_params,
    build_state=build_state, reference_step=reference_step, weight_units="uS",
    conductance_based=True, kernel_step=gif_cond_exp,
    extra={"check": check, "derived_params": derived_params},
    # sums 5, decays 6, conductances 2 + g_tot 2, v_inf 4 mul 4 add + 1 div, v 3 + exp
    # argument 2, synapses 4, xorshift 6, uniform 2, hazard 3 + exp, expm1 1, test 2,
    # jumps 6 (on a spike), clamp 2
    ops=KernelOps(single=56, div=1, exp=3, rng=1, branches=4),
))
