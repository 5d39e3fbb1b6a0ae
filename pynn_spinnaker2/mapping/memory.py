"""The memory model: what a piece of a population costs in its PE's SRAM and its chip's DRAM.

The partitioner sizes pieces with it and the image builder lays out exactly these regions
(their formats are in :mod:`pynn_spinnaker2.image.model`), so a piece the partitioner accepts
fits. Per piece of ``n`` neurons:

SRAM (``Machine.sram_data_budget``, 96 KiB of each PE's 128 KiB):

=======================  ===========================================================
region                   bytes
=======================  ===========================================================
region table, counters   ``FIXED_OVERHEAD`` (512)
RNG seed                 16
neuron parameters/state  ``n * CellModel.bytes_per_neuron()`` (depends on the cell type)
input ring buffers       ``n * slots * receptors * 4``; ``slots`` is the power of two
                         above the longest delay into the population, in steps
master population table  ``16 * (source pieces sending to it)`` (the key table)
recording control        ``20 * variables + n * variables``
current sources          ``52 * sources + 8 * schedule entries + 8 * targeted neurons``
spike times (arrays)     ``8 * spikes`` of its SpikeSourceArray neurons
STDP traces              ``n * (4 + 4 * trace slots)`` when plastic synapses reach it; the
                         slots hold the postsynaptic trace of the last ``delay + 1`` steps
=======================  ===========================================================

DRAM (``Machine.dram_per_pe``: the chip's 2 GiB shared equally by its 152 PEs):

=======================  ===========================================================
synaptic rows            ``8 * synapses`` onto its neurons (weight + control word)
short-term plasticity    ``16 * synapses`` when any synapse onto it is dynamic
STDP rule                ``24 * synapses`` when any synapse onto it learns
release probability      ``4 * synapses`` when any synapse onto it is stochastic
release sites            ``24 * synapses`` when any synapse onto it is quantal
                         (MultiQuantalSynapse, StochasticTsodyksMarkramSynapse: parameters
                         and the sites' state)
row index                ``8 * (neurons of the source pieces sending to it)``
graded events            ``12 * events`` of its GradedSourceArray neurons (step, neuron,
                         value: the ``event_schedule`` region)
=======================  ===========================================================

The master population table and row index are bounded by every piece of every population
that projects onto it (the partitioner cannot know yet which pieces will send to which), so
the estimate is an upper bound of what the image holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cells import CELL_MODELS
from ..cells.graded_source import EVENT_DTYPE
from ..network import Network
from ..network.validate import QUANTAL_SYNAPSES
from ..synapses.stdp import PLASTICITY_DTYPE, STDP_POST_DTYPE, is_plastic, trace_slots

#: Fixed SRAM per PE for region pointers, counters and flags.
FIXED_OVERHEAD = 512
RNG_SEED_BYTES = 16
RING_WORD = 4
# Record sizes of the image's regions (pynn_spinnaker2.image.model; a test keeps them equal;
# the image package is a later stage, so it is not imported here).
#: Master-population-table entry (key, mask, row offset, row count): the key table.
MPT_ENTRY_BYTES = 16
ROW_BYTES = 8
SYNAPSE_BYTES = 8
DYNAMICS_BYTES = 16
RECORDING_BYTES = 20
SCHEDULE_BYTES = 8
CURRENT_SOURCE_BYTES = 52
CURRENT_SCHEDULE_BYTES = 8
CURRENT_TARGET_BYTES = 8
PLASTICITY_BYTES = PLASTICITY_DTYPE.itemsize
RELEASE_BYTES = 4
#: One quantal synapse's parameters and state (``QUANTAL_DTYPE``).
QUANTAL_BYTES = 24
STDP_POST_BYTES = STDP_POST_DTYPE.itemsize
#: One graded event of a GradedSourceArray's ``event_schedule`` (DRAM).
GRADED_EVENT_BYTES = EVENT_DTYPE.itemsize


def ring_slots(max_delay_steps: int) -> int:
    """Slots of a PE's input ring buffer: a power of two above the largest delay."""
    return 1 << int(max_delay_steps).bit_length()


@dataclass(frozen=True)
class PopulationCost:
    """Memory cost of a population's pieces, before it is split.

    Parameters
    ----------
    label
        The population.
    sram_neuron, dram_neuron
        Bytes each neuron adds to its piece (arrays, one value per neuron).
    sram_piece, dram_piece
        Bytes every piece pays whatever its size (key tables, row index bound, tables).
    slots
        Input ring slots (0 for spike sources).
    max_delay_steps
        Longest delay into the population, in time steps.
    source_pieces
        Source pieces that may send to each piece (the key-table bound).
    source_neurons
        Neurons of those source pieces (the row-index bound).
    """

    label: str
    sram_neuron: np.ndarray
    dram_neuron: np.ndarray
    sram_piece: int
    dram_piece: int
    slots: int
    max_delay_steps: int
    source_pieces: int
    source_neurons: int


