"""The framework-neutral weight files and the float64 NumPy EGRU (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from models.egru_numpy import egru_layer
from models.weights import load_weights, save_weights


def test_weights_round_trip(tmp_path):
    arrays = {"egru0.kernel": np.arange(6.0).reshape(2, 3), "readout.bias": np.ones(4)}
    path = save_weights(tmp_path / "w.npz", arrays, {"model": "test", "hidden_sizes": [1]})
    loaded, meta = load_weights(path)
    assert set(loaded) == set(arrays)
    assert loaded["egru0.kernel"].dtype == np.float32
    np.testing.assert_array_equal(loaded["egru0.kernel"], arrays["egru0.kernel"])
    assert meta["model"] == "test" and meta["format"] == "pynn_spinnaker2.models/1"


def test_weights_errors(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        save_weights(tmp_path / "w.npz", {"__meta__": np.zeros(1)}, {})
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a pynn_spinnaker2 model file"):
        load_weights(tmp_path / "plain.npz")


def test_numpy_egru_closed_form_one_unit():
    """One unit, hand-computed: gates from the biases only, then event, output and reset."""
    layer = {"kernel": np.zeros((1, 3)), "recurrent_kernel": np.zeros((1, 3)),
             "bias": np.array([0.0, 0.0, 2.0]), "recurrent_bias": np.zeros(3),
             "thr": np.array([0.5])}
    run = egru_layer(layer, np.zeros((3, 1, 1)))
    u, g = 0.5, np.tanh(2.0)
    c1 = (1 - u) * g                      # 0.482 < 0.5: no event
    c2 = u * c1 + (1 - u) * g             # 0.723 > 0.5: event, y = c2, c = c2 - 0.5
    c3 = u * (c2 - 0.5) + (1 - u) * g     # 0.593 > 0.5: event again
    assert run.events[:, 0, 0].tolist() == [0.0, 1.0, 1.0]
    np.testing.assert_allclose(run.y[:, 0, 0], [0.0, c2, c3], rtol=1e-15)
    np.testing.assert_allclose(run.c_final[0, 0], c3 - 0.5, rtol=1e-14)


def test_numpy_egru_threshold_is_strict():
    """c^ exactly at theta sends no event (EvNN's heaviside(0) = 0)."""
    layer = {"kernel": np.zeros((1, 3)), "recurrent_kernel": np.zeros((1, 3)),
             "bias": np.array([-np.inf, 0.0, np.arctanh(0.25)]), "recurrent_bias": np.zeros(3),
             "thr": np.array([0.25])}
    run = egru_layer(layer, np.zeros((1, 1, 1)))
    assert run.events[0, 0, 0] == 0.0
