"""PyNN objects -> Network: the frozen description the compiler starts from.

:func:`build_network` reads the populations, projections, current sources and recordings of a
simulator state into a :class:`~pynn_spinnaker2.network.Network`; nothing here runs or maps
anything. Labels are made unique here, once, so every later stage names parts by label.
"""

from __future__ import annotations

import numpy as np
from pyNN.parameters import LazyArray, Sequence
from pyNN.random import RandomDistribution

from ..network import (
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
)
from .values import evaluate


class _Labels(dict):
    """Labels by ``id``; an object not among them was made before the last ``setup()``."""

    def __missing__(self, key: int) -> str:
        raise RuntimeError("a population used here (by a projection, a current source or a "
                           "view) belongs to an earlier simulation: sim.setup() started a new "
                           "network without it; create it again after setup()")


def unique_labels(objects: list) -> dict[int, str]:
    """``id(obj)`` -> a label unique among ``objects``.

    PyNN lets two populations (or projections) share a label, but the Network names each
    part by its label, so the second and later of a repeated label get ``#1``, ``#2``...
    """
    seen: dict[str, int] = {}
    out = _Labels()
    for obj in objects:
        n = seen.get(obj.label, 0)
        seen[obj.label] = n + 1
        out[id(obj)] = obj.label if n == 0 else f"{obj.label}#{n}"
    return out


def network_label(population: object, state: object) -> str:
    """The label a root population has in the Network built from ``state``.

    Raises
    ------
    RuntimeError
        The population was made before the last ``setup()`` (it is not in ``state``).
    """
    labels = unique_labels(state.populations)
    if id(population) not in labels:
        raise RuntimeError(f"population {getattr(population, 'label', population)!r} belongs "
                           f"to an earlier simulation: sim.setup() started a new network "
                           f"without it; create the population again after setup()")
    return labels[id(population)]


def build_network(state: object) -> Network:
    """The frozen Network described by the current PyNN objects."""
    labels = unique_labels(state.populations)
    pops = tuple(_population(p, state, labels[id(p)]) for p in state.populations)
    prj_labels = unique_labels(state.projections)
    projections = tuple(spec for prj in state.projections
                        for spec in _projections(prj, prj_labels[id(prj)], labels))
    sources = tuple(_current_source(i, s, labels) for i, s in enumerate(state.current_sources))
    return Network(state.dt, pops, projections, sources, state.machine, state.seed)


def _population(pop: object, state: object, label: str) -> PopulationSpec:
    model = pop.celltype.__class__.__name__
    size = pop.size
    params, spike_times, spike_values = {}, None, None
    for name, value in pop._parameters.items():
        if name in ("spike_times", "values"):  # values: a GradedSourceArray's payloads
            sequences = tuple(np.asarray(s.value if isinstance(s, Sequence) else s,
                                         dtype=float)
                              for s in _as_object_array(value, size))
            if name == "spike_times":
                spike_times = sequences
            else:
                spike_values = sequences
        else:
            params[name] = evaluate(value, size)
    initial = {}
    for name, value in pop.initial_values.items():
        initial[name] = evaluate(value, size)
        if isinstance(getattr(value, "base_value", None), RandomDistribution):
            # A random initial value is drawn once: every later compilation (a run after a
            # change, sim.save_network) must see the same numbers. Others stay as they are
            # (a constant must still evaluate to a scalar).
            pop.initial_values[name] = LazyArray(initial[name].copy(), shape=(size,))
    record = {}
    for variable, ids in pop.recorder.recorded.items():
        if ids:
            idx = np.sort(pop.id_to_index(np.array(sorted(ids), dtype=int))).reshape(-1)
            record[variable.name] = RecordSpec(idx, float(pop.recorder.sampling_interval))
    # Most specific first: the population's own limit, one for its label given to setup,
    # one for its cell type (setup or set_number_of_neurons_per_core).
    limits = state.max_neurons_per_core
    per_core = pop.max_neurons_per_core or limits.get(pop.label) or limits.get(model)
    return PopulationSpec(label, model, size, params, initial, spike_times, record,
                          per_core, spike_values)


def _as_object_array(value: object, size: int) -> list:
    from lazyarray import larray

    if isinstance(value, larray):
        value = value.evaluate(simplify=False)
    if isinstance(value, Sequence):
        return [value] * size
    return list(np.asarray(value, dtype=object).reshape(-1)) if np.ndim(value) else [value] * size


