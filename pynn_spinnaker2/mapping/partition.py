"""Partition: split each population into pieces that fit one processing element.

A piece's SRAM cost is its neuron parameters and state, its input ring buffers (one slot per
delay step, per receptor, per neuron) and a share for the master population table and
recording bookkeeping. The number of neurons per piece is the largest that fits the PE's data
budget, capped by the population's (or model's) neurons-per-core limit and by the width of the
neuron field of the routing key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cells import CELL_MODELS
from ..errors import MappingError
from ..machine import Machine
from ..network import Network
from ..synapses.stdp import STDP_POST_DTYPE, is_plastic, trace_slots
from .keys import NEURON_BITS

#: Bytes per master-population-table entry (key, mask, row offset, row count).
MPT_ENTRY_BYTES = 16
#: Fixed SRAM per PE for region pointers, counters and the recording control block.
FIXED_OVERHEAD = 512


@dataclass(frozen=True)
class Piece:
    """A contiguous slice [lo, hi) of one population that one PE simulates."""

    index: int
    population: str
    lo: int
    hi: int
    kernel: str
    ring_slots: int

    @property
    def size(self) -> int:
        """Number of neurons in the piece."""
        return self.hi - self.lo


def ring_slots(max_delay_steps: int) -> int:
    """Slots of a PE's input ring buffer: a power of two above the largest delay."""
    return 1 << int(max_delay_steps).bit_length()


def sram_bytes(model_name: str, n: int, slots: int, incoming_pieces: int) -> int:
    """SRAM a piece of ``n`` neurons needs (see module docstring)."""
    model = CELL_MODELS[model_name]
    per_neuron = model.bytes_per_neuron() + slots * len(model.receptors) * 4
    return FIXED_OVERHEAD + n * per_neuron + incoming_pieces * MPT_ENTRY_BYTES


def partition(network: Network, machine: Machine) -> tuple[Piece, ...]:
    """Split every population into pieces that fit one PE each.

    Raises
    ------
    MappingError
        When not even one neuron of a population fits a PE.
    """
    dt = network.timestep
    max_delay: dict[str, int] = {p.label: 0 for p in network.populations}
    incoming: dict[str, int] = {p.label: 0 for p in network.populations}
    plastic_delay: dict[str, int] = {}
    for proj in network.projections:
        if len(proj):
            steps = int(np.round(proj.delay.max() / dt))
            max_delay[proj.post] = max(max_delay[proj.post], steps)
            if is_plastic(proj.synapse):
                plastic_delay[proj.post] = max(plastic_delay.get(proj.post, 0), steps)
        pre = network.population(proj.pre)
        pre_cap = pre.max_per_core or CELL_MODELS[pre.model].default_max_per_core
        incoming[proj.post] += -(-pre.size // pre_cap)
    pieces: list[Piece] = []
    budget = machine.sram_data_budget
    for pop in network.populations:
        model = CELL_MODELS[pop.model]
        slots = ring_slots(max_delay[pop.label]) if model.receptors else 0
        cap = min(pop.max_per_core or model.default_max_per_core, 1 << NEURON_BITS)
        fixed = sram_bytes(pop.model, 0, slots, incoming[pop.label])
        per_neuron = sram_bytes(pop.model, 1, slots, 0) - FIXED_OVERHEAD
        if pop.label in plastic_delay:
            # The postsynaptic trace history STDP needs (see image/model.py).
            per_neuron += STDP_POST_DTYPE.itemsize + 4 * trace_slots(plastic_delay[pop.label])
        fits = (budget - fixed) // per_neuron if per_neuron else cap
        if fits < 1:
            raise MappingError(
                f"population {pop.label!r}: one {pop.model} neuron needs "
                f"{fixed + per_neuron} bytes of SRAM (ring buffer of {slots} delay slots, "
                f"{incoming[pop.label]} incoming source pieces) but a PE has {budget} bytes "
                f"for data; shorten the longest delay into it or use a larger time step")
        n = int(min(cap, fits))
        for lo in range(0, pop.size, n):
            pieces.append(Piece(len(pieces), pop.label, lo, min(lo + n, pop.size),
                                model.kernel, slots))
    return tuple(pieces)
