"""The EGRU gesture classifier: tiny training on synthetic events, weights, NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

TORCH_REASON = ("torch is not installed; the model tests need the `models` extra "
                "(pip install -e '.[models]', torch==2.13.0 CPU; scripts/setup.sh does it)")

torch = pytest.importorskip("torch", reason=TORCH_REASON)

from models.egru_gesture.model import EGRUClassifier  # noqa: E402
from models.egru_gesture.train import CONFIGS, make_frames, run  # noqa: E402
from models.egru_numpy import egru_layer  # noqa: E402
from models.weights import load_weights  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("gesture")
    results = run(CONFIGS["tiny"], out / "tiny.json", out / "w.npz")
    return results, out


def test_tiny_training_loss_falls(tiny):
    results, _ = tiny
    history = results["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"] - 0.2
    assert 0.0 < results["test"]["activity_sparsity"] < 1.0


def test_classifier_equals_float64_numpy(tiny):
    """Trained weights from the file: torch (float64) = DESIGN.md equations + mean readout."""
    _, out = tiny
    arrays, meta = load_weights(out / "w.npz")
    cfg = CONFIGS["tiny"]
    frames, _ = make_frames(cfg, 6, 99, cfg.camera())
    x = frames.astype(np.float64).transpose(1, 0, 2)  # (T, N, D)
    model = EGRUClassifier(x.shape[2], tuple(meta["hidden_sizes"]), len(meta["classes"]))
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            for name in ("kernel", "recurrent_kernel", "bias", "recurrent_bias", "thr"):
                getattr(layer, name).copy_(torch.as_tensor(arrays[f"egru{i}.{name}"]))
        model.readout.weight.copy_(torch.as_tensor(arrays["readout.weight"]))
        model.readout.bias.copy_(torch.as_tensor(arrays["readout.bias"]))
    model = model.double().eval()
    with torch.no_grad():
        logits, events = model(torch.as_tensor(x))
    run0 = egru_layer({k[6:]: v for k, v in arrays.items() if k.startswith("egru0.")}, x)
    ref = run0.y.mean(axis=0) @ arrays["readout.weight"].astype(np.float64).T \
        + arrays["readout.bias"]
    np.testing.assert_array_equal(events[0].numpy(), run0.events)
    np.testing.assert_allclose(logits.numpy(), ref, rtol=1e-10, atol=1e-12)
    assert 0 < run0.events.mean() < 1
    assert meta["n_bins"] == cfg.n_bins and meta["pooled_size"] == [cfg.pooled] * 2
