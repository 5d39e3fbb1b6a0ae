"""The one place NIR's units meet PyNN's: time scaling, delays and size limits.

NIR stores no time step and no units. A graph made for a step ``dt`` (in the graph's own
time unit, seconds for snnTorch and Norse) runs with one ``dt`` per simulation step of
``timestep`` ms, so graph time scales by ``time_scale = timestep / dt`` (ms per graph time
unit). Import (:mod:`.nir_nodes`, :mod:`.nir_lower`) and export (:mod:`.nir_export`) both
convert through the functions here, so a round trip gives back the same numbers.
"""

from __future__ import annotations

import numpy as np

#: NIR neuron parameters that are times: multiplied by ``time_scale`` on import.
TIME_FIELDS = ("tau", "tau_syn", "tau_mem")
#: NIR node types whose ``r`` multiplies a rate (per unit time): divided by ``time_scale``.
RATE_R_TYPES = ("IF", "I")
#: Largest dense weight matrix the exporter writes for one projection or one EGRU matrix
#: (entries; 512 MiB of float64). NIR has no sparse weights.
MAX_DENSE = 1 << 26


def time_scale(timestep: float, dt: float) -> float:
    """ms of simulation time per unit of graph time (one ``dt`` is one ``timestep``)."""
    return timestep / dt


def _kind(nir_type: str, field: str) -> str:
    """``time``, ``rate`` (``r`` of a node without leak) or ``plain``."""
    if field in TIME_FIELDS:
        return "time"
    return "rate" if field == "r" and nir_type in RATE_R_TYPES else "plain"


def to_pynn(nir_type: str, field: str, value: np.ndarray, scale: float) -> np.ndarray:
    """A NIR neuron parameter (graph units) as the ``NIR_*`` cell parameter (ms).

    Parameters
    ----------
    nir_type
        The NIR node type (``LIF``, ``IF``, ...).
    field
        The parameter name (NIR's and the cell type's are the same).
    value
        The values.
    scale
        :func:`time_scale`.
    """
    kind = _kind(nir_type, field)
    # a multiplication one way and a division the other (never by a reciprocal): the
    # arithmetic the importer and exporter have always done, so imported numbers stay as they were
    return value * scale if kind == "time" else value / scale if kind == "rate" else value


def to_nir(nir_type: str, field: str, value: np.ndarray, scale: float) -> np.ndarray:
    """The inverse of :func:`to_pynn`."""
    kind = _kind(nir_type, field)
    return value / scale if kind == "time" else value * scale if kind == "rate" else value


def delay_ms(delay: np.ndarray, dt: float, timestep: float) -> np.ndarray:
    """Synaptic delay in ms of an edge with ``Delay`` total ``delay`` (graph time): one step
    for the spike itself plus round(delay / dt) steps."""
    return (1.0 + np.round(np.asarray(delay) / dt)) * timestep


def delay_steps(delay_ms_: np.ndarray, timestep: float) -> np.ndarray:
    """Synaptic delays in ms as whole simulation steps."""
    return np.round(np.asarray(delay_ms_) / timestep).astype(np.int64)


def nir_delay(steps: int, dt: float) -> float:
    """The ``Delay`` (graph time) of a synapse of ``steps`` steps: one step is the spike's."""
    return (steps - 1) * dt
