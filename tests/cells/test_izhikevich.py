"""Izhikevich: the float32 kernel against the float64 reference, and against NEST's
``izhikevich`` on the same PyNN script."""

from __future__ import annotations

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
from pynn_spinnaker2.cells import CELL_TYPES

MODEL = CELL_TYPES["Izhikevich"]
DT = 0.1


def _params(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Regular spiking, chattering and fast spiking mixed (Izhikevich 2003, fig. 2)."""
    return {"a": rng.choice([0.02, 0.1], n), "b": np.full(n, 0.2),
            "c": rng.choice([-65.0, -50.0], n), "d": rng.choice([2.0, 8.0], n),
            "i_offset": rng.uniform(0.0, 0.015, n)}


def _kernel_params(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    region = MODEL.build_params(p, DT)
    return {name: np.ascontiguousarray(region[name]) for name in region.dtype.names}


def test_kernel_step_matches_float64_reference() -> None:
    """From the reference state each float32 step agrees with the float64 step."""
    rng = np.random.default_rng(4)
    n = 200
    p = _params(n, rng)
    kernel_p = _kernel_params(p)
    ref = {"v": rng.uniform(-75, -40, n), "u": rng.uniform(-16, -10, n)}
    n_spikes = 0
    for _ in range(2000):
        inputs = np.where(rng.random((2, n)) < 0.05, rng.uniform(0, 5, (2, n)), 0.0)
        inputs[1] *= -1.0
        i_inj = rng.uniform(0, 0.005, n)
        state = {k: v.astype(np.float32) for k, v in ref.items()}
        ref, ref_spikes = MODEL.reference_step(p, ref, inputs, i_inj, DT)
        spikes = NEURON_KERNELS["izhikevich"](kernel_p, state, inputs.astype(np.float32),
                                              i_inj.astype(np.float32))
        np.testing.assert_array_equal(spikes, ref_spikes)
        np.testing.assert_allclose(state["v"], ref["v"], rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(state["u"], ref["u"], rtol=1e-5, atol=1e-4)
        n_spikes += int(spikes.sum())
    assert n_spikes > 300


def test_free_running_float32_stays_close_to_float64() -> None:
    rng = np.random.default_rng(5)
    n = 200
    p = _params(n, rng)
    kernel_p = _kernel_params(p)
    ref = {"v": np.full(n, -70.0), "u": np.full(n, -14.0)}
    state = {k: v.astype(np.float32) for k, v in ref.items()}
    counts = np.zeros(2)
    zeros = np.zeros((2, n))
    for _ in range(3000):
        ref, ref_spikes = MODEL.reference_step(p, ref, zeros, np.zeros(n), DT)
        spikes = NEURON_KERNELS["izhikevich"](kernel_p, state, zeros.astype(np.float32), None)
        counts += ref_spikes.sum(), spikes.sum()
    assert counts[0] > 500
    assert abs(counts[1] - counts[0]) <= 0.01 * counts[0]


def _izhikevich_script(sim) -> tuple[np.ndarray, list[np.ndarray]]:
    """PyNN's Izhikevich example: an offset current, synaptic jumps, a DC source."""
    sim.setup(timestep=0.01, min_delay=1.0)
    neurons = sim.Population(3, sim.Izhikevich(a=0.02, b=0.2, c=-65, d=6,
                                               i_offset=[0.014, 0.0, 0.0]))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(10.0, 51, 1)))
    sim.Projection(source, neurons[1:2], sim.OneToOneConnector(),
                   sim.StaticSynapse(weight=3.0, delay=1.0), receptor_type="excitatory")
    sim.DCSource(start=2.0, stop=92.0, amplitude=0.014).inject_into(neurons[2:3])
    neurons.record(["v", "u", "spikes"])
    neurons.initialize(v=-70.0, u=-14.0)
    sim.run(100.0)
    seg = neurons.get_data().segments[0]
    return (np.asarray(seg.filter(name="v")[0].magnitude),
            [np.asarray(st.magnitude) for st in seg.spiketrains])


@pytest.mark.nest
def test_same_as_nest_izhikevich(on_both) -> None:
    """Same spike times (on the 0.01 ms grid) and membrane traces within float32 drift."""
    (v_nest, spikes_nest), (v_ours, spikes_ours) = on_both(_izhikevich_script)
    assert sum(s.size for s in spikes_nest) >= 7
    for a, b in zip(spikes_nest, spikes_ours, strict=True):
        np.testing.assert_allclose(b, a, atol=1e-9)
    assert v_ours.shape == v_nest.shape
    np.testing.assert_allclose(v_ours, v_nest, atol=0.2)