class CostModel:
    """Per-population costs of a network; ``pieces`` (label -> piece count) bounds the
    key tables and is refined by the partitioner."""

    def __init__(self, network: Network) -> None:
        self.network = network
        dt = network.timestep
        self.max_delay = {p.label: 0 for p in network.populations}
        self.synapses = {p.label: np.zeros(p.size, np.int64) for p in network.populations}
        self.dynamic = {p.label: False for p in network.populations}
        self.stochastic = {p.label: False for p in network.populations}
        self.quantal = {p.label: False for p in network.populations}
        #: Longest delay of a plastic projection into each population (None: none learns).
        self.plastic_delay: dict[str, int | None] = {p.label: None for p in network.populations}
        self.sources: dict[str, set[str]] = {p.label: set() for p in network.populations}
        for proj in network.projections:
            if not len(proj):
                continue
            steps = int(np.round(np.max(proj.delay) / dt))
            self.max_delay[proj.post] = max(self.max_delay[proj.post], steps)
            size = network.population(proj.post).size
            self.synapses[proj.post] += np.bincount(proj.post_idx, minlength=size)
            self.dynamic[proj.post] |= proj.synapse == "TsodyksMarkramSynapse"
            self.stochastic[proj.post] |= proj.synapse == "SimpleStochasticSynapse"
            self.quantal[proj.post] |= proj.synapse in QUANTAL_SYNAPSES
            if is_plastic(proj.synapse):
                self.plastic_delay[proj.post] = max(self.plastic_delay[proj.post] or 0, steps)
            self.sources[proj.post].add(proj.pre)
        self.current = {p.label: (0, 0, np.zeros(p.size, np.int64))
                        for p in network.populations}
        for src in network.current_sources:
            entries = max(2, np.size(src.params.get("times", ())))
            for label, idx in src.targets:
                n, sched, per_neuron = self.current[label]
                per_neuron = per_neuron + np.bincount(np.asarray(idx, np.int64),
                                                      minlength=per_neuron.size)
                self.current[label] = (n + 1, sched + entries, per_neuron)

    def cost(self, label: str, pieces: dict[str, int]) -> PopulationCost:
        """Costs of population ``label`` given the piece counts of every population."""
        pop = self.network.population(label)
        model = CELL_MODELS[pop.model]
        slots = ring_slots(self.max_delay[label]) if model.receptors else 0
        n_vars = len(pop.record)
        n_src, sched, cs_targets = self.current[label]
        events = (np.array([np.size(t) for t in pop.spike_times], np.int64)
                  if pop.spike_times is not None else 0)
        # A SpikeSourceArray keeps its spike times in SRAM; a graded source's events (with
        # their values) are read from DRAM step by step.
        graded = bool(model.extra.get("graded"))
        sram_events = 0 if graded else events * SCHEDULE_BYTES
        dram_events = events * GRADED_EVENT_BYTES if graded else 0
        sram_neuron = (model.bytes_per_neuron() + slots * len(model.receptors) * RING_WORD
                       + n_vars + cs_targets * CURRENT_TARGET_BYTES + sram_events)
        if self.plastic_delay[label] is not None:
            sram_neuron = sram_neuron + STDP_POST_BYTES + RING_WORD * trace_slots(
                self.plastic_delay[label])
        sram_neuron = np.broadcast_to(np.asarray(sram_neuron, np.int64), (pop.size,))
        source_pieces = sum(pieces[s] for s in self.sources[label])
        source_neurons = sum(self.network.population(s).size for s in self.sources[label])
        sram_piece = (FIXED_OVERHEAD + RNG_SEED_BYTES + n_vars * RECORDING_BYTES
                      + source_pieces * MPT_ENTRY_BYTES + n_src * CURRENT_SOURCE_BYTES
                      + sched * CURRENT_SCHEDULE_BYTES)
        per_synapse = (SYNAPSE_BYTES + (DYNAMICS_BYTES if self.dynamic[label] else 0)
                       + (PLASTICITY_BYTES if self.plastic_delay[label] is not None else 0)
                       + (RELEASE_BYTES if self.stochastic[label] else 0)
                       + (QUANTAL_BYTES if self.quantal[label] else 0))
        dram_neuron = np.broadcast_to(
            np.asarray(self.synapses[label] * per_synapse + dram_events, np.int64), (pop.size,))
        return PopulationCost(label, sram_neuron, dram_neuron,
                              int(sram_piece), source_neurons * ROW_BYTES, slots,
                              self.max_delay[label], source_pieces, source_neurons)