def _root(population: object, indices: np.ndarray
          ) -> list[tuple[object, np.ndarray, np.ndarray | None]]:
    """Split indices into an Assembly/view into (root population, root indices, positions);
    positions None means all of them, in order (no copy is made)."""
    from pyNN.common import Assembly, PopulationView

    if isinstance(population, Assembly):
        out = []
        bounds = np.cumsum([0] + [p.size for p in population.populations])
        for k, member in enumerate(population.populations):
            sel = np.flatnonzero((indices >= bounds[k]) & (indices < bounds[k + 1]))
            for root, idx, pos in _root(member, indices[sel] - bounds[k]):
                out.append((root, idx, sel if pos is None else sel[pos]))
        return out
    if isinstance(population, PopulationView):
        root = population.grandparent
        mask = population.mask
        if isinstance(mask, slice) and not hasattr(population.parent, "parent"):
            # A slice of a population: an offset and a stride, no lookup table.
            start, _, step = mask.indices(root.size)
            return [(root, start + step * indices, None)]
        return [(root, np.asarray(population.index_in_grandparent(indices), dtype=np.int64)
                 .reshape(-1), None)]
    return [(population, indices, None)]


def _take(values: np.ndarray, positions: np.ndarray | None) -> np.ndarray:
    return values if positions is None else values[positions]


#: Synapse parameters that are not per-synapse data on the machine.
_NOT_PER_SYNAPSE = ("weight", "delay", "dendritic_delay_fraction")


def _projections(prj: object, label: str, pop_labels: dict[int, str]) -> list[ProjectionSpec]:
    return [spec for spec, _ in _projection_parts(prj, label, pop_labels)]


def weight_index(state: object, image: object) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``id(projection)`` -> (core, position) of each plastic connection's weight."""
    by_label = {p.projection: p for p in image.plastic}
    labels, pop_labels = unique_labels(state.projections), unique_labels(state.populations)
    out = {}
    for prj in state.projections:
        if not (prj._plastic and len(prj)):
            continue
        core = np.full(len(prj), -1, np.int64)
        position = np.zeros(len(prj), np.int64)
        for spec, sel in _projection_parts(prj, labels[id(prj)], pop_labels):
            where = by_label.get(spec.label)
            if where is not None:
                positions = where.connection if sel is None else sel[where.connection]
                core[positions] = where.core
                position[positions] = where.position
        if np.any(core < 0):
            raise RuntimeError(f"projection {prj.label!r}: some plastic synapses are missing "
                               f"from the machine image")
        out[id(prj)] = (core, position)
    return out


def _projection_parts(prj: object, label: str, pop_labels: dict[int, str]
                      ) -> list[tuple[ProjectionSpec, np.ndarray | None]]:
    """The projection's specs (one per pair of root populations), each with the positions
    of its synapses in the PyNN projection (None: all of them, in order)."""
    out = []
    synapse = getattr(prj.synapse_type, "network_name", prj.synapse_type.__class__.__name__)
    for pre, pre_idx, pre_pos in _root(prj.pre, prj._pre_idx):
        for post, post_idx, post_pos in _root(prj.post, _take(prj._post_idx, pre_pos)):
            sel = pre_pos if post_pos is None else _take(
                np.arange(prj._pre_idx.size), pre_pos)[post_pos]
            part = label if len(out) == 0 else f"{label}#part{len(out)}"
            extra = {k: _take(v, sel) for k, v in prj._params.items()
                     if k not in _NOT_PER_SYNAPSE}
            out.append((ProjectionSpec(part, pop_labels[id(pre)], pop_labels[id(post)],
                                       _take(pre_idx, post_pos), post_idx,
                                       _take(prj._weight, sel), _take(prj._delay, sel),
                                       prj.receptor_type, synapse, extra), sel))
    return out


def _current_source(index: int, source: object, pop_labels: dict[int, str]
                    ) -> CurrentSourceSpec:
    by_pop: dict[int, tuple[object, list[int]]] = {}
    for cell in source.cell_list:
        root = cell.parent.grandparent if hasattr(cell.parent, "grandparent") else cell.parent
        by_pop.setdefault(id(root), (root, []))[1].append(int(root.id_to_index(cell)))
    # A cell injected twice (overlapping views) keeps both: its current adds up, as in NEST.
    targets = tuple((pop_labels[id(root)], np.sort(np.array(idx)))
                    for root, idx in by_pop.values())
    params = {k: (np.asarray(v, dtype=float) if np.ndim(v) else float(v))
              for k, v in source._parameters.items()}
    return CurrentSourceSpec(f"{source.__class__.__name__}{index}",
                             source.__class__.__name__, params, targets)
