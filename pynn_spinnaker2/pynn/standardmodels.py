"""PyNN standard cell and synapse types on SpiNNaker 2.

Native parameter names are PyNN's own: the conversion to what a core's memory holds (decay
factors, step counts) happens once, in :mod:`pynn_spinnaker2.cells`, when the image is built.
Standard types the chip model cannot run are still importable, and say so, with the list of
supported types, when instantiated.
"""

from __future__ import annotations

from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import StandardCellType, build_translations, cells, receptors, synapses

from ..cells import CELL_TYPES
from .array_parameters import join_array_parameters, native_names, split_array_parameters
from .simulator import state


def _identity(cls: type) -> dict:
    return build_translations(*[(name, name) for name in cls.default_parameters])


def _standard(base: type, note: str = "") -> type:
    """PyNN's standard cell type ``base`` as the chip runs it.

    The parameters and their defaults stay PyNN's (the registered cell model takes them from
    ``base``); what may be recorded, its units and the receptor types come from the
    registered model, so the PyNN class cannot disagree with the kernel.
    """
    model = CELL_TYPES[base.__name__]
    return type(base.__name__, (base,), {
        "__doc__": base.__doc__ + note, "__module__": __name__,
        "translations": _identity(base), "recordable": list(model.recordables),
        "units": {**base.units, **model.units}, "receptor_types": model.receptors,
    })


IF_curr_exp = _standard(cells.IF_curr_exp)
IF_curr_delta = _standard(cells.IF_curr_delta)
IF_cond_exp = _standard(cells.IF_cond_exp)
IF_curr_alpha = _standard(cells.IF_curr_alpha)
IF_cond_alpha = _standard(cells.IF_cond_alpha)
Izhikevich = _standard(cells.Izhikevich, """
    On SpiNNaker 2: forward Euler on the step's start values (NEST's ``izhikevich`` with
    ``consistent_integration``), in float32; synaptic weights are voltage jumps (mV).
    """)
EIF_cond_exp_isfa_ista = _standard(cells.EIF_cond_exp_isfa_ista, """
    On SpiNNaker 2: one RK4 step of (V, w) per time step in float32, NEST's
    ``aeif_cond_exp`` equations (see :mod:`pynn_spinnaker2.cells.adexp`).
    """)
EIF_cond_alpha_isfa_ista = _standard(cells.EIF_cond_alpha_isfa_ista, """
    On SpiNNaker 2: one RK4 step of (V, w) per time step in float32, NEST's
    ``aeif_cond_alpha`` equations (see :mod:`pynn_spinnaker2.cells.adexp`).
    """)
IF_cond_exp_gsfa_grr = _standard(cells.IF_cond_exp_gsfa_grr, """
    On SpiNNaker 2: NEST's ``iaf_cond_exp_sfa_rr`` equations, integrated exactly for the
    step's mean conductances in float32 (see :mod:`pynn_spinnaker2.cells.lif_cond_exp_gsfa_grr`).
    """)
HH_cond_exp = _standard(cells.HH_cond_exp, """
    On SpiNNaker 2: NEST's ``hh_cond_exp_traub`` equations, RK4 substeps of at most 0.01 ms
    in float32, spikes past the peak above v_offset + 30 mV and none for 2 ms after one
    (NEST's default ``t_ref``; see :mod:`pynn_spinnaker2.cells.hh_cond_exp`).
    """)


class GIF_cond_exp(_standard(cells.GIF_cond_exp, """
    On SpiNNaker 2: NEST's ``gif_cond_exp`` equations in float32, V integrated exactly for
    the step's mean conductances, spikes drawn from a per-neuron generator; three
    components of eta and gamma (see :mod:`pynn_spinnaker2.cells.gif_cond_exp`).
    """)):
    """PyNN's array parameters (``tau_eta``...) are stored as one column per component."""

    def translate(self, parameters: ParameterSpace, copy: bool = True) -> ParameterSpace:
        return split_array_parameters(super().translate(parameters, copy))

    def reverse_translate(self, native_parameters: ParameterSpace) -> ParameterSpace:
        return ParameterSpace(join_array_parameters(native_parameters),
                              schema=self.get_schema(), shape=native_parameters.shape)

    def get_native_names(self, *names: str) -> list[str]:
        return native_names(names or tuple(self.default_parameters))


