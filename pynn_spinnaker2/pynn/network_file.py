"""``sim.save_network(path)`` and ``sim.load_network(path)``: a whole network as one XML file.

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

import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyNN import connectors
from pyNN.parameters import LazyArray, Sequence

from ..errors import NetworkError
from ..network import Network, ProjectionSpec, load, save, validate
from . import simulator
from .bulk import Synapses


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
    from .build import build_network

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
    sim = importlib.import_module("pyNN.spinnaker2")
    pops = {spec.label: _population(sim, spec) for spec in network.populations}
    projections = {spec.label: _projection(sim, spec, pops) for spec in network.projections}
    sources = tuple(_current_source(sim, spec, pops) for spec in network.current_sources)
    state.dirty = True
    return LoadedNetwork(pops, projections, sources, network)


def _cls(sim: object, name: str, what: str) -> type:
    cls = getattr(sim, name, None)
    if not isinstance(cls, type):
        raise NetworkError(f"the network file uses {what} {name!r}, which pyNN.spinnaker2 "
                           f"does not provide")
    return cls


def _population(sim: object, spec: object) -> object:
    pop = sim.Population(spec.size, _cls(sim, spec.model, "cell type")(), label=spec.label)
    for name, values in spec.params.items():
        pop._parameters[name] = np.array(values, dtype=float)
    if spec.spike_times is not None:
        times = np.empty(spec.size, dtype=object)
        times[:] = [Sequence(np.asarray(t, float)) for t in spec.spike_times]
        pop._parameters["spike_times"] = times
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


def _projection(sim: object, spec: ProjectionSpec, pops: dict[str, object]) -> object:
    synapse = _cls(sim, spec.synapse, "synapse type")()
    projection = sim.Projection(pops[spec.pre], pops[spec.post], SavedConnector(spec), synapse,
                                receptor_type=spec.receptor, label=spec.label)
    for name in getattr(synapse, "initial_state", ()):  # what Projection.initialize set
        if name in spec.params:
            projection._set_initial_value_array(name, LazyArray(np.array(spec.params[name],
                                                                         float)))
    return projection


def _current_source(sim: object, spec: object, pops: dict[str, object]) -> object:
    source = _cls(sim, spec.kind, "current source")(**{
        k: (np.asarray(v, float) if np.ndim(v) else float(v)) for k, v in spec.params.items()})
    for label, idx in spec.targets:
        source.inject_into(pops[label][np.asarray(idx)])
    return source
