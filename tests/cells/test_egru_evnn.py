"""The EGRU on the chip model against EvNN, the reference implementation by the EGRU's
authors (evnn-pytorch 0.2.0, its pure-PyTorch path ``use_custom_cuda=False``).

Random weights, biases, thresholds and inputs; the emulator runs the compiled network
(graded source -> EGRU layer(s), synaptic rows, router tables) and its recorded events are
compared with EvNN's outputs, sequence position by sequence position: the same events, the
values and the internal state within float32 tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _evnn_layer(evnn, n_in: int, n_hidden: int, seed: int, prune: float = 0.0):
    import torch

    torch.manual_seed(seed)
    layer = evnn.EGRU(n_in, n_hidden, use_custom_cuda=False)
    with torch.no_grad():
        # EvNN initialises the biases to zero; random ones exercise every bias term.
        layer.bias.normal_(0.0, 0.3)
        layer.recurrent_bias.normal_(0.0, 0.3)
        if prune:
            for w in (layer.kernel, layer.recurrent_kernel):
                w.mul_((torch.rand(w.shape) >= prune).float())
    return layer.eval()


def _run_evnn(layers, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per layer (y, c, events), each (steps, hidden)."""
    import torch

    out, inp = [], torch.tensor(x, dtype=torch.float32)[:, None, :]
    with torch.no_grad():
        for layer in layers:
            y, (c, o, _) = layer(inp)
            out.append((y[:, 0].numpy(), c[:, 0].numpy(), o[:, 0].numpy()))
            inp = y
    return out


def _run_chip(sim, evnn_layers, x: np.ndarray, per_core: int):
    """Per layer (y, c) from the emulator, aligned on sequence positions, and the layers."""
    steps = x.shape[0]
    sim.setup(timestep=1.0)
    pop = sim.Population(x.shape[1], sim.GradedSourceArray.from_matrix(x), label="x")
    built = []
    for k, module in enumerate(evnn_layers):
        layer = sim.egru_layer_from_evnn(pop, module, label=f"egru{k}", max_per_core=per_core)
        layer.population.record(["spikes", "c"])
        built.append(layer)
        pop = layer.population
    sim.run(steps + len(evnn_layers))
    out = []
    for layer in built:
        start = sim.first_step(layer.population)
        y = sim.graded_output(layer.population, steps)
        c = layer.population.get_data("c").segments[0].analogsignals[0].magnitude
        out.append((y, c[start:start + steps]))
    return out, built


@pytest.mark.parametrize("prune", [0.0, 0.9])
def test_one_layer_matches_evnn(sim, evnn, prune: float) -> None:
    """48 inputs, 200 units over 13 PEs, 150 steps: identical events, values within float32
    tolerance; with 90 % of the weights pruned too."""
    rng = np.random.default_rng(7)
    steps, n_in, n_hidden = 150, 48, 200
    x = rng.normal(0.0, 1.0, (steps, n_in))
    module = _evnn_layer(evnn, n_in, n_hidden, seed=11, prune=prune)
    (y_ref, c_ref, o_ref), = _run_evnn([module], x)
    (y, c), = _run_chip(sim, [module], x, per_core=16)[0]
    events = o_ref > 0
    assert 0.02 < events.mean() < 0.6, "the comparison needs events and silences"
    np.testing.assert_array_equal(y != 0, events)
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(c, c_ref, rtol=1e-5, atol=2e-6)


def test_pruned_weights_store_no_synapses(sim, evnn) -> None:
    """A 90 % pruned layer stores only its remaining weights, one synapse each."""
    module = _evnn_layer(evnn, 48, 200, seed=11, prune=0.9)
    x = np.random.default_rng(7).normal(0.0, 1.0, (5, 48))
    _, (layer,) = _run_chip(sim, [module], x, per_core=16)
    nonzero = int((module.kernel != 0).sum() + (module.recurrent_kernel != 0).sum())
    stored = sum(len(p) for p in layer.projections.values())
    assert stored == nonzero
    mapping = sim.get_mapping()
    on_chip = sum(c.dram["synapses"].size for c in mapping.image.cores if c.kernel == "egru")
    assert on_chip == nonzero


def test_stacked_layers_match_evnn(sim, evnn) -> None:
    """Three stacked layers (64 -> 160 -> 160 -> 96 units), 120 steps: each layer's events
    equal EvNN's, position by position, through the one-step-per-layer pipeline."""
    rng = np.random.default_rng(3)
    steps = 120
    sizes = (64, 160, 160, 96)
    x = rng.normal(0.0, 1.0, (steps, sizes[0]))
    modules = [_evnn_layer(evnn, a, b, seed=20 + k) for k, (a, b) in
               enumerate(zip(sizes[:-1], sizes[1:], strict=True))]
    ref = _run_evnn(modules, x)
    chip, built = _run_chip(sim, modules, x, per_core=32)
    assert [sim.first_step(layer.population) for layer in built] == [2, 3, 4]
    for k, ((y, c), (y_ref, c_ref, o_ref)) in enumerate(zip(chip, ref, strict=True)):
        assert o_ref.mean() > 0.02, f"layer {k} must send events"
        np.testing.assert_array_equal(y != 0, o_ref > 0, err_msg=f"layer {k}")
        np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=5e-6, err_msg=f"layer {k}")
        np.testing.assert_allclose(c, c_ref, rtol=1e-5, atol=5e-6, err_msg=f"layer {k}")


def test_float64_reference_step_matches_evnn_in_float64(evnn) -> None:
    """The float64 reference step of ``cells/egru.py``, fed the receptor sums of the EvNN
    matrices, reproduces EvNN run in float64 to 1e-12 over 150 steps."""
    import torch

    from pynn_spinnaker2.cells.egru import reference_step

    rng = np.random.default_rng(5)
    steps, n_in, n_hidden = 150, 24, 80
    x = rng.normal(0.0, 1.0, (steps, n_in))
    module = _evnn_layer(evnn, n_in, n_hidden, seed=2).double()
    with torch.no_grad():
        y_ref, (c_ref, o_ref, _) = module(torch.tensor(x)[:, None, :])
    y_ref, c_ref, o_ref = y_ref[:, 0].numpy(), c_ref[:, 0].numpy(), o_ref[:, 0].numpy()
    w = module.kernel.detach().numpy()
    v = module.recurrent_kernel.detach().numpy()
    b, bv = module.bias.detach().numpy(), module.recurrent_bias.detach().numpy()
    h = [slice(k * n_hidden, (k + 1) * n_hidden) for k in range(3)]
    p = {"theta": module.thr.detach().numpy().astype(float), "zoneout": np.zeros(n_hidden),
         "bias_update": b[h[0]] + bv[h[0]], "bias_reset": b[h[1]] + bv[h[1]],
         "bias_candidate": b[h[2]], "bias_candidate_recurrent": bv[h[2]]}
    s = {"c": np.zeros(n_hidden), "wait": np.zeros(n_hidden, int)}
    y = np.zeros(n_hidden)
    for t in range(steps):
        wx, vy = x[t] @ w, y @ v
        inputs = np.array([wx[h[0]] + vy[h[0]], wx[h[1]] + vy[h[1]], wx[h[2]], vy[h[2]]])
        s, fired = reference_step(p, s, inputs)
        y = s["y"]
        np.testing.assert_array_equal(fired, o_ref[t] > 0)
        np.testing.assert_allclose(y, y_ref[t], rtol=0, atol=1e-12)
        np.testing.assert_allclose(s["c"], c_ref[t], rtol=0, atol=1e-12)
    assert o_ref.mean() > 0.05
