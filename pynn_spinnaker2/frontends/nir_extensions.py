"""Extension nodes: NIR node types that nir 1.0.8 does not define but this backend runs.

NIR has no node for some cell types the chip runs (the EGRU, with its gates and graded
events). Each such type is one :class:`NIRExtension`, registered with :func:`register` from
its own small module: our reader (:func:`pynn_spinnaker2.frontends.nir_read.read_nir`) then
loads the type's nodes, the importer builds its population, and the exporter writes it. The
extensions this package ships register when :mod:`pynn_spinnaker2.frontends` is imported.

Two ways to store such a node in a file:

- under its own ``type`` string: ``nir.read`` refuses the file (nir 1.0.8 asserts that every
  type is one of its own), ours reads it;
- as a *container*: a ``NIRGraph`` subgraph of plain NIR nodes whose ``metadata`` holds
  :data:`MARKER` (the extension's type) and :data:`MARKER_VERSION`. ``nir.read`` returns
  the subgraph as it is; our reader and importer turn it back into the extension's node.
  The EGRU (:mod:`.nir_egru`) is stored this way, so files holding it stay readable by
  ``nir.read`` (``doc/nir.md``, "Extension nodes").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .nir_ops import SparseOp

#: Metadata key of a container subgraph: the extension node type it stores.
MARKER = "nir_extension"
#: Metadata key of a container subgraph: the version of its layout.
MARKER_VERSION = "nir_extension_version"


@dataclass(frozen=True)
class LoweredNode:
    """What a neuron-like node becomes: one population and how its input reaches it.

    Parameters
    ----------
    model
        Cell model name (a key of :data:`pynn_spinnaker2.cells.CELL_TYPES`).
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
    offset_params
        Receptor (of ``input_maps``) -> the parameter a constant input on it adds to (an
        upstream bias mapped through the receptor's map); receptors not named refuse one.
    graded_input
        The node takes graded values as input: an ``Input`` node feeding it becomes a
        ``GradedSourceArray`` (unless the Input's metadata ``graded`` says otherwise).

    Every source of the node's input gets one projection per receptor with a map, even one
    the map leaves without synapses (the EGRU requires every input to reach all its gates).
    """

    model: str
    size: int
    params: dict[str, np.ndarray]
    initial: dict[str, np.ndarray]
    spiking: bool
    input_maps: dict[str, SparseOp | None]
    recurrent: tuple[tuple[str, np.ndarray, np.ndarray, np.ndarray], ...] = ()
    record: str = "spikes"
    offset_params: dict[str, str] = field(default_factory=dict)
    graded_input: bool = False


@dataclass(frozen=True)
class ExportedNode:
    """What an extension writes for one population.

    Parameters
    ----------
    node
        The node.
    inputs
        The node's input, as blocks of its input vector: (source population label, delay in
        time steps >= 1, first element of the block). The exporter wires each source to
        the node (through a ``Delay`` of (steps - 1) dt and, when there are several blocks,
        a ``Linear`` that places the block).
    projections
        Labels of the projections the node holds (not written as ``Linear`` nodes).
    """

    node: object
    inputs: tuple[tuple[str, int, int], ...]
    projections: frozenset[str]


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
        ``(population, network, time_scale) -> ExportedNode``: the population (and the
        projections into it that the node holds) as a node of this type.
    """

    node_type: str
    from_dict: Callable[[dict], object]
    lower: Callable[[object, str, tuple[int, ...], float], LoweredNode]
    model: str
    export: Callable[[object, object, float], ExportedNode] | None = None
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


def container_type(metadata: object) -> str | None:
    """The extension type a subgraph's metadata marks it as (None: a plain subgraph).

    Raises
    ------
    ValueError
        The metadata holds extension keys but no usable marker (a damaged container).
    """
    if not isinstance(metadata, dict):
        return None
    marker = metadata.get(MARKER)
    if marker is None:
        if MARKER_VERSION in metadata:
            raise ValueError(f"the subgraph's metadata has {MARKER_VERSION!r} but no "
                             f"{MARKER!r}: a damaged extension node")
        return None
    if isinstance(marker, bytes):
        marker = marker.decode("utf8", "replace")
    if not isinstance(marker, str):
        raise ValueError(f"metadata {MARKER!r} must be the extension's type name, found "
                         f"{marker!r}")
    if marker not in EXTENSIONS:
        raise ValueError(f"the subgraph is an extension node of type {marker!r}, which this "
                         f"reader does not know (known: {sorted(EXTENSIONS)}); it cannot be "
                         f"read as plain NIR")
    return marker

