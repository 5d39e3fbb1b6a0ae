r"""Spike-timing-dependent plasticity: PyNN's ``SpikePairRule`` with an additive or a
multiplicative weight dependence, computed as NEST's ``stdp_synapse`` computes it.

Pairing is **all-to-all** (every pre/post pair counts, PyNN's definition of the spike-pair
rule, "cf. Song and Abbott"), through two traces: a presynaptic trace :math:`K_+` per synapse
(time constant :math:`\tau_+`, +1 per presynaptic spike) and a postsynaptic trace
:math:`K_-` per neuron (:math:`\tau_-`, +1 per postsynaptic spike). The whole synaptic
delay d is dendritic (``dendritic_delay_fraction = 1``, the only form NEST offers too): the
synapse sees a presynaptic spike at its emission time t and a postsynaptic spike at
:math:`t_{post} + d`.

- A postsynaptic spike seen at T potentiates: :math:`w \leftarrow w + A_+ F_+(w) K_+(T^-)`,
  :math:`K_+(T^-)` counting presynaptic spikes strictly before T.
- A presynaptic spike at t depresses: :math:`w \leftarrow w - A_- F_-(w) K_-((t - d)^-)`,
  then :math:`K_+` steps up by one. The spike carries the updated weight.
- Additive: :math:`F_+ = F_- = w_{max} - w_{min}`; multiplicative: :math:`F_+ = w_{max} - w`,
  :math:`F_- = w - w_{min}` (sPyNNaker's scaling; NEST's with :math:`w_{min} = 0`). Weights
  are clipped to :math:`[w_{min}, w_{max}]` after each update.
- A pair whose spikes the synapse sees at the same time changes nothing (as in NEST).

The weight read back from the machine is the weight of each synapse's last presynaptic
event, NEST's and sPyNNaker's convention: potentiation by postsynaptic spikes since then is
held in the synapse's pending field until its next presynaptic spike (on NEST it is computed
then). Both give the same weights at every presynaptic spike.
"""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from .types import SynapseType, finite, register

#: Synapse type names in the Network (``ProjectionSpec.synapse``) -> weight-dependence code.
STDP_RULES = {
    "STDP:SpikePairRule:AdditiveWeightDependence": 1,
    "STDP:SpikePairRule:MultiplicativeWeightDependence": 2,
}
ADDITIVE, MULTIPLICATIVE = 1, 2

#: Per-synapse parameters of the plastic synapse types, in PyNN's names.
STDP_PARAMS = ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max")

#: One record per synapse of a core's row block, parallel to ``synapses`` (kind 0: static).
PLASTICITY_DTYPE = np.dtype([("kind", "<u4"), ("tau_plus", "<f4"), ("a_plus", "<f4"),
                             ("a_minus", "<f4"), ("w_min", "<f4"), ("w_max", "<f4")])
#: One record per neuron of a core that has plastic inputs: its postsynaptic trace's decay.
STDP_POST_DTYPE = np.dtype([("tau_minus", "<f4")])


def is_plastic(synapse: str) -> bool:
    """True for the synapse types whose weights learn."""
    return synapse in STDP_RULES


def trace_slots(max_delay_steps: int) -> int:
    """Slots of a core's postsynaptic trace history: a power of two holding the trace of the
    last ``max_delay + 1`` steps (depression at t needs the trace at t - d - 1)."""
    return 1 << (int(max_delay_steps) + 1).bit_length()


def plasticity_records(synapse: str, params: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Per-synapse records of one projection (kind 0 when it is not plastic)."""
    out = np.zeros(n, PLASTICITY_DTYPE)
    if not is_plastic(synapse):
        return out
    out["kind"] = STDP_RULES[synapse]
    out["tau_plus"], out["a_plus"] = params["tau_plus"], params["A_plus"]
    out["a_minus"], out["w_min"], out["w_max"] = (params["A_minus"], params["w_min"],
                                                  params["w_max"])
    return out


def facilitate(kind: np.ndarray, w: np.ndarray, a_plus: np.ndarray, w_min: np.ndarray,
               w_max: np.ndarray, k_plus: np.ndarray) -> np.ndarray:
    """Weights after potentiation by a presynaptic trace value ``k_plus``."""
    scale = np.where(kind == MULTIPLICATIVE, w_max - w, w_max - w_min)
    return np.minimum(w + a_plus * scale * k_plus, w_max)


def depress(kind: np.ndarray, w: np.ndarray, a_minus: np.ndarray, w_min: np.ndarray,
            w_max: np.ndarray, k_minus: np.ndarray) -> np.ndarray:
    """Weights after depression by a postsynaptic trace value ``k_minus``."""
    scale = np.where(kind == MULTIPLICATIVE, w - w_min, w_max - w_min)
    return np.maximum(w - a_minus * scale * k_minus, w_min)


def reference_weights(pre: np.ndarray, post: np.ndarray, delay: float, w0: float,
                      kind: int, tau_plus: float, tau_minus: float, a_plus: float,
                      a_minus: float, w_min: float, w_max: float) -> np.ndarray:
    """Float64 reference of one synapse: its weight after each presynaptic spike.

    Written from the pair sums directly (NEST's ``stdp_synapse::send``): at each presynaptic
    spike t, every postsynaptic spike seen in (t_last, t] potentiates with the sum over all
    earlier presynaptic spikes, then every postsynaptic spike seen before t depresses as one
    sum.
    """
    pre, post = np.sort(np.asarray(pre, float)), np.sort(np.asarray(post, float)) + delay
    w, out, t_last = float(w0), [], -np.inf
    k = np.array([kind])
    for i, t in enumerate(pre):
        for seen in post[(post > t_last) & (post <= t)]:
            k_plus = np.exp(-(seen - pre[:i]) / tau_plus).sum()
            w = float(facilitate(k, np.array([w]), a_plus, w_min, w_max, k_plus)[0])
        k_minus = np.exp(-(t - post[post < t]) / tau_minus).sum()
        w = float(depress(k, np.array([w]), a_minus, w_min, w_max, k_minus)[0])
        out.append(w)
        t_last = t
    return np.array(out)


def check(label: str, params: dict[str, np.ndarray]) -> None:
    """Positive time constants, non-negative amplitudes, w_min <= w_max."""
    finite(label, "STDP", params)
    p = params
    if np.any(p["tau_plus"] <= 0) or np.any(p["tau_minus"] <= 0):
        raise NetworkError(f"projection {label!r}: STDP needs tau_plus > 0 and "
                           f"tau_minus > 0 ms")
    if np.any(p["A_plus"] < 0) or np.any(p["A_minus"] < 0):
        raise NetworkError(f"projection {label!r}: STDP amplitudes A_plus and A_minus "
                           f"must be >= 0 (the sign of the change is the rule's)")
    if np.any(p["w_min"] > p["w_max"]):
        raise NetworkError(f"projection {label!r}: STDP needs w_min <= w_max")


def encode(proj, post) -> np.ndarray:
    """Per-synapse STDP rule of a plastic projection (:func:`plasticity_records`).

    Parameters
    ----------
    proj
        The projection (``ProjectionSpec``).
    post
        Its target population (unused).

    Returns
    -------
    numpy.ndarray
        One :data:`PLASTICITY_DTYPE` record per synapse.
    """
    return plasticity_records(proj.synapse, proj.params, len(proj))


for _name in STDP_RULES:
    register(SynapseType(_name, STDP_PARAMS, region="synapse_plasticity", check=check,
                         record_dtype=PLASTICITY_DTYPE, encode=encode))
