r"""A cell type defined only here, registered at run time, runs from PyNN on the emulator.

The type is a leaky integrator, :math:`\tau \dot v = -v + r\,(b + I_{inj})`, whose synaptic
events jump v by their weight. With v(0) = v0 and one event of weight w arriving at
:math:`t_a` its response is closed-form:

.. math::

    v(t) = r b + (v_0 - r b)\,e^{-t/\tau} + w\,e^{-(t - t_a)/\tau}\,[t \ge t_a]

Registering it (one :class:`CellType`: parameters, layout, float32 kernel, float64
reference, cost) is all it takes: ``sim.cell_type`` makes its PyNN class, the network checks,
the mapper, the image builder and the emulator find the rest in the registry.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyNN.spinnaker2 as sim
import pytest

from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
from pynn_spinnaker2.cells import (
    CELL_TYPES,
    KERNEL_OPS,
    CellType,
    KernelOps,
    register,
    unregister,
)
from pynn_spinnaker2.cells.base import f32, structured

NAME = "TestLeakyIntegrator"
PARAM_DTYPE = np.dtype([("decay", "<f4"), ("gain", "<f4"), ("bias", "<f4")])
STATE_DTYPE = np.dtype([("v", "<f4")])


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """Exact decay and input gain over one step of a constant drive."""
    decay = np.exp(-dt / np.asarray(p["tau"], dtype=float))
    return structured(PARAM_DTYPE, len(decay), decay=f32(decay),
                      gain=f32(np.asarray(p["r"]) * (1.0 - decay)), bias=f32(p["bias"]))


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """v at t = 0."""
    return structured(STATE_DTYPE, len(initial["v"]), v=f32(initial["v"]))


def kernel(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
           i_inj: np.ndarray | None) -> np.ndarray:
    """Float32 step: decay, drive held over the step, this step's jumps; never spikes."""
    drive = p["bias"] if i_inj is None else p["bias"] + i_inj
    s["v"] = s["v"] * p["decay"] + p["gain"] * drive + inputs[0] + inputs[1]
    return np.zeros(s["v"].shape, bool)


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray, dt: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The same step in float64 from the parameters."""
    decay = np.exp(-dt / p["tau"])
    v = s["v"] * decay + p["r"] * (1 - decay) * (p["bias"] + i_inj) + inputs[0] + inputs[1]
    return {"v": v}, np.zeros(v.shape, bool)


MODEL = CellType(
    name=NAME, kernel="test_leaky_integrator",
    defaults={"tau": 10.0, "r": 1.0, "bias": 0.0}, initial={"v": 0.0},
    receptors=("excitatory", "inhibitory"), recordables={"v": "v"}, units={"v": "mV"},
    param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=build_params,
    build_state=build_state, reference_step=reference_step, weight_units="mV",
    kernel_step=kernel, ops=KernelOps(single=5, branches=1),
)


@pytest.fixture
def registered() -> Iterator[CellType]:
    """The type registered for one test, and gone afterwards whatever the test did."""
    model = register(MODEL)
    try:
        yield model
    finally:
        unregister(NAME)
    assert NAME not in CELL_TYPES and "test_leaky_integrator" not in NEURON_KERNELS
    assert "test_leaky_integrator" not in KERNEL_OPS


def test_kernel_matches_reference(registered: CellType) -> None:
    """The float32 kernel and the float64 reference agree step by step."""
    rng = np.random.default_rng(3)
    n, dt = 50, 0.1
    p = {"tau": rng.uniform(2, 30, n), "r": rng.uniform(0.5, 2, n), "bias": rng.uniform(-1, 1, n)}
    region = build_params(p, dt)
    params = {k: np.ascontiguousarray(region[k]) for k in region.dtype.names}
    ref = {"v": rng.uniform(-1, 1, n)}
    for _ in range(500):
        state = {"v": ref["v"].astype(np.float32)}
        inputs = np.where(rng.random((2, n)) < 0.05, rng.normal(0, 1, (2, n)), 0.0)
        ref, _ = reference_step(p, ref, inputs, np.zeros(n), dt)
        kernel(params, state, inputs.astype(np.float32), None)
        np.testing.assert_allclose(state["v"], ref["v"], rtol=1e-5, atol=1e-5)


def test_runs_from_pynn_against_closed_form(registered: CellType) -> None:
    """A population of the new type, built with sim.Population and driven by a spike source
    and its bias, records v equal to the closed form."""
    dt, t_spike, delay, w = 0.1, 20.0, 1.0, 0.7
    tau = np.array([5.0, 10.0, 20.0])
    r, bias, v0 = np.array([1.0, 2.0, 0.5]), np.array([0.5, -0.25, 1.0]), -0.3
    sim.setup(timestep=dt, min_delay=dt)
    try:
        cls = sim.cell_type(NAME)
        assert cls.recordable == ["v"] and cls.default_parameters == MODEL.defaults
        pop = sim.Population(3, cls(tau=tau, r=r, bias=bias), initial_values={"v": v0})
        src = sim.Population(1, sim.SpikeSourceArray(spike_times=[t_spike]))
        sim.Projection(src, pop, sim.AllToAllConnector(),
                       sim.StaticSynapse(weight=w, delay=delay))
        pop.record("v")
        sim.run(50.0)
        signal = pop.get_data().segments[0].analogsignals[0]
    finally:
        sim.end()
    t = signal.times.rescale("ms").magnitude
    assert str(signal.units.dimensionality) == "mV"
    arrival = t_spike + delay
    expected = (r * bias + (v0 - r * bias) * np.exp(-t[:, None] / tau)
                + w * np.exp(-(t[:, None] - arrival) / tau) * (t[:, None] >= arrival - dt / 2))
    assert signal.shape == (len(t), 3) and t[-1] > arrival + 10 * dt
    np.testing.assert_allclose(np.asarray(signal.magnitude), expected, atol=2e-5)
