"""Partition: split each population into pieces that fit one processing element.

A piece is a contiguous slice of a population. Its size is set by its real memory cost (the
regions declared in :mod:`.regions`, summed by :mod:`.memory`: neuron state, input rings,
key table and recording in SRAM; synaptic rows and row index in DRAM), not by a fixed
neuron count: the greedy split takes, from the first neuron on, as many neurons as fit both
budgets, capped by the population's neurons-per-core limit
(``Population.set_max_neurons_per_core``, ``sim.set_number_of_neurons_per_core`` or
``setup(max_neurons_per_core=...)``; else the cell type's default) and by the neuron field of
the routing key (2,048). Where the same number of pieces can be equal in size, they are.

The key table of a piece is bounded by the number of pieces of its source populations, which
depends on how those are split: the split is repeated until the piece counts stop changing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cells import CELL_TYPES
from ..errors import MappingError
from ..machine import Machine
from ..network import Network
from .keys import NEURON_BITS
from .memory import CostModel, PopulationCost
from .regions import FIXED_OVERHEAD, REGION, ring_slots

__all__ = ["FIXED_OVERHEAD", "Piece", "even_split", "partition", "piece_bounds", "ring_slots"]

#: Bytes of a key table entry (one per source piece) and of a row index entry (one per
#: source neuron), for the error messages.
MPT_ENTRY_BYTES = REGION["master_pop_table"].dtype.itemsize
ROW_BYTES = REGION["row_index"].dtype.itemsize
#: Rounds of re-splitting before the piece counts must have settled.
MAX_ROUNDS = 50


@dataclass(frozen=True)
class Piece:
    """A contiguous slice [lo, hi) of one population that one PE simulates.

    ``sram`` and ``dram`` are the memory model's bytes for the piece (upper bounds of what
    the image lays out).
    """

    index: int
    population: str
    lo: int
    hi: int
    kernel: str
    ring_slots: int
    sram: int = 0
    dram: int = 0

    @property
    def size(self) -> int:
        """Number of neurons in the piece."""
        return self.hi - self.lo


def neuron_cap(network: Network, label: str) -> int:
    """Neurons per PE allowed for population ``label`` (user or model limit, key field)."""
    pop = network.population(label)
    cap = pop.max_per_core or CELL_TYPES[pop.model].default_max_per_core
    return int(min(cap, 1 << NEURON_BITS))


def even_split(n: int, k: int) -> np.ndarray:
    """Edges of ``n`` neurons cut into ``k`` pieces as equal as they come.

    Parameters
    ----------
    n, k : int
        Neurons, and pieces.

    Returns
    -------
    numpy.ndarray
        int64, ``k + 1`` edges from 0 to ``n``.
    """
    return np.linspace(0, n, k + 1).round().astype(np.int64)


def piece_bounds(n: int, cap: int) -> np.ndarray:
    """Edges of the pieces the partitioner cuts ``n`` neurons into at ``cap`` per PE, where
    memory does not limit them: the fewest pieces, as equal as they come.

    Parameters
    ----------
    n, cap : int
        Neurons, and neurons per PE at most.

    Returns
    -------
    numpy.ndarray
        int64 edges from 0 to ``n``.
    """
    return even_split(n, -(-n // cap))


def split(cost: PopulationCost, cap: int, machine: Machine, model: str
          ) -> list[tuple[int, int]]:
    """Boundaries [lo, hi) of the pieces of one population.

    Raises
    ------
    MappingError
        When a neuron does not fit a PE even alone.
    """
    n = cost.sram_neuron.size
    sram_left = machine.sram_data_budget - cost.sram_piece
    dram_left = machine.dram_per_pe - cost.dram_piece
    _check_single_neuron(cost, machine, model, sram_left, dram_left)
    s_cum = np.concatenate(([0], np.cumsum(cost.sram_neuron)))
    d_cum = np.concatenate(([0], np.cumsum(cost.dram_neuron)))
    bounds = []
    lo = 0
    while lo < n:
        hi = min(n, lo + cap,
                 int(np.searchsorted(s_cum, s_cum[lo] + sram_left, side="right")) - 1,
                 int(np.searchsorted(d_cum, d_cum[lo] + dram_left, side="right")) - 1)
        bounds.append((lo, hi))
        lo = hi
    # The same number of pieces, as equal as they come, where they all still fit.
    edges = even_split(n, len(bounds))
    if (np.all(s_cum[edges[1:]] - s_cum[edges[:-1]] <= sram_left)
            and np.all(d_cum[edges[1:]] - d_cum[edges[:-1]] <= dram_left)
            and np.all(np.diff(edges) <= cap)):
        bounds = list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
    return bounds


def _check_single_neuron(cost: PopulationCost, machine: Machine, model: str,
                         sram_left: int, dram_left: int) -> None:
    worst_s = int(np.argmax(cost.sram_neuron))
    if cost.sram_neuron[worst_s] > sram_left:
        need = cost.sram_piece + int(cost.sram_neuron[worst_s])
        parts = [f"{int(cost.sram_neuron[worst_s])} B for the neuron itself (state, "
                 f"{cost.slots}-slot input rings)",
                 f"{cost.source_pieces * MPT_ENTRY_BYTES} B of key table for "
                 f"{cost.source_pieces} source pieces"]
        remedy = []
        ring = REGION["input_ring"].dtype.itemsize * cost.slots * len(
            CELL_TYPES[model].receptors)
        key_table = cost.source_pieces * MPT_ENTRY_BYTES
        if ring >= need // 4:
            remedy.append(f"shorten the longest delay into it ({cost.max_delay_steps} steps "
                          f"needs {cost.slots} ring slots) or use a larger time step")
        if key_table >= need // 4:
            remedy.append("raise the neurons per core of its source populations (fewer, "
                          "larger source pieces)")
        remedy = remedy or ["record fewer variables or use fewer current sources on it"]
        raise MappingError(
            f"population {cost.label!r} ({model}): one neuron needs {need} bytes of SRAM "
            f"({'; '.join(parts)}) but a PE has {machine.sram_data_budget} bytes for data "
            f"({machine.sram_per_pe} minus {machine.sram_reserved} for code and stack): "
            f"{need - machine.sram_data_budget} bytes over. Remedy: {'; or '.join(remedy)}")
    worst_d = int(np.argmax(cost.dram_neuron))
    if cost.dram_neuron[worst_d] > dram_left:
        need = cost.dram_piece + int(cost.dram_neuron[worst_d])
        raise MappingError(
            f"population {cost.label!r} ({model}): neuron {worst_d} needs {need} bytes of "
            f"DRAM ({int(cost.dram_neuron[worst_d])} B of synaptic rows for its incoming "
            f"synapses or of its graded events, {cost.dram_piece} B of row index for "
            f"{cost.source_neurons} source neurons) but a PE's share of its chip's DRAM is "
            f"{machine.dram_per_pe} bytes "
            f"({machine.dram_per_chip} / {machine.pes_per_chip} PEs): "
            f"{need - machine.dram_per_pe} bytes over. Remedy: fewer synapses onto each "
            f"neuron, or split its source populations so that fewer of them project onto it "
            f"(each source neuron costs {ROW_BYTES} B of row index)")


def too_few_pes(per_pop: dict[str, int], machine: Machine, at_least: bool = False
                ) -> MappingError:
    """The error for a network needing more PEs than ``machine`` has.

    Parameters
    ----------
    per_pop
        PEs each population needs (population label -> PEs).
    machine
        The machine.
    at_least
        The counts are lower bounds (found before partitioning).

    Returns
    -------
    MappingError
        Names the total, the machine's PEs, the largest users and the remedy.
    """
    total = sum(per_pop.values())
    biggest = sorted(per_pop.items(), key=lambda kv: -kv[1])[:3]
    needed = -(-total // machine.pes_per_chip)
    return MappingError(
        f"the network needs {'at least ' if at_least else ''}{total} PEs but the machine has "
        f"{machine.n_pes} ({machine.n_chips} chips x {machine.pes_per_chip}): "
        f"{total - machine.n_pes} too many; largest users: "
        + ", ".join(f"{label!r} ({n} PEs)" for label, n in biggest)
        + f". Remedy: ask for at least {needed} chips, e.g. sim.setup(n_chips={needed}) "
        f"or sim.setup(n_boards={-(-needed // machine.chips_per_board)}), or raise their "
        f"neurons per core")


def partition(network: Network, machine: Machine) -> tuple[Piece, ...]:
    """Split every population into pieces that fit one PE each.

    Raises
    ------
    MappingError
        When not even one neuron of a population fits a PE, or the piece counts do not
        settle (the key tables keep growing as the pieces shrink), or the populations need
        more PEs than the machine has even at their neurons-per-core caps (checked first,
        before any per-neuron array is built).
    """
    caps = {p.label: neuron_cap(network, p.label) for p in network.populations}
    counts = {p.label: -(-p.size // caps[p.label]) for p in network.populations}
    if sum(counts.values()) > machine.n_pes:
        raise too_few_pes(counts, machine, at_least=True)
    model = CostModel(network)
    for _ in range(MAX_ROUNDS):
        costs = {p.label: model.cost(p.label, counts) for p in network.populations}
        bounds = {p.label: split(costs[p.label], caps[p.label], machine, p.model)
                  for p in network.populations}
        new = {label: len(b) for label, b in bounds.items()}
        if new == counts:
            break
        counts = new  # never smaller: more source pieces only ever shrink pieces
    else:
        grown = [label for label in counts if counts[label] != len(bounds[label])]
        raise MappingError(
            f"populations {grown}: the key tables of their pieces grow with the number of "
            f"source pieces, which grows as the pieces shrink, without settling; raise the "
            f"neurons per core of their source populations")
    pieces: list[Piece] = []
    for pop in network.populations:
        cost = costs[pop.label]
        kernel = CELL_TYPES[pop.model].kernel
        s_cum = np.concatenate(([0], np.cumsum(cost.sram_neuron)))
        d_cum = np.concatenate(([0], np.cumsum(cost.dram_neuron)))
        for lo, hi in bounds[pop.label]:
            pieces.append(Piece(len(pieces), pop.label, lo, hi, kernel, cost.slots,
                                int(cost.sram_piece + s_cum[hi] - s_cum[lo]),
                                int(cost.dram_piece + d_cum[hi] - d_cum[lo])))
    return tuple(pieces)
