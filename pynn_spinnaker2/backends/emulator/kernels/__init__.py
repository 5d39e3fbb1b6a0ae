"""Float32 neuron kernels, one function per on-chip binary.

Each takes the core group's parameter region (structured array), its state as float32/int32
arrays (modified in place), the inputs arriving this step ``(receptors, n)``, and the
injected current (or None), and returns the boolean spike vector.
"""

from .adexp import adexp_cond_alpha, adexp_cond_exp
from .izhikevich import izhikevich
from .lif import lif_cond_alpha, lif_cond_exp, lif_curr_alpha, lif_curr_delta, lif_curr_exp

NEURON_KERNELS = {
    "lif_curr_exp": lif_curr_exp,
    "lif_curr_delta": lif_curr_delta,
    "lif_cond_exp": lif_cond_exp,
    "lif_curr_alpha": lif_curr_alpha,
    "lif_cond_alpha": lif_cond_alpha,
    "izhikevich": izhikevich,
    "adexp_cond_exp": adexp_cond_exp,
    "adexp_cond_alpha": adexp_cond_alpha,
}

__all__ = ["NEURON_KERNELS"]
