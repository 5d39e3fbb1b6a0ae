"""Float32 neuron kernels, one function per on-chip binary.

Each takes the core group's parameter region (structured array), its state as float32/int32
arrays (modified in place), the inputs arriving this step ``(receptors, n)``, and the
injected current (or None), and returns the boolean spike vector, or a pair (spike vector,
value per neuron) for kernels whose events carry a graded payload (the EGRU): the value of
each firing neuron becomes its packet's float32 payload, which every synapse multiplies its
weight by (a plain spike's payload is 1).
"""

from .adexp import adexp_cond_alpha, adexp_cond_exp
from .egru import egru
from .izhikevich import izhikevich
from .lif import lif_cond_alpha, lif_cond_exp, lif_curr_alpha, lif_curr_delta, lif_curr_exp
from .nir import nir_cuba

NEURON_KERNELS = {
    "lif_curr_exp": lif_curr_exp,
    "lif_curr_delta": lif_curr_delta,
    "lif_cond_exp": lif_cond_exp,
    "lif_curr_alpha": lif_curr_alpha,
    "lif_cond_alpha": lif_cond_alpha,
    "nir_cuba": nir_cuba,
    "izhikevich": izhikevich,
    "adexp_cond_exp": adexp_cond_exp,
    "adexp_cond_alpha": adexp_cond_alpha,
}
NEURON_KERNELS["egru"] = egru

__all__ = ["NEURON_KERNELS"]
