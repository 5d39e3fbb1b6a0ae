"""``pyNN.spinnaker2``: the PyNN API on SpiNNaker 2 (the emulator when no board is attached).

Laid out file for file like ``pyNN.mock``.
"""

from pyNN import errors, random, space  # noqa: F401
from pyNN.connectors import *  # noqa: F401,F403
from pyNN.network import Network  # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import *  # noqa: F401,F403
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType

from ..machine import Machine  # noqa: F401
from .control import (  # noqa: F401
    end,
    get_current_time,
    get_max_delay,
    get_min_delay,
    get_time_step,
    initialize,
    num_processes,
    rank,
    reset,
    run,
    run_for,
    run_until,
    set_number_of_neurons_per_core,
    setup,
)
from .electrodes import ACSource, DCSource, NoisyCurrentSource, StepCurrentSource  # noqa: F401
from .populations import Assembly, Population, PopulationView  # noqa: F401
from .procedural_api import connect, create, record, record_gsyn, record_v  # noqa: F401
from .projections import Projection  # noqa: F401
from .random import NativeRNG  # noqa: F401
from .standardmodels import *  # noqa: F401,F403
from .standardmodels import SUPPORTED_CELLS


def list_standard_models() -> list[str]:
    """The standard cell types this backend runs."""
    return list(SUPPORTED_CELLS)


def native_cell_type(name: str) -> type:
    """Native cell types do not exist on SpiNNaker 2: every cell is a compiled kernel."""
    raise NotImplementedError(
        f"native cell type {name!r}: pyNN.spinnaker2 has no native cell types; use one of "
        f"{', '.join(SUPPORTED_CELLS)}")


def get_mapping() -> object:
    """The compiled stages of the last run (network, mapping, image, emulator)."""
    from .simulator import state

    return state.compiled


__all__ = [name for name in dir() if not name.startswith("_")] + [
    c.__name__ for c in StandardCellType.__subclasses__()]
__all__ = sorted(set(n for n in __all__ if n in globals()))
