"""The committed weight files of the full language model reproduce their recorded figures.

Float64 NumPy only (no torch): the DESIGN.md equations on ``models/egru_lm/weights/full`` over
the test prefix (what the deployment will run) give the perplexity and event count that the
PyTorch evaluation recorded in ``models/egru_lm/results``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.egru_lm.data import load_corpus
from models.egru_numpy import egru_stack, log_softmax
from models.weights import load_weights

LM = Path(__file__).resolve().parents[2] / "models" / "egru_lm"
FILES = [("egru_dense.npz", "full_egru_dense.json"),
         ("egru_pruned80.npz", "full_egru_pruned80.json"),
         ("egru_pruned90.npz", "full_egru_pruned90.json"),
         ("egru_pruned95.npz", "full_egru_pruned95.json")]


@pytest.mark.parametrize(("weights", "results"), FILES)
def test_shipped_weights_reproduce_recorded_prefix(weights, results):
    arrays, meta = load_weights(LM / "weights" / "full" / weights)
    recorded = json.loads((LM / "results" / results).read_text())
    recorded = (recorded["dense"] if "dense" in recorded
                else recorded["after_fine_tuning"])["test_prefix"]
    corpus = load_corpus()
    assert meta["vocabulary"] == corpus.vocab.chars
    tokens = corpus.test[: recorded["chars"] + 1]
    logits, runs = egru_stack(arrays, len(meta["hidden_sizes"]), tokens[:-1, None])
    nll = -np.take_along_axis(log_softmax(logits[:, 0]), tokens[1:, None], 1).mean()
    assert np.exp(nll) == pytest.approx(recorded["perplexity"], rel=1e-5)
    events = sum(run.events.sum() for run in runs) / recorded["chars"]
    assert events == pytest.approx(recorded["events_per_char"], rel=1e-3)
    if meta["pruned_sparsity"]:
        for name in meta["pruned_matrices"]:
            assert np.mean(arrays[name] == 0) == pytest.approx(meta["pruned_sparsity"],
                                                               abs=1e-3)
