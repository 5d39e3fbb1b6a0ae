"""PyNN API conformance: corners of the standard API that PyNN's own scenario tests and the
NEST comparisons do not reach. Expected values are PyNN's documented behaviour, or what
pyNN.nest does on the same script (noted where so)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from pyNN import errors as pynn_errors

from pynn_spinnaker2.errors import NetworkError


def test_view_of_a_view_gets_and_sets_its_parents_parameters(sim) -> None:
    # pyNN.nest: p[2:6][[0, 2]] is cells 2 and 4 of p.
    pop = sim.Population(10, sim.IF_curr_exp(tau_m=np.arange(10.0) + 10.0), label="p")
    view = pop[2:6][[0, 2]]
    assert list(view.get("tau_m")) == [12.0, 14.0]
    view.set(tau_syn_E=7.0)
    assert list(pop.get("tau_syn_E")) == [5.0, 5.0, 7.0, 5.0, 7.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    view[1:2].set(cm=2.0)
    assert list(pop.get("cm")) == [1.0] * 4 + [2.0] + [1.0] * 5


def test_view_of_a_view_parameters_reach_the_machine(sim) -> None:
    pop = sim.Population(4, sim.IF_curr_exp(), label="p")
    pop[1:4][1:2].set(i_offset=1.0)  # cell 2 only: v_inf = -65 + 20 MOhm * 1 nA
    pop.record("v")
    sim.run(5.0)
    v = pop.get_data().segments[0].filter(name="v")[0].magnitude
    assert np.all(v[-1, [0, 1, 3]] == -65.0)
    expected = -65.0 + 20.0 * (1.0 - np.exp(-5.0 / 20.0))
    assert abs(v[-1, 2] - expected) < 0.05


def test_integer_parameter_values_do_not_truncate_later_float_values(sim) -> None:
    # pyNN.nest: a callable giving ints, then a float set on a view, keeps the float.
    pop = sim.Population(4, sim.IF_curr_exp(), label="p")
    pop.set(tau_m=lambda i: 10 + i)
    pop[0:2].set(tau_m=12.5)
    assert list(pop.get("tau_m")) == [12.5, 12.5, 12.0, 13.0]
    pop.set(i_offset=np.array([0, 1, 2, 3]))
    pop[0].i_offset = 0.5
    assert list(pop.get("i_offset")) == [0.5, 1.0, 2.0, 3.0]
    ints = sim.Population(2, sim.IF_curr_exp(v_thresh=np.array([-50, -52])), label="ints")
    ints[1:2].set(v_thresh=-51.5)
    assert list(ints.get("v_thresh")) == [-50.0, -51.5]


def test_projection_getitem_returns_a_connection(sim) -> None:
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]), label="src")
    pop = sim.Population(3, sim.IF_curr_exp(), label="p")
    prj = sim.Projection(src, pop, sim.FromListConnector(
        [(0, 1, 0.3, 2.0), (1, 2, 0.4, 1.5)], column_names=["weight", "delay"]))
    first, last = prj[0], prj[-1]
    assert (first.presynaptic_index, first.postsynaptic_index) == (0, 1)
    assert (first.weight, first.delay) == (0.3, 2.0)
    assert (last.presynaptic_index, last.postsynaptic_index, last.weight) == (1, 2, 0.4)
    assert [c.weight for c in prj[0:2]] == [0.3, 0.4]
    assert [c.as_tuple("presynaptic_index", "weight") for c in prj] == [(0, 0.3), (1, 0.4)]
    with pytest.raises(IndexError, match="projection .* has 2 connections"):
        prj[2]


def test_procedural_set(sim) -> None:
    # sim.set(cells, **parameters) is part of PyNN's procedural API (pyNN.nest has it).
    pop = sim.Population(3, sim.IF_curr_exp(), label="p")
    with pytest.warns(DeprecationWarning):  # deprecated by PyNN, still in its API
        sim.set(pop[0:2], tau_m=12.0)
    assert list(pop.get("tau_m")) == [12.0, 12.0, 20.0]


@pytest.mark.parametrize("interval", [0.15, 0.05])
def test_sampling_interval_off_the_time_grid_is_refused(sim, interval: float) -> None:
    # The cores sample every n steps; pyNN.nest refuses such an interval too.
    pop = sim.Population(3, sim.IF_curr_exp(), label="cells")
    with pytest.raises(ValueError, match=r"population 'cells'.*sampling interval "
                                         r".* multiple of the time step \(0.1 ms\)"):
        pop.record("v", sampling_interval=interval)


def test_sampling_interval_on_the_grid_despite_float_error(sim) -> None:
    pop = sim.Population(1, sim.IF_curr_exp(), label="cells")
    pop.record("v", sampling_interval=0.3)  # 0.3 / 0.1 = 2.9999999999999996
    sim.run(1.5)
    v = pop.get_data().segments[0].filter(name="v")[0]
    assert v.shape == (6, 1)


def test_delays_read_back_as_simulated_on_the_time_grid(sim) -> None:
    # The cores delay by whole time steps; pyNN.nest reads back 1.4 for a delay of 1.44 too.
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]), label="src")
    pop = sim.Population(2, sim.IF_curr_exp(), label="p")
    prj = sim.Projection(src, pop, sim.FromListConnector(
        [(0, 0, 0.3, 1.44), (1, 1, 0.4, 2.06)], column_names=["weight", "delay"]))
    assert np.allclose(prj.get("delay", format="list", with_address=False), [1.4, 2.1],
                       atol=1e-12, rtol=0)
    prj.set(delay=0.33)
    assert np.allclose(prj.get("delay", format="array").diagonal(), 0.3, atol=1e-12, rtol=0)
    prj[1].delay = 0.77
    assert abs(prj[1].delay - 0.8) < 1e-12
    assert abs(sim.get_min_delay() - 0.3) < 1e-12


def _first_v(pop, segment: int) -> list[float]:
    v = pop.get_data().segments[segment].filter(name="v")[0]
    return [round(float(x), 3) for x in v[0].magnitude]


def test_initialize_a_view_and_a_view_of_a_view(sim) -> None:
    pop = sim.Population(4, sim.IF_curr_exp(), label="p")
    pop.record("v")
    pop[0:2].initialize(v=-50.0)
    sim.run(1.0)
    assert _first_v(pop, 0) == [-50.0, -50.0, -65.0, -65.0]
    sim.reset()
    pop[2:4][1:2].initialize(v=lambda i: -40.0 - i)
    sim.run(1.0)
    assert _first_v(pop, 1) == [-50.0, -50.0, -65.0, -40.0]
    assert list(pop[1:4].initial_values["v"].evaluate()) == [-50.0, -65.0, -40.0]


def test_initialize_a_view_with_a_random_distribution_is_drawn_once(sim) -> None:
    pop = sim.Population(6, sim.IF_curr_exp(), label="p")
    pop.record("v")
    pop[::2].initialize(v=sim.RandomDistribution("uniform", (-70.0, -60.0),
                                                 rng=sim.NumpyRNG(7)))
    sim.run(1.0)
    sim.reset()
    sim.run(1.0)
    first, again = _first_v(pop, 0), _first_v(pop, 1)
    assert first == again
    assert all(-70.0 <= x < -60.0 for x in first[::2]) and first[1::2] == [-65.0] * 3


def test_assembly_of_views_initialize(sim) -> None:
    a = sim.Population(3, sim.IF_curr_exp(), label="a")
    b = sim.Population(2, sim.IF_cond_exp(), label="b")
    a.record("v")
    b.record("v")
    sim.Assembly(a[1:3], b[[0]]).initialize(v=-55.0)
    sim.run(1.0)
    assert _first_v(a, 0) == [-65.0, -55.0, -55.0] and _first_v(b, 0) == [-55.0, -65.0]


def test_cell_initial_value_set_after_a_run_reaches_the_machine(sim) -> None:
    pop = sim.Population(2, sim.IF_curr_exp(), label="p")
    pop.record("v")
    sim.run(1.0)
    sim.reset()
    pop[1].set_initial_value("v", -45.0)
    sim.run(1.0)
    assert _first_v(pop, 1) == [-65.0, -45.0]
    assert pop[1].get_initial_value("v") == -45.0


def test_initialize_a_misspelt_state_variable_is_refused(sim) -> None:
    # It used to be ignored: the cells ran from their default state.
    pop = sim.Population(3, sim.IF_curr_exp(), label="cells")
    with pytest.raises(pynn_errors.NonExistentParameterError, match="V_m.*'cells'.*v"):
        pop.initialize(V_m=-70.0)
    with pytest.raises(pynn_errors.NonExistentParameterError, match="V_m.*'cells'"):
        pop[0:2].initialize(V_m=-70.0)
    with pytest.raises(pynn_errors.NonExistentParameterError, match="u.*'cells'"):
        sim.Population(1, sim.IF_curr_exp(), initial_values={"u": 0.0}, label="cells")


def test_spike_times_between_grid_points_go_to_the_next_one(sim) -> None:
    """As NEST's spike_generator puts them (DESIGN.md): 0.04 ms at dt 0.1 is sent at 0.1 ms,
    0.15 at 0.2, and a time on the grid (0.3, not exactly representable) stays on it."""
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[[0.3, 1.0], [0.04, 0.15, 2.0]]),
                         label="src")
    src.record("spikes")
    sim.run(3.0)
    trains = [list(np.round(st.magnitude, 9)) for st in src.get_data().segments[0].spiketrains]
    assert trains == [[0.3, 1.0], [0.1, 0.2, 2.0]]


def test_a_spike_at_time_zero_is_refused(sim) -> None:
    # NEST refuses it; it was silently never sent.
    with pytest.raises(pynn_errors.InvalidParameterValueError,
                       match=r"population 'src', neuron 1: spike times must be > 0 ms, got "
                             r"\[0.0, 2.0\].*NEST refuses it"):
        sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0], [0.0, 2.0]]), label="src")


def test_spike_times_set_through_a_view_are_checked(sim) -> None:
    from pyNN.parameters import Sequence

    src = sim.Population(3, sim.SpikeSourceArray(spike_times=[1.0]), label="src")
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="increasing order"):
        src[1:2].set(spike_times=Sequence([5.0, 2.0]))
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="> 0 ms"):
        src[0:2].set(spike_times=Sequence([-1.0, 2.0]))
    src[1:3].set(spike_times=[Sequence([3.0]), Sequence([4.0, 5.0])])
    assert [list(s.value) for s in src.get("spike_times")] == [[1.0], [3.0], [4.0, 5.0]]


@pytest.mark.parametrize("pairs, side, index", [([(0, 1), (0, 10)], "target", "10"),
                                                ([(7, 1)], "source", "7"),
                                                ([(-1, 1)], "source", "-1")])
def test_from_list_index_out_of_range_names_the_projection(sim, pairs, side: str,
                                                           index: str) -> None:
    # A bare numpy IndexError (target), or a failure only at run time (negative source).
    a = sim.Population(3, sim.IF_curr_exp(), label="a")
    b = sim.Population(3, sim.IF_curr_exp(), label="b")
    with pytest.raises(pynn_errors.ConnectionError,
                       match=f"projection 'listed': FromListConnector {side} index {index} "
                             r"is out of range for '.' of size 3 \(indices 0..2\)"):
        sim.Projection(a, b, sim.FromListConnector(pairs), label="listed")


def test_setting_weights_of_the_wrong_sign_is_refused_as_at_creation(sim) -> None:
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]), label="src")
    cond = sim.Population(2, sim.IF_cond_exp(), label="cond")
    curr = sim.Population(2, sim.IF_curr_exp(), label="curr")
    exc = sim.Projection(src, cond, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1),
                         label="exc")
    with pytest.raises(pynn_errors.ConnectionError, match="projection 'exc'.*positive"):
        exc.set(weight=-0.1)
    inh = sim.Projection(src, curr, sim.AllToAllConnector(), sim.StaticSynapse(weight=-0.1),
                         receptor_type="inhibitory", label="inh")
    with pytest.raises(pynn_errors.ConnectionError, match="projection 'inh'.*negative"):
        inh.set(weight=np.array([[-0.1, 0.2], [-0.1, -0.1]]))
    inh.set(weight=-0.3, delay=2.0)
    assert set(inh.get("weight", format="list", with_address=False)) == {-0.3}


def test_a_refused_projection_set_changes_nothing(sim) -> None:
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]), label="src")
    cond = sim.Population(2, sim.IF_cond_exp(), label="cond")
    prj = sim.Projection(src, cond, sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=0.1, delay=1.0), label="exc")
    with pytest.raises(pynn_errors.ConnectionError):
        prj.set(weight=-0.1, delay=2.0)
    with pytest.raises(Exception, match="below one time step"):
        prj.set(weight=0.5, delay=0.01)
    assert set(prj.get(["weight", "delay"], format="list", with_address=False)) == {(0.1, 1.0)}


@pytest.mark.parametrize("how", ["run", "run_until"])
def test_run_to_a_time_off_the_time_grid_is_refused(sim, how: str) -> None:
    # run(0.25) at dt = 0.1 used to advance 0.2 ms each time, silently (NEST refuses it).
    sim.Population(1, sim.IF_curr_exp(), label="p")
    with pytest.raises(ValueError, match=r"0.25 ms is not a multiple of the time step "
                                         r"\(0.1 ms\)"):
        sim.run(0.25) if how == "run" else sim.run_until(0.25)
    assert sim.get_current_time() == 0.0


def test_run_in_steps_that_are_on_the_grid_despite_float_error(sim) -> None:
    sim.Population(1, sim.IF_curr_exp(), label="p")
    for _ in range(10):
        sim.run(0.3)  # 0.1 + 0.2 style float error must not count as off the grid
    assert abs(sim.get_current_time() - 3.0) < 1e-9


@pytest.mark.parametrize("cell, parameter, bound", [
    ("IF_curr_exp", {"tau_m": -5.0}, "tau_m must be > 0, got -5"),
    ("IF_curr_exp", {"cm": 0.0}, "cm must be > 0, got 0"),
    ("IF_cond_exp", {"tau_syn_E": 0.0}, "tau_syn_E must be > 0"),
    ("IF_curr_alpha", {"tau_refrac": -1.0}, "tau_refrac must be >= 0"),
    ("EIF_cond_exp_isfa_ista", {"tau_w": -1.0}, "tau_w must be > 0"),
    ("SpikeSourcePoisson", {"rate": -5.0}, "rate must be >= 0, got -5"),
])
def test_parameters_out_of_their_range_are_refused(sim, cell: str, parameter: dict,
                                                   bound: str) -> None:
    # They made NaN states (divisions by zero) or a numpy "lam < 0" from the emulator.
    from pynn_spinnaker2.errors import NetworkError

    pop = sim.Population(2, getattr(sim, cell)(), label="bad")
    pop[1:2].set(**parameter)
    with pytest.raises(NetworkError, match=f"population 'bad' \\({cell}\\): {bound}"):
        sim.run(1.0)


@pytest.mark.parametrize("cell", ["IF_curr_exp", "IF_cond_alpha", "IF_curr_delta"])
def test_a_reset_at_or_above_threshold_is_refused(sim, cell: str) -> None:
    # It ran, firing at every step after the refractory period; NEST refuses V_reset >= V_th.
    from pynn_spinnaker2.errors import NetworkError

    pop = sim.Population(4, getattr(sim, cell)(v_thresh=-50.0), label="bad")
    pop[2:4].set(v_reset=-50.0)
    with pytest.raises(NetworkError, match=f"population 'bad' \\({cell}\\): neuron 2 has "
                                           r"v_reset -50 mV >= v_thresh -50 mV \(2 neurons"):
        sim.run(1.0)


def test_an_adaptive_exponential_reset_may_lie_above_its_soft_threshold(sim) -> None:
    pop = sim.Population(1, sim.EIF_cond_exp_isfa_ista(v_thresh=-50.4, v_reset=-45.0))
    pop.record("v")
    sim.run(5.0)
    assert np.isfinite(pop.get_data().segments[0].analogsignals[0].magnitude).all()


def test_a_source_injected_twice_into_a_cell_adds_twice(sim) -> None:
    # pyNN.nest (and pyNN.neuron) connect the source once per inject_into: overlapping
    # views give the overlap twice the current. It was given once.
    pop = sim.Population(3, sim.IF_curr_exp(v_thresh=0.0), label="p")
    dc = sim.DCSource(amplitude=0.5, start=1.0, stop=8.0)
    dc.inject_into(pop[0:2])
    dc.inject_into(pop[1:3])
    pop.record("v")
    sim.run(5.0)
    v = pop.get_data().segments[0].filter(name="v")[0].magnitude[50]
    # NEST 3.10 on this script: [-63.187, -61.375, -63.187]
    assert np.allclose(v, [-63.187, -61.375, -63.187], atol=2e-3)


@pytest.mark.parametrize("dt", [0.25, 0.05])
def test_noisy_current_interval_off_the_time_grid_is_refused(sim, dt: float) -> None:
    # It was rounded silently (0.25 ms ran as 0.2 ms); NEST refuses it too.
    with pytest.raises(ValueError, match=f"NoisyCurrentSource: dt = {dt} ms is not a "
                                         r"multiple of the time step \(0.1 ms\)"):
        sim.NoisyCurrentSource(mean=0.5, stdev=0.2, dt=dt)
    sim.NoisyCurrentSource(mean=0.5, stdev=0.2, dt=0.3)  # on the grid, despite float error


def test_connectors_pynn_does_not_implement_say_so(sim) -> None:
    pop = sim.Population(4, sim.IF_curr_exp(), label="p")
    with pytest.raises(NotImplementedError, match="projection 'sw': SmallWorldConnector is "
                                                  "not implemented .* FromListConnector"):
        sim.Projection(pop, pop, sim.SmallWorldConnector(degree=1.5, rewiring=0.1),
                       label="sw")  # was a NotImplementedError with no message
    if importlib.util.find_spec("csa") is None:  # PyNN's own message, without csa
        with pytest.raises(RuntimeError, match="CSAConnector not available"):
            sim.CSAConnector(None)


def test_a_new_longest_delay_after_a_run_says_what_changed(sim) -> None:
    # It said "a new population, a new neurons-per-core limit, or new recordings".
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]), label="src")
    pop = sim.Population(2, sim.IF_curr_exp(), label="cells")
    prj = sim.Projection(src, pop, sim.AllToAllConnector(),
                         sim.StaticSynapse(weight=2.0, delay=1.0))
    sim.run(2.0)
    prj[0].delay = 0.5  # the longest delay stays: the buffers stay
    sim.run(2.0)
    prj.set(delay=20.0)
    with pytest.raises(NotImplementedError, match=r"longest synaptic delay into "
                                                  r"population\(s\) \['cells'\] changed.*"
                                                  r"sim.reset"):
        sim.run(2.0)
    sim.reset()
    sim.run(2.0)


@pytest.mark.parametrize("timestep", [0.0, -0.1])
def test_setup_refuses_a_time_step_that_is_not_positive(sim, timestep: float) -> None:
    # It was accepted; the first run then divided by it (NEST refuses it too).
    with pytest.raises(ValueError, match=r"setup\(timestep=.*\): the time step must be > 0"):
        sim.setup(timestep=timestep)


def test_delays_half_a_step_off_the_grid_round_up_as_in_nest(sim) -> None:
    pop = sim.Population(6, sim.IF_curr_exp(), label="p")
    delays = [0.25, 0.35, 0.45, 1.25, 2.5, 0.65]
    prj = sim.Projection(pop, pop, sim.FromListConnector(
        [(i, i, 0.1, d) for i, d in enumerate(delays)], column_names=["weight", "delay"]))
    # pyNN.nest with NEST 3.10 on this script: [0.3, 0.4, 0.5, 1.3, 2.5, 0.7]
    assert np.allclose(prj.get("delay", format="list", with_address=False),
                       [0.3, 0.4, 0.5, 1.3, 2.5, 0.7], atol=1e-12, rtol=0)


def test_spike_times_of_the_wrong_shape_get_a_clear_error(sim) -> None:
    from pyNN.parameters import Sequence

    # PyNN evaluates the function once, on all indices: one 2-D Sequence. It failed later
    # with an XML format error about time counts.
    with pytest.raises(pynn_errors.InvalidParameterValueError,
                       match="population 'src'.*one list of times per neuron.*shape"):
        sim.Population(3, sim.SpikeSourceArray(
            spike_times=lambda i: Sequence([1.0 + i, 5.0 + i])), label="src")


def test_delays_above_the_max_delay_given_to_setup_are_refused(sim) -> None:
    # They ran; pyNN.nest refuses them too. The default ('auto') allows any the chip can do.
    sim.setup(timestep=0.1, max_delay=10.0)
    pop = sim.Population(2, sim.IF_curr_exp(), label="p")
    sim.Projection(pop, pop, sim.OneToOneConnector(), sim.StaticSynapse(delay=10.0))
    with pytest.raises(NetworkError, match=r"projection 'long': delay 20.0 ms is above the "
                                           r"max_delay given to sim.setup\(\) \(10.0 ms\)"):
        sim.Projection(pop, pop, sim.OneToOneConnector(), sim.StaticSynapse(delay=20.0),
                       label="long")
    sim.setup(timestep=0.1)
    pop = sim.Population(2, sim.IF_curr_exp(), label="p")
    sim.Projection(pop, pop, sim.OneToOneConnector(), sim.StaticSynapse(delay=20.0))


def test_delays_below_the_min_delay_given_to_setup_are_refused(sim) -> None:
    # They ran; pyNN.nest refuses them too. With min_delay='auto', one time step is the floor.
    sim.setup(timestep=0.1, min_delay=1.0)
    pop = sim.Population(2, sim.IF_curr_exp(), label="p")
    prj = sim.Projection(pop, pop, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1))
    assert set(prj.get("delay", format="list", with_address=False)) == {1.0}
    with pytest.raises(NetworkError, match=r"projection 'short': delay 0.5 ms is below the "
                                           r"min_delay given to sim.setup\(\) \(1.0 ms\)"):
        sim.Projection(pop, pop, sim.OneToOneConnector(), sim.StaticSynapse(delay=0.5),
                       label="short")
    sim.setup(timestep=0.1, min_delay="auto")
    pop = sim.Population(2, sim.IF_curr_exp(), label="p")
    sim.Projection(pop, pop, sim.OneToOneConnector(), sim.StaticSynapse(delay=0.1))


def test_sequence_is_exported_as_pynn_nest_does(sim) -> None:
    from pyNN.parameters import Sequence

    assert sim.Sequence is Sequence
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=sim.Sequence([1.0, 2.0])))
    assert list(src.get("spike_times").value) == [1.0, 2.0]