SpikeSourceArray = _standard(cells.SpikeSourceArray)
SpikeSourcePoisson = _standard(cells.SpikeSourcePoisson)
SpikeSourceGamma = _standard(cells.SpikeSourceGamma, """
    On SpiNNaker 2 (whole-number alpha): the core draws per step a Poisson number of
    sub-events of rate beta and sends a spike at every alpha-th one, so intervals are
    Gamma(alpha, beta) on the time grid (see :mod:`pynn_spinnaker2.cells.renewal_sources`).
    """)
SpikeSourcePoissonRefractory = _standard(cells.SpikeSourcePoissonRefractory, """
    On SpiNNaker 2: dead for round(tau_refrac / dt) steps after a spike, then firing with
    hazard rate / (1 - rate * tau_refrac) per step (NEST's ``ppd_sup_generator``), so the
    mean rate is ``rate`` (see :mod:`pynn_spinnaker2.cells.renewal_sources`).
    """)

#: Classes made by :func:`cell_type`, by name, with the model they were made from.
_MADE: dict[str, tuple[object, type]] = {}


def cell_type(name: str) -> type:
    """The PyNN cell class of a registered cell type, for ``sim.Population(n, cls(...))``.

    For PyNN's standard types it is the class above; for any other registered type (one
    defined outside this package included) a ``StandardCellType`` is made from the
    registered model: its parameters, defaults, initial values, recordables, units and
    receptor types. Parameter names are native (no translation).

    Parameters
    ----------
    name
        A key of :data:`pynn_spinnaker2.cells.CELL_TYPES`.

    Returns
    -------
    type
        The class; the same class while the same model stays registered.

    Raises
    ------
    KeyError
        ``name`` is not registered.
    """
    model = CELL_TYPES[name]
    own = globals().get(name)
    if isinstance(own, type) and issubclass(own, StandardCellType):
        return own
    made = _MADE.get(name)
    if made is not None and made[0] is model:
        return made[1]
    cls = type(name, (StandardCellType,), {
        "__doc__": f"The registered cell type {name!r} (kernel ``{model.kernel}``).",
        "__module__": __name__,
        "default_parameters": dict(model.defaults),
        "default_initial_values": dict(model.initial),
        "recordable": list(model.recordables), "units": dict(model.units),
        "receptor_types": model.receptors, "conductance_based": model.conductance_based,
        "translations": build_translations(*[(k, k) for k in model.defaults]),
    })
    _MADE[name] = (model, cls)
    return cls


SUPPORTED_CELLS = sorted(CELL_TYPES)


def _refused(base: type, message: str) -> type:
    """PyNN's ``base``, importable under its name, raising NotImplementedError(message) when
    it is instantiated."""
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError(message)

    return type(base.__name__, (base,), {"__init__": __init__, "__doc__": base.__doc__,
                                         "translations": {}})


def _unsupported_cell(base: type) -> type:
    return _refused(base, f"{base.__name__} is not supported by pyNN.spinnaker2; supported "
                          f"cell types are {', '.join(SUPPORTED_CELLS)}")


IF_facets_hardware1 = _unsupported_cell(cells.IF_facets_hardware1)
SpikeSourceInhGamma = _unsupported_cell(cells.SpikeSourceInhGamma)


