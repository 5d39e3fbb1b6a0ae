"""The memory model: what a piece of a population costs in its PE's SRAM and its chip's DRAM.

The partitioner sizes pieces with it; the bytes are the sums of the regions declared in
:mod:`.regions`, the same declarations the image builder lays out, so a piece the
partitioner accepts fits. SRAM is ``Machine.sram_data_budget`` (96 KiB of each PE's
128 KiB); DRAM is ``Machine.dram_per_pe`` (the chip's 2 GiB shared equally by its 152 PEs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cells import CELL_TYPES
from ..network import Network
from ..synapses import synapse_region
from ..synapses.stdp import is_plastic, trace_slots
from .regions import FIXED_OVERHEAD, Demand, neuron_bytes, piece_bytes, ring_slots

__all__ = ["FIXED_OVERHEAD", "CostModel", "PopulationCost", "ring_slots"]


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
        #: Per-synapse regions (beyond the synaptic word) that synapses onto each need.
        self.synapse_regions: dict[str, set[str]] = {p.label: set()
                                                     for p in network.populations}
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
            region = synapse_region(proj.synapse)
            if region is not None:
                self.synapse_regions[proj.post].add(region)
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

    def demand(self, label: str, pieces: dict[str, int]) -> Demand:
        """What each piece of population ``label`` asks of its PE.

        Parameters
        ----------
        label : str
            The population.
        pieces : dict of str to int
            Piece count of every population (bounds the key tables).

        Returns
        -------
        Demand
            The figures the declared regions are sized from.
        """
        pop = self.network.population(label)
        model = CELL_TYPES[pop.model]
        n_src, sched, cs_targets = self.current[label]
        events = (np.array([np.size(t) for t in pop.spike_times], np.int64)
                  if pop.spike_times is not None else 0)
        # A SpikeSourceArray keeps its spike times in SRAM; a graded source's events (with
        # their values) are read from DRAM step by step.
        graded = bool(model.extra.get("graded"))
        plastic = self.plastic_delay[label]
        return Demand(
            param_bytes=model.param_dtype.itemsize, state_bytes=model.state_dtype.itemsize,
            receptors=len(model.receptors),
            slots=ring_slots(self.max_delay[label]) if model.receptors else 0,
            variables=len(pop.record), synapses=self.synapses[label],
            synapse_regions=frozenset(self.synapse_regions[label]),
            trace_slots=0 if plastic is None else trace_slots(plastic),
            current_sources=n_src, current_schedule=sched, current_targets=cs_targets,
            spikes=0 if graded else events, graded_events=events if graded else 0,
            source_pieces=sum(pieces[s] for s in self.sources[label]),
            source_neurons=sum(self.network.population(s).size for s in self.sources[label]))

    def cost(self, label: str, pieces: dict[str, int]) -> PopulationCost:
        """Costs of population ``label`` given the piece counts of every population.

        Parameters
        ----------
        label : str
            The population.
        pieces : dict of str to int
            Piece count of every population.

        Returns
        -------
        PopulationCost
            Its per-neuron and per-piece bytes.
        """
        size = self.network.population(label).size
        d = self.demand(label, pieces)
        return PopulationCost(label, neuron_bytes(d, "sram", size),
                              neuron_bytes(d, "dram", size), piece_bytes(d, "sram"),
                              piece_bytes(d, "dram"), d.slots, self.max_delay[label],
                              d.source_pieces, d.source_neurons)
