"""What every cell type module provides: the PyNN-facing description, the memory layout of
its neuron region, the float32 kernel the emulator runs, a float64 reference step the kernel
is tested against, and the kernel's operation count for the cost model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: Receptor name -> index in a PE's input ring buffer.
RECEPTOR_INDEX = {"excitatory": 0, "inhibitory": 1,
                  # EGRU gates (cells/egru.py): their own ring rows on EGRU cores
                  "update": 0, "reset": 1, "candidate": 2, "candidate_recurrent": 3}


@dataclass(frozen=True)
class KernelOps:
    """Arithmetic of one neuron update of a kernel, counted by reading the kernel's code.

    Loads and stores are not listed: they follow from the core's parameter and state record
    sizes in the image (one word loaded per parameter and state word and per receptor's input,
    one stored per state word and per cleared input).

    Parameters
    ----------
    single
        Single-cycle operations (float add/sub/mul/compare, integer ALU).
    div
        Float divisions (``VDIV``).
    exp
        Exponentials (sigmoid, tanh and exp all go through the exp accelerator).
    rng
        Random numbers drawn.
    branches
        Taken-or-not branches (refractory test, threshold test, loop).
    """

    single: int
    div: int = 0
    exp: int = 0
    rng: int = 0
    branches: int = 3


@dataclass(frozen=True)
class CellType:
    """A cell type as the chip runs it.

    Parameters
    ----------
    name
        PyNN name of the cell type (``IF_curr_exp``).
    kernel
        Name of the emulator kernel (and of the on-chip binary) that runs it.
    defaults
        Parameter name -> default value, PyNN units.
    initial
        State variable name -> default initial value, PyNN units.
    receptors
        Receptor types a projection may target.
    recordables
        Recordable variable -> field of the state region it is read from.
    units
        Variable -> unit string, for Neo.
    param_dtype, state_dtype
        Memory layout of one neuron's parameters and state (little-endian, as on the chip).
    build_params
        ``(params, dt) -> structured array`` of ``param_dtype``: PyNN parameters turned into
        what the kernel reads (decay factors, step counts...).
    build_state
        ``(initial, params) -> structured array`` of ``state_dtype``.
    reference_step
        Float64 reference of one time step (None for spike sources).
    is_source
        True for spike sources (no inputs, no state to integrate).
    default_max_per_core
        Neurons per PE when the user sets no limit.
    weight_units
        Unit of a synaptic weight onto this cell type.
    conductance_based
        True when weights are conductances (PyNN's flag of the same name).
    extra
        Hooks of the later pipeline stages, by name: ``check`` (one population),
        ``check_network``, ``derived_params``, ``regions``, ``graded``, ``nir_type``...
    kernel_step
        The float32 kernel, ``(params, state, inputs, i_inj) -> spiked`` or ``(spiked,
        values)`` for graded events; None for sources, which the emulator generates itself.
    ops
        Arithmetic of one neuron update of the kernel, for the cost model.
    block_source
        For sources with a state: ``(rng, params, state, lo, first, n) -> (pointers,
        neurons)``, the spikes of a block of steps (see :mod:`.renewal_sources`).
    """

    name: str
    kernel: str
    defaults: dict[str, float]
    initial: dict[str, float]
    receptors: tuple[str, ...]
    recordables: dict[str, str]
    units: dict[str, str]
    param_dtype: np.dtype
    state_dtype: np.dtype
    build_params: Callable[[dict[str, np.ndarray], float], np.ndarray]
    build_state: Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], np.ndarray]
    reference_step: Callable[..., tuple[dict[str, np.ndarray], np.ndarray]] | None = None
    is_source: bool = False
    default_max_per_core: int = 256
    weight_units: str = "nA"
    conductance_based: bool = False
    extra: dict[str, object] = field(default_factory=dict)
    kernel_step: Callable[..., object] | None = None
    ops: KernelOps | None = None
    block_source: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None

    def bytes_per_neuron(self) -> int:
        """SRAM bytes of parameters plus state for one neuron."""
        return self.param_dtype.itemsize + self.state_dtype.itemsize


def f32(values: np.ndarray | float) -> np.ndarray:
    """Values as float32, the precision of the Cortex-M4F's FPU."""
    return np.asarray(values, dtype=np.float32)


def refractory_steps(tau_refrac: np.ndarray, dt: float) -> np.ndarray:
    """Refractory period in whole time steps, rounded as NEST rounds it."""
    return np.round(np.asarray(tau_refrac, dtype=float) / dt).astype(np.int32)


def structured(dtype: np.dtype, n: int, **columns: np.ndarray) -> np.ndarray:
    """A structured array of ``n`` records filled column by column."""
    out = np.zeros(n, dtype=dtype)
    for name, values in columns.items():
        out[name] = values
    return out


def pynn_defaults(name: str) -> tuple[dict[str, float], dict[str, float]]:
    """Default parameters and initial values of PyNN's standard cell type ``name``.

    Read from ``pyNN.standardmodels.cells`` so that they cannot drift from PyNN's. A sequence
    default (``spike_times``) becomes 0.0: spike times travel beside the parameters, but the
    image builder fills every parameter column with a number.

    Parameters
    ----------
    name
        PyNN class name (``IF_curr_exp``).

    Returns
    -------
    tuple of dict
        ``(default_parameters, default_initial_values)``, plain floats.
    """
    from pyNN.standardmodels import cells

    cls = getattr(cells, name)

    def number(value: object) -> float:
        return float(value) if np.isscalar(value) else 0.0

    return ({k: number(v) for k, v in cls.default_parameters.items()},
            {k: number(v) for k, v in cls.default_initial_values.items()})
