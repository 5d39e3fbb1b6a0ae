"""The step loop's shortcuts change nothing: planning many steps at once (sources merged,
spikes recorded and counted after the block), leaving input slots no packet wrote into
uncleared, and reporting progress give the run that steps one by one and clears every
slot: the same spikes, payloads, samples, counters, cost activity and final state."""

from __future__ import annotations

import numpy as np

from pynn_spinnaker2.backends.emulator import Emulator
from pynn_spinnaker2.image import build_image
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec, RecordSpec

N_STEPS = 400


class _ClearsEverySlot(Emulator):
    """The emulator without the quiet-slot shortcut: every input slot is cleared after use."""

    @property
    def _dirty_until(self) -> int:
        return 1 << 62

    @_dirty_until.setter
    def _dirty_until(self, value: int) -> None:
        pass


def _network() -> Network:
    """Poisson, array and graded sources into two kinds of cells across 3 x 2 chips, with
    recurrent delays of 1-6 steps: quiet steps, busy steps and steps where several sources
    and cells fire together (one spike every ~5 steps from the Poisson sources)."""
    rng = np.random.default_rng(11)
    times = tuple(np.array([3.0, 40.0, 41.0, 200.0 + j]) for j in range(4))
    graded_times = tuple(np.array([7.0 + j, 40.0, 300.0]) for j in range(3))
    values = tuple(np.array([0.5 + j, -1.25, 2.0]) for j in range(3))
    n_cells, n_delta = 24, 9
    pops = (
        PopulationSpec("poisson", "SpikeSourcePoisson", 10,
                       params={"rate": np.full(10, 20.0)},
                       record={"spikes": RecordSpec(np.arange(10), 1.0)}, max_per_core=4),
        PopulationSpec("array", "SpikeSourceArray", 4, spike_times=times,
                       record={"spikes": RecordSpec(np.arange(0, 4, 2), 1.0)}),
        PopulationSpec("graded", "GradedSourceArray", 3, params={"start": np.zeros(3)},
                       spike_times=graded_times, spike_values=values,
                       record={"spikes": RecordSpec(np.arange(3), 1.0)}),
        PopulationSpec("cells", "IF_curr_exp", n_cells,
                       params={"tau_refrac": np.full(n_cells, 2.0)},
                       record={"spikes": RecordSpec(np.arange(n_cells), 1.0),
                               "v": RecordSpec(np.arange(0, n_cells, 3), 1.0),
                               "isyn_exc": RecordSpec(np.arange(5), 3.0),
                               "isyn_inh": RecordSpec(np.array([0, n_cells - 1]), 1.0)},
                       max_per_core=8),
        PopulationSpec("delta", "IF_curr_delta", n_delta,
                       params={"tau_m": np.full(n_delta, 1e9),
                               "v_thresh": np.full(n_delta, -60.0)},
                       record={"spikes": RecordSpec(np.arange(n_delta), 1.0),
                               "v": RecordSpec(np.arange(n_delta), 2.0)}),
    )
    k = 300
    projs = (
        ProjectionSpec("p", "poisson", "cells", rng.integers(0, 10, k),
                       rng.integers(0, n_cells, k), rng.uniform(1.0, 3.0, k),
                       rng.integers(1, 4, k).astype(float)),
        ProjectionSpec("a", "array", "delta", np.arange(4), np.arange(4), np.full(4, 2.0),
                       np.full(4, 2.0)),
        ProjectionSpec("g", "graded", "delta", np.arange(3), np.arange(3) + 4,
                       np.full(3, 1.5), np.full(3, 1.0)),
        ProjectionSpec("r", "cells", "cells", rng.integers(0, n_cells, k),
                       rng.integers(0, n_cells, k), -rng.uniform(0.0, 1.0, k),
                       rng.integers(1, 7, k).astype(float), "inhibitory"),
        ProjectionSpec("d", "delta", "cells", np.arange(n_delta), np.arange(n_delta),
                       np.full(n_delta, 5.0), np.full(n_delta, 6.0)),
    )
    return Network(1.0, pops, projs, machine=Machine(width=3, height=2, pes_per_chip=3),
                   seed=21)


