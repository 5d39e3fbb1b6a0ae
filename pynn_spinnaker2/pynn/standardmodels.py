"""PyNN standard cell and synapse types on SpiNNaker 2.

Native parameter names are PyNN's own: the conversion to what a core's memory holds (decay
factors, step counts) happens once, in :mod:`pynn_spinnaker2.cells`, when the image is built.
Standard types the chip model cannot run are still importable, and say so, with the list of
supported types, when instantiated.
"""

from __future__ import annotations

from pyNN.standardmodels import build_translations, cells, synapses

from ..cells import CELL_MODELS
from .simulator import state


def _identity(cls: type) -> dict:
    return build_translations(*[(name, name) for name in cls.default_parameters])


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = _identity(cells.IF_curr_exp)
    recordable = ["spikes", "v", "isyn_exc", "isyn_inh"]


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    translations = _identity(cells.IF_curr_delta)


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = _identity(cells.IF_cond_exp)


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    translations = _identity(cells.IF_curr_alpha)
    recordable = ["spikes", "v", "isyn_exc", "isyn_inh"]


class IF_cond_alpha(cells.IF_cond_alpha):
    __doc__ = cells.IF_cond_alpha.__doc__
    translations = _identity(cells.IF_cond_alpha)


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity(cells.SpikeSourceArray)


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity(cells.SpikeSourcePoisson)


SUPPORTED_CELLS = sorted(CELL_MODELS)


def _unsupported_cell(base: type) -> type:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError(
            f"{base.__name__} is not supported by pyNN.spinnaker2; supported cell types are "
            f"{', '.join(SUPPORTED_CELLS)}")

    return type(base.__name__, (base,), {"__init__": __init__, "__doc__": base.__doc__,
                                         "translations": {}})


IF_cond_exp_gsfa_grr = _unsupported_cell(cells.IF_cond_exp_gsfa_grr)
HH_cond_exp = _unsupported_cell(cells.HH_cond_exp)
EIF_cond_alpha_isfa_ista = _unsupported_cell(cells.EIF_cond_alpha_isfa_ista)
EIF_cond_exp_isfa_ista = _unsupported_cell(cells.EIF_cond_exp_isfa_ista)
Izhikevich = _unsupported_cell(cells.Izhikevich)
GIF_cond_exp = _unsupported_cell(cells.GIF_cond_exp)
SpikeSourceGamma = _unsupported_cell(cells.SpikeSourceGamma)
SpikeSourceInhGamma = _unsupported_cell(cells.SpikeSourceInhGamma)
SpikeSourcePoissonRefractory = _unsupported_cell(cells.SpikeSourcePoissonRefractory)


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))

    def _get_minimum_delay(self) -> float:
        return state.min_delay


class TsodyksMarkramSynapse(synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__ + """
    On SpiNNaker 2 each synapse keeps its (u, x, y) state in its synaptic row and updates it
    when its presynaptic neuron fires, as NEST's ``tsodyks_synapse`` does, with the
    postsynaptic current's decay time taken from the target's ``tau_syn_E``/``tau_syn_I``.
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("U", "U"),
                                      ("tau_rec", "tau_rec"), ("tau_facil", "tau_facil"))

    def _get_minimum_delay(self) -> float:
        return state.min_delay


def _unsupported_synapse(base: type) -> type:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError(
            f"{base.__name__} is not supported by pyNN.spinnaker2; use StaticSynapse or "
            f"TsodyksMarkramSynapse")

    return type(base.__name__, (base,), {"__init__": __init__, "__doc__": base.__doc__,
                                         "translations": {}})


SimpleStochasticSynapse = _unsupported_synapse(synapses.SimpleStochasticSynapse)
StochasticTsodyksMarkramSynapse = _unsupported_synapse(synapses.StochasticTsodyksMarkramSynapse)
MultiQuantalSynapse = _unsupported_synapse(synapses.MultiQuantalSynapse)
STDPMechanism = _unsupported_synapse(synapses.STDPMechanism)
ElectricalSynapse = _unsupported_synapse(synapses.ElectricalSynapse)

# STDP's weight and timing rules are refused too, so the error comes at the first line that
# mentions plasticity rather than deep inside the connector.
AdditiveWeightDependence = _unsupported_synapse(synapses.AdditiveWeightDependence)
MultiplicativeWeightDependence = _unsupported_synapse(synapses.MultiplicativeWeightDependence)
AdditivePotentiationMultiplicativeDepression = _unsupported_synapse(
    synapses.AdditivePotentiationMultiplicativeDepression)
GutigWeightDependence = _unsupported_synapse(synapses.GutigWeightDependence)
SpikePairRule = _unsupported_synapse(synapses.SpikePairRule)
Vogels2011Rule = _unsupported_synapse(synapses.Vogels2011Rule)
