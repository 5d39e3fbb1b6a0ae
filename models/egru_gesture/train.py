"""Train the EGRU gesture classifier on the synthetic event-camera data set.

    python -m models.egru_gesture.train --config full
    python -m models.egru_gesture.train --config tiny

Writes ``models/egru_gesture/results/<config>.json`` and the weights
(``models/egru_gesture/weights/<config>/egru_gesture.npz``, :mod:`models.weights` format).
The generated data set is cached in ``.cache/gesture_synth/``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

# the data set and configurations are torch-free (the deployment uses them): data.py
from models.egru_gesture.data import CONFIGS, Config, make_frames  # noqa: F401
from models.egru_gesture.model import EGRUClassifier
from models.egru_gesture.synth import CLASSES
from models.progress import log
from models.weights import save_weights

HERE = Path(__file__).resolve().parent


@torch.no_grad()
def evaluate(model: EGRUClassifier, frames: np.ndarray, labels: np.ndarray,
             batch: int = 100) -> dict:
    """Accuracy, activity sparsity and events per sample (zero state for every sample)."""
    model.eval()
    correct, events, steps = 0, 0.0, 0
    for i in range(0, len(labels), batch):
        x = torch.as_tensor(frames[i: i + batch], dtype=torch.float32).transpose(0, 1)
        logits, ev = model(x)
        correct += int((logits.argmax(-1).numpy() == labels[i: i + batch]).sum())
        events += sum(float(e.sum()) for e in ev)
        steps += x.shape[0] * x.shape[1]
    units = sum(model.hidden_sizes)
    return {"samples": int(len(labels)), "accuracy": correct / len(labels),
            "activity_sparsity": 1.0 - events / (steps * units),
            "events_per_sample": events / len(labels)}


def run(cfg: Config, results_path: Path | None = None, weights_path: Path | None = None,
        logfile: Path | None = None, threads: int = 1) -> dict:
    """Generate (or load) the data, train, evaluate, write results and weights.

    ``threads``: torch intra-op threads, 1 by default (see :func:`models.egru_lm.train.run`).
    """
    torch.set_num_threads(threads)
    results_path = results_path or HERE / "results" / f"{cfg.name}.json"
    weights_path = weights_path or HERE / "weights" / cfg.name / "egru_gesture.npz"
    camera = cfg.camera()
    t0 = time.time()
    train_x, train_y = make_frames(cfg, cfg.n_train, cfg.seed, camera)
    valid_x, valid_y = make_frames(cfg, cfg.n_valid, cfg.seed + 1, camera)
    test_x, test_y = make_frames(cfg, cfg.n_test, cfg.seed + 2, camera)
    log(f"data: {len(train_y)}/{len(valid_y)}/{len(test_y)} samples, "
        f"frames {train_x.shape[1:]}, input density {train_x.mean():.4f} "
        f"({time.time() - t0:.0f} s)", logfile)
    torch.manual_seed(cfg.seed)
    model = EGRUClassifier(train_x.shape[2], cfg.hidden_sizes, len(CLASSES),
                           dropout=cfg.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs)
    rng = np.random.default_rng(cfg.seed)
    history = []
    t0 = time.time()
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(len(train_y))
        losses = []
        for i in range(0, len(order), cfg.batch):
            idx = order[i: i + cfg.batch]
            x = torch.as_tensor(train_x[idx], dtype=torch.float32).transpose(0, 1)
            logits, events = model(x)
            loss = F.cross_entropy(logits, torch.as_tensor(train_y[idx]))
            # activity regularisation: the event rate, through the pseudo-derivative
            rate = torch.stack([e.mean() for e in events]).mean()
            opt.zero_grad()
            (loss + cfg.activity_weight * rate).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
        sched.step()
        valid = evaluate(model, valid_x, valid_y)
        history.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
                        "valid_accuracy": valid["accuracy"]})
        log(f"epoch {epoch + 1}/{cfg.epochs}: loss {np.mean(losses):.4f}, valid accuracy "
            f"{valid['accuracy']:.3f}", logfile)
    results = {"config": asdict(cfg), "classes": list(CLASSES), "camera": asdict(camera),
               "torch": torch.__version__, "train_seconds": time.time() - t0,
               "history": history, "test": evaluate(model, test_x, test_y),
               "chance": 1.0 / len(CLASSES)}
    log(f"test: {json.dumps(results['test'])}", logfile)
    save_weights(weights_path, model.arrays(), {
        "model": "egru_gesture", "hidden_sizes": list(cfg.hidden_sizes),
        "input": "binary event frames: index p*H*W + y*W + x, p = 1 for ON",
        "readout": "logits = mean over time steps of y_last @ readout.weight.T + readout.bias",
        "classes": list(CLASSES), "n_bins": cfg.n_bins,
        "bin_us": camera.duration_us // cfg.n_bins, "pooled_size": [cfg.pooled, cfg.pooled],
        "sensor_size": [camera.size, camera.size], "config": cfg.name})
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=1) + "\n")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="full")
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--activity-weight", type=float, default=None,
                        help="override the configuration's activity regularisation weight")
    args = parser.parse_args(argv)
    cfg = CONFIGS[args.config]
    if args.activity_weight is not None:
        cfg = replace(cfg, activity_weight=args.activity_weight)
    run(cfg, args.results, args.weights, args.log, threads=args.threads)


if __name__ == "__main__":
    main()
