"""SimpleStochasticSynapse (NEST's ``bernoulli_synapse``): each spike is transmitted with
probability p, drawn by the target core from its random number generator."""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from .types import SynapseType, finite, register


def check(label: str, params: dict[str, np.ndarray]) -> None:
    """0 <= p <= 1."""
    finite(label, "SimpleStochasticSynapse", params)
    if np.any(params["p"] < 0) or np.any(params["p"] > 1):
        raise NetworkError(f"projection {label!r}: SimpleStochasticSynapse needs "
                           f"0 <= p <= 1 (the probability of transmitting a spike)")


SIMPLE_STOCHASTIC = register(SynapseType("SimpleStochasticSynapse", ("p",),
                                         region="synapse_release", check=check))
