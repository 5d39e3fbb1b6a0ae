"""Each NIR neuron node, imported and run on the emulator, against an independent numerical
integration (scipy's solve_ivp) of the node's ODE as nir 1.0.8 documents it.

The graph is Input -> Affine -> node -> Output. The reference integrates the ODE step by
step with the input held over each step (a spike is 1 for one step; an input raster row t is
the input of step t + 1, see doc/nir.md), then applies NIR's threshold and reset at the end
of the step, in float64 with tight tolerances. The emulator computes the same in float32
from closed-form coefficients, so the traces agree to float32 rounding and the spikes agree.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
from scipy.integrate import solve_ivp

DT = 1e-3  # graph time step (s): one emulator step of 1 ms
N_IN, N, STEPS = 5, 4, 120


def _rhs(kind: str, p: dict) -> callable:
    """dy/dt of the node from the nir docstrings; y = [v] or [I, v]; S = input current."""
    if kind in ("LIF", "LI"):
        return lambda t, y, s: [((p["v_leak"] - y[0]) + p["r"] * s) / p["tau"]]
    if kind in ("IF", "I"):
        return lambda t, y, s: [p["r"] * s]
    return lambda t, y, s: [(-y[0] + p["w_in"] * s) / p["tau_syn"],
                            ((p["v_leak"] - y[1]) + p["r"] * y[0]) / p["tau_mem"]]


def _params(kind: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    u = lambda lo, hi: rng.uniform(lo, hi, N)  # noqa: E731
    p = {"LIF": dict(tau=u(5e-3, 20e-3), r=u(0.5, 2), v_leak=u(-0.2, 0.2),
                     v_threshold=u(0.8, 1.2), v_reset=u(-0.3, 0.0)),
         "LI": dict(tau=u(5e-3, 20e-3), r=u(0.5, 2), v_leak=u(-0.2, 0.2)),
         "IF": dict(r=u(50, 150), v_threshold=u(0.8, 1.2), v_reset=u(-0.3, 0.0)),
         "I": dict(r=u(50, 150)),
         "CubaLIF": dict(tau_syn=u(2e-3, 8e-3), tau_mem=u(5e-3, 20e-3), r=u(0.5, 2),
                         v_leak=u(-0.2, 0.2), v_threshold=u(0.8, 1.2), v_reset=u(-0.3, 0.0),
                         w_in=u(0.5, 1.5)),
         "CubaLI": dict(tau_syn=u(2e-3, 8e-3), tau_mem=u(5e-3, 20e-3), r=u(0.5, 2),
                        v_leak=u(-0.2, 0.2), w_in=u(0.5, 1.5)),
         "Threshold": dict(threshold=u(0.3, 0.9))}[kind]
    return p


def _reference(kind: str, p: dict, weight: np.ndarray, bias: np.ndarray,
               raster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(v after each step, spikes of each step) per neuron, integrating the ODE."""
    spiking = kind in ("LIF", "IF", "CubaLIF", "Threshold")
    v_out, z_out = np.zeros((STEPS, N)), np.zeros((STEPS, N))
    for i in range(N):
        pi = {k: v[i] for k, v in p.items()}
        y = [0.0, pi.get("v_leak", 0.0)] if kind.startswith("Cuba") else [pi.get("v_leak",
                                                                                0.0)]
        for n in range(STEPS):
            s = bias[i] + (weight[i] @ raster[n - 1] if n >= 1 else 0.0)
            if kind == "Threshold":
                z_out[n, i] = s > pi["threshold"]
                continue
            y = solve_ivp(_rhs(kind, pi), (0.0, DT), y, args=(s,), rtol=1e-11,
                          atol=1e-13, method="DOP853").y[:, -1].tolist()
            if spiking and y[-1] > pi["v_threshold"]:
                z_out[n, i] = 1
                y[-1] = pi["v_reset"]
            v_out[n, i] = y[-1]
    return v_out, z_out


@pytest.mark.parametrize("kind", ["LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold"])
def test_node_matches_integrated_ode(sim, kind: str) -> None:
    sim.setup(timestep=1.0)
    rng = np.random.default_rng(["LIF", "CubaLIF", "IF", "LI", "CubaLI", "I",
                                 "Threshold"].index(kind))
    p = _params(kind, rng)
    weight = rng.uniform(-0.2, 0.8, (N, N_IN))
    bias = rng.uniform(0.0, 0.4, N)
    node = getattr(nir, kind)(**{k: np.asarray(v) for k, v in p.items()})
    graph = nir.NIRGraph.from_list(nir.Affine(weight=weight, bias=bias), node)
    raster = (rng.random((STEPS, N_IN)) < 0.25).astype(float)
    net = sim.import_nir(graph, dt=DT)
    net.set_input("input", raster)
    pop = next(iter(net.populations.values()))
    if kind != "Threshold":
        pop.record("v")
    sim.run(STEPS * 1.0)
    v_ref, z_ref = _reference(kind, p, weight, bias, raster)
    spiking = kind in ("LIF", "IF", "CubaLIF", "Threshold")
    if spiking:
        z = net.read_output("output")
        np.testing.assert_array_equal(z, z_ref)
        assert z_ref.sum() >= 8, "the comparison must cover spikes and resets"
    if kind != "Threshold":
        v = np.asarray(pop.get_data("v").segments[0].filter(name="v")[0].magnitude)[1:]
        np.testing.assert_allclose(v, v_ref, rtol=1e-5, atol=2e-5)
        assert np.ptp(v_ref) > 0.3, "the input must move the state"
