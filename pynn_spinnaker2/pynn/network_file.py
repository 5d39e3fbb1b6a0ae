"""A Network as PyNN objects: ``sim.save_network``/``sim.load_network`` and the NIR import.

:func:`build_objects` is the one rebuilder from a Network to Populations, Projections and
current sources; :func:`load_network` (an XML file) and :func:`import_nir` (a NIR graph,
lowered by :mod:`pynn_spinnaker2.frontends`) both go through it. :func:`export_nir` writes
the current network as a NIR graph.


The file is the XML intermediate form (``doc/xml_format.md``): populations with their
parameters, initial values and recording requests, projections as connection lists, current
sources, and the machine settings. Loading it into a fresh ``sim.setup()`` recreates the PyNN
objects exactly (the network they describe writes back the same file), so the run gives the
same spikes as the script that saved it::

    sim.setup(timestep=0.1)
    ...build...
    sim.save_network("net.xml")

    # later, in another script
    sim.setup(timestep=0.1)
    net = sim.load_network("net.xml")
    sim.run(1000.0)
    spikes = net.populations["exc"].get_data("spikes")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nir
import numpy as np
from pyNN import connectors
from pyNN.parameters import LazyArray, Sequence

from ..errors import NetworkError
from ..frontends.nir_io import export_network, graph_dt, load_graph
from ..frontends.nir_lower import nir_to_network
from ..network import Network, ProjectionSpec, load, save, validate
from . import egru_types, electrodes, nir_cells, simulator, standardmodels
from .build import build_network
from .bulk import Synapses
from .populations import Population
from .projections import Projection

#: Where the classes a Network names are found (what ``pyNN.spinnaker2`` exports of them).
_CLASS_MODULES = (standardmodels, egru_types, nir_cells, electrodes)


@dataclass(frozen=True)
class LoadedNetwork:
    """The PyNN objects a network file became.

    Parameters
    ----------
    populations, projections
        By label.
    current_sources
        In file order.
    network
        The Network read from the file.
    """

    populations: dict[str, object]
    projections: dict[str, object]
    current_sources: tuple[object, ...]
    network: Network


def save_network(path: str | Path, compress: bool = True) -> Path:
    """Write the network built so far (populations, parameters, initial values, recording
    requests, projections, current sources, machine settings) to ``path`` as XML.

    Parameters
    ----------
    path
        The file to write.
    compress
        zlib-compress the array data (smaller, slower to write; loading reads either).
    """
    return save(validate(build_network(simulator.state)), path, compress=compress)


def load_network(path: str | Path, machine: bool = True) -> LoadedNetwork:
    """Recreate the network saved in ``path`` in the current simulation (after
    ``sim.setup``, whose time step must be the file's).

    Parameters
    ----------
    path
        A file written by :func:`save_network` (or by ``pynn_spinnaker2.network.save``).
    machine
        Take the machine settings and the random seed from the file (default); False keeps
        those of ``sim.setup``.

    Raises
    ------
    FormatError
        The file is malformed (the message gives the line).
    NetworkError
        The time step differs from ``sim.setup``'s, or a population label is taken.
    """
    network = validate(load(path))
    state = simulator.state
    if not np.isclose(network.timestep, state.dt, rtol=1e-12, atol=0.0):
        raise NetworkError(f"{path}: the network was saved with a time step of "
                           f"{network.timestep} ms but sim.setup() chose {state.dt} ms; call "
                           f"sim.setup(timestep={network.timestep}) before loading it")
    taken = {p.label for p in state.populations} & {p.label for p in network.populations}
    if taken:
        raise NetworkError(f"{path}: populations {sorted(taken)} already exist; load the "
                           f"network into a fresh sim.setup()")
    if machine:
        state.machine, state.seed = network.machine, network.seed
    return build_objects(network)


def build_objects(network: Network, label_prefix: str = "") -> LoadedNetwork:
    """Create the PyNN objects of ``network`` in the current simulation.

    Parameters
    ----------
    network
        The network (its time step is taken to be the simulation's).
    label_prefix
        Prepended to every population and projection label (the returned dictionaries
        keep the network's labels).
    """
    pops = {spec.label: _population(spec, label_prefix) for spec in network.populations}
    projections = {spec.label: _projection(spec, pops, label_prefix)
                   for spec in network.projections}
    sources = tuple(_current_source(spec, pops) for spec in network.current_sources)
    simulator.state.dirty = True
    return LoadedNetwork(pops, projections, sources, network)


def _cls(name: str, what: str) -> type:
    for module in _CLASS_MODULES:
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            return cls
    raise NetworkError(f"the network file uses {what} {name!r}, which pyNN.spinnaker2 "
                           f"does not provide")


def _population(spec: object, label_prefix: str = "") -> object:
    pop = Population(spec.size, _cls(spec.model, "cell type")(),
                         label=label_prefix + spec.label)
    for name, values in spec.params.items():
        pop._parameters[name] = np.array(values, dtype=float)
    for name, sequences in (("spike_times", spec.spike_times), ("values", spec.spike_values)):
        if sequences is not None:  # values: a GradedSourceArray's payloads
            column = np.empty(spec.size, dtype=object)
            column[:] = [Sequence(np.asarray(t, float)) for t in sequences]
            pop._parameters[name] = column
    if spec.initial:
        pop.initialize(**{name: np.array(v, dtype=float) for name, v in spec.initial.items()})
    if spec.max_per_core is not None:
        pop.set_max_neurons_per_core(spec.max_per_core)
    for variable, rec in spec.record.items():
        target = pop if rec.indices.size == spec.size else pop[np.asarray(rec.indices)]
        target.record(variable, sampling_interval=rec.sampling_interval)
    return pop


class SavedConnector(connectors.Connector):
    """The synapses of a saved projection, exactly as listed (order included)."""

    parameter_names = ("spec",)

    def __init__(self, spec: ProjectionSpec) -> None:
        connectors.Connector.__init__(self, safe=False)
        self.spec = spec

    def bulk_synapses(self, projection: object) -> Synapses:
        """The listed synapses as fresh arrays (the projection may change them later)."""
        spec = self.spec
        names = [n for n in projection.synapse_type.get_native_names()
                 if n not in ("weight", "delay")]
        missing = set(names) - set(spec.params)
        if missing:
            raise NetworkError(f"projection {spec.label!r}: the file lacks the synapse "
                               f"parameters {sorted(missing)} of {spec.synapse}")
        params = {"weight": np.array(spec.weight, float), "delay": np.array(spec.delay, float),
                  **{n: np.array(spec.params[n], float) for n in names}}
        return Synapses(np.array(spec.pre_idx, np.int64), np.array(spec.post_idx, np.int64),
                        params)

    def connect(self, projection: object) -> None:
        """PyNN's path, one target at a time (the bulk path normally takes the arrays)."""
        spec = self.spec
        columns = {"weight": spec.weight, "delay": spec.delay, **spec.params}
        order = np.argsort(spec.post_idx, kind="stable")
        for j in np.unique(spec.post_idx):
            sel = order[spec.post_idx[order] == j]
            projection._convergent_connect(spec.pre_idx[sel], int(j),
                                           **{k: v[sel] for k, v in columns.items()})


def _projection(spec: ProjectionSpec, pops: dict[str, object],
                label_prefix: str = "") -> object:
    synapse = _cls(spec.synapse, "synapse type")()
    projection = Projection(pops[spec.pre], pops[spec.post], SavedConnector(spec), synapse,
                                receptor_type=spec.receptor, label=label_prefix + spec.label)
    for name in getattr(synapse, "initial_state", ()):  # what Projection.initialize set
        if name in spec.params:
            projection._set_initial_value_array(name, LazyArray(np.array(spec.params[name],
                                                                         float)))
    return projection


def _current_source(spec: object, pops: dict[str, object]) -> object:
    source = _cls(spec.kind, "current source")(**{
        k: (np.asarray(v, float) if np.ndim(v) else float(v)) for k, v in spec.params.items()})
    for label, idx in spec.targets:
        source.inject_into(pops[label][np.asarray(idx)])
    return source


# -- NIR ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NIRNetwork:
    """What :func:`import_nir` built.

    Parameters
    ----------
    populations
        Node name (dotted through nested graphs) -> its Population.
    projections
        Projection label (``source->target``) -> Projection.
    inputs
        Input node name -> its ``SpikeSourceArray`` Population (a ``GradedSourceArray``
        for an Input that sends values: one feeding an EGRU, see ``doc/nir.md``).
    outputs
        Output node name -> (Population, recorded variable).
    shapes
        Node name -> the node's shape in the graph (populations are flat, in C order).
    dt
        The graph time step used.
    """

    populations: dict[str, object]
    projections: dict[str, object]
    inputs: dict[str, object]
    outputs: dict[str, tuple[object, str]]
    shapes: dict[str, tuple[int, ...]]
    dt: float

    def set_input(self, name: str, raster: np.ndarray) -> None:
        """Drive Input ``name`` with a raster, one row per time step.

        Row t (one value per input element, the node's shape flattened) is sent at
        (t + 1) x timestep, so it is the input of step t + 1 of the first layer. The rows
        hold spike counts (integers >= 0) for a spiking Input; for a graded one (a
        ``GradedSourceArray``, as an Input feeding an EGRU becomes) any finite values, row
        t being sequence position t (zeros are not sent: they add nothing).
        """
        pop = self._input(name)
        raster = np.asarray(raster)
        if raster.ndim < 2 or int(np.prod(raster.shape[1:])) != pop.size:
            raise NetworkError(f"Input {name!r}: the raster needs shape (steps, {pop.size}) "
                               f"(or (steps, *{self.shapes[name]})), got {raster.shape}")
        if getattr(pop.celltype, "graded", False):
            self._set_values(name, pop, raster.reshape(raster.shape[0], pop.size))
            return
        counts = raster.reshape(raster.shape[0], pop.size)
        if np.any(counts < 0) or np.any(counts != np.round(counts)):
            raise NetworkError(f"Input {name!r}: the raster holds spike counts (integers >= "
                               f"0); got values such as {counts[counts != np.round(counts)][:1]}"
                               f" or negative ones")
        h = simulator.state.dt
        steps = np.arange(1, counts.shape[0] + 1) * h
        pop.set(spike_times=[Sequence(np.repeat(steps, counts[:, i].astype(np.int64)))
                             for i in range(pop.size)])

    def _set_values(self, name: str, pop: object, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(values)):
            raise NetworkError(f"Input {name!r}: the values must be finite")
        h = simulator.state.dt
        times = np.arange(1, values.shape[0] + 1) * h
        sent = values != 0
        pop.set(spike_times=[Sequence(times[sent[:, i]]) for i in range(pop.size)],
                values=[Sequence(values[sent[:, i], i]) for i in range(pop.size)], start=h)

    def read_output(self, name: str) -> np.ndarray:
        """Output ``name`` after a run: a (steps, n) array, spike counts per step for a
        spiking node, the event values per step for a graded one (an EGRU: row t holds the
        events stamped (t + 1) x timestep, 0 where a unit sent nothing), the recorded state
        (``v``) sampled every step otherwise."""
        if name not in self.outputs:
            raise KeyError(f"no Output named {name!r}; outputs are {sorted(self.outputs)}")
        pop, variable = self.outputs[name]
        h = simulator.state.dt
        block = pop.get_data(variable, clear=False)
        segment = block.segments[-1]
        if variable == "spikes":
            n_steps = int(round(simulator.state.t / h))
            out = np.zeros((n_steps, pop.size))
            graded = getattr(pop.celltype, "graded", False)
            for train in segment.spiketrains:
                idx = np.round(np.asarray(train.magnitude) / h).astype(np.int64) - 1
                value = (np.asarray(train.array_annotations["value"], dtype=float) if graded
                         else np.ones(idx.size))
                keep = (idx >= 0) & (idx < n_steps)
                np.add.at(out[:, int(train.annotations["source_index"])], idx[keep],
                          value[keep])
            return out
        signal = segment.filter(name=variable)[0]
        return np.asarray(signal.magnitude)[1:]

    def _input(self, name: str) -> object:
        if name not in self.inputs:
            raise KeyError(f"no Input named {name!r}; inputs are {sorted(self.inputs)}")
        return self.inputs[name]


def import_nir(graph_or_path: nir.NIRGraph | str | Path, dt: float | None = None,
               discretisation: str = "exact", label_prefix: str = "") -> NIRNetwork:
    """Build Populations and Projections from a NIR graph in the current simulation.

    Parameters
    ----------
    graph_or_path
        A ``nir.NIRGraph`` or the path of a NIR file.
    dt
        The time step the graph was made for, in the graph's own time unit (NIR stores no
        time step): 1e-4 for snnTorch's exports, 1e-3 for Norse's (seconds). One such step
        becomes one simulation step (``sim.setup(timestep=...)``). Default: the ``dt`` in
        the graph's metadata (graphs written by :func:`export_nir` have it).
    discretisation
        ``exact`` integrates each node's ODE exactly over the step; ``euler`` takes the
        forward-Euler step snnTorch and Norse take (see ``doc/nir.md`` for the difference).
    label_prefix
        Prepended to every population and projection label (to import a graph twice).

    Returns
    -------
    NIRNetwork
        The Populations by node name, the Inputs (SpikeSourceArrays to drive) and the
        Outputs (recorded already).
    """
    graph = load_graph(graph_or_path)
    dt = graph_dt(graph, dt)
    state = simulator.state
    imported = nir_to_network(graph, dt, state.dt, discretisation, state.machine, state.seed)
    built = build_objects(imported.network, label_prefix)
    pops = built.populations
    return NIRNetwork(
        populations={k: v for k, v in pops.items() if k not in imported.inputs},
        projections=dict(built.projections),
        inputs={k: pops[v] for k, v in imported.inputs.items()},
        outputs={k: (pops[label], var) for k, (label, var) in imported.outputs.items()},
        shapes=dict(imported.shapes), dt=dt)


def export_nir(path: str | Path | None = None, dt: float | None = None) -> nir.NIRGraph:
    """The current PyNN network as a NIR graph, written to ``path`` when given.

    Parameters
    ----------
    path
        File to write (``nir.write``, nodes kept in the graph's order); ``nir.read`` reads
        it. EGRU populations are written as EGRU extension nodes (subgraphs that
        ``nir.read`` returns as they are and :func:`import_nir` turns back into EGRU
        populations; see ``doc/nir.md``).
    dt
        Time step of the graph in its time unit; default the simulation time step in
        seconds. Time constants are written in that unit.

    Raises
    ------
    NotImplementedError
        A population, projection or current source NIR cannot describe.
    """
    return export_network(build_network(simulator.state), path, dt)
