"""MachineImage: everything loaded onto the machine, and nothing else.

The emulator (and, later, the hardware transport) reads only this. Each core has named SRAM
regions and DRAM regions, all little-endian NumPy arrays with fixed dtypes (the bytes a
loader would write). Router tables are per chip.

Region formats (per core):

``neuron_params`` / ``neuron_state``
    One record per neuron; dtype defined by the cell module of the core's kernel (spike
    sources with a state keep it here too: a SpikeSourceGamma neuron's sub-events still due,
    a SpikeSourcePoissonRefractory neuron's dead steps left; see
    :mod:`pynn_spinnaker2.cells.renewal_sources`).
``master_pop_table`` (SRAM)
    ``MPT_DTYPE``, sorted by key: for each source key block, where its rows start in
    ``row_index`` and how many rows (one per source neuron) there are.
``row_index`` (DRAM)
    ``ROW_DTYPE``: for each source neuron, the start and length of its synaptic row.
``synapses`` (DRAM)
    ``SYNAPSE_DTYPE``: a float32 weight and a control word, bits 0-15 target neuron,
    16-18 receptor, 19 "dynamic" (short-term plasticity), 20-31 delay in time steps.
``synapse_dynamics`` (DRAM)
    ``DYNAMICS_DTYPE``, parallel to ``synapses`` (empty when no synapse is dynamic): the
    Tsodyks-Markram parameters U, tau_rec, tau_facil and the decay time tau_psc of the
    target's synaptic current (NEST's ``tsodyks_synapse``). The (u, x, y) state is runtime
    data next to it.
``synapse_plasticity`` (DRAM)
    ``PLASTICITY_DTYPE``, parallel to ``synapses`` (empty when no synapse learns): the
    spike-pair STDP rule of each synapse (kind 0 static, 1 additive, 2 multiplicative;
    tau_plus, A_plus, A_minus, w_min, w_max). Its weight is the ``weight`` of its synaptic
    word, which the core rewrites as it learns; the presynaptic trace and the pending
    potentiation are runtime data next to it (see :mod:`pynn_spinnaker2.synapses.stdp`).
``synapse_release`` (DRAM)
    float32, parallel to ``synapses`` (empty when every synapse transmits every spike): the
    probability that a spike crossing the synapse is transmitted (PyNN's
    ``SimpleStochasticSynapse``, NEST's ``bernoulli_synapse``), drawn by the target core from
    a counter-based generator keyed by its seed, the synapse and the step.
``synapse_quantal`` (DRAM)
    ``QUANTAL_DTYPE``, parallel to ``synapses`` (empty when no synapse onto the core is
    quantal): the release sites of PyNN's ``MultiQuantalSynapse`` (NEST's
    ``quantal_stp_synapse``; ``StochasticTsodyksMarkramSynapse`` is one with n = 1):
    parameters U, tau_rec, tau_facil and n (0: not a quantal synapse), and the state the
    core updates in place at each spike: full sites ``a``, release probability ``u`` and the
    step of the last spike (``QUANTAL_NEVER``: none yet). The core draws every site's
    recovery and release from a counter-based generator keyed by its seed, the synapse, the
    site and the step.
``stdp_post`` / ``stdp_trace`` (SRAM, cores with plastic inputs)
    ``STDP_POST_DTYPE`` per neuron (tau_minus of its postsynaptic trace), and the trace of
    the last ``slots`` steps (float32, slots x neurons, zero-filled at load).
``spike_schedule`` (SSA cores)
    (step, neuron) pairs sorted by step.
``recording``
    ``RECORDING_DTYPE``: one row per recorded variable (name, interval in steps), and
    ``record_mask`` (uint8, variables x neurons).
``current_sources`` / ``current_schedule`` / ``current_targets``
    Injected currents computed on the core: a schedule of (step, amplitude) changes, a sine
    (``offset + amplitude * sin(2 pi f (t - start) + phase)``) or Gaussian noise redrawn every
    ``noise_steps`` from a counter-based generator keyed by ``seed``, so every core that a
    source feeds draws the same values. The value at step n drives the update n -> n + 1.
``rng_seed``
    Four uint32 words seeding the core's random number generator (what its Poisson, Gamma
    and refractory Poisson sources draw from).

Router tables: ``ROUTER_DTYPE`` records (key, mask, route), the route being 160 bits: bits
0-5 the links, bit 6 + p the local PE p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..machine import Machine

# The record formats are declared with their regions (one declaration each, read by the
# partitioner and the image builder); they are re-exported here for the image's readers.
from ..mapping.regions import (  # noqa: F401
    CURRENT_SCHEDULE_DTYPE,
    CURRENT_SOURCE_DTYPE,
    CURRENT_TARGET_DTYPE,
    DYNAMICS_DTYPE,
    MPT_DTYPE,
    QUANTAL_DTYPE,
    RECORDING_DTYPE,
    ROW_DTYPE,
    SCHEDULE_DTYPE,
    SYNAPSE_DTYPE,
)
from ..mapping.route import N_LINKS  # noqa: F401
from ..synapses.quantal import QUANTAL_NEVER  # noqa: F401  (``last``: no spike yet)
from ..synapses.stdp import PLASTICITY_DTYPE, STDP_POST_DTYPE  # noqa: F401

ROUTER_DTYPE = np.dtype([("key", "<u4"), ("mask", "<u4"), ("route", "<u4", (5,))])

#: ``kind`` codes of the current source table.
CURRENT_KINDS = {"schedule": 0, "sine": 1, "noise": 2}

TARGET_BITS, RECEPTOR_SHIFT, DYNAMIC_SHIFT, DELAY_SHIFT = 16, 16, 19, 20


def encode_control(target: np.ndarray, receptor: np.ndarray, delay: np.ndarray,
                   dynamic: np.ndarray | bool = False) -> np.ndarray:
    """Pack synaptic control words."""
    return (np.asarray(target, np.uint32) | (np.asarray(receptor, np.uint32) << RECEPTOR_SHIFT)
            | (np.asarray(dynamic, np.uint32) << DYNAMIC_SHIFT)
            | (np.asarray(delay, np.uint32) << DELAY_SHIFT))


def decode_control(control: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                  np.ndarray]:
    """Unpack synaptic control words into (target, receptor, delay, dynamic)."""
    control = np.asarray(control, np.uint32)
    return (control & 0xFFFF, (control >> RECEPTOR_SHIFT) & 0x7, control >> DELAY_SHIFT,
            ((control >> DYNAMIC_SHIFT) & 1).astype(bool))


@dataclass(frozen=True)
class CoreImage:
    """What one PE is loaded with.

    Parameters
    ----------
    chip, pe
        Where it runs.
    kernel
        The binary it runs.
    n_neurons
        Neurons it simulates.
    key, mask
        The key block of its outgoing spikes.
    sram, dram
        Named regions.
    """

    chip: tuple[int, int]
    pe: int
    kernel: str
    n_neurons: int
    key: int
    mask: int
    sram: dict[str, np.ndarray]
    dram: dict[str, np.ndarray]

    @property
    def sram_bytes(self) -> int:
        """Bytes of SRAM its data regions take."""
        return int(sum(r.nbytes for r in self.sram.values()))

    @property
    def dram_bytes(self) -> int:
        """Bytes of DRAM its regions take."""
        return int(sum(r.nbytes for r in self.dram.values()))


@dataclass(frozen=True)
class CoreSlice:
    """Which neurons of which population a core simulates (the index map)."""

    population: str
    lo: int
    hi: int


@dataclass(frozen=True)
class PlasticIndex:
    """Host-side index map of one projection's plastic synapses: where on the machine each
    connection's weight lives (the emulator never reads it).

    Parameters
    ----------
    projection
        Label of the projection (a ``ProjectionSpec``).
    connection
        Index of each synapse in the projection.
    core, position
        Its core (index in ``MachineImage.cores``) and its position in that core's
        ``synapses`` region.
    """

    projection: str
    connection: np.ndarray
    core: np.ndarray
    position: np.ndarray


@dataclass(frozen=True)
class MachineImage:
    """The whole machine's load: cores, router tables and the index map.

    Parameters
    ----------
    machine
        The target machine.
    timestep
        Milliseconds per time step.
    cores
        Per loaded PE.
    router_tables
        Chip -> ``ROUTER_DTYPE`` array in priority order.
    index_map
        Per core, the population slice it simulates (used only to turn raw recordings into
        Neo; the emulator never reads it).
    plastic
        Per plastic projection, where its weights live (read back by the host).
    """

    machine: Machine
    timestep: float
    cores: tuple[CoreImage, ...]
    router_tables: dict[tuple[int, int], np.ndarray]
    index_map: tuple[CoreSlice, ...]
    plastic: tuple[PlasticIndex, ...] = ()
