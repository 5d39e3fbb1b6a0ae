"""``pyNN.spinnaker2``: the PyNN API on SpiNNaker 2 (the emulator when no board is attached).

Laid out file for file like ``pyNN.mock``.
"""

from pyNN import errors, random, space  # noqa: F401
from pyNN.connectors import *  # noqa: F401,F403
from pyNN.network import Network  # noqa: F401
from pyNN.parameters import ArrayParameter, ParameterSpace, Sequence  # noqa: F401
from pyNN.random import GSLRNG, NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import *  # noqa: F401,F403
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import StandardCellType, StandardCurrentSource  # noqa: F401

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
from .cost import cost_report, get_cost  # noqa: F401
from .egru import (  # noqa: F401
    EGRU,
    EGRULayer,
    GradedSourceArray,
    WeightMatrixConnector,
    activity_sparsity,
    egru_layer,
    egru_layer_from_evnn,
    evnn_layout_from_torch_gru,
    first_step,
    gate_projection,
    graded_output,
    synapse_memory,
)
from .electrodes import ACSource, DCSource, NoisyCurrentSource, StepCurrentSource  # noqa: F401
from .network_file import (  # noqa: F401
    export_nir,
    import_nir,
    load_network,
    save_network,
)
from .nir_cells import (  # noqa: F401
    NIR_I,
    NIR_IF,
    NIR_LI,
    NIR_LIF,
    NIR_CubaLI,
    NIR_CubaLIF,
    NIR_Threshold,
)
from .populations import Assembly, Population, PopulationView  # noqa: F401
from .procedural_api import (  # noqa: F401
    connect,
    create,
    record,
    record_gsyn,
    record_v,
    set,
)
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


def write_reports(folder: str | None = None) -> object:
    """Write the mapping reports (placement, keys, router tables, memory, packets per PE and
    a picture of the chips) of the network as compiled now into ``folder`` (default: the
    ``reports`` folder given to ``setup``); compiles first if needed. After a run they
    include the run's packet counts. See :mod:`pynn_spinnaker2.reports`."""
    from ..reports import write_reports as write
    from .session import compile_state
    from .simulator import state

    target = folder or state.reports
    if not target:
        raise ValueError("write_reports() needs a folder (or sim.setup(reports='folder'))")
    compile_state(state)
    return write(state.compiled, target)


__all__ = [name for name in dir() if not name.startswith("_")] + [
    c.__name__ for c in StandardCellType.__subclasses__()]
__all__ = sorted({n for n in __all__ if n in globals()})  # (set is sim.set here)