def _unsupported_component(base: type) -> type:
    """PyNN's composed cell types (``PointNeuron`` of a neuron component and named
    postsynaptic responses) are refused at their first component."""
    return _refused(
        base, f"{base.__name__}: composed cell types (PointNeuron with LIF/AdExp and "
              f"postsynaptic-response components) are not supported by pyNN.spinnaker2, "
              f"whose cores run one fixed kernel per standard cell type; use the equivalent "
              f"standard type (PointNeuron(LIF, two CurrExpPostSynapticResponse) is "
              f"IF_curr_exp, with two CondExpPostSynapticResponse IF_cond_exp); supported "
              f"cell types are {', '.join(SUPPORTED_CELLS)}")


PointNeuron = _unsupported_component(cells.PointNeuron)
LIF = _unsupported_component(cells.LIF)
AdExp = _unsupported_component(cells.AdExp)
CurrExpPostSynapticResponse = _unsupported_component(receptors.CurrExpPostSynapticResponse)
CondExpPostSynapticResponse = _unsupported_component(receptors.CondExpPostSynapticResponse)
CondAlphaPostSynapticResponse = _unsupported_component(receptors.CondAlphaPostSynapticResponse)
CondBetaPostSynapticResponse = _unsupported_component(receptors.CondBetaPostSynapticResponse)
ExpPSR, AlphaPSR, BetaPSR = (CondExpPostSynapticResponse, CondAlphaPostSynapticResponse,
                             CondBetaPostSynapticResponse)


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


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__ + """
    On SpiNNaker 2: a SpikePairRule (all-to-all pairing, as NEST's ``stdp_synapse``) with an
    AdditiveWeightDependence or a MultiplicativeWeightDependence; the whole delay is
    dendritic. The weights learn on the cores; ``Projection.get('weight')`` reads them
    back. See :mod:`pynn_spinnaker2.synapses.stdp` for the exact rule.
    """
    base_translations = build_translations(
        ("weight", "weight"), ("delay", "delay"),
        ("dendritic_delay_fraction", "dendritic_delay_fraction"))

    def __init__(self, timing_dependence: object = None, weight_dependence: object = None,
                 voltage_dependence: object = None, dendritic_delay_fraction: float = 1.0,
                 weight: float = 0.0, delay: float | None = None) -> None:
        if not isinstance(timing_dependence, SpikePairRule):
            raise NotImplementedError(
                f"STDP timing dependence {type(timing_dependence).__name__} is not supported "
                f"by pyNN.spinnaker2; use SpikePairRule")
        if not isinstance(weight_dependence, (AdditiveWeightDependence,
                                              MultiplicativeWeightDependence)):
            raise NotImplementedError(
                f"STDP weight dependence {type(weight_dependence).__name__} is not supported "
                f"by pyNN.spinnaker2; use AdditiveWeightDependence or "
                f"MultiplicativeWeightDependence")
        if voltage_dependence is not None:
            raise NotImplementedError("voltage-dependent STDP is not supported by "
                                      "pyNN.spinnaker2; use a SpikePairRule without it")
        if dendritic_delay_fraction != 1:
            raise NotImplementedError(
                f"dendritic_delay_fraction={dendritic_delay_fraction}: on SpiNNaker 2 (as on "
                f"NEST) the whole synaptic delay is dendritic; use dendritic_delay_fraction=1")
        super().__init__(timing_dependence, weight_dependence, voltage_dependence,
                         float(dendritic_delay_fraction), weight, delay)

    @property
    def network_name(self) -> str:
        """The synapse type's name in the Network (see :mod:`pynn_spinnaker2.synapses`)."""
        return (f"STDP:{type(self.timing_dependence).__name__}:"
                f"{type(self.weight_dependence).__name__}")

    def _get_minimum_delay(self) -> float:
        return state.min_delay


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = _identity(synapses.SpikePairRule)


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _identity(synapses.AdditiveWeightDependence)


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _identity(synapses.MultiplicativeWeightDependence)


