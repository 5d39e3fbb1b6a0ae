"""Every memory region of a core, declared once: name, memory, record format, size, writer.

The partitioner sums the declared sizes to cut populations into pieces
(:mod:`.memory`, :mod:`.partition`), and the image builder fills exactly these regions
through the declared writers (:mod:`pynn_spinnaker2.image.build`), so a piece the
partitioner accepts fits and no size is written twice. Formats are described in
:mod:`pynn_spinnaker2.image.machine_image`.

A region's size for a piece is ``itemsize * (per_piece(demand) + sum of per_neuron(demand)
over the piece's neurons)``, where :class:`Demand` is what one population asks of each of its
pieces (computed by :class:`.memory.CostModel`). Sizes are upper bounds of what the image
holds: the key table and the row index are bounded by every piece of every population that
projects onto the piece, as the partitioner cannot know yet which pieces will send to which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..cells.graded_source import EVENT_DTYPE
from ..synapses.quantal import QUANTAL_DTYPE  # noqa: F401  (re-exported)
from ..synapses.stdp import PLASTICITY_DTYPE, STDP_POST_DTYPE  # noqa: F401
from ..synapses.tsodyks_markram import DYNAMICS_DTYPE  # noqa: F401
from ..synapses.types import region_type

#: Fixed SRAM per PE for region pointers, counters and flags (not a region of the image).
FIXED_OVERHEAD = 512

MPT_DTYPE = np.dtype([("key", "<u4"), ("mask", "<u4"), ("row_start", "<u4"),
                      ("n_rows", "<u4")])
ROW_DTYPE = np.dtype([("start", "<u4"), ("length", "<u4")])
SYNAPSE_DTYPE = np.dtype([("weight", "<f4"), ("control", "<u4")])
RECORDING_DTYPE = np.dtype([("variable", "S16"), ("interval", "<u4")])
SCHEDULE_DTYPE = np.dtype([("step", "<u4"), ("neuron", "<u4")])
CURRENT_SOURCE_DTYPE = np.dtype([
    ("kind", "<u4"), ("start_step", "<u4"), ("stop_step", "<u4"), ("amplitude", "<f4"),
    ("offset", "<f4"), ("frequency", "<f4"), ("phase", "<f4"), ("stdev", "<f4"),
    ("noise_steps", "<u4"), ("source_id", "<u4"), ("seed", "<u4"), ("schedule_start", "<u4"),
    ("schedule_len", "<u4"),
])
CURRENT_SCHEDULE_DTYPE = np.dtype([("step", "<u4"), ("amplitude", "<f4")])
CURRENT_TARGET_DTYPE = np.dtype([("source", "<u4"), ("neuron", "<u4")])
WORD_DTYPE = np.dtype("<u4")
FLOAT_DTYPE = np.dtype("<f4")
#: Words of the core's random number generator seed.
RNG_SEED_WORDS = 4


def ring_slots(max_delay_steps: int) -> int:
    """Slots of a PE's input ring buffer: a power of two above the largest delay.

    Parameters
    ----------
    max_delay_steps : int
        Longest delay into the population, in time steps.

    Returns
    -------
    int
        The number of slots.
    """
    return 1 << int(max_delay_steps).bit_length()


@dataclass(frozen=True)
class Demand:
    """What one population asks of each of its pieces: the figures region sizes follow from.

    Parameters
    ----------
    param_bytes, state_bytes : int
        Bytes of one neuron's parameter and state records (its cell type's dtypes).
    receptors : int
        Receptor types of the cell type (0 for spike sources).
    slots : int
        Input ring slots (0 for spike sources).
    variables : int
        Recorded variables.
    synapses : numpy.ndarray
        Synapses onto each neuron.
    synapse_regions : frozenset of str
        Per-synapse regions (``synapse_dynamics`` ...) some synapse onto it needs.
    trace_slots : int
        Slots of its postsynaptic STDP trace (0: no plastic synapse reaches it).
    current_sources, current_schedule : int
        Current sources injecting into it, and their schedule entries.
    current_targets : numpy.ndarray
        Current sources injecting into each neuron.
    spikes, graded_events : numpy.ndarray or int
        Spike times per neuron kept in SRAM (spike source arrays), and graded events per
        neuron read from DRAM (graded sources).
    source_pieces, source_neurons : int
        Pieces and neurons of the populations projecting onto it (key table, row index).
    """

    param_bytes: int
    state_bytes: int
    receptors: int
    slots: int
    variables: int
    synapses: np.ndarray
    synapse_regions: frozenset[str]
    trace_slots: int
    current_sources: int
    current_schedule: int
    current_targets: np.ndarray
    spikes: np.ndarray | int
    graded_events: np.ndarray | int
    source_pieces: int
    source_neurons: int


def cell_demand(model: object, **figures: object) -> Demand:
    """The demand of a piece of cell type ``model`` with nothing else than ``figures``.

    Parameters
    ----------
    model : CellType
        The cell type (its record sizes and receptors).
    **figures
        Other :class:`Demand` fields (``slots``, ``variables``, ``synapses`` ...); the rest
        are zero.

    Returns
    -------
    Demand
        For sizing pieces outside the partitioner (e.g. a deployment planning its PEs).
    """
    values: dict[str, object] = dict(
        param_bytes=model.param_dtype.itemsize, state_bytes=model.state_dtype.itemsize,
        receptors=len(model.receptors), slots=0, variables=0, synapses=0,
        synapse_regions=frozenset(), trace_slots=0, current_sources=0, current_schedule=0,
        current_targets=0, spikes=0, graded_events=0, source_pieces=0, source_neurons=0)
    values.update(figures)
    return Demand(**values)


Count = Callable[[Demand], "np.ndarray | int"]


def _none(d: Demand) -> int:
    return 0


def _one(d: Demand) -> int:
    return 1


def _synapses_if(region: str) -> Count:
    """Per-neuron records of a region parallel to ``synapses`` that only some synapse types
    need: one per synapse when a synapse onto the piece needs it."""
    def count(d: Demand) -> np.ndarray | int:
        return d.synapses if region in d.synapse_regions else 0
    return count


@dataclass(frozen=True)
class Region:
    """One memory region of a core.

    Parameters
    ----------
    name : str
        Its key in ``CoreImage.sram`` or ``CoreImage.dram``.
    memory : str
        ``"sram"`` (the PE's data budget) or ``"dram"`` (the PE's share of its chip's).
    dtype : numpy.dtype or None
        Record format; None where the cell type defines it (``neuron_params``,
        ``neuron_state``).
    per_piece, per_neuron : callable
        Records a piece holds whatever its size, and records per neuron (an array over the
        population or one number), given the population's :class:`Demand`.
    writer : str
        The image builder's writer that fills it (a key of ``image.build.WRITERS``).
    always : bool
        On every core (empty where nothing fills it), else only where written.
    """

    name: str
    memory: str
    dtype: np.dtype | None
    per_piece: Count
    per_neuron: Count
    writer: str
    always: bool = True

    def itemsize(self, demand: Demand) -> int:
        """Bytes of one record."""
        if self.dtype is not None:
            return self.dtype.itemsize
        return demand.param_bytes if self.name == "neuron_params" else demand.state_bytes

    def piece_bytes(self, demand: Demand) -> int:
        """Bytes a piece pays whatever its size."""
        return self.itemsize(demand) * int(self.per_piece(demand))

    def neuron_bytes(self, demand: Demand) -> np.ndarray | int:
        """Bytes each neuron adds to its piece."""
        return self.itemsize(demand) * self.per_neuron(demand)

    def empty(self) -> np.ndarray:
        """The region of a core that nothing fills."""
        return np.zeros(0, self.dtype)


#: In the order the image lays them out (SRAM first, then DRAM).
REGIONS: tuple[Region, ...] = (
    Region("neuron_params", "sram", None, _none, _one, "neurons"),
    Region("neuron_state", "sram", None, _none, _one, "neurons"),
    Region("input_ring", "sram", FLOAT_DTYPE, _none, lambda d: d.slots * d.receptors,
           "neurons", always=False),
    Region("spike_schedule", "sram", SCHEDULE_DTYPE, _none, lambda d: d.spikes, "neurons",
           always=False),
    Region("recording", "sram", RECORDING_DTYPE, lambda d: d.variables, _none, "neurons"),
    Region("record_mask", "sram", np.dtype(np.uint8), _none, lambda d: d.variables,
           "neurons"),
    Region("master_pop_table", "sram", MPT_DTYPE, lambda d: d.source_pieces, _none, "rows"),
    Region("stdp_post", "sram", STDP_POST_DTYPE, _none, lambda d: 1 if d.trace_slots else 0,
           "stdp", always=False),
    Region("stdp_trace", "sram", FLOAT_DTYPE, _none, lambda d: d.trace_slots, "stdp",
           always=False),
    Region("current_sources", "sram", CURRENT_SOURCE_DTYPE, lambda d: d.current_sources,
           _none, "currents"),
    Region("current_schedule", "sram", CURRENT_SCHEDULE_DTYPE, lambda d: d.current_schedule,
           _none, "currents"),
    Region("current_targets", "sram", CURRENT_TARGET_DTYPE, _none,
           lambda d: d.current_targets, "currents"),
    Region("rng_seed", "sram", WORD_DTYPE, lambda d: RNG_SEED_WORDS, _none, "seed"),
    Region("event_schedule", "dram", EVENT_DTYPE, _none, lambda d: d.graded_events,
           "neurons", always=False),
    Region("row_index", "dram", ROW_DTYPE, lambda d: d.source_neurons, _none, "rows"),
    Region("synapses", "dram", SYNAPSE_DTYPE, _none, lambda d: d.synapses, "rows"),
    # The per-synapse regions: their record formats are the synapse types' (the registry).
    *(Region(name, "dram", region_type(name).record_dtype, _none, _synapses_if(name), "rows")
      for name in ("synapse_dynamics", "synapse_plasticity", "synapse_release",
                   "synapse_quantal")),
)
#: Region name -> its declaration.
REGION = {r.name: r for r in REGIONS}


def piece_bytes(demand: Demand, memory: str) -> int:
    """Bytes of ``memory`` (``"sram"`` or ``"dram"``) every piece pays whatever its size.

    Parameters
    ----------
    demand : Demand
        What the population asks of its pieces.
    memory : str
        ``"sram"`` (with the fixed overhead) or ``"dram"``.

    Returns
    -------
    int
        The bytes.
    """
    fixed = FIXED_OVERHEAD if memory == "sram" else 0
    return fixed + sum(r.piece_bytes(demand) for r in REGIONS if r.memory == memory)


def neuron_bytes(demand: Demand, memory: str, n: int) -> np.ndarray:
    """Bytes of ``memory`` each of the population's ``n`` neurons adds to its piece.

    Parameters
    ----------
    demand : Demand
        What the population asks of its pieces.
    memory : str
        ``"sram"`` or ``"dram"``.
    n : int
        Neurons of the population.

    Returns
    -------
    numpy.ndarray
        int64, one value per neuron (a read-only broadcast view where all are equal).
    """
    total = sum(r.neuron_bytes(demand) for r in REGIONS if r.memory == memory)
    return np.broadcast_to(np.asarray(total, np.int64), (n,))


def region_bytes(demand: Demand, n: int) -> dict[str, int]:
    """Bytes of every region of one piece of ``n`` neurons, all alike.

    Parameters
    ----------
    demand : Demand
        What the piece's population asks of it (per-neuron figures of its first neuron
        stand for all).
    n : int
        Neurons of the piece.

    Returns
    -------
    dict of str to int
        Region name -> bytes.
    """
    return {r.name: r.piece_bytes(demand) + n * int(np.max(r.neuron_bytes(demand)))
            for r in REGIONS}
