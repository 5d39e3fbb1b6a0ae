"""Deployment input checks and the units-per-PE plan (no torch, no training)."""

from __future__ import annotations

import numpy as np
import pytest

from models.deploy import (
    MAX_PASSES,
    PIECE_SRAM_BYTES,
    UNIT_SRAM_BYTES,
    WeightFileError,
    fit_first_batch,
    load_model_file,
    more_pes,
    plan_units_per_pe,
    units_per_pe,
)
from models.egru_gesture import deploy as gesture_deploy
from models.egru_lm import deploy as lm_deploy
from models.egru_lm.data import Vocabulary
from models.weights import save_weights


def _arrays(inputs: int, hidden: list[int], classes: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out, size = {}, inputs
    for k, h in enumerate(hidden):
        out[f"egru{k}.kernel"] = rng.normal(0, 0.3, (size, 3 * h))
        out[f"egru{k}.recurrent_kernel"] = rng.normal(0, 0.3, (h, 3 * h))
        out[f"egru{k}.bias"] = np.zeros(3 * h)
        out[f"egru{k}.recurrent_bias"] = np.zeros(3 * h)
        out[f"egru{k}.thr"] = np.full(h, 0.2)
        size = h
    out["readout.weight"] = rng.normal(0, 0.3, (classes, size))
    out["readout.bias"] = np.zeros(classes)
    return out


def _lm_file(tmp_path, arrays: dict, vocabulary: str = "\x00abcdefgh", name="lm.npz"):
    return save_weights(tmp_path / name, arrays, {"model": "egru_lm", "hidden_sizes": [
        arrays[k].shape[0] for k in sorted(arrays) if k.endswith(".thr")],
        "vocabulary": vocabulary})


def test_wrong_recurrent_shape_names_file_array_and_shapes(tmp_path):
    arrays = _arrays(9, [6], 9)
    arrays["egru0.recurrent_kernel"] = np.zeros((6, 17))
    path = _lm_file(tmp_path, arrays)
    with pytest.raises(WeightFileError, match=r"lm\.npz: egru0\.recurrent_kernel has shape "
                                              r"\(6, 17\), expected \(6, 18\)"):
        lm_deploy.deploy_file(path, chars=10)


def test_vocabulary_and_input_size_disagree(tmp_path):
    path = _lm_file(tmp_path, _arrays(12, [6], 12))  # 12 inputs, 9 characters
    with pytest.raises(WeightFileError, match=r"egru0\.kernel has shape \(12, 18\), but the "
                                              r"deployment has 9 characters"):
        lm_deploy.deploy_file(path, chars=10)


def test_missing_and_extra_arrays(tmp_path):
    arrays = _arrays(9, [6, 5], 9)
    del arrays["egru1.thr"]
    path = save_weights(tmp_path / "a.npz", arrays, {"model": "egru_lm", "hidden_sizes": [6, 5]})
    with pytest.raises(WeightFileError, match=r"no array 'egru1\.thr'"):
        load_model_file(path, "egru_lm")
    arrays = _arrays(9, [6, 5], 9)
    path = save_weights(tmp_path / "b.npz", arrays, {"model": "egru_lm", "hidden_sizes": [6]})
    with pytest.raises(WeightFileError, match="expected"):
        load_model_file(path, "egru_lm")  # egru0 -> readout: readout has 5 inputs, not 6


def test_model_kind_and_format(tmp_path):
    path = _lm_file(tmp_path, _arrays(9, [6], 9))
    with pytest.raises(WeightFileError, match="the weights of 'egru_lm', but this deployment "
                                              "builds 'egru_gesture'"):
        gesture_deploy.deploy_file(path, samples=2)
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(WeightFileError, match="not a pynn_spinnaker2 model file"):
        load_model_file(tmp_path / "plain.npz", "egru_lm")
    with pytest.raises(FileNotFoundError, match="no such weight file"):
        load_model_file(tmp_path / "none.npz", "egru_lm")


def test_gesture_file_needs_its_configuration(tmp_path):
    path = save_weights(tmp_path / "g.npz", _arrays(512, [8], 10), {
        "model": "egru_gesture", "hidden_sizes": [8], "classes": list("abcdefghij"),
        "config": "huge", "n_bins": 25, "pooled_size": [16, 16]})
    with pytest.raises(WeightFileError, match="config 'huge' is none of"):
        gesture_deploy.deploy_file(path, samples=2)


def test_too_many_characters_for_the_source_pe():
    x = Vocabulary("\x00ab").encode("a" * 7000)
    with pytest.raises(ValueError, match="character 'a' occurs 7000 times"):
        lm_deploy.check_source_fits(x, "\x00ab", 96 * 1024)


def test_units_per_pe_closed_form():
    """Dense layer: every unit has 3 (inputs + hidden) synapses of 8 bytes."""
    inputs, hidden, budget = 40, 64, 96 * 1024
    layer = {k.split(".")[1]: v for k, v in _arrays(inputs, [hidden], 3).items()
             if k.startswith("egru0.")}
    per_unit = 8 * 3 * (inputs + hidden) + UNIT_SRAM_BYTES
    fixed = PIECE_SRAM_BYTES + 8 * (inputs + hidden)
    n = units_per_pe(layer, budget)
    pieces = -(-hidden // n)
    assert n == -(-hidden // pieces)  # the largest piece of an equal split
    assert n * per_unit + fixed <= budget
    assert pieces == 1 or -(-hidden // (pieces - 1)) * per_unit + fixed > budget
    # pruning: rows shrink, more units fit
    pruned = dict(layer, kernel=np.where(np.arange(3 * hidden) % 10 == 0, layer["kernel"], 0),
                  recurrent_kernel=np.zeros_like(layer["recurrent_kernel"]))
    assert units_per_pe(pruned, budget) > n
    with pytest.raises(ValueError, match="more than the 1000-byte SRAM budget"):
        units_per_pe(layer, 1000)


def test_plan_and_more_pes():
    arrays = _arrays(9, [6, 5], 9)
    assert plan_units_per_pe(arrays, 2, 4, 96 * 1024) == [4, 4]
    assert plan_units_per_pe(arrays, 2, "fit", 96 * 1024) == [6, 5]
    with pytest.raises(ValueError, match="'fit' or 'memory', got 'many'"):
        plan_units_per_pe(arrays, 2, "many", 96 * 1024)
    assert more_pes([128, 128], [128, 128], [0.5, 0.9]) is None
    assert more_pes([128, 128], [128, 64], [0.5, 1.2]) == [128, 48]


def _fake_runs(loads_by_pass: list[list[float]]):
    """A run_batch whose busiest PE per layer has the given loads, pass after pass."""
    plans = []

    def run_batch(plan):
        plans.append(list(plan))
        return {"pieces": [[cap] for cap in plan], "loads": loads_by_pass[len(plans) - 1]}
    return run_batch, plans


def test_fit_reruns_the_first_batch_until_no_pe_overruns():
    run_batch, plans = _fake_runs([[2.0, 0.5], [1.0, 0.5]])
    run, plan, passes = fit_first_batch(run_batch, [100, 100], "fit", lambda r: r["loads"])
    assert plans == [[100, 100], [45, 100]] and plan == [45, 100]
    assert run["pieces"] == [[45], [100]] and passes == [[2.0, 0.5], [1.0, 0.5]]


def test_fit_stops_after_max_passes_and_other_plans_run_once():
    run_batch, plans = _fake_runs([[2.0]] * MAX_PASSES)
    _, plan, passes = fit_first_batch(run_batch, [1000], "fit", lambda r: r["loads"])
    assert len(plans) == len(passes) == MAX_PASSES and plan == plans[-1]
    run_batch, plans = _fake_runs([[2.0]])
    assert fit_first_batch(run_batch, [1000], "memory", lambda r: 0)[1:] == ([1000], [0])


def test_shipped_weights_deploy_without_torch(monkeypatch):
    """Without torch the reference is the float64 NumPy EGRU, and the run says so."""
    import sys
    from pathlib import Path

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    path = Path(lm_deploy.FULL) / "egru_pruned95.npz"
    r = lm_deploy.deploy_file(path, chars=150)
    assert r["reference"]["backend"] == ("NumPy float64 (models/egru_numpy.py; torch is not "
                                         "installed)")
    assert r["within_tolerance"] and r["perplexity_relative_difference"] < 1e-6
    assert all(d["events_differing"] == 0 for d in r["layers_vs_reference"])
    assert r["chip"]["egru_pes"] == 2  # 95 % pruned: 128 units with their rows on one PE
