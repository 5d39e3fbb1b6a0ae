"""What every cell type module provides: the PyNN-facing description, the memory layout of
its neuron region, and a float64 reference step the emulator's float32 kernel is tested
against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

#: Receptor name -> index in a PE's input ring buffer.
RECEPTOR_INDEX = {"excitatory": 0, "inhibitory": 1,
                  # EGRU gates (cells/egru.py): their own ring rows on EGRU cores
                  "update": 0, "reset": 1, "candidate": 2, "candidate_recurrent": 3}


@dataclass(frozen=True)
class CellModel:
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
