"""Bad run times, runs after end() and empty networks: clear errors, or NEST's behaviour."""

from __future__ import annotations

import math

import pyNN.spinnaker2 as sim
import pytest


@pytest.mark.parametrize("simtime", [math.nan, math.inf, -math.inf, -1.0, "soon"])
def test_bad_run_times_are_refused(simtime: object) -> None:
    sim.setup(timestep=1.0)
    sim.Population(1, sim.IF_curr_exp())
    with pytest.raises(ValueError, match=rf"sim.run\({simtime!r}\): the run time must be a "
                                         r"finite number of ms >= 0; .*e.g. sim.run\(100.0\)"):
        sim.run(simtime)
    assert sim.get_current_time() == 0.0
    sim.end()


@pytest.mark.parametrize("tstop", [math.nan, math.inf])
def test_bad_run_until_times_are_refused(tstop: float) -> None:
    sim.setup(timestep=1.0)
    with pytest.raises(ValueError, match=r"sim.run_until\((nan|inf)\): the end time must be "
                                         r"a finite number of ms"):
        sim.run_until(tstop)
    sim.end()


def test_run_until_an_earlier_time_is_refused() -> None:
    sim.setup(timestep=1.0)
    sim.Population(1, sim.IF_curr_exp())
    sim.run(10.0)
    with pytest.raises(ValueError, match=r"Time 5 is in the past \(current time 10\)"):
        sim.run_until(5.0)
    sim.end()


def test_run_after_end_is_an_error_until_setup() -> None:
    sim.setup(timestep=1.0)
    sim.Population(1, sim.IF_curr_exp())
    sim.run(5.0)
    sim.end()
    with pytest.raises(RuntimeError, match=r"sim.run after sim.end\(\): .*call sim.setup\(\)"):
        sim.run(5.0)
    with pytest.raises(RuntimeError, match=r"after sim.end\(\)"):
        sim.run_until(20.0)
    sim.setup(timestep=1.0)
    sim.Population(1, sim.IF_curr_exp())
    assert sim.run(5.0) == 5.0
    sim.end()


def test_an_empty_network_runs_as_in_nest() -> None:
    sim.setup(timestep=0.5)
    assert sim.run(10.0) == 10.0
    assert sim.run(2.5) == 12.5
    sim.end()
