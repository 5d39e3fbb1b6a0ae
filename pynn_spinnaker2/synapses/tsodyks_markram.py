r"""TsodyksMarkramSynapse: depressing and facilitating synapses (Tsodyks & Markram 1997), as
NEST's ``tsodyks2_synapse`` computes them at each presynaptic spike.

Per synapse, with :math:`\Delta` the time since its previous spike,

.. math::

    u \leftarrow U + u (1 - U) e^{-\Delta/\tau_{facil}}, \qquad
    x \leftarrow 1 + (x - x u_{prev} - 1) e^{-\Delta/\tau_{rec}}

and the spike carries :math:`w u x`. The state lives in the per-synapse region
``synapse_dynamics`` beside the synaptic rows (one record per synapse).
"""

from __future__ import annotations

import numpy as np

from ..cells import CELL_TYPES
from ..errors import NetworkError
from .types import SynapseType, finite, register

#: One record per synapse of region ``synapse_dynamics``: its parameters and the time
#: constant of its target's synaptic current.
DYNAMICS_DTYPE = np.dtype([("U", "<f4"), ("tau_rec", "<f4"), ("tau_facil", "<f4"),
                           ("tau_psc", "<f4")])


def check(label: str, params: dict[str, np.ndarray]) -> None:
    """0 < U <= 1, tau_rec > 0, tau_facil >= 0 (NEST's checks)."""
    finite(label, "TsodyksMarkramSynapse", params)
    u, rec, fac = params["U"], params["tau_rec"], params["tau_facil"]
    if np.any((u <= 0) | (u > 1)) or np.any(rec <= 0) or np.any(fac < 0):
        raise NetworkError(f"projection {label!r}: TsodyksMarkramSynapse needs "
                           f"0 < U <= 1, tau_rec > 0 and tau_facil >= 0")


def encode(proj, post) -> np.ndarray:
    """Per-synapse short-term plasticity parameters of a Tsodyks-Markram projection.

    Parameters
    ----------
    proj
        The projection (``ProjectionSpec``).
    post
        Its target population (``PopulationSpec``).

    Returns
    -------
    numpy.ndarray
        One :data:`DYNAMICS_DTYPE` record per synapse.
    """
    out = np.zeros(len(proj), DYNAMICS_DTYPE)
    name = "tau_syn_E" if proj.receptor == "excitatory" else "tau_syn_I"
    defaults = CELL_TYPES[post.model].defaults
    # A delta-synapse target has no current to decay: the "active" resource empties at once.
    tau = np.asarray(post.params.get(name, np.full(post.size, defaults.get(name, 1e-3))))
    out["U"], out["tau_rec"] = proj.params["U"], proj.params["tau_rec"]
    out["tau_facil"], out["tau_psc"] = proj.params["tau_facil"], tau[proj.post_idx]
    return out


def update(state: dict[str, np.ndarray], params: dict[str, np.ndarray], k: np.ndarray,
           h: np.ndarray) -> np.ndarray:
    """One spike at each of the distinct synapses ``k``, ``h`` ms after their previous one.

    NEST's ``tsodyks_synapse`` in float64: the state decays over ``h``, then u steps up by
    U (1 - u) and the spike uses u x of the recovered resources.

    Parameters
    ----------
    state
        Per-synapse ``u``, ``x`` and ``y`` (float64), updated in place at ``k``.
    params
        Per-synapse ``U``, ``tau_rec``, ``tau_facil``, ``tau_psc`` (float64).
    k
        Indices of the synapses fired (each once).
    h
        Time since each one's previous spike (ms).

    Returns
    -------
    numpy.ndarray
        The weight factor u x of each spike.
    """
    s, p = state, params
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p_uu = np.where(p["tau_facil"][k] > 0, np.exp(-h / p["tau_facil"][k]), 0.0)
        p_yy = np.exp(-h / p["tau_psc"][k])
        p_zz = np.exp(-h / p["tau_rec"][k])
        p_xy = (((p_zz - 1) * p["tau_rec"][k] - (p_yy - 1) * p["tau_psc"][k])
                / (p["tau_psc"][k] - p["tau_rec"][k]))
    # tau_psc == tau_rec: the limit of the expression above.
    p_xy = np.where(np.isfinite(p_xy), p_xy, 1.0 - p_zz)
    z = 1.0 - s["x"][k] - s["y"][k]
    u = s["u"][k] * p_uu
    x = s["x"][k] + p_xy * s["y"][k] + (1.0 - p_zz) * z
    y = s["y"][k] * p_yy
    u = u + p["U"][k] * (1.0 - u)
    used = u * x
    s["u"][k], s["x"][k], s["y"][k] = u, x - used, y + used
    return used


TSODYKS_MARKRAM = register(SynapseType("TsodyksMarkramSynapse", ("U", "tau_rec", "tau_facil"),
                                       region="synapse_dynamics", check=check,
                                       record_dtype=DYNAMICS_DTYPE, encode=encode,
                                       update=update))
