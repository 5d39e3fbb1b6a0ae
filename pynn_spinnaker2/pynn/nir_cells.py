"""Cell types of the NIR neuron nodes, for scripts that build them by hand.

``NIR_LIF``, ``NIR_CubaLIF``, ``NIR_IF``, ``NIR_LI``, ``NIR_CubaLI``, ``NIR_I`` and
``NIR_Threshold`` take NIR's parameter names; times are in ms, everything else is a plain
number (used as mV and nA). ``bias`` is a constant input current (an Affine node's bias),
``euler = 1`` steps as snnTorch and Norse do instead of integrating exactly. Each is the PyNN
face of one model of :mod:`pynn_spinnaker2.cells.nir_cuba`, which holds the equations, the
meaning of a spike as input and the discretisation (with ``doc/nir.md``); nothing about the
neurons is restated here. ``import_nir`` builds these.
"""

from __future__ import annotations

from pyNN.standardmodels import StandardCellType, build_translations

from ..cells.nir_cuba import MODELS, NIR_TYPE


def _cell_type(name: str) -> type:
    """The PyNN cell type of NIR cell model ``name``, read off its CellType."""
    model = MODELS[name]
    kind = "spikes" if model.extra["spiking"] else "never spikes: record v"
    doc = (f"The NIR ``{NIR_TYPE[name]}`` node on SpiNNaker 2 ({kind}); the equations and "
           f"their discretisation are in :mod:`pynn_spinnaker2.cells.nir_cuba`.\n\n    "
           f"S, its input, is bias + injected current + the weights of the spikes arriving "
           f"in the step (a spike is 1 held for one step).\n")
    return type(name, (StandardCellType,), {
        "__doc__": doc,
        "__module__": __name__,
        "default_parameters": dict(model.defaults),
        "default_initial_values": dict(model.initial),
        "recordable": list(model.recordables),
        "units": dict(model.units),
        "translations": build_translations(*[(k, k) for k in model.defaults]),
        "conductance_based": False,
    })


NIR_LIF = _cell_type("NIR_LIF")
NIR_CubaLIF = _cell_type("NIR_CubaLIF")
NIR_IF = _cell_type("NIR_IF")
NIR_LI = _cell_type("NIR_LI")
NIR_CubaLI = _cell_type("NIR_CubaLI")
NIR_I = _cell_type("NIR_I")
NIR_Threshold = _cell_type("NIR_Threshold")

NIR_CELL_TYPES = {c.__name__: c for c in (NIR_LIF, NIR_CubaLIF, NIR_IF, NIR_LI, NIR_CubaLI,
                                          NIR_I, NIR_Threshold)}
