"""A NIR graph as one flat list of nodes and edges (what :mod:`.nir_lower` walks).

Nested graphs become dotted names (``outer.inner``); an edge to or from a subgraph goes to
its single ``Input`` or ``Output`` node, which then passes values through. A subgraph marked
as an extension node (:func:`.nir_extensions.container_type`, as ``nir.read`` returns the
EGRU) is not entered: it becomes its extension's node.
"""

from __future__ import annotations

import nir

from ..errors import NetworkError
from .nir_extensions import EXTENSIONS, container_type


def flatten(graph: nir.NIRGraph, prefix: str, nodes: dict[str, object],
             edges: list[tuple[str, str]], top_io: set[str]) -> None:
    """Nested graphs -> dotted names; edges to a subgraph go to its single Input/Output."""
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            node = _extension_node(node, full)
        if isinstance(node, nir.NIRGraph):
            flatten(node, full + ".", nodes, edges, top_io)
        else:
            nodes[full] = node
            if not prefix and isinstance(node, nir.Input | nir.Output):
                top_io.add(full)
    for a, b in graph.edges:
        edges.append((_resolve(graph, prefix, a, nir.Output),
                      _resolve(graph, prefix, b, nir.Input)))


def _extension_node(graph: nir.NIRGraph, name: str) -> object:
    """A subgraph marked as an extension node (as ``nir.read`` returns the EGRU) -> that
    node; any other subgraph unchanged."""
    try:
        kind = container_type(graph.metadata)
        if kind is None:
            return graph
        return EXTENSIONS[kind].from_dict(graph.to_dict())
    except NetworkError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise NetworkError(f"NIR import: node {name!r} (a subgraph marked as an extension "
                           f"node): {exc}") from exc


def _resolve(graph: nir.NIRGraph, prefix: str, name: str, port: type) -> str:
    """The flat name of an edge end (a subgraph stands for its one Input or Output)."""
    if name in graph.nodes:
        node = graph.nodes[name]
        if not isinstance(node, nir.NIRGraph) or container_type(node.metadata):
            return prefix + name
        ports = [k for k, v in node.nodes.items() if isinstance(v, port)]
        if len(ports) != 1:
            raise NetworkError(f"NIR import: an edge names subgraph {prefix + name!r}, which "
                               f"has {len(ports)} {port.__name__} nodes {ports}; name one as "
                               f"'{name}.<{port.__name__.lower()} name>'")
        return _resolve(node, prefix + name + ".", ports[0], port)
    head, _, rest = name.partition(".")
    inner = graph.nodes.get(head)
    if rest and isinstance(inner, nir.NIRGraph) and not container_type(inner.metadata):
        return _resolve(graph.nodes[head], prefix + head + ".", rest, port)
    raise NetworkError(f"NIR import: edge end {prefix + name!r} is not a node of the graph "
                       f"(nodes: {sorted(prefix + k for k in graph.nodes)})")
