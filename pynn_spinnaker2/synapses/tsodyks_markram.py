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


TSODYKS_MARKRAM = register(SynapseType("TsodyksMarkramSynapse", ("U", "tau_rec", "tau_facil"),
                                       region="synapse_dynamics", check=check,
                                       record_dtype=DYNAMICS_DTYPE, encode=encode))
