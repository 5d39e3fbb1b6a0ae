"""The EGRU language model: data split, training, pruning, weights and the NumPy reference.

The tiny configuration trains on real Shakespeare text (fetched by scripts/setup.sh) once per
module, on CPU.
"""

from __future__ import annotations

import numpy as np
import pytest

TORCH_REASON = ("torch is not installed; the model tests need the `models` extra "
                "(pip install -e '.[models]', torch==2.13.0 CPU; scripts/setup.sh does it)")

torch = pytest.importorskip("torch", reason=TORCH_REASON)

from models.egru_lm import data  # noqa: E402
from models.egru_lm.model import (  # noqa: E402
    EGRULanguageModel,
    egru_lm_params,
    lstm_lm_params,
    matched_lstm_hidden,
)
from models.egru_lm.report import collect, table  # noqa: E402
from models.egru_lm.train import CONFIGS, run, run_stage  # noqa: E402
from models.egru_numpy import egru_stack, log_softmax  # noqa: E402
from models.weights import load_weights  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    return data.load_corpus()


@pytest.fixture(scope="module")
def tiny_run(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("lm")
    results = run(CONFIGS["tiny"], "all", out / "tiny.json", out / "weights", corpus=corpus)
    return results, out


def test_split_is_by_work_and_fixed(corpus):
    works = corpus.works
    assert (len(works["train"]), len(works["valid"]), len(works["test"])) == (34, 4, 4)
    assert not set(works["train"]) & (set(works["valid"]) | set(works["test"]))
    assert not set(works["valid"]) & set(works["test"])
    # a line of Hamlet is in the test split, and nowhere in training
    text = corpus.vocab.decode(corpus.test[:200_000])
    assert "To be, or not to be" in text
    assert "To be, or not to be" not in corpus.vocab.decode(corpus.train)


def test_vocabulary_round_trip_and_unknown(corpus):
    vocab = corpus.vocab
    sample = "Shall I compare thee to a summer's day?\n"
    assert vocab.decode(vocab.encode(sample)) == sample
    assert vocab.encode("~")[0] == 0  # not in the training text: the unknown token


def test_lstm_matches_egru_parameter_count():
    for hidden in ((32,), (128, 128), (256, 256)):
        h = matched_lstm_hidden(85, hidden)
        egru = egru_lm_params(85, hidden)
        assert abs(lstm_lm_params(85, h, len(hidden)) - egru) / egru < 0.02


def test_tiny_training_loss_falls_and_pruning_hits_target(tiny_run):
    results, out = tiny_run
    egru, lstm = results["egru"], results["lstm"]
    assert egru["final_train_loss"] < egru["first_loss"] - 0.5
    assert lstm["final_train_loss"] < lstm["first_loss"] - 0.5
    assert abs(lstm["parameters"] - egru["parameters"]) / egru["parameters"] < 0.02
    dense = egru["dense"]["test"]
    assert 0.0 < dense["activity_sparsity"] < 1.0
    for level in egru["pruned"]:
        for name, measured in level["measured_sparsity"].items():
            assert measured == pytest.approx(level["sparsity"], abs=1e-3), name
    arrays, meta = load_weights(out / "weights" / "egru_pruned80.npz")
    for name in ("egru0.kernel", "egru0.recurrent_kernel"):
        assert np.mean(arrays[name] == 0) == pytest.approx(0.8, abs=1e-3)
    assert meta["hidden_sizes"] == [32] and len(meta["vocabulary"]) == 85


def _torch_from_file(path, dtype):
    arrays, meta = load_weights(path)
    model = EGRULanguageModel(len(meta["vocabulary"]), tuple(meta["hidden_sizes"]))
    model.load_arrays(arrays)
    return model.to(dtype).eval(), arrays, meta


@pytest.mark.parametrize("name", ["egru_dense.npz", "egru_pruned80.npz"])
def test_inference_equals_float64_numpy(tiny_run, corpus, name):
    """The PyTorch forward (float64) on the trained weights = the DESIGN.md equations."""
    _, out = tiny_run
    model, arrays, meta = _torch_from_file(out / "weights" / name, torch.float64)
    tokens = corpus.test[:600].reshape(2, 300).T.copy()  # (T, N): two streams
    with torch.no_grad():
        logits, events, _ = model(torch.as_tensor(tokens))
    ref_logits, runs = egru_stack(arrays, len(meta["hidden_sizes"]), tokens)
    np.testing.assert_array_equal(events[0].numpy(), runs[0].events)
    np.testing.assert_allclose(logits.numpy(), ref_logits, rtol=1e-10, atol=1e-12)
    assert 0 < runs[0].events.mean() < 1  # both cases exercised
    # and the float32 model (what training used) agrees closely
    model32, _, _ = _torch_from_file(out / "weights" / name, torch.float32)
    with torch.no_grad():
        logits32, _, _ = model32(torch.as_tensor(tokens))
    nll = -np.take_along_axis(log_softmax(ref_logits[:-1]), tokens[1:, :, None], -1).mean()
    nll32 = float(torch.nn.functional.cross_entropy(
        logits32[:-1].reshape(-1, logits32.shape[-1]), torch.as_tensor(tokens[1:]).reshape(-1)))
    assert nll32 == pytest.approx(nll, rel=1e-3)


def test_state_carries_across_chunks(tiny_run, corpus):
    """Two chunks with the state passed on = one run (what the evaluation relies on)."""
    _, out = tiny_run
    model, _, _ = _torch_from_file(out / "weights" / "egru_dense.npz", torch.float64)
    tokens = torch.as_tensor(corpus.valid[:200].reshape(1, 200).T.copy())
    with torch.no_grad():
        whole, events, _ = model(tokens)
        first, events1, state = model(tokens[:77])
        second, events2, _ = model(tokens[77:], state)
    # float64; only the blocking of the layer-1 input product differs (1e-15)
    torch.testing.assert_close(torch.cat([first, second]), whole, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.cat([events1[0], events2[0]]), events[0], rtol=0, atol=0)


def test_tiny_config_is_small():
    cfg = CONFIGS["tiny"]
    assert cfg.steps * cfg.batch * cfg.seq_len <= 50_000


def test_prune_stage_from_the_dense_file_and_report(tiny_run, corpus):
    """``--stage prune`` starts from egru_dense.npz and writes its own results file."""
    _, out = tiny_run
    level = run_stage(CONFIGS["tiny"], "prune", 0.9, out / "weights", None,
                      results_dir=out, corpus=corpus)
    for measured in level["measured_sparsity"].values():
        assert measured == pytest.approx(0.9, abs=1e-3)
    assert (out / "tiny_egru_pruned90.json").exists()
    arrays, meta = load_weights(out / "weights" / "egru_pruned90.npz")
    assert meta["pruned_sparsity"] == 0.9
    assert np.mean(arrays["egru0.recurrent_kernel"] == 0) == pytest.approx(0.9, abs=1e-3)
    lines = table(collect("tiny", out)).splitlines()
    assert len(lines) == 2 + 3  # header, rule, LSTM, EGRU dense, EGRU pruned 80 %
    with pytest.raises(ValueError, match="needs --level"):
        run_stage(CONFIGS["tiny"], "prune", 1.5, out / "weights", None, results_dir=out,
                  corpus=corpus)
