"""The synapse-type registry: what the network check, the mapper and the image builder ask
of a synapse type, declared once in the type's own module.

A module of this package describes one synapse type (or a family sharing a rule) with a
:class:`SynapseType` and :func:`register`\\ s it; ``pynn_spinnaker2.synapses`` imports every
module, so adding a synapse type is one new module and its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The per-synapse regions (:mod:`pynn_spinnaker2.mapping.regions`), parallel to the packed
#: synaptic words, that a synapse type's rule may need: ``synapse_dynamics`` (Tsodyks-Markram
#: state), ``synapse_release`` (a release probability), ``synapse_quantal`` (release sites
#: drawn by the core), ``synapse_plasticity`` (STDP records).
SYNAPSE_REGIONS = ("synapse_dynamics", "synapse_release", "synapse_quantal",
                   "synapse_plasticity")


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
    region
        The per-synapse region its parameters and state live in (one of
        :data:`SYNAPSE_REGIONS`), or None when the synaptic word is all it needs.
    check
        ``check(label, params)``: raises :class:`~pynn_spinnaker2.errors.NetworkError`,
        naming projection ``label``, for parameters the cores cannot run (called with the
        per-synapse arrays of a non-empty projection).
    record_dtype
        The record format of ``region`` (one record per synapse of a core's row block);
        every type of one region declares the same.
    encode
        ``encode(proj, post)``: the records of projection ``proj`` (a
        ``ProjectionSpec``) onto population ``post`` (its ``PopulationSpec``), one per
        synapse, of ``record_dtype``.
    blank
        ``blank(n)``: the records of ``n`` synapses of other types sharing a core with this
        type's (default: zeros of ``record_dtype``).
    update
        The emulator's per-spike update of the state this type keeps in its region, where
        it is pure array maths; its signature is the region's (``synapse_dynamics``:
        ``update(state, params, k, h) -> factors``, see
        :func:`pynn_spinnaker2.synapses.tsodyks_markram.update`). The emulator looks it up
        by the region the image fills.
    """

    name: str
    params: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    region: str | None = None
    check: Callable[[str, dict[str, np.ndarray]], None] | None = None
    record_dtype: np.dtype | None = None
    encode: Callable[[Any, Any], np.ndarray] | None = None
    blank: Callable[[int], np.ndarray] | None = None
    update: Callable[..., np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.region is not None and self.region not in SYNAPSE_REGIONS:
            raise ValueError(f"synapse type {self.name!r}: region must be None or one of "
                             f"{SYNAPSE_REGIONS}, got {self.region!r}")
        if (self.region is None) != (self.record_dtype is None) or (
                (self.region is None) != (self.encode is None)):
            raise ValueError(f"synapse type {self.name!r}: a region needs a record_dtype "
                             f"and an encode, and only a region")

    def blank_records(self, n: int) -> np.ndarray:
        """The records of ``n`` synapses of other types in this type's region."""
        if self.blank is not None:
            return self.blank(n)
        return np.zeros(n, self.record_dtype)


#: Name -> synapse type, filled by :func:`register`.
SYNAPSE_TYPES: dict[str, SynapseType] = {}


def register(synapse_type: SynapseType) -> SynapseType:
    """Make ``synapse_type`` known to every stage; returns it (usable at module level)."""
    if synapse_type.name in SYNAPSE_TYPES and SYNAPSE_TYPES[synapse_type.name] != synapse_type:
        raise ValueError(f"synapse type {synapse_type.name!r} is registered already")
    for other in SYNAPSE_TYPES.values():
        if (other.region == synapse_type.region is not None
                and other.record_dtype != synapse_type.record_dtype):
            raise ValueError(f"synapse type {synapse_type.name!r}: region "
                             f"{synapse_type.region!r} holds {other.record_dtype} records "
                             f"({other.name}), not {synapse_type.record_dtype}")
    SYNAPSE_TYPES[synapse_type.name] = synapse_type
    return synapse_type


def unregister(name: str) -> None:
    """Forget synapse type ``name`` (for tests that define their own)."""
    SYNAPSE_TYPES.pop(name, None)


def with_region(region: str) -> tuple[str, ...]:
    """Names of the registered synapse types whose rule lives in per-synapse ``region``."""
    return tuple(n for n, t in SYNAPSE_TYPES.items() if t.region == region)


def region_type(region: str) -> SynapseType:
    """The first registered synapse type of per-synapse ``region``: its record format and
    blank records are the region's (:func:`register` keeps them one per region)."""
    for known in SYNAPSE_TYPES.values():
        if known.region == region:
            return known
    raise KeyError(f"no registered synapse type has per-synapse region {region!r}")


def synapse_region(synapse: str) -> str | None:
    """The per-synapse region synapse type ``synapse`` needs, if any.

    Parameters
    ----------
    synapse
        A synapse type name (``ProjectionSpec.synapse``).

    Returns
    -------
    str or None
        A region name of :mod:`pynn_spinnaker2.mapping.regions`, or None.
    """
    known = SYNAPSE_TYPES.get(synapse)
    return None if known is None else known.region


def finite(label: str, synapse: str, params: dict[str, np.ndarray]) -> None:
    """Every parameter finite: NaN would pass every range check below and reach the cores."""
    from ..errors import NetworkError

    for name, values in params.items():
        if not np.all(np.isfinite(np.asarray(values, dtype=float))):
            raise NetworkError(f"projection {label!r}: {synapse} parameter {name!r} has "
                               f"non-finite values (NaN or infinity); give finite numbers")
