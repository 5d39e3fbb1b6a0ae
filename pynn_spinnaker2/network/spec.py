"""The Network: a frozen, simulator-independent description of a spiking network.

This is the first stage of the data flow (see DESIGN.md): the PyNN layer, the NIR importer and
the XML reader all produce a :class:`Network`; the mapper consumes it. Values are in PyNN's
standard units (mV, ms, nA, nF, uS, Hz).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..machine import Machine

#: Version of the XML form (doc/xml_format.md); readers accept any 1.x document.
FORMAT_VERSION = "1.1"


@dataclass(frozen=True)
class RecordSpec:
    """What to record of one variable of a population.

    Parameters
    ----------
    indices
        Indices (within the population) of the recorded neurons, sorted.
    sampling_interval
        Milliseconds between samples (ignored for spikes).
    """

    indices: np.ndarray
    sampling_interval: float


@dataclass(frozen=True)
class PopulationSpec:
    """One population.

    Parameters
    ----------
    label
        Unique name, used in every error message about it.
    model
        Cell model name (``IF_curr_exp``, ``SpikeSourceArray``...): a key of
        :data:`pynn_spinnaker2.cells.CELL_TYPES`.
    size
        Number of neurons.
    params
        Parameter name -> array of ``size`` values.
    initial
        State variable name -> array of ``size`` initial values.
    spike_times
        For ``SpikeSourceArray``: one sorted array of spike times (ms) per neuron; for
        ``GradedSourceArray``: the event times.
    record
        Variable name -> :class:`RecordSpec`.
    max_per_core
        Upper bound on neurons per PE for this population (None: the model's default).
    spike_values
        For ``GradedSourceArray``: the value (payload) of each event, one array per neuron
        parallel to ``spike_times``.
    """

    label: str
    model: str
    size: int
    params: dict[str, np.ndarray] = field(default_factory=dict)
    initial: dict[str, np.ndarray] = field(default_factory=dict)
    spike_times: tuple[np.ndarray, ...] | None = None
    record: dict[str, RecordSpec] = field(default_factory=dict)
    max_per_core: int | None = None
    spike_values: tuple[np.ndarray, ...] | None = None


@dataclass(frozen=True)
class ProjectionSpec:
    """One projection: a list of synapses between two populations.

    Parameters
    ----------
    label
        Unique name, used in every error message about it.
    pre, post
        Labels of the source and target populations.
    pre_idx, post_idx
        Neuron indices within ``pre`` and ``post``, one entry per synapse.
    weight
        Synaptic weights (nA for current-based, uS for conductance-based, mV for delta).
    delay
        Synaptic delays in ms.
    receptor
        Receptor type on the target (``excitatory``, ``inhibitory``...).
    synapse
        Synapse type name (``StaticSynapse`` or ``TsodyksMarkramSynapse``).
    params
        Per-synapse parameters of the synapse type beyond weight and delay (``U``,
        ``tau_rec``, ``tau_facil`` for ``TsodyksMarkramSynapse``; ``U``, ``n``, ``tau_rec``,
        ``tau_facil`` and, optionally, the initial state ``a`` and ``u`` for
        ``MultiQuantalSynapse``; see ``pynn_spinnaker2.synapses.SYNAPSE_TYPES``).
    """

    label: str
    pre: str
    post: str
    pre_idx: np.ndarray
    post_idx: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    receptor: str = "excitatory"
    synapse: str = "StaticSynapse"
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.pre_idx.size)


@dataclass(frozen=True)
class CurrentSourceSpec:
    """A current source injected into neurons.

    Parameters
    ----------
    label
        Unique name.
    kind
        ``DCSource``, ``StepCurrentSource``, ``ACSource`` or ``NoisyCurrentSource``.
    params
        The source's parameters in PyNN units (arrays for ``times``/``amplitudes``).
    targets
        Pairs of (population label, neuron indices) the current flows into.
    """

    label: str
    kind: str
    params: dict[str, np.ndarray | float]
    targets: tuple[tuple[str, np.ndarray], ...]


@dataclass(frozen=True)
class Network:
    """A whole network plus the settings the mapper needs.

    Parameters
    ----------
    timestep
        Simulation time step in ms.
    populations, projections, current_sources
        The parts of the network.
    machine
        The SpiNNaker 2 machine to map onto.
    seed
        Seed of the on-chip random number generators (Poisson sources, noisy currents).
    """

    timestep: float
    populations: tuple[PopulationSpec, ...]
    projections: tuple[ProjectionSpec, ...] = ()
    current_sources: tuple[CurrentSourceSpec, ...] = ()
    machine: Machine = field(default_factory=Machine)
    seed: int = 0

    def population(self, label: str) -> PopulationSpec:
        """The population called ``label``."""
        for pop in self.populations:
            if pop.label == label:
                return pop
        raise KeyError(f"no population labelled {label!r} in the network")

    def population_index(self, label: str) -> int:
        """Position of the population called ``label``."""
        for i, pop in enumerate(self.populations):
            if pop.label == label:
                return i
        raise KeyError(f"no population labelled {label!r} in the network")