def _everything(emulator: Emulator) -> dict:
    out: dict = {}
    for i, rec in enumerate(emulator.recordings()):
        out[f"{i}.steps"], out[f"{i}.neurons"] = rec.spike_steps, rec.spike_neurons
        out[f"{i}.values"] = rec.spike_values
        for name, signal in rec.signals.items():
            out[f"{i}.{name}"] = (signal.interval, signal.neurons, signal.data)
    counters = emulator.counters
    out["counters"] = (counters.neuron_updates, counters.packets_sent,
                       counters.synaptic_events, counters.steps, counters.macs)
    out["activity"] = emulator.activity.blocks()
    out["state"] = [dict(g.state) for g in emulator.groups]
    out["ring"] = emulator.ring
    return out


def _assert_same(got: object, want: object, where: str = "") -> None:
    if isinstance(want, dict):
        assert set(got) == set(want), where
        for key in want:
            _assert_same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, (tuple, list)):
        assert len(got) == len(want), where
        for k, (a, b) in enumerate(zip(got, want, strict=True)):
            _assert_same(a, b, f"{where}[{k}]")
    elif want is None or np.isscalar(want):
        assert got == want, where
    else:
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape, where
        assert got.tobytes() == want.tobytes(), where  # bit for bit (NaN, -0.0 included)


def test_blocks_quiet_slots_and_progress_change_nothing() -> None:
    image = build_image(network := _network(), map_network(network))
    reference = _ClearsEverySlot(image)
    reference._block_steps = 1  # every step planned, counted and recorded on its own
    reference.run(N_STEPS)
    want = _everything(reference)
    n_sent = int(want["counters"][1].sum())
    assert n_sent > 100 and np.asarray(want["activity"][1]["macs"]).sum() > 0
    lengths, sums, _ = want["activity"]
    assert np.all(lengths == 1)  # one block per step: the packets of each step
    quiet = int(np.sum(sums["packets_sent"].sum(axis=1) == 0))
    assert 50 < quiet < N_STEPS - 50, "the run must have quiet and busy steps"

    whole = Emulator(image)
    whole.run(N_STEPS)
    _assert_same(_everything(whole), want, "one run")
    # Probes that read a range, every few neurons of a range, and two far apart neurons
    # keep what a step-by-step read of the state gives.
    stepwise = Emulator(image)
    read = {key: [stepwise.groups[key[0]].state[key[1]][neurons].copy()]
            for key, neurons in stepwise.probes.items()}
    for step in range(1, N_STEPS + 1):
        stepwise.run(1)
        for (group, variable, interval), neurons in stepwise.probes.items():
            if step % interval == 0:
                read[group, variable, interval].append(
                    stepwise.groups[group].state[variable][neurons].copy())
    assert {key[1] for key in read} == {"v", "isyn_exc", "isyn_inh"}
    for key, rows in read.items():
        _assert_same(np.vstack(whole._samples[key]), np.vstack(rows), f"samples {key}")

    pieces, calls = Emulator(image), []
    pieces._block_steps = 7  # blocks that end anywhere within the pieces below
    for n in (1, 5, 150, 44, 200):
        pieces.run(n, progress=lambda done, total: calls.append((done, total)))
    _assert_same(_everything(pieces), want, "runs in pieces, with progress")
    expected = [(done, n) for n in (1, 5, 150, 44, 200) for done in range(1, n + 1)
                if done % max(1, n // 100) == 0 or done == n]
    assert calls == expected


def test_an_error_mid_block_keeps_the_samples_of_the_steps_done() -> None:
    """A step that fails after its neurons were updated (here: delivering its packets) is
    not sampled; every step before it is, as in an unbroken run; the steps done are
    counted."""

    class _FailsToDeliver(Emulator):
        def _deliver(self, spikes: np.ndarray, now: int, payload: object = None) -> None:
            if now >= 57:
                raise RuntimeError("lost packet")
            super()._deliver(spikes, now, payload)

    image = build_image(network := _network(), map_network(network))
    reference = Emulator(image)
    reference.run(N_STEPS)
    failing = _FailsToDeliver(image)
    try:
        failing.run(N_STEPS)
    except RuntimeError:
        pass
    failed = failing.step
    assert 57 <= failed < N_STEPS
    assert failing.counters.steps == failed and failing.activity.n_steps == failed
    for (group, variable, interval), _ in failing.probes.items():
        got = np.vstack(failing._samples[group, variable, interval])
        want = np.vstack(reference._samples[group, variable, interval])
        assert len(got) == (failed - 1) // interval + 1  # steps 0 .. failed - 1
        _assert_same(got, want[:len(got)], f"samples {variable}")
