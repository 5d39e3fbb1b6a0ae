"""PyNN API conformance: corners of the standard API that PyNN's own scenario tests and the
NEST comparisons do not reach. Expected values are PyNN's documented behaviour, or what
pyNN.nest does on the same script (noted where so)."""

from __future__ import annotations

import numpy as np
import pytest


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
    with pytest.raises(IndexError, match="projection .* has 2 connections"):
        prj[2]


def test_procedural_set(sim) -> None:
    # sim.set(cells, **parameters) is part of PyNN's procedural API (pyNN.nest has it).
    pop = sim.Population(3, sim.IF_curr_exp(), label="p")
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
