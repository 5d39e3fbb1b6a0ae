"""Extension nodes: NIR node types that nir 1.0.8 does not define but this backend runs.

NIR has no node for some cell types the chip runs (the EGRU, with its gates and graded
events). Each such type is one :class:`NIRExtension`, registered with :func:`register` from
its own small module: our reader (:func:`pynn_spinnaker2.frontends.nir_read.read_nir`) then
loads the type's nodes, the importer builds its population, and the exporter writes it. The
file stays a valid NIR (HDF5) file; ``nir.read`` refuses the unknown type, ours reads it.

The planned EGRU node is described in ``doc/nir.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .nir_ops import SparseOp


@dataclass(frozen=True)
class LoweredNode:
    """What a neuron-like node becomes: one population and how its input reaches it.

    Parameters
    ----------
    model
        Cell model name (a key of :data:`pynn_spinnaker2.cells.CELL_MODELS`).
    size
        Number of neurons.
    params, initial
        Per-neuron parameter and initial-value arrays (PyNN units: time in ms).
    spiking
        Whether its output is spikes other nodes may receive.
    input_maps
        Receptor -> linear map applied to the node's summed input signal before it becomes
        synapses (built-in nodes: ``{"excitatory": identity}``; an EGRU: one map per gate).
    recurrent
        Synapses of the node onto itself that the node's own parameters hold:
        (receptor, pre index, post index, weight) each.
    record
        Variable to record when the node feeds an Output (``spikes`` or a state variable).
    """

    model: str
    size: int
    params: dict[str, np.ndarray]
    initial: dict[str, np.ndarray]
    spiking: bool
    input_maps: dict[str, SparseOp | None]
    recurrent: tuple[tuple[str, np.ndarray, np.ndarray, np.ndarray], ...] = ()
    record: str = "spikes"


@dataclass(frozen=True)
class NIRExtension:
    """One extension node type.

    Parameters
    ----------
    node_type
        The ``type`` string stored in the file.
    from_dict
        ``dict -> node`` (the node's HDF5 group as nir's ``hdf2dict`` reads it).
    lower
        ``(node, name, in_shape, time_scale) -> LoweredNode``; ``time_scale`` is ms per unit
        of the graph's time. Raise :class:`~pynn_spinnaker2.errors.NetworkError` naming
        ``name`` for bad parameters.
    model
        Cell model its populations have (for export).
    export
        ``(population, time_scale) -> node``: the population as a node of this type.
    """

    node_type: str
    from_dict: Callable[[dict], object]
    lower: Callable[[object, str, tuple[int, ...], float], LoweredNode]
    model: str
    export: Callable[[object, float], object] | None = None
    extra: dict[str, object] = field(default_factory=dict)


#: ``type`` string -> extension.
EXTENSIONS: dict[str, NIRExtension] = {}


def register(extension: NIRExtension) -> None:
    """Make an extension node type known to the reader, importer and exporter."""
    EXTENSIONS[extension.node_type] = extension


def unregister(node_type: str) -> None:
    """Forget an extension (tests)."""
    EXTENSIONS.pop(node_type, None)


def for_model(model: str) -> NIRExtension | None:
    """The extension whose populations have cell model ``model``, if any."""
    return next((e for e in EXTENSIONS.values() if e.model == model), None)
