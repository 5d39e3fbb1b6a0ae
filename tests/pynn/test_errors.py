"""Bad input gets a clear error naming the object, the limit and the remedy."""

from __future__ import annotations

import pytest
from pyNN import errors as pynn_errors

from pynn_spinnaker2.errors import MappingError, NetworkError
from pynn_spinnaker2.machine import Machine


def test_unknown_parameter_names_the_parameter(sim) -> None:
    with pytest.raises(pynn_errors.NonExistentParameterError, match="tau_q"):
        sim.IF_curr_exp(tau_q=3.0)


def test_wrong_receptor_type_lists_valid_ones(sim) -> None:
    a = sim.Population(2, sim.IF_curr_exp(), label="a")
    with pytest.raises(pynn_errors.ConnectionError, match="excitatory.*inhibitory"):
        sim.Projection(a, a, sim.AllToAllConnector(), receptor_type="NMDA")


def test_negative_delay_names_the_projection(sim) -> None:
    a = sim.Population(2, sim.IF_curr_exp(), label="a")
    with pytest.raises(NetworkError, match="projection 'neg'.*negative delay"):
        sim.Projection(a, a, sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=0.1, delay=-1.0), label="neg")


def test_delay_below_one_timestep(sim) -> None:
    a = sim.Population(2, sim.IF_curr_exp(), label="a")
    with pytest.raises(NetworkError, match="projection 'short'.*below one time step"):
        sim.Projection(a, a, sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=0.1, delay=0.04), label="short")


def test_setting_a_delay_below_one_timestep_later(sim) -> None:
    a = sim.Population(2, sim.IF_curr_exp(), label="a")
    prj = sim.Projection(a, a, sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=0.1, delay=1.0), label="later")
    with pytest.raises(NetworkError, match="projection 'later'.*below one time step"):
        prj.set(delay=0.01)


@pytest.mark.parametrize("name", ["IF_facets_hardware1", "SpikeSourceInhGamma"])
def test_unsupported_cell_type_names_supported_ones(sim, name: str) -> None:
    with pytest.raises(NotImplementedError, match=f"{name}.*IF_curr_exp"):
        getattr(sim, name)()


def test_unsupported_synapse_type(sim) -> None:
    with pytest.raises(NotImplementedError, match="ElectricalSynapse.*MultiQuantalSynapse"):
        sim.ElectricalSynapse()
    with pytest.raises(NotImplementedError, match="GutigWeightDependence.*Additive"):
        sim.GutigWeightDependence()
    with pytest.raises(NotImplementedError, match="Vogels2011Rule.*SpikePairRule"):
        sim.Vogels2011Rule()


def test_stdp_forms_the_chip_does_not_run_name_the_alternative(sim) -> None:
    rule, additive = sim.SpikePairRule(), sim.AdditiveWeightDependence()
    with pytest.raises(NotImplementedError, match="dendritic_delay_fraction=0.5.*=1"):
        sim.STDPMechanism(rule, additive, dendritic_delay_fraction=0.5)
    with pytest.raises(NotImplementedError, match="timing dependence NoneType.*SpikePairRule"):
        sim.STDPMechanism(weight_dependence=additive)
    with pytest.raises(NotImplementedError, match="AdditiveWeightDependence or Multiplicative"):
        sim.STDPMechanism(rule, None)


def test_native_cell_types_are_refused(sim) -> None:
    with pytest.raises(NotImplementedError, match="iaf_psc_alpha.*IF_curr_exp"):
        sim.native_cell_type("iaf_psc_alpha")


def test_too_many_pes_names_population_and_remedy() -> None:
    import pyNN.spinnaker2 as sim

    sim.setup(timestep=1.0, machine=Machine(pes_per_chip=4))
    sim.Population(1000, sim.IF_curr_exp(), label="big")
    with pytest.raises(MappingError, match=r"needs (at least )?5 PEs.*'big'.*n_chips="):
        sim.set_number_of_neurons_per_core(sim.IF_curr_exp, 200)
        sim.run(1.0)
    sim.end()


def test_sram_overflow_names_population() -> None:
    import pyNN.spinnaker2 as sim

    sim.setup(timestep=0.1, max_delay=400.0, machine=Machine(sram_per_pe=40 * 1024))
    a = sim.Population(2, sim.IF_curr_exp(), label="long-delays")
    sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=300.0))
    with pytest.raises(MappingError, match="'long-delays'.*SRAM"):
        sim.run(1.0)
    sim.end()


def test_current_into_spike_source(sim) -> None:
    src = sim.Population(1, sim.SpikeSourcePoisson(), label="src")
    with pytest.raises(TypeError, match="spike source"):
        src.inject(sim.DCSource(amplitude=1.0))


def test_conductance_weights_must_be_positive(sim) -> None:
    a = sim.Population(2, sim.IF_cond_exp(), label="cond")
    with pytest.raises(pynn_errors.ConnectionError, match="positive"):
        sim.Projection(a, a, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.1))


def test_recording_unknown_variable(sim) -> None:
    a = sim.Population(2, sim.IF_curr_exp(), label="a")
    with pytest.raises(pynn_errors.RecordingError):
        a.record("gsyn_exc")


def test_off_grid_spike_precision_warns() -> None:
    import pyNN.spinnaker2 as sim

    with pytest.warns(UserWarning, match="off_grid.*multiples of the time step"):
        sim.setup(timestep=0.1, spike_precision="off_grid")
    sim.end()


def test_new_population_after_run_asks_for_reset(sim) -> None:
    sim.Population(2, sim.IF_curr_exp(), label="first")
    sim.run(5.0)
    sim.Population(2, sim.IF_curr_exp(), label="second")
    with pytest.raises(NotImplementedError, match="sim.reset"):
        sim.run(5.0)
