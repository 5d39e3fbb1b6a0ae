"""Progress bars: on stderr, for compilations and runs that take more than a few seconds
(here the delay is set to 0), off with ``setup(progress=False)``, drawn by rank 0 only."""

from __future__ import annotations

import pytest

from pynn_spinnaker2.pynn import progress


def _script(sim, **options) -> None:
    sim.setup(timestep=0.1, **options)
    pop = sim.Population(20, sim.IF_curr_exp(i_offset=1.0))
    pop.record("spikes")
    sim.run(50.0)
    sim.run(50.0)
    sim.end()


def test_bars_on_stderr_only(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import pyNN.spinnaker2 as sim

    monkeypatch.setattr(progress, "DELAY", 0.0)
    _script(sim)
    out, err = capsys.readouterr()
    assert out == ""
    assert "run:" in err and "100/100 ms" in err and "simulated per s" in err
    assert "compile:" in err and "image" in err and "emulator load" in err


def test_progress_false_draws_nothing(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import pyNN.spinnaker2 as sim

    monkeypatch.setattr(progress, "DELAY", 0.0)
    _script(sim, progress=False)
    assert capsys.readouterr() == ("", "")


def test_short_work_draws_nothing(capsys) -> None:
    import pyNN.spinnaker2 as sim

    _script(sim)
    assert capsys.readouterr() == ("", "")


def test_only_rank_zero_draws() -> None:
    assert progress.draws(True, 0)
    assert not progress.draws(True, 1)
    assert not progress.draws(False, 0)
