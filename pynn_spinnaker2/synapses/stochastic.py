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


#: One record per synapse of region ``synapse_release``: its transmission probability.
RELEASE_DTYPE = np.dtype("<f4")


def encode(proj, post) -> np.ndarray:
    """Per-synapse transmission probability of a stochastic projection.

    Parameters
    ----------
    proj
        The projection (``ProjectionSpec``).
    post
        Its target population (unused).

    Returns
    -------
    numpy.ndarray
        One :data:`RELEASE_DTYPE` record per synapse.
    """
    return np.asarray(proj.params["p"], np.float32)


def blank(n: int) -> np.ndarray:
    """Other synapses on the core always transmit (probability 1)."""
    return np.ones(n, RELEASE_DTYPE)


SIMPLE_STOCHASTIC = register(SynapseType("SimpleStochasticSynapse", ("p",),
                                         region="synapse_release", check=check,
                                         record_dtype=RELEASE_DTYPE, encode=encode,
                                         blank=blank))
