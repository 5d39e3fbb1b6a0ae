"""Network -> NIR graph: the inverse of :mod:`.nir_lower` for what NIR can describe.

- spike sources and graded sources become ``Input`` nodes (their spike times and values are
  stimulus, not network: NIR has no place for them); the Input's metadata ``graded`` says
  which (a GradedSourceArray sends values, the importer recreates one);
- ``NIR_*`` populations become their NIR node, times converted to the graph's unit;
- a projection becomes a ``Linear`` node (dense weights, duplicates summed) per distinct
  delay; a delay of k steps adds a ``Delay`` of (k - 1) dt (one step is the spike's own);
- a population's ``bias`` becomes the bias of an ``Affine`` on one of its delay-free inputs
  (or of an Affine fed by an Input of size 1 that never spikes, when it has none);
- every recorded population and every neuron population that feeds nothing gets an
  ``Output``;
- extension cell types are written by their extension (:mod:`.nir_extensions`), which may
  hold the projections into them (the EGRU node holds its gate weights): their input is
  wired from each source, through a ``Delay`` for delays over one step and a ``Linear``
  that places the source in the node's input vector when it has several sources.

Graph metadata: ``dt`` (the graph time step), ``time_unit`` (``s``), ``timestep_ms``. Node
metadata: ``discretisation`` (``exact``/``euler``) and, when they differ from what the
importer assumes (v = v_leak, i_syn = 0), ``initial_v`` and ``initial_i_syn``.
"""

from __future__ import annotations

import re

import nir
import numpy as np

from ..cells import CELL_TYPES
from ..cells.nir_cuba import DEFAULTS as NIR_DEFAULTS
from ..cells.nir_cuba import MODELS as NIR_MODELS
from ..network import Network, PopulationSpec
from . import nir_units as units
from .nir_extensions import EXTENSIONS, ExportedNode, for_model


def _is_source(model: str) -> bool:
    """A spike (or graded event) source: a NIR Input, not a neuron node."""
    known = CELL_TYPES.get(model)
    return known is not None and known.is_source


def network_to_nir(network: Network, dt: float | None = None) -> nir.NIRGraph:
    """The network as a NIR graph.

    Parameters
    ----------
    network
        The network (``NIR_*`` cells, extension cells and spike sources only).
    dt
        The graph's time step in its own time unit; default: the simulation time step in
        seconds (the unit snnTorch and Norse use).

    Raises
    ------
    NotImplementedError
        A population, projection or current source NIR cannot describe; the message names it.
    """
    h = network.timestep
    dt = h * 1e-3 if dt is None else float(dt)
    scale = units.time_scale(h, dt)
    names = _node_names([p.label for p in network.populations]
                        + [p.label for p in network.projections])
    nodes: dict[str, nir.NIRNode] = {}
    edges: list[tuple[str, str]] = []
    for src in network.current_sources:
        raise NotImplementedError(f"NIR export: current source {src.label!r} ({src.kind}) has "
                                  f"no NIR node; use the cells' 'bias' parameter for a "
                                  f"constant input")
    pops = {p.label: p for p in network.populations}
    exported: dict[str, ExportedNode] = {}
    for pop in network.populations:
        ext = for_model(pop.model) if pop.model not in NIR_MODELS else None
        if ext is not None and ext.export is not None:
            exported[pop.label] = ext.export(pop, network, scale)
            nodes[names[pop.label]] = exported[pop.label].node
        else:
            nodes[names[pop.label]] = _population_node(pop, scale)
    held = {label for part in exported.values() for label in part.projections}
    feeds: set[str] = set()
    plain_inputs: dict[str, list[str]] = {}
    for proj in network.projections:
        if proj.label in held:
            continue
        pre, post = pops[proj.pre], pops[proj.post]
        if proj.synapse != "StaticSynapse":
            raise NotImplementedError(f"NIR export: projection {proj.label!r} uses "
                                      f"{proj.synapse}; NIR has static weights only")
        if pre.size * post.size > units.MAX_DENSE:
            raise NotImplementedError(
                f"NIR export: projection {proj.label!r} ({pre.size} x {post.size}) would be a "
                f"dense NIR weight matrix of {pre.size * post.size} entries (NIR has no sparse "
                f"weights); the limit is {units.MAX_DENSE}")
        steps = units.delay_steps(proj.delay, h)
        groups = np.unique(steps)
        for d in groups:
            sel = steps == d
            w = np.zeros((post.size, pre.size))
            np.add.at(w, (proj.post_idx[sel], proj.pre_idx[sel]), proj.weight[sel])
            lin = names[proj.label] + ("" if groups.size == 1 else f"_delay{d}")
            nodes[lin] = nir.Linear(weight=w)
            edges.append((names[pre.label], lin))
            if d > 1:
                nodes[lin + "_d"] = nir.Delay(delay=np.full(post.size, units.nir_delay(d, dt)))
                edges += [(lin, lin + "_d"), (lin + "_d", names[post.label])]
            else:
                edges.append((lin, names[post.label]))
                plain_inputs.setdefault(post.label, []).append(lin)
        feeds.add(proj.pre)
    for label, part in exported.items():
        _wire_inputs(names[label], part, pops, names, nodes, edges, dt)
        feeds.update(pre for pre, _, _ in part.inputs)
    for pop in network.populations:
        _add_bias(pop, names, nodes, edges, plain_inputs.get(pop.label, []))
        is_neuron = not _is_source(pop.model)
        if pop.record or (is_neuron and pop.label not in feeds):
            out = _unique(f"{names[pop.label]}_output", nodes)
            nodes[out] = nir.Output(output_type=np.array([pop.size]))
            edges.append((names[pop.label], out))
    metadata = {"dt": dt, "time_unit": "s", "timestep_ms": h, "writer": "pynn_spinnaker2"}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)