class SimpleStochasticSynapse(synapses.SimpleStochasticSynapse):
    __doc__ = synapses.SimpleStochasticSynapse.__doc__ + """
    On SpiNNaker 2 the target core draws, for each spike and synapse, whether it is
    transmitted (probability ``p``), as NEST's ``bernoulli_synapse``.
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("p", "p"))

    def _get_minimum_delay(self) -> float:
        return state.min_delay


class StochasticTsodyksMarkramSynapse(synapses.StochasticTsodyksMarkramSynapse):
    __doc__ = synapses.StochasticTsodyksMarkramSynapse.__doc__ + """
    On SpiNNaker 2 each synapse keeps one release site in its synaptic row, as PyNN's NEST
    extension ``stochastic_stp_synapse``: at each presynaptic spike an empty site recovers
    with probability ``1 - exp(-h / tau_rec)`` (h: time since the last spike), then a full
    one releases (transmits ``weight``) with probability u, u facilitating as in
    TsodyksMarkramSynapse. The target core draws from its random number generator. Its
    mean response is the deterministic TsodyksMarkramSynapse's (with a fast synaptic
    current); it is a MultiQuantalSynapse with n = 1.
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("U", "U"),
                                      ("tau_rec", "tau_rec"), ("tau_facil", "tau_facil"))

    def _get_minimum_delay(self) -> float:
        return state.min_delay


class MultiQuantalSynapse(synapses.MultiQuantalSynapse):
    __doc__ = """
    Synapse with ``n`` release sites (quanta) and Tsodyks-Markram facilitation, NEST's
    ``quantal_stp_synapse`` (Fuhrmann et al. 2002; Loebel et al. 2009).

    Arguments:
        `U`:
            increment of the release probability u at each spike.
        `n`:
            number of release sites (a whole number, 1 to 65535).
        `tau_rec`:
            time constant (ms) of the stochastic recovery of an emptied site.
        `tau_facil`:
            facilitation time constant (ms); 0: none (u = U at every spike).

    At each presynaptic spike, u becomes ``U + u (1 - U) exp(-h / tau_facil)`` (h: time
    since the last spike), each empty site recovers with probability ``1 - exp(-h /
    tau_rec)``, then each full site releases with probability u; the spike transmits
    ``weight`` times the number released. State variables, set with
    ``Projection.initialize``: ``a`` (full sites, default n) and ``u`` (the release
    probability of the first spike, default U; pyNN.nest leaves NEST's connection defaults,
    a = 1 and u = 0.5, unless ``initialize`` sets them). On SpiNNaker 2 the state is kept in
    the synaptic row and the target core draws from its random number generator.
    """
    translations = build_translations(("weight", "weight"), ("delay", "delay"), ("U", "U"),
                                      ("n", "n"), ("tau_rec", "tau_rec"),
                                      ("tau_facil", "tau_facil"))
    #: State variables ``Projection.initialize`` sets (per synapse).
    initial_state = ("a", "u")

    def _get_minimum_delay(self) -> float:
        return state.min_delay


def _unsupported_synapse(base: type, alternative: str = "use StaticSynapse, "
                         "TsodyksMarkramSynapse, StochasticTsodyksMarkramSynapse, "
                         "MultiQuantalSynapse, SimpleStochasticSynapse or STDPMechanism"
                         ) -> type:
    return _refused(base, f"{base.__name__} is not supported by pyNN.spinnaker2; "
                          f"{alternative}")


ElectricalSynapse = _unsupported_synapse(synapses.ElectricalSynapse)

# The other STDP rules are refused at the first line that mentions them.
AdditivePotentiationMultiplicativeDepression = _unsupported_synapse(
    synapses.AdditivePotentiationMultiplicativeDepression,
    "use AdditiveWeightDependence or MultiplicativeWeightDependence")
GutigWeightDependence = _unsupported_synapse(
    synapses.GutigWeightDependence,
    "use AdditiveWeightDependence or MultiplicativeWeightDependence")
Vogels2011Rule = _unsupported_synapse(synapses.Vogels2011Rule, "use SpikePairRule")
