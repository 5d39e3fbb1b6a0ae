"""``sim.import_nir`` and ``sim.export_nir``: NIR graphs in and out of a PyNN script.

Import reads the graph (:mod:`.nir_read`), lowers it to a Network (:mod:`.nir_lower`) and
builds the PyNN Populations and Projections of that Network in the current simulation, so
the result is an ordinary PyNN network: record, change and run it as any other. Export takes
the current PyNN network through the same Network (:mod:`.nir_export`). ``doc/nir.md``
documents the conventions (time step, units, what a spike is, discretisation, delays).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nir
import numpy as np

from ..errors import NetworkError
from ..network import Network
from .nir_lower import ImportedGraph, nir_to_network
from .nir_read import read_nir


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
        from ..pynn import get_time_step

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
        from pyNN.parameters import Sequence

        h = get_time_step()
        steps = np.arange(1, counts.shape[0] + 1) * h
        pop.set(spike_times=[Sequence(np.repeat(steps, counts[:, i].astype(np.int64)))
                             for i in range(pop.size)])

    def _set_values(self, name: str, pop: object, values: np.ndarray) -> None:
        from pyNN.parameters import Sequence

        from ..pynn import get_time_step

        values = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(values)):
            raise NetworkError(f"Input {name!r}: the values must be finite")
        h = get_time_step()
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
        from ..pynn import get_current_time, get_time_step

        h = get_time_step()
        block = pop.get_data(variable, clear=False)
        segment = block.segments[-1]
        if variable == "spikes":
            n_steps = int(round(get_current_time() / h))
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
    from ..pynn import simulator

    graph = graph_or_path if isinstance(graph_or_path, nir.NIRGraph) else read_nir(
        graph_or_path)
    if dt is None:
        dt = (graph.metadata or {}).get("dt")
        if dt is None:
            raise NetworkError("NIR stores no time step: pass dt= (the step the graph was "
                               "trained with, in its time unit: 1e-4 for snnTorch, 1e-3 for "
                               "Norse)")
        dt = float(np.asarray(dt))
    state = simulator.state
    imported = nir_to_network(graph, dt, state.dt, discretisation, state.machine, state.seed)
    return build_pynn(imported, dt, label_prefix)


def build_pynn(imported: ImportedGraph, dt: float, label_prefix: str = "") -> NIRNetwork:
    """Create the PyNN objects of an imported graph in the current simulation."""
    from .. import pynn as sim

    net = imported.network
    pops = {}
    for spec in net.populations:
        cell_class = getattr(sim, spec.model)
        if spec.model == "SpikeSourceArray":
            cell = cell_class(spike_times=[[] for _ in range(spec.size)])
        elif spec.model == "GradedSourceArray":
            cell = cell_class(spike_times=[[] for _ in range(spec.size)],
                              values=[[] for _ in range(spec.size)],
                              start=float(spec.params["start"][0]))
        else:
            cell = cell_class(**spec.params)
        pop = sim.Population(spec.size, cell, initial_values=dict(spec.initial),
                             label=label_prefix + spec.label)
        for variable, rec in spec.record.items():
            pop.record(variable, sampling_interval=rec.sampling_interval)
        pops[spec.label] = pop
    projections = {}
    for spec in net.projections:
        conn = np.column_stack((spec.pre_idx, spec.post_idx, spec.weight, spec.delay))
        prj = sim.Projection(pops[spec.pre], pops[spec.post],
                             sim.FromListConnector(conn, column_names=["weight", "delay"]),
                             sim.StaticSynapse(), receptor_type=spec.receptor,
                             label=label_prefix + spec.label)
        projections[spec.label] = prj
    return NIRNetwork(
        populations={k: v for k, v in pops.items() if k not in imported.inputs},
        projections=projections,
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
    from ..pynn import simulator
    from ..pynn.build import build_network
    from .nir_export import network_to_nir

    network: Network = build_network(simulator.state)
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
