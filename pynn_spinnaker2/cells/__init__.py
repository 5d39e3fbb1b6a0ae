"""Cell types the chip runs: one module per type (parameters, memory layout, reference step)."""

from . import izhikevich, lif_cond_exp, lif_curr_delta, lif_curr_exp
from .adexp import EIF_COND_ALPHA, EIF_COND_EXP
from .base import RECEPTOR_INDEX, CellModel
from .egru import MODEL as EGRU
from .graded_source import GRADED_SOURCE_ARRAY
from .lif_alpha import IF_COND_ALPHA, IF_CURR_ALPHA
from .nir_cuba import MODELS as NIR_MODELS
from .renewal_sources import SPIKE_SOURCE_GAMMA, SPIKE_SOURCE_POISSON_REFRACTORY
from .spike_sources import SPIKE_SOURCE_ARRAY, SPIKE_SOURCE_POISSON

#: PyNN cell type name -> :class:`CellModel`.
CELL_MODELS: dict[str, CellModel] = {
    m.name: m
    for m in (lif_curr_exp.MODEL, lif_curr_delta.MODEL, lif_cond_exp.MODEL, IF_CURR_ALPHA,
              IF_COND_ALPHA, izhikevich.MODEL, EIF_COND_EXP, EIF_COND_ALPHA,
              SPIKE_SOURCE_ARRAY, SPIKE_SOURCE_POISSON)
}
# The EGRU and its graded input (graded events: float32 payloads on the packets).
CELL_MODELS.update({m.name: m for m in (EGRU, GRADED_SOURCE_ARRAY)})
# Renewal sources drawn on the core (a state per neuron: sub-events due, dead steps left).
CELL_MODELS.update({m.name: m for m in (SPIKE_SOURCE_GAMMA, SPIKE_SOURCE_POISSON_REFRACTORY)})
# The NIR neuron family (LIF, CubaLIF, IF, LI, CubaLI, I, Threshold), one kernel.
CELL_MODELS.update(NIR_MODELS)

__all__ = ["CELL_MODELS", "RECEPTOR_INDEX", "CellModel"]
