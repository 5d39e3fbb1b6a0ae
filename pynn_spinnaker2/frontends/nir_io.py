"""NIR files and graphs in and out: reading a graph with its time step, writing one.

The PyNN layer's ``sim.import_nir`` and ``sim.export_nir``
(:mod:`pynn_spinnaker2.pynn.network_file`) call these with the Network between: import is
:func:`load_graph`, :func:`graph_dt` then :func:`.nir_lower.nir_to_network`; export is
:func:`export_network`. ``doc/nir.md`` documents the conventions (time step, units, what a
spike is, discretisation, delays).
"""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np

from ..errors import NetworkError
from ..network import Network
from .nir_export import network_to_nir
from .nir_read import read_nir


def load_graph(graph_or_path: nir.NIRGraph | str | Path) -> nir.NIRGraph:
    """The graph itself, or the graph in the NIR file at that path (:func:`.read_nir`)."""
    if isinstance(graph_or_path, nir.NIRGraph):
        return graph_or_path
    return read_nir(graph_or_path)


def graph_dt(graph: nir.NIRGraph, dt: float | None = None) -> float:
    """The time step to import ``graph`` with: ``dt`` when given, else its metadata's.

    Raises
    ------
    NetworkError
        No ``dt`` given and none in the metadata (NIR stores none; our exports do).
    """
    if dt is not None:
        return dt
    dt = (graph.metadata or {}).get("dt")
    if dt is None:
        raise NetworkError("NIR stores no time step: pass dt= (the step the graph was trained "
                           "with, in its time unit: 1e-4 for snnTorch, 1e-3 for Norse)")
    return float(np.asarray(dt))


def export_network(network: Network, path: str | Path | None = None,
                   dt: float | None = None) -> nir.NIRGraph:
    """``network`` as a NIR graph (:func:`.network_to_nir`), written to ``path`` when given."""
    graph = network_to_nir(network, dt)
    if path is not None:
        write_nir(path, graph)
    return graph


def write_nir(path: str | Path, graph: nir.NIRGraph) -> None:
    """``nir.write``, with HDF5 groups that keep their creation order.

    Readers (``nir.read`` and ours) then meet the nodes in the graph's order instead of
    sorted by name, so an imported network has its populations in the exported order: the
    order in which their events are summed into a shared target (float32 addition is not
    associative), which keeps a round trip bit-identical.
    """
    import h5py

    config = h5py.get_config()
    before = config.track_order
    config.track_order = True
    try:
        nir.write(path, graph)
    finally:
        config.track_order = before
