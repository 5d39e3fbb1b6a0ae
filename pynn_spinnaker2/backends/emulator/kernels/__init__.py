"""Float32 neuron kernels, one function per on-chip binary, by kernel name.

The kernels live with their cell types in :mod:`pynn_spinnaker2.cells`; this is the
emulator's view of the registry (the same dict, so types registered later appear in it).

Each kernel takes the core group's parameter region (structured array), its state as
float32/int32 arrays (modified in place), the inputs arriving this step ``(receptors, n)``,
and the injected current (or None), and returns the boolean spike vector, or a pair (spike
vector, value per neuron) for kernels whose events carry a graded payload (the EGRU): the
value of each firing neuron becomes its packet's float32 payload, which every synapse
multiplies its weight by (a plain spike's payload is 1).
"""

from ....cells.registry import NEURON_KERNELS

__all__ = ["NEURON_KERNELS"]