def _wire_inputs(target: str, part: ExportedNode, pops: dict[str, PopulationSpec],
                 names: dict[str, str], nodes: dict, edges: list, dt: float) -> None:
    """Edges from each source block of an extension node's input to the node."""
    n_in = int(np.prod(part.node.input_type["input"]))
    for pre, steps, offset in part.inputs:
        size = pops[pre].size
        end = names[pre]
        tag = f"{target}_input_{names[pre]}" + ("" if steps == 1 else f"_delay{steps}")
        if steps > 1:
            delay = _unique(f"{tag}_d", nodes)
            nodes[delay] = nir.Delay(delay=np.full(size, units.nir_delay(steps, dt)))
            edges.append((end, delay))
            end = delay
        if len(part.inputs) > 1 or size != n_in:
            place = np.zeros((n_in, size))
            place[offset + np.arange(size), np.arange(size)] = 1.0
            lin = _unique(tag, nodes)
            nodes[lin] = nir.Linear(weight=place)
            edges.append((end, lin))
            end = lin
        edges.append((end, target))


def _population_node(pop: PopulationSpec, scale: float) -> nir.NIRNode:
    if _is_source(pop.model):
        return nir.Input(input_type=np.array([pop.size]),
                         metadata={"graded": pop.model == "GradedSourceArray"})
    if pop.model not in NIR_MODELS:
        raise NotImplementedError(
            f"NIR export: population {pop.label!r} is an {pop.model}, which no NIR node "
            f"describes exactly; NIR export takes spike sources, graded sources, the NIR "
            f"cell types {sorted(NIR_MODELS)} and the extension cell types "
            f"{sorted(e.model for e in EXTENSIONS.values() if e.export is not None)}")
    model = NIR_MODELS[pop.model]
    t = model.extra["nir_type"]
    p = {k: np.asarray(pop.params.get(k, np.full(pop.size, v)), dtype=float)
         for k, v in NIR_DEFAULTS[pop.model].items()}
    fields = {name: units.to_nir(t, name, value, scale) for name, value in p.items()
              if name not in ("bias", "euler")}
    metadata = {}
    if "euler" in p:
        euler = p["euler"] > 0.5
        if euler.any() and not euler.all():
            raise NotImplementedError(f"NIR export: population {pop.label!r} mixes euler and "
                                      f"exact neurons; a NIR node has one discretisation")
        metadata["discretisation"] = "euler" if euler.all() else "exact"
    v0 = np.asarray(pop.initial.get("v", np.full(pop.size, model.initial["v"])), float)
    if not np.array_equal(v0, p.get("v_leak", np.zeros(pop.size))):
        metadata["initial_v"] = v0
    i0 = np.asarray(pop.initial.get("i_syn", np.zeros(pop.size)), float)
    if np.any(i0 != 0):
        metadata["initial_i_syn"] = i0
    return getattr(nir, t)(**fields, metadata=metadata)


def _add_bias(pop: PopulationSpec, names: dict[str, str], nodes: dict, edges: list,
              plain: list[str]) -> None:
    """Fold the population's bias into an Affine that feeds it."""
    bias = np.asarray(pop.params.get("bias", np.zeros(pop.size)), dtype=float)
    if _is_source(pop.model) or not np.any(bias):
        return
    if plain:
        nodes[plain[0]] = nir.Affine(weight=nodes[plain[0]].weight, bias=bias)
        return
    src = _unique(f"{names[pop.label]}_bias_input", nodes)
    aff = _unique(f"{names[pop.label]}_bias", nodes)
    nodes[src] = nir.Input(input_type=np.array([1]))
    nodes[aff] = nir.Affine(weight=np.zeros((pop.size, 1)), bias=bias)
    edges += [(src, aff), (aff, names[pop.label])]


def _node_names(labels: list[str]) -> dict[str, str]:
    """Labels as HDF5-safe node names ('/' and '.' are path and nesting separators)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for label in labels:
        name = re.sub(r"[/.]", "_", label) or "node"
        base, k = name, 1
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        out[label] = name
    return out


def _unique(name: str, nodes: dict) -> str:
    base, k = name, 1
    while name in nodes:
        name, k = f"{base}_{k}", k + 1
    return name
