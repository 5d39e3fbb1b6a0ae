"""Synapse types the cores run, one module each, registered in :data:`SYNAPSE_TYPES`.

:mod:`.types` holds the registry (:class:`SynapseType`, :func:`register`); :mod:`.static`,
:mod:`.tsodyks_markram`, :mod:`.stochastic`, :mod:`.quantal` and :mod:`.stdp` the types.
Every stage asks the registry: the network check for parameters and their ranges, the mapper
and the image builder for the per-synapse region (:func:`synapse_region`).
"""

from . import quantal, static, stdp, stochastic, tsodyks_markram  # noqa: F401  (registration)
from .stdp import STDP_RULES, is_plastic
from .types import (
    SYNAPSE_TYPES,
    SynapseType,
    register,
    synapse_region,
    unregister,
    with_region,
)

__all__ = ["STDP_RULES", "SYNAPSE_TYPES", "SynapseType", "is_plastic",
           "register", "synapse_region", "unregister", "with_region"]
