"""The trained models on the emulator against PyTorch: tiny configurations, trained here.

The language model (one EGRU layer of 32 on real Shakespeare text) and the gesture classifier
(24 units on synthetic events) are trained in seconds, deployed through ``pyNN.spinnaker2``
and compared with the same weights run by ``models/egru_torch.py`` in float32: perplexity
within 1 %, the same predictions, and the same events.
"""

from __future__ import annotations

import pytest

TORCH_REASON = ("torch is not installed; the model tests need the `models` extra "
                "(pip install -e '.[models]', torch==2.13.0 CPU; scripts/setup.sh does it)")

torch = pytest.importorskip("torch", reason=TORCH_REASON)

from models.egru_gesture import deploy as gesture_deploy  # noqa: E402
from models.egru_gesture.train import CONFIGS as GESTURE_CONFIGS  # noqa: E402
from models.egru_gesture.train import run as train_gesture  # noqa: E402
from models.egru_lm import deploy as lm_deploy  # noqa: E402
from models.egru_lm.train import CONFIGS as LM_CONFIGS  # noqa: E402
from models.egru_lm.train import run as train_lm  # noqa: E402


@pytest.fixture(scope="module")
def lm_weights(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm_deploy")
    train_lm(LM_CONFIGS["tiny"], "egru", out / "tiny.json", out / "weights")
    return out / "weights"


@pytest.fixture(scope="module")
def gesture_weights(tmp_path_factory):
    out = tmp_path_factory.mktemp("gesture_deploy")
    train_gesture(GESTURE_CONFIGS["tiny"], out / "tiny.json", out / "w.npz")
    return out / "w.npz"


@pytest.mark.parametrize("name", ["egru_dense.npz", "egru_pruned80.npz"])
def test_lm_on_the_emulator_equals_pytorch(lm_weights, name):
    r = lm_deploy.deploy_file(lm_weights / name, chars=200, reference="torch")
    assert r["reference"]["backend"].startswith("PyTorch float32")
    assert r["within_tolerance"]
    assert r["perplexity_relative_difference"] < 1e-4  # measured: ~1e-9
    layer = r["layers_vs_reference"][0]
    assert layer["events"] > 1000 and layer["events_differing"] == 0
    assert layer["max_abs_value_difference"] < 1e-5
    # untrained it would be ~85; the tiny model predicts better than chance
    assert 5 < r["emulator"]["perplexity"] < 60
    assert 0.2 < r["emulator"]["activity_sparsity"] < 0.9
    assert r["first_steps"] == [2]  # one step after the character's spike
    chip = r["chip"]
    assert chip["egru_pes_rows_fit_sram"] == chip["egru_pes"]  # the "fit" plan fits
    assert chip["egru_sram_with_rows_bytes_max"] <= chip["sram_budget_bytes"]
    per_char = r["cost"]["per_inference"]
    assert per_char["packets_sent"] == pytest.approx(1 + r["emulator"]["events_per_char"],
                                                     rel=0.02)  # a character + the events
    assert r["cost"]["real_time.rows_in_sram"]["overrun_runs"] == 0


def test_lm_pruning_shows_in_synapses_and_events(lm_weights):
    dense = lm_deploy.deploy_file(lm_weights / "egru_dense.npz", chars=100)
    pruned = lm_deploy.deploy_file(lm_weights / "egru_pruned80.npz", chars=100)
    assert pruned["chip"]["synapses"] < 0.3 * dense["chip"]["synapses"]
    ratio = (pruned["cost"]["per_inference"]["synaptic_events"]
             / dense["cost"]["per_inference"]["synaptic_events"])
    assert ratio < 0.4
    assert (pruned["chip"]["egru_sram_with_rows_bytes_max"]
            < dense["chip"]["egru_sram_with_rows_bytes_max"])


def test_lm_split_over_pes_changes_nothing(lm_weights):
    """Five units per PE (seven PEs) run the same network as one PE."""
    one = lm_deploy.deploy_file(lm_weights / "egru_dense.npz", chars=150, reference="numpy")
    many = lm_deploy.deploy_file(lm_weights / "egru_dense.npz", chars=150, per_core=5,
                                 reference="numpy")
    assert one["chip"]["egru_pes"] == 1 and many["chip"]["egru_pes"] == 7
    assert many["emulator"]["perplexity"] == pytest.approx(one["emulator"]["perplexity"],
                                                           rel=1e-7)
    assert many["reference"]["backend"].startswith("NumPy float64")
    assert many["within_tolerance"]


def test_lm_segments_equal_the_training_evaluation(lm_weights):
    """Three segments from zero state, two copies of the network side by side per run: the
    perplexity the training code's own evaluation computes on the same segmentation."""
    from models.egru_lm.model import EGRULanguageModel
    from models.egru_lm.train import evaluate
    from models.weights import load_weights

    r = lm_deploy.deploy_file(lm_weights / "egru_dense.npz", chars=80, offset=1000,
                              segments=3, batch=2)
    assert r["predicted_chars"] == 240 and r["cost"]["runs"] == 2
    assert r["chip"]["copies"] == 2 and r["chip"]["egru_pes_per_copy"] == 1
    arrays, meta = load_weights(lm_weights / "egru_dense.npz")
    model = EGRULanguageModel(len(meta["vocabulary"]), tuple(meta["hidden_sizes"]))
    model.load_arrays(arrays)
    tokens = lm_deploy.text_segments(meta, 1000, 80, 3).reshape(-1)
    trained = evaluate(model, tokens, segments=3)
    assert trained["chars"] == 240
    assert r["emulator"]["perplexity"] == pytest.approx(trained["perplexity"], rel=1e-5)
    assert r["emulator"]["events_per_char"] == pytest.approx(trained["events_per_char"],
                                                             rel=1e-9)


def test_lm_command_writes_results(lm_weights, tmp_path, capsys):
    out = tmp_path / "deploy.json"
    code = lm_deploy.main(["--weights", str(lm_weights / "egru_pruned80.npz"), "--chars",
                           "50", "--out", str(out), "--no-progress"])
    assert code == 0
    text = capsys.readouterr().out
    assert "| egru_pruned80.npz | 80% |" in text
    import json

    saved = json.loads(out.read_text())
    assert saved["results"][0]["chars"] == 50


def test_gesture_on_the_emulator_equals_pytorch(gesture_weights):
    r = gesture_deploy.deploy_file(gesture_weights, samples=24, batch=10, reference="torch")
    assert r["samples"] == 24 and r["batches"] == 3
    assert r["predictions_differing"] == 0
    assert r["emulator"]["accuracy"] == r["reference"]["accuracy"]
    assert r["emulator"]["accuracy"] > 0.3  # ten classes: chance is 0.1
    layer = r["layers_vs_reference"][0]
    assert layer["events"] > 500 and layer["events_differing"] == 0
    assert r["max_abs_logit_difference"] < 1e-5
    chip = r["chip_per_batch"]
    assert chip["copies"] == 10 and chip["pes"] == 10 * chip["pes_per_copy"]
    assert r["cost"]["per_inference"]["packets_sent"] > 0
