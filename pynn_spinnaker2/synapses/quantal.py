"""MultiQuantalSynapse (NEST's ``quantal_stp_synapse``) and StochasticTsodyksMarkramSynapse
(PyNN's ``stochastic_stp_synapse``, one release site): release sites drawn by the target
core, their state in the per-synapse region ``synapse_quantal``."""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from .types import SynapseType, finite, register

#: Most release sites of a MultiQuantalSynapse (16-bit counts in its synaptic record).
MAX_SITES = 65535

#: One record per synapse of region ``synapse_quantal``: its parameters, its release sites
#: (n, of which a full), its release probability u and the step of its last spike.
QUANTAL_DTYPE = np.dtype([("U", "<f4"), ("tau_rec", "<f4"), ("tau_facil", "<f4"),
                          ("n", "<u2"), ("a", "<u2"), ("u", "<f4"), ("last", "<u4")])
#: ``last`` of a synapse that has seen no spike yet.
QUANTAL_NEVER = 0xFFFFFFFF


def check(label: str, params: dict[str, np.ndarray], synapse: str = "MultiQuantalSynapse"
          ) -> None:
    """The parameters as NEST checks them, and the site counts the synaptic record holds."""
    finite(label, synapse, params)
    u, rec, fac = (np.asarray(params[k], float) for k in ("U", "tau_rec", "tau_facil"))
    if np.any(~((u >= 0) & (u <= 1))) or np.any(~(rec > 0)) or np.any(~(fac >= 0)):
        raise NetworkError(f"projection {label!r}: {synapse} needs 0 <= U <= 1, "
                           f"tau_rec > 0 and tau_facil >= 0")
    n = np.asarray(params.get("n", 1), float)
    if np.any(~((n >= 1) & (n <= MAX_SITES))) or np.any(n != np.round(n)):
        raise NetworkError(f"projection {label!r}: {synapse} needs a whole number "
                           f"of release sites 1 <= n <= {MAX_SITES}, got "
                           f"{np.unique(n[(n < 1) | (n > MAX_SITES) | (n != np.round(n))])[:3]}")
    if "a" in params:
        a = np.asarray(params["a"], float)
        if np.any(~((a >= 0) & (a <= n))) or np.any(a != np.round(a)):
            raise NetworkError(f"projection {label!r}: the initial number of full "
                               f"release sites a must be a whole number 0 <= a <= n; set it "
                               f"with Projection.initialize(a=...)")
    if "u" in params and np.any(~((np.asarray(params["u"], float) >= 0)
                                  & (params["u"] <= 1))):
        raise NetworkError(f"projection {label!r}: the initial release probability u "
                           f"must be in [0, 1]; set it with Projection.initialize(u=...)")


def _check_stochastic_tm(label: str, params: dict[str, np.ndarray]) -> None:
    check(label, params, "StochasticTsodyksMarkramSynapse")


def encode(proj, post) -> np.ndarray:
    """Per-synapse release sites and their initial state of a quantal projection.

    Every site starts full (a = n) and the first spike releases with probability U, as NEST's
    ``quantal_stp_synapse`` and PyNN's ``stochastic_stp_synapse`` start, unless
    ``Projection.initialize`` gave ``a`` and ``u``.

    Parameters
    ----------
    proj
        The projection (``ProjectionSpec``).
    post
        Its target population (unused).

    Returns
    -------
    numpy.ndarray
        One :data:`QUANTAL_DTYPE` record per synapse.
    """
    out = np.zeros(len(proj), QUANTAL_DTYPE)
    p = proj.params
    n = np.round(np.asarray(p.get("n", 1.0), float))
    out["U"], out["tau_rec"], out["tau_facil"] = p["U"], p["tau_rec"], p["tau_facil"]
    out["n"] = n
    out["a"] = np.round(np.asarray(p["a"], float)) if "a" in p else n
    out["u"] = p["u"] if "u" in p else p["U"]
    out["last"] = QUANTAL_NEVER
    return out


MULTI_QUANTAL = register(SynapseType("MultiQuantalSynapse", ("U", "n", "tau_rec", "tau_facil"),
                                     state=("a", "u"), region="synapse_quantal", check=check,
                                     record_dtype=QUANTAL_DTYPE, encode=encode))
STOCHASTIC_TSODYKS_MARKRAM = register(SynapseType(
    "StochasticTsodyksMarkramSynapse", ("U", "tau_rec", "tau_facil"), region="synapse_quantal",
    check=_check_stochastic_tm, record_dtype=QUANTAL_DTYPE, encode=encode))
