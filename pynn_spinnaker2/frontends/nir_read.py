"""Reading NIR files with errors that say where the file is wrong.

``nir.read`` trusts its file: a truncated file, a missing dataset or a parameter of the wrong
type ends in an ``AssertionError``, ``KeyError`` or ``TypeError`` from deep inside h5py or
nir. :func:`read_nir` reads the same HDF5 layout (nir 1.0.8's ``nir.write``), node by node,
and raises :class:`~pynn_spinnaker2.errors.FormatError` naming the file and the node (as a
dotted path through nested graphs) instead. It also reads the extension node types of
:mod:`.nir_extensions`: those stored under their own type (which ``nir.read`` refuses) and
those stored as marked subgraphs (the EGRU), which it turns back into their nodes.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import nir
import numpy as np

from ..errors import FormatError
from ..network import xml_arrays
from .nir_extensions import EXTENSIONS, container_type

#: NIR node types nir 1.0.8 can (de)serialise.
NIR_TYPES = ("Affine", "AvgPool2d", "Conv1d", "Conv2d", "CubaLI", "CubaLIF", "Delay",
             "Flatten", "I", "IF", "Input", "LI", "LIF", "Linear", "NIRGraph", "Output",
             "Scale", "SumPool2d", "Threshold")
#: Keys a file stores that are not constructor arguments (nir's from_dict renames them).
_RENAMED = {"Input": {"shape"}, "Output": {"shape"}, "Flatten": {"input_type"}}


def read_nir(path: str | Path) -> nir.NIRGraph:
    """Read a NIR file.

    Raises
    ------
    FormatError
        The file is not HDF5, is truncated, is not a NIR file, or one of its nodes is
        malformed; the message names the file and the node.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such NIR file")
    try:
        with h5py.File(path, "r") as f:
            if "node" not in f:
                raise FormatError(f"{path}: no 'node' group at the top: not a NIR file "
                                  f"(written by nir.write)")
            data = _group_to_dict(f["node"], f"{path}:/node")
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 -- any failure of h5py here means a bad file
        raise FormatError(f"{path}: not a readable HDF5 file, or truncated "
                          f"({type(exc).__name__}: {exc})") from exc
    return node_from_dict(data, where=f"{path}: top graph", top=True)


def _group_to_dict(group: object, where: str) -> dict:
    """nir's ``hdf2dict``, reading each dataset inside a guard that names it."""
    import h5py

    out = {}
    for key, item in group.items():
        name = key.decode() if isinstance(key, bytes) else key
        if isinstance(item, h5py.Group):
            out[name] = _group_to_dict(item, f"{where}/{name}")
        else:
            try:
                value = item[()]
            except Exception as exc:  # noqa: BLE001 -- h5py's read failures vary by damage
                raise FormatError(f"{where}/{name}: dataset cannot be read "
                                  f"({type(exc).__name__}: {exc})") from exc
            out[name] = value.decode("utf8", "replace") if isinstance(value, bytes) else value
    return out


def node_from_dict(data: object, where: str, top: bool = False) -> nir.NIRNode:
    """One node (a nested graph recursively) from its dictionary.

    Parameters
    ----------
    data
        The node's group as a dictionary.
    where
        Where the node is, for messages.
    top
        True for the file's top node (which must be a graph).
    """
    if not isinstance(data, dict):
        raise FormatError(f"{where}: expected a group (a node), found a dataset")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise FormatError(f"{where}: the node has no 'type' string (found {kind!r})")
    if top and kind != "NIRGraph":
        raise FormatError(f"{where}: the top node must be a NIRGraph, found {kind!r}")
    if kind == "NIRGraph":
        try:
            extension = container_type(data.get("metadata"))
        except ValueError as exc:
            raise FormatError(f"{where} (NIRGraph): {exc}") from exc
        if extension is None:
            return _graph_from_dict(data, where)
        if top:
            raise FormatError(f"{where}: the top node must be a graph of nodes, found an "
                              f"{extension} extension node")
        kind = extension
    if kind in EXTENSIONS:
        try:
            return EXTENSIONS[kind].from_dict(dict(data))
        except FormatError:
            raise
        except Exception as exc:  # noqa: BLE001 -- an extension's constructor checks
            detail = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            raise FormatError(f"{where} ({kind}): {detail}") from exc
    if kind not in NIR_TYPES:
        known = sorted(set(NIR_TYPES) | set(EXTENSIONS))
        raise FormatError(f"{where}: unknown NIR node type {kind!r}; known types are {known}")
    cls = nir.str2NIRNode(kind)
    _check_fields(cls, kind, data, where)
    kwargs = dict(data)
    if "metadata" in kwargs and not isinstance(kwargs["metadata"], dict):
        raise FormatError(f"{where} ({kind}): 'metadata' must be a group")
    try:
        return cls.from_dict(kwargs)
    except Exception as exc:  # noqa: BLE001 -- nir checks shapes with assert and TypeErrors
        raise FormatError(f"{where} ({kind}): {type(exc).__name__}: {exc}") from exc


