"""Cell types of the NIR neuron nodes, for scripts that build them by hand.

``NIR_LIF``, ``NIR_CubaLIF``, ``NIR_IF``, ``NIR_LI``, ``NIR_CubaLI``, ``NIR_I`` and
``NIR_Threshold`` take NIR's parameter names; times are in ms, everything else is a plain
number (used as mV and nA). ``bias`` is a constant input current (an Affine node's bias),
``euler = 1`` steps as snnTorch and Norse do instead of integrating exactly. The equations,
the meaning of a spike as input and the discretisation are in
:mod:`pynn_spinnaker2.cells.nir_cuba` and ``doc/nir.md``. ``import_nir`` builds these.
"""

from __future__ import annotations

from pyNN.standardmodels import StandardCellType, build_translations

from ..cells.nir_cuba import MODELS

_EQUATIONS = {
    "NIR_LIF": "tau dv/dt = (v_leak - v) + r S; spike when v > v_threshold, then v = v_reset.",
    "NIR_CubaLIF": ("tau_syn dI/dt = -I + w_in S; tau_mem dv/dt = (v_leak - v) + r I; spike "
                    "when v > v_threshold, then v = v_reset."),
    "NIR_IF": "dv/dt = r S; spike when v > v_threshold, then v = v_reset.",
    "NIR_LI": "tau dv/dt = (v_leak - v) + r S (never spikes: record v).",
    "NIR_CubaLI": ("tau_syn dI/dt = -I + w_in S; tau_mem dv/dt = (v_leak - v) + r I (never "
                   "spikes: record v)."),
    "NIR_I": "dv/dt = r S (never spikes: record v).",
    "NIR_Threshold": "spike in every step where S > threshold (no state).",
}


def _cell_type(name: str) -> type:
    model = MODELS[name]
    doc = (f"The NIR ``{model.extra['nir_type']}`` node on SpiNNaker 2: "
           f"{_EQUATIONS[name]}\n\n    S is bias + injected current + the weights of the "
           f"spikes arriving in the step (a spike is 1 held for one step).\n")
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
