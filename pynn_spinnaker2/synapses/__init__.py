"""Synaptic plasticity models the cores run (the static and Tsodyks-Markram synapses are part
of the synaptic row format itself, see :mod:`pynn_spinnaker2.image.model`)."""

from .stdp import STDP_RULES, is_plastic

__all__ = ["STDP_RULES", "is_plastic"]
