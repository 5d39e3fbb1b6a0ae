"""How many PEs a deployment plans: units per PE and chips, sized from the memory regions
the mapper declares (:mod:`pynn_spinnaker2.mapping.regions`) and the pieces its partitioner
cuts (:func:`pynn_spinnaker2.mapping.partition.piece_bounds`).

Units per PE
------------
The image keeps synaptic rows in each chip's DRAM, as for every cell type. The seed
deployment (Nazeer et al., AICAS 2024) held its pruned rows in the PEs' SRAM, which is what
makes pruning pay on the chip: fewer weights, fewer PEs. So by default (``per_core="fit"``)
each layer is split into the fewest PEs whose synaptic rows (8 bytes per synapse and per
source neuron) plus neuron state fit the 96 KiB SRAM data budget (:func:`units_per_pe`);
the check after mapping (:func:`.figures.chip_figures`) uses the image's actual bytes, and
the cost model prices the run twice: rows in DRAM as the image lays them out, and rows in
SRAM on the PEs where they fit (:func:`.figures.cost_figures`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.deploy.weights import layer_arrays
from pynn_spinnaker2.cells import CELL_TYPES
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping.partition import piece_bounds
from pynn_spinnaker2.mapping.regions import REGION, cell_demand, neuron_bytes, ring_slots

_EGRU = CELL_TYPES["EGRU"]
#: Bytes of SRAM one EGRU unit takes besides its rows, as the regions declare them:
#: parameters and state, two-slot input rings of its four gates (a one-step delay), its
#: recording flag. ``chip_figures`` checks the image's real figures; this only sizes the
#: pieces.
UNIT_SRAM_BYTES = int(neuron_bytes(cell_demand(_EGRU, slots=ring_slots(1), variables=1),
                                   "sram", 1)[0])
#: Fixed SRAM per piece with room to spare: region table and counters, random seed,
#: recording control, key table entries of its source pieces (their number is not known
#: before mapping, hence the margin).
PIECE_SRAM_BYTES = 2048
#: A synaptic word, and a row index entry per source neuron (``doc/egru.md``).
SYNAPSE_BYTES = REGION["synapses"].dtype.itemsize
ROW_BYTES = REGION["row_index"].dtype.itemsize
#: EGRU units per PE by default (the EGRU cell type's, ``doc/egru.md``).
MAX_UNITS_PER_PE = _EGRU.default_max_per_core
#: PEs of each chip a batch leaves free, a little room for the placer.
PLACER_ROOM = 4
#: Neurons per PE of a spike source (its cell type's default).
SOURCE_PER_PE = CELL_TYPES["SpikeSourceArray"].default_max_per_core
#: Runs at most, with ``per_core="fit"``, to find units per PE that keep the 1 ms tick.
MAX_PASSES = 4


def unit_row_bytes(layer: dict[str, np.ndarray]) -> np.ndarray:
    """Per unit: bytes of synaptic words onto it (its three gates, input and recurrent)."""
    h = layer["thr"].size
    nonzero = (np.count_nonzero(layer["kernel"], axis=0)
               + np.count_nonzero(layer["recurrent_kernel"], axis=0))
    return SYNAPSE_BYTES * nonzero.reshape(3, h).sum(axis=0)


def units_per_pe(layer: dict[str, np.ndarray], budget: int,
                 cap: int = MAX_UNITS_PER_PE) -> int:
    """The most units per PE (at most ``cap``) for which every piece's synaptic rows, row
    index and state fit ``budget`` bytes of SRAM.

    Raises
    ------
    ValueError
        When one unit's rows alone do not fit.
    """
    rows = unit_row_bytes(layer)
    h = rows.size
    sources = layer["kernel"].shape[0] + h
    fixed = PIECE_SRAM_BYTES + ROW_BYTES * sources
    cum = np.concatenate(([0], np.cumsum(rows + UNIT_SRAM_BYTES)))
    for n in range(min(cap, h), 0, -1):
        edges = piece_bounds(h, n)
        if np.all(cum[edges[1:]] - cum[edges[:-1]] + fixed <= budget):
            return int(np.diff(edges).max())  # the same pieces, the tightest cap
    raise ValueError(f"one EGRU unit needs {int(rows.max()) + UNIT_SRAM_BYTES + fixed} bytes of "
                     f"synaptic rows and state, more than the {budget}-byte SRAM budget: "
                     f"give a number of units per PE (rows then stay in DRAM)")


def plan_units_per_pe(arrays: dict[str, np.ndarray], n_layers: int, per_core: str | int,
                      budget: int) -> list[int]:
    """Units per PE of each layer: ``"fit"`` or ``"memory"`` (:func:`units_per_pe`; "fit"
    then also splits layers that overrun the timer tick, see :func:`more_pes`) or a number
    for all layers."""
    if per_core in ("fit", "memory"):
        return [units_per_pe(layer_arrays(arrays, k), budget) for k in range(n_layers)]
    try:
        n = int(per_core)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"units per PE must be >= 1, 'fit' or 'memory', got {per_core!r}")
    return [n] * n_layers


def more_pes(plan: list[int], pieces: list[int], loads: list[float],
             margin: float = 0.9) -> list[int] | None:
    """Units per PE for the next run after one whose layers had at most ``pieces`` units on
    a PE and peak loads ``loads`` on their busiest PE: fewer units where a PE overran the
    timer tick (load > 1), in proportion to the load; None when no layer overran or none
    can be split further."""
    new = [max(1, min(cap, int(piece * margin / load))) if load > 1.0 else cap
           for cap, piece, load in zip(plan, pieces, loads, strict=True)]
    return new if new != plan else None


def fit_first_batch(run_batch: Callable[[list[int]], dict], plan: list[int],
                    per_core: str | int, describe: Callable[[dict], dict]
                    ) -> tuple[dict, list[int], list[dict]]:
    """Run the first batch with ``plan`` (units per PE per layer) and, with ``per_core ==
    "fit"``, again with more PEs for every layer whose busiest PE overran the timer tick
    (:func:`more_pes`), :data:`MAX_PASSES` runs at most.

    ``run_batch(plan)`` returns a run with ``pieces`` and ``loads`` per layer;
    ``describe(run)`` what is kept of each pass. Returns the last run, its plan and the
    passes described.
    """
    passes = []
    while True:
        run = run_batch(plan)
        passes.append(describe(run))
        plan_next = (more_pes(plan, [max(p) for p in run["pieces"]], run["loads"])
                     if per_core == "fit" and len(passes) < MAX_PASSES else None)
        if plan_next is None:
            return run, plan, passes
        plan = plan_next


def chips_for(copies: int, plan: list[int], hidden: list[int], inputs: int,
              machine: Machine | None = None) -> int:
    """Chips a batch of ``copies`` networks (a spike source of ``inputs`` neurons and EGRU
    layers of ``hidden`` units at ``plan`` units per PE each) needs on chips like those of
    ``machine`` (default: SpiNNaker 2's), :data:`PLACER_ROOM` PEs of each left free."""
    pes_per_chip = (machine or Machine()).pes_per_chip - PLACER_ROOM
    per_copy = -(-inputs // SOURCE_PER_PE) + sum(
        len(piece_bounds(h, cap)) - 1 for h, cap in zip(hidden, plan, strict=True))
    return max(1, -(-copies * per_copy // pes_per_chip))
