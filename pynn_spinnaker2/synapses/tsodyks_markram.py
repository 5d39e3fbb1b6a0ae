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

from ..errors import NetworkError
from .types import SynapseType, finite, register


def check(label: str, params: dict[str, np.ndarray]) -> None:
    """0 < U <= 1, tau_rec > 0, tau_facil >= 0 (NEST's checks)."""
    finite(label, "TsodyksMarkramSynapse", params)
    u, rec, fac = params["U"], params["tau_rec"], params["tau_facil"]
    if np.any((u <= 0) | (u > 1)) or np.any(rec <= 0) or np.any(fac < 0):
        raise NetworkError(f"projection {label!r}: TsodyksMarkramSynapse needs "
                           f"0 < U <= 1, tau_rec > 0 and tau_facil >= 0")


TSODYKS_MARKRAM = register(SynapseType("TsodyksMarkramSynapse", ("U", "tau_rec", "tau_facil"),
                                       region="synapse_dynamics", check=check))
