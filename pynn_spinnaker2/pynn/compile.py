"""PyNN objects -> Network, and the compile step run before each run.

Compilation is lazy: nothing is built until ``run``; afterwards it is redone only when the
network changed (parameters, connections, recording, sources). A change after a run keeps the
emulator's state when the new image places the same cores.
"""

from __future__ import annotations

import time

import numpy as np
from pyNN.parameters import Sequence

from ..backends.emulator import Emulator
from ..image import build_image
from ..mapping import map_network
from ..network import (
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
    from_xml,
    to_xml,
    validate,
)
from .simulator import Compiled, State, evaluate


def compile_state(state: State) -> None:
    """Bring the compiled stages up to date with the PyNN objects."""
    if not state.dirty and state.compiled is not None:
        return
    timings = {}
    start = time.perf_counter()
    # Learnt weights come back first, so the new image carries them on.
    for prj in state.projections:
        if prj._plastic:
            prj._sync_weights()
    # The run goes through the XML intermediate form, so every run tests the format.
    network = validate(from_xml(to_xml(build_network(state))))
    timings["network"] = time.perf_counter() - start
    start = time.perf_counter()
    mapping = map_network(network)
    timings["mapping"] = time.perf_counter() - start
    start = time.perf_counter()
    image = build_image(network, mapping)
    timings["image"] = time.perf_counter() - start
    old = state.compiled
    start = time.perf_counter()
    if old is not None and old.emulator.same_layout(image):
        old.emulator.reload(image)  # keeps the state, the time and the random streams
        emulator = old.emulator
    elif old is not None and old.emulator.step > 0:
        raise NotImplementedError(
            "the network's populations or their placement changed after sim.run() (a new "
            "population, a new neurons-per-core limit, or new recordings of a spike source); "
            "the cores cannot be re-laid-out in mid-run: call sim.reset() first, or create "
            "everything before the first run")
    else:
        emulator = Emulator(image)
    timings["load"] = time.perf_counter() - start
    state.compiled = Compiled(network, mapping, image, emulator, timings=timings,
                              weight_index=_weight_index(state, image))
    state.dirty = False
    if state.reports:
        from ..reports import write_reports

        write_reports(state.compiled, state.reports)


def build_network(state: State) -> Network:
    """The frozen Network described by the current PyNN objects."""
    pops = tuple(_population(p, state) for p in state.populations)
    projections = tuple(spec for prj in state.projections for spec in _projections(prj))
    sources = tuple(_current_source(i, s) for i, s in enumerate(state.current_sources))
    return Network(state.dt, pops, projections, sources, state.machine, state.seed)


def _population(pop: object, state: State) -> PopulationSpec:
    model = pop.celltype.__class__.__name__
    size = pop.size
    params, spike_times = {}, None
    for name, value in pop._parameters.items():
        if name == "spike_times":
            spike_times = tuple(np.asarray(s.value if isinstance(s, Sequence) else s,
                                           dtype=float)
                                for s in _as_object_array(value, size))
        else:
            params[name] = evaluate(value, size)
    initial = {name: evaluate(value, size) for name, value in pop.initial_values.items()}
    record = {}
    for variable, ids in pop.recorder.recorded.items():
        if ids:
            idx = np.sort(pop.id_to_index(np.array(sorted(ids), dtype=int))).reshape(-1)
            record[variable.name] = RecordSpec(idx, float(pop.recorder.sampling_interval))
    per_core = pop.max_neurons_per_core or state.max_neurons_per_core.get(model)
    return PopulationSpec(pop.label, model, size, params, initial, spike_times, record,
                          per_core)


def _as_object_array(value: object, size: int) -> list:
    from lazyarray import larray

    if isinstance(value, larray):
        value = value.evaluate(simplify=False)
    if isinstance(value, Sequence):
        return [value] * size
    return list(np.asarray(value, dtype=object).reshape(-1)) if np.ndim(value) else [value] * size


def _root(population: object, indices: np.ndarray) -> list[tuple[object, np.ndarray,
                                                                  np.ndarray]]:
    """Split indices into an Assembly/view into (root population, root indices, positions)."""
    from pyNN.common import Assembly, PopulationView

    if isinstance(population, Assembly):
        out = []
        bounds = np.cumsum([0] + [p.size for p in population.populations])
        for k, member in enumerate(population.populations):
            sel = np.flatnonzero((indices >= bounds[k]) & (indices < bounds[k + 1]))
            for root, idx, pos in _root(member, indices[sel] - bounds[k]):
                out.append((root, idx, sel[pos]))
        return out
    if isinstance(population, PopulationView):
        root = population.grandparent
        return [(root, np.asarray(population.index_in_grandparent(indices), dtype=np.int64)
                 .reshape(-1), np.arange(indices.size))]
    return [(population, indices, np.arange(indices.size))]


#: Synapse parameters that are not per-synapse data on the machine.
_NOT_PER_SYNAPSE = ("weight", "delay", "dendritic_delay_fraction")


def _projections(prj: object) -> list[ProjectionSpec]:
    return [spec for spec, _ in _projection_parts(prj)]


def _weight_index(state: State, image: object) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Projection (unique label) -> (core, position) of each plastic connection's weight."""
    by_label = {p.projection: p for p in image.plastic}
    out = {}
    for prj in state.projections:
        if not (prj._plastic and len(prj)):
            continue
        core = np.full(len(prj), -1, np.int64)
        position = np.zeros(len(prj), np.int64)
        for spec, sel in _projection_parts(prj):
            where = by_label.get(spec.label)
            if where is not None:
                core[sel[where.connection]] = where.core
                position[sel[where.connection]] = where.position
        if np.any(core < 0):
            raise RuntimeError(f"projection {prj.label!r}: some plastic synapses are missing "
                               f"from the machine image")
        out[prj._unique_label] = (core, position)
    return out


def _projection_parts(prj: object) -> list[tuple[ProjectionSpec, np.ndarray]]:
    """The projection's specs (one per pair of root populations), each with the positions
    of its synapses in the PyNN projection."""
    out = []
    synapse = getattr(prj.synapse_type, "network_name", prj.synapse_type.__class__.__name__)
    for pre, pre_idx, pre_pos in _root(prj.pre, prj._pre_idx):
        for post, post_idx, post_pos in _root(prj.post, prj._post_idx[pre_pos]):
            sel = pre_pos[post_pos]
            label = prj._unique_label + (f"#{len(out)}" if out else "")
            extra = {k: v[sel] for k, v in prj._params.items() if k not in _NOT_PER_SYNAPSE}
            out.append((ProjectionSpec(label, pre.label, post.label, pre_idx[post_pos],
                                       post_idx, prj._weight[sel], prj._delay[sel],
                                       prj.receptor_type, synapse, extra), sel))
    return out


def _current_source(index: int, source: object) -> CurrentSourceSpec:
    by_pop: dict[int, tuple[object, list[int]]] = {}
    for cell in source.cell_list:
        root = cell.parent.grandparent if hasattr(cell.parent, "grandparent") else cell.parent
        by_pop.setdefault(id(root), (root, []))[1].append(int(root.id_to_index(cell)))
    targets = tuple((root.label, np.unique(np.array(idx))) for root, idx in by_pop.values())
    params = {k: (np.asarray(v, dtype=float) if np.ndim(v) else float(v))
              for k, v in source._parameters.items()}
    return CurrentSourceSpec(f"{source.__class__.__name__}{index}",
                             source.__class__.__name__, params, targets)
