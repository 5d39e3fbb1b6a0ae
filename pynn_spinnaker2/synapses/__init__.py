"""Synapse types the cores run, one module each, registered in :data:`SYNAPSE_TYPES`.

:mod:`.types` holds the registry (:class:`SynapseType`, :func:`register`); :mod:`.static`,
:mod:`.tsodyks_markram`, :mod:`.stochastic`, :mod:`.quantal` and :mod:`.stdp` the types.
"""

from . import quantal, static, stdp, stochastic, tsodyks_markram  # noqa: F401  (registration)
from .stdp import STDP_RULES, is_plastic
from .types import SYNAPSE_TYPES, SynapseType, register, unregister, with_extension


def quantal_synapses() -> tuple[str, ...]:
    """Synapse types whose release sites the target core draws (image region
    ``synapse_quantal``)."""
    return with_extension("quantal")


__all__ = ["STDP_RULES", "SYNAPSE_TYPES", "SynapseType", "is_plastic", "quantal_synapses",
           "register", "unregister", "with_extension"]
