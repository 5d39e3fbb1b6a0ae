"""Cost model: what a run would take on SpiNNaker 2 (cycles, real-time check, time, energy).

Data flow: the emulator's :class:`ActivityRecorder` counts per PE and step; with the machine
image it becomes an :class:`Activity` (:func:`build_activity`); :func:`estimate` prices it with
:class:`CostConstants` into a :class:`CostReport`; :func:`write_cost_report` writes text, JSON
and a per-PE heat map. See ``doc/cost_model.md``.
"""

from .activity import Activity, build_activity, routes
from .constants import DEFAULT_CONSTANTS, KERNEL_OPS, Constant, CostConstants, KernelOps
from .pricing import CostModelError, CostReport, estimate
from .recorder import ActivityRecorder

__all__ = ["Activity", "ActivityRecorder", "Constant", "CostConstants", "CostModelError",
           "CostReport", "DEFAULT_CONSTANTS", "KERNEL_OPS", "KernelOps", "build_activity",
           "estimate", "routes"]
