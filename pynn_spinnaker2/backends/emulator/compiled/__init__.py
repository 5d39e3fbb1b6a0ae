"""Compiled (numba) versions of the emulator's per-step work, and the choice between them and
the NumPy reference.

The NumPy kernels of the cell modules (:mod:`pynn_spinnaker2.cells`) and the NumPy delivery of
:class:`~pynn_spinnaker2.backends.emulator.emulator.Emulator` stay the reference: every compiled
function here computes the same float32 operations in the same order, per neuron and per
synapse, so that both paths give the same bits (``tests/backends/test_compiled.py`` runs both
on the same images and compares them). numba compiles without ``fastmath`` and LLVM fuses no
multiply-add unless an instruction carries the ``contract`` flag, which numba sets only with
``fastmath``; the test checks the generated machine code for fused multiply-adds. The
transcendental functions (``exp``) are NumPy's own ufuncs, called between two compiled parts
of the kernel: NumPy's float32 ``exp`` is its own SIMD code, which differs from the C
library's in the last bit for a large part of all inputs.

numba is imported when the default is resolved or a compiled path is first used (about
0.5 s, once per process), never for ``kernels="numpy"``; a machine without numba runs the
NumPy path without an error.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from collections.abc import Callable

from ..inputs import poisson_spikes as numpy_poisson_spikes
from ..kernels import NEURON_KERNELS

#: The environment variable that picks the kernels when ``setup(kernels=...)`` does not.
ENV_VAR = "PYNN_SPINNAKER2_KERNELS"
#: The kernel choices.
CHOICES = ("numba", "numpy")

#: Kernel name -> why it runs only as NumPy (a kernel of a registered cell type must be in
#: this table or have a compiled version: ``tests/backends/test_compiled.py`` checks it).
NUMPY_ONLY: dict[str, str] = {
    "adexp_cond_exp": "not compiled yet: its exponential term and adaptive sub-steps",
    "adexp_cond_alpha": "not compiled yet: its exponential term and adaptive sub-steps",
    "egru": "not compiled yet: sigmoid and tanh gates (NumPy's float32 exp and tanh)",
    "gif_cond_exp": "not compiled yet: its escape-rate exp and per-neuron random draws",
    "hh_cond_exp": "not compiled yet: the gating kinetics' exponentials",
    "lif_cond_exp_gsfa_grr": "not compiled yet: its conductances' exponential integrator",
}

_COMPILED: dict[str, Callable[..., object]] = {}


@functools.cache
def numba_available() -> bool:
    """Whether numba can be imported here (an installed numba that fails to import, as one
    built for another NumPy, counts as missing)."""
    if importlib.util.find_spec("numba") is None:
        return False
    try:
        import numba  # noqa: F401
    except Exception:  # numba raises ImportError, but also others for a mismatched NumPy
        return False
    return True


def resolve(kernels: str | None = None) -> str:
    """The kernels a run uses: ``kernels``, else the environment variable :data:`ENV_VAR`,
    else ``"numba"`` where numba is installed and ``"numpy"`` where it is not.

    Parameters
    ----------
    kernels
        ``"numba"``, ``"numpy"`` or None.

    Returns
    -------
    str
        ``"numba"`` or ``"numpy"``. A request for numba where it is not installed gives
        ``"numpy"`` with a warning (results are the same, only slower).

    Raises
    ------
    ValueError
        ``kernels`` (or the environment variable) is neither choice.
    """
    source = "kernels"
    if kernels is None:
        kernels, source = os.environ.get(ENV_VAR) or None, ENV_VAR
    if kernels is None:
        return "numba" if numba_available() else "numpy"
    choice = str(kernels).strip().lower()
    if choice not in CHOICES:
        raise ValueError(f"{source}={kernels!r}: the emulator's kernels are 'numba' (compiled, "
                         f"the default where numba is installed) or 'numpy' (the reference)")
    if choice == "numba" and not numba_available():
        warnings.warn(f"{source}='numba' but numba is not installed: the emulator runs its "
                      f"NumPy kernels (same results, slower); pip install numba", stacklevel=2)
        return "numpy"
    return choice


def compiled_kernels() -> dict[str, Callable[..., object]]:
    """Kernel name -> compiled neuron kernel (same signature and results as the cell module's
    ``kernel_step``). Imports numba on the first call."""
    if not _COMPILED:
        from . import neurons

        _COMPILED.update(neurons.KERNELS)
    return _COMPILED


def neuron_kernel(kernel: str, kernels: str) -> Callable[..., object]:
    """The function that steps the neurons of ``kernel``: the compiled one when ``kernels``
    is ``"numba"`` and there is one, else the cell module's NumPy kernel."""
    if kernels == "numba" and kernel in compiled_kernels():
        return compiled_kernels()[kernel]
    return NEURON_KERNELS[kernel]


def bind_compiled(emulator: object, kernels: str) -> str:
    """Give ``emulator`` (an :class:`~..emulator.Emulator`, at the start of a run) the parts
    of ``kernels`` besides the neuron kernels: ``_fast_deliver`` (the compiled delivery
    through static rows, :func:`.deliver.deliver_static`, or None), ``_poisson`` (the
    Poisson sources' generator for :func:`..plan.plan_block`) and its work counter's
    ``synaptic_work`` (:func:`.work.synaptic_work`, or None). Returns ``kernels``."""
    if kernels == "numba":
        from .deliver import deliver_static
        from .sources import poisson_spikes
        from .work import synaptic_work

        emulator._fast_deliver, emulator._poisson = deliver_static, poisson_spikes
        emulator.work.synaptic_work = synaptic_work
    else:
        emulator._fast_deliver, emulator._poisson = None, numpy_poisson_spikes
        emulator.work.synaptic_work = None
    return kernels
