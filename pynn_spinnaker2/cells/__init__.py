"""Cell types the chip runs: one module per type, each registering one :class:`CellType`
(parameters, memory layout, float32 kernel, float64 reference step, cost of an update).

Importing this package imports every cell module, so the tables of :mod:`.registry` are
complete once it is imported; :func:`register` adds a type.
"""

# The cell modules are imported for their register() calls.
from . import (  # noqa: F401
    adexp,
    egru,
    gif_cond_exp,
    graded_source,
    hh_cond_exp,
    izhikevich,
    lif_alpha,
    lif_cond_exp,
    lif_cond_exp_gsfa_grr,
    lif_curr_delta,
    lif_curr_exp,
    nir_cuba,
    renewal_sources,
    spike_sources,
)
from .base import RECEPTOR_INDEX, CellType, KernelOps, pynn_defaults
from .registry import (
    CELL_TYPES,
    KERNEL_OPS,
    NEURON_KERNELS,
    SOURCE_GENERATORS,
    register,
    unregister,
)

__all__ = ["CELL_TYPES", "KERNEL_OPS", "NEURON_KERNELS", "RECEPTOR_INDEX", "SOURCE_GENERATORS",
           "CellType", "KernelOps", "pynn_defaults", "register", "unregister"]
