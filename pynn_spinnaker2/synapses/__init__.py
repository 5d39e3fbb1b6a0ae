"""Synaptic plasticity models the cores run (the static and Tsodyks-Markram synapses are part
of the synaptic row format itself, see :mod:`pynn_spinnaker2.image.model`)."""

from .stdp import STDP_RULES, is_plastic

#: Synapse types whose release sites the target core draws (image region ``synapse_quantal``).
QUANTAL_SYNAPSES = ("StochasticTsodyksMarkramSynapse", "MultiQuantalSynapse")
#: Synapse type -> the region, parallel to the synaptic words, its per-synapse rule lives in
#: (types absent here need only the synaptic word).
SYNAPSE_REGIONS = {"TsodyksMarkramSynapse": "synapse_dynamics",
                   "SimpleStochasticSynapse": "synapse_release",
                   **dict.fromkeys(QUANTAL_SYNAPSES, "synapse_quantal"),
                   **dict.fromkeys(STDP_RULES, "synapse_plasticity")}


def synapse_region(synapse: str) -> str | None:
    """The per-synapse region synapse type ``synapse`` needs, if any.

    Parameters
    ----------
    synapse : str
        A synapse type name (``ProjectionSpec.synapse``).

    Returns
    -------
    str or None
        A region name of :mod:`pynn_spinnaker2.mapping.regions`, or None.
    """
    return SYNAPSE_REGIONS.get(synapse)


__all__ = ["QUANTAL_SYNAPSES", "STDP_RULES", "SYNAPSE_REGIONS", "is_plastic",
           "synapse_region"]