def _check_fields(cls: type, kind: str, data: dict, where: str) -> None:
    """Missing or unexpected datasets, named before nir's constructor fails on them."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    renamed = _RENAMED.get(kind, set())
    allowed = (set(fields) | renamed | {"type", "metadata"}) - (
        {"input_type", "output_type"} - renamed)
    required = {name for name, f in fields.items()
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                and name not in ("input_type", "output_type")} | renamed
    if kind == "Flatten":
        required -= {"input_type"}
    missing = sorted(required - set(data))
    if missing:
        raise FormatError(f"{where} ({kind}): missing {missing}; a {kind} node needs "
                          f"{sorted(required)}")
    unexpected = sorted(set(data) - allowed)
    if unexpected:
        raise FormatError(f"{where} ({kind}): unexpected entries {unexpected}; a {kind} node "
                          f"has {sorted(allowed - {'type'})}")
    if "shape" in renamed:
        _check_shape(data["shape"], kind, where)
    for name, value in data.items():
        if name in ("type", "metadata"):
            continue
        if isinstance(value, dict):
            raise FormatError(f"{where} ({kind}): {name!r} must be a dataset, found a group")
        if isinstance(value, str) and name != "padding":
            raise FormatError(f"{where} ({kind}): {name!r} must be numbers, found the "
                              f"string {value!r}")


def _check_shape(shape: object, kind: str, where: str) -> None:
    """A declared Input/Output shape: whole numbers >= 1 whose product (the neurons it
    makes) is at most ``xml_arrays.MAX_POPULATION_SIZE``, checked before anything of that
    size is built."""
    try:
        values = np.atleast_1d(np.asarray(shape)).tolist()
        dims = [int(d) for d in values]
        whole = all(d == v for d, v in zip(dims, values, strict=True))
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or any(d < 1 for d in dims):
        raise FormatError(f"{where} ({kind}): 'shape' must be whole numbers >= 1, got "
                          f"{np.asarray(shape).tolist()!r}")
    size = math.prod(dims)
    if size > xml_arrays.MAX_POPULATION_SIZE:
        raise FormatError(f"{where} ({kind}): shape {dims} declares {size} neurons, beyond "
                          f"the reader's limit of {xml_arrays.MAX_POPULATION_SIZE}; if the "
                          f"file is trusted, raise "
                          f"pynn_spinnaker2.network.xml_arrays.MAX_POPULATION_SIZE")


def _graph_from_dict(data: dict, where: str) -> nir.NIRGraph:
    nodes_data = data.get("nodes")
    if not isinstance(nodes_data, dict):
        raise FormatError(f"{where} (NIRGraph): missing the 'nodes' group")
    edges = _edges(data.get("edges"), where)
    nodes = {}
    for name, child in nodes_data.items():
        nodes[name] = node_from_dict(child, _child(where, name))
    for a, b in edges:
        for end in (a, b):
            if end not in nodes and end.split(".", 1)[0] not in nodes:
                raise FormatError(f"{where}: edge ({a!r}, {b!r}) names node {end!r}, which "
                                  f"is not in the graph (nodes: {sorted(nodes)})")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise FormatError(f"{where}: 'metadata' must be a group")
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)


def _child(where: str, name: str) -> str:
    """Location of node ``name`` inside the graph at ``where``: its dotted name."""
    file, _, inside = where.rpartition(": ")
    if inside == "top graph":
        return f"{file}: node {name!r}"
    dotted = inside[len("node '"):-1]
    return f"{file}: node {repr(dotted + '.' + name)}"


def _edges(raw: object, where: str) -> list[tuple[str, str]]:
    if raw is None:
        raise FormatError(f"{where} (NIRGraph): missing the 'edges' dataset")
    arr = np.asarray(raw, dtype=object)
    if arr.size == 0:
        return []
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise FormatError(f"{where} (NIRGraph): 'edges' must be pairs of node names, found an "
                          f"array of shape {arr.shape}")
    out = []
    for a, b in arr:
        names = []
        for end in (a, b):
            if isinstance(end, bytes):
                end = end.decode("utf8", "replace")
            if not isinstance(end, str):
                raise FormatError(f"{where} (NIRGraph): edge ends must be node names, found "
                                  f"{end!r}")
            names.append(end)
        out.append((names[0], names[1]))
    return out
