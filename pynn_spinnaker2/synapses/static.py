"""StaticSynapse: a fixed weight and delay, nothing but the packed synaptic word."""

from __future__ import annotations

from .types import SynapseType, register

STATIC = register(SynapseType("StaticSynapse"))
