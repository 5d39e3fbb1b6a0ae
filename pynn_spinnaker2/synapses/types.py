"""The synapse-type registry: what the network check, the mapper and the image builder ask
of a synapse type, declared once in the type's own module.

A module of this package describes one synapse type (or a family sharing a rule) with a
:class:`SynapseType` and :func:`register`\\ s it; ``pynn_spinnaker2.synapses`` imports every
module, so adding a synapse type is one new module and its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: The synaptic-row extensions a core can hold, beside the packed synaptic word every synapse
#: has: ``dynamics`` (Tsodyks-Markram state per synapse), ``stochastic`` (a release
#: probability), ``quantal`` (release sites drawn by the core), ``plasticity`` (STDP records).
ROW_EXTENSIONS = ("none", "dynamics", "stochastic", "quantal", "plasticity")


@dataclass(frozen=True)
class SynapseType:
    """A synapse type the cores implement.

    Parameters
    ----------
    name
        Its name in the Network (``ProjectionSpec.synapse``): PyNN's class name, or
        ``STDP:<timing rule>:<weight dependence>`` for an STDP mechanism.
    params
        Per-synapse parameters besides weight and delay, in PyNN's names; a projection of
        this type must carry each of them.
    state
        Per-synapse initial state it may carry besides (``Projection.initialize``).
    row_extension
        Which extension of the synaptic rows holds its parameters and state (one of
        :data:`ROW_EXTENSIONS`).
    check
        ``check(label, params)``: raises :class:`~pynn_spinnaker2.errors.NetworkError`,
        naming projection ``label``, for parameters the cores cannot run (called with the
        per-synapse arrays of a non-empty projection).
    """

    name: str
    params: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    row_extension: str = "none"
    check: Callable[[str, dict[str, np.ndarray]], None] | None = None

    def __post_init__(self) -> None:
        if self.row_extension not in ROW_EXTENSIONS:
            raise ValueError(f"synapse type {self.name!r}: row_extension must be one of "
                             f"{ROW_EXTENSIONS}, got {self.row_extension!r}")


#: Name -> synapse type, filled by :func:`register`.
SYNAPSE_TYPES: dict[str, SynapseType] = {}


def register(synapse_type: SynapseType) -> SynapseType:
    """Make ``synapse_type`` known to every stage; returns it (usable at module level)."""
    if synapse_type.name in SYNAPSE_TYPES and SYNAPSE_TYPES[synapse_type.name] != synapse_type:
        raise ValueError(f"synapse type {synapse_type.name!r} is registered already")
    SYNAPSE_TYPES[synapse_type.name] = synapse_type
    return synapse_type


def unregister(name: str) -> None:
    """Forget synapse type ``name`` (for tests that define their own)."""
    SYNAPSE_TYPES.pop(name, None)


def with_extension(row_extension: str) -> tuple[str, ...]:
    """Names of the registered synapse types whose rows use ``row_extension``."""
    return tuple(n for n, t in SYNAPSE_TYPES.items() if t.row_extension == row_extension)


def finite(label: str, synapse: str, params: dict[str, np.ndarray]) -> None:
    """Every parameter finite: NaN would pass every range check below and reach the cores."""
    from ..errors import NetworkError

    for name, values in params.items():
        if not np.all(np.isfinite(np.asarray(values, dtype=float))):
            raise NetworkError(f"projection {label!r}: {synapse} parameter {name!r} has "
                               f"non-finite values (NaN or infinity); give finite numbers")
