"""Train the EGRU language model and its LSTM baseline, prune the EGRU, write weights and results.

    python -m models.egru_lm.train --config full            # EGRU, pruning, then LSTM
    python -m models.egru_lm.train --config tiny --arch egru
    python -m models.egru_lm.train --config full --stage evaluate           # the saved dense
    python -m models.egru_lm.train --config full --stage prune --level 0.9  # one level

Results go to ``models/egru_lm/results/<config>.json`` (merged per architecture; the stages
write ``<config>_egru_dense.json`` and ``<config>_egru_pruned<NN>.json``) and the EGRU weight
files (:mod:`models.weights` format) to ``models/egru_lm/weights/<config>/``. Progress is
printed (and, with ``--log``, appended to a file).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from models.egru_lm.data import Corpus, load_corpus
from models.egru_lm.model import (
    EGRULanguageModel,
    LSTMLanguageModel,
    egru_lm_params,
    lstm_lm_params,
    matched_lstm_hidden,
)
from models.progress import log
from models.pruning import Pruner
from models.weights import load_weights, save_weights

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Config:
    """One training configuration (see :data:`CONFIGS`)."""

    name: str
    hidden_sizes: tuple[int, ...]
    batch: int
    seq_len: int
    steps: int
    lr: float
    dropout: float = 0.0
    dropconnect: float = 0.0
    thr_mean: float = 0.3
    activity_weight: float = 0.0
    prune_levels: tuple[float, ...] = (0.8, 0.9, 0.95)
    prune_steps: int = 0
    prune_lr: float = 1e-3
    eval_segments: int = 64
    eval_chars: int | None = None
    valid_chars: int | None = 100_000
    valid_chars_during_training: int = 50_000
    eval_every: int = 250
    prefix_chars: int = 2_000
    clip: float = 1.0
    seed: int = 1234
    train_chars: int | None = None
    notes: list[str] = field(default_factory=list)


CONFIGS = {
    # For the tests: seconds on one CPU core. Trains on the first 20,000 characters only.
    "tiny": Config("tiny", hidden_sizes=(32,), batch=16, seq_len=32, steps=60, lr=1e-2,
                   prune_levels=(0.8,), prune_steps=20, prune_lr=3e-3, eval_segments=4,
                   eval_chars=4_000, valid_chars_during_training=2_000, eval_every=1_000,
                   prefix_chars=200, train_chars=20_000),
    # What we trained here on a shared, heavily loaded 2-core CPU (about an hour for the EGRU).
    "full": Config("full", hidden_sizes=(128, 128), batch=256, seq_len=100, steps=300,
                   lr=5e-3, dropout=0.05, prune_levels=(0.8, 0.9, 0.95), prune_steps=120,
                   prune_lr=1e-3, eval_segments=128),
}


def batchify(tokens: np.ndarray, batch: int) -> torch.Tensor:
    """The stream cut into ``batch`` contiguous columns: (length, batch)."""
    n = len(tokens) // batch
    return torch.as_tensor(tokens[: n * batch].reshape(batch, n).T.copy())


def detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):  # LSTM (h, c)
        return tuple(s.detach() for s in state)
    return [(c.detach(), y.detach()) for c, y in state]


def cosine_lr(base: float, step: int, total: int) -> float:
    return base * (0.1 + 0.45 * (1.0 + math.cos(math.pi * step / max(total, 1))))


def train_steps(model, data: torch.Tensor, cfg: Config, steps: int, lr: float,
                logfile: Path | None, tag: str, pruner: Pruner | None = None,
                valid: torch.Tensor | None = None) -> list[float]:
    """Truncated BPTT over consecutive windows of ``data``; returns the training losses."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    state, pos, losses, t0 = None, 0, [], time.time()
    for step in range(steps):
        if pos + cfg.seq_len + 1 > data.shape[0]:
            state, pos = None, 0
        x = data[pos: pos + cfg.seq_len]
        target = data[pos + 1: pos + cfg.seq_len + 1]
        pos += cfg.seq_len
        for group in opt.param_groups:
            group["lr"] = cosine_lr(lr, step, steps)
        logits, events, state = model(x, state)
        state = detach(state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        total = loss
        if cfg.activity_weight and events:
            total = loss + cfg.activity_weight * torch.stack([e.mean() for e in events]).mean()
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        if pruner is not None:
            pruner.apply()
        losses.append(loss.item())
        if (step + 1) % 25 == 0 or step + 1 == steps:
            rate = (step + 1) * cfg.batch * cfg.seq_len / (time.time() - t0)
            log(f"{tag} step {step + 1}/{steps} loss {np.mean(losses[-25:]):.4f} "
                f"({rate:,.0f} chars/s)", logfile)
        if valid is not None and (step + 1) % cfg.eval_every == 0 and step + 1 < steps:
            m = evaluate(model, valid, cfg.eval_segments)
            log(f"{tag} step {step + 1}: valid ppl {m['perplexity']:.4f}", logfile)
            model.train()
    return losses


@torch.no_grad()
def evaluate(model, tokens: np.ndarray | torch.Tensor, segments: int,
             chunk: int = 500) -> dict:
    """Per-character loss, perplexity and activity over ``tokens``.

    The stream is cut into ``segments`` contiguous pieces, each run from zero state as one
    continuous stream (the state carries over chunk boundaries); the first character of
    each piece is only an input. Sparsity is the fraction of (step, unit) with no event.
    """
    model.eval()
    data = batchify(np.asarray(tokens), segments)
    state, nll, count = None, 0.0, 0
    event_sums: list[float] = []
    for start in range(0, data.shape[0] - 1, chunk):
        x = data[start: min(start + chunk, data.shape[0] - 1)]
        target = data[start + 1: start + 1 + x.shape[0]]
        logits, events, state = model(x, state)
        nll += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                     reduction="sum"))
        count += target.numel()
        if not event_sums:
            event_sums = [0.0] * len(events)
        for i, e in enumerate(events):
            event_sums[i] += float(e.sum())
    loss = nll / count
    out = {"chars": count, "loss_nats": loss, "perplexity": math.exp(loss),
           "bits_per_char": loss / math.log(2)}
    if event_sums and isinstance(model, EGRULanguageModel):
        sizes = model.hidden_sizes
        rates = [s / (count * h) for s, h in zip(event_sums, sizes, strict=True)]
        out["event_rate_per_layer"] = rates
        out["activity_sparsity_per_layer"] = [1.0 - r for r in rates]
        out["activity_sparsity"] = 1.0 - sum(event_sums) / (count * sum(sizes))
        out["events_per_char"] = sum(event_sums) / count
    return out


def evaluate_all(model, corpus: Corpus, cfg: Config, test: bool = True) -> dict:
    """Validation (first ``valid_chars``), and with ``test`` the test split and its prefix."""
    valid = corpus.valid[: cfg.valid_chars]
    test_tokens = corpus.test
    if cfg.eval_chars is not None:
        valid, test_tokens = valid[: cfg.eval_chars], test_tokens[: cfg.eval_chars]
    out = {"valid": evaluate(model, valid, cfg.eval_segments)}
    if test:
        out["test"] = evaluate(model, test_tokens, cfg.eval_segments)
        # one stream from zero state, batch 1: what the emulator deployment will run
        out["test_prefix"] = evaluate(model, corpus.test[: cfg.prefix_chars + 1], 1)
    return out


def weight_meta(model: EGRULanguageModel, corpus: Corpus, cfg: Config, **extra) -> dict:
    return {"model": "egru_lm", "hidden_sizes": list(model.hidden_sizes),
            "input": "one-hot token", "vocabulary": corpus.vocab.chars,
            "config": cfg.name, "works": {k: list(v) for k, v in corpus.works.items()}, **extra}


def _new_egru(cfg: Config, vocab: int) -> EGRULanguageModel:
    return EGRULanguageModel(vocab, cfg.hidden_sizes, dropout=cfg.dropout,
                             dropconnect=cfg.dropconnect, thr_mean=cfg.thr_mean)


def run_egru(cfg: Config, corpus: Corpus, train: torch.Tensor, valid_small: np.ndarray,
             weights_dir: Path, logfile: Path | None) -> dict:
    """Train, save ``egru_dense.npz``, evaluate, then prune each level from the dense model."""
    torch.manual_seed(cfg.seed)
    vocab = len(corpus.vocab)
    model = _new_egru(cfg, vocab)
    n_params = egru_lm_params(vocab, cfg.hidden_sizes)
    log(f"EGRU {cfg.hidden_sizes}: {n_params:,} parameters", logfile)
    t0 = time.time()
    losses = train_steps(model, train, cfg, cfg.steps, cfg.lr, logfile, "egru",
                         valid=valid_small)
    result = {"parameters": n_params, "hidden_sizes": list(cfg.hidden_sizes),
              "train_seconds": time.time() - t0, "first_loss": losses[0],
              "final_train_loss": float(np.mean(losses[-20:]))}
    dense_path = save_weights(weights_dir / "egru_dense.npz", model.arrays(),
                              weight_meta(model, corpus, cfg, pruned_sparsity=0.0))
    result["dense"] = evaluate_all(model, corpus, cfg)
    log(f"EGRU dense: {json.dumps(result['dense']['test'])}", logfile)
    result["pruned"] = [prune_level(cfg, corpus, train, dense_path, level, weights_dir,
                                    logfile) for level in cfg.prune_levels]
    return result


def prune_level(cfg: Config, corpus: Corpus, train: torch.Tensor, dense_path: Path,
                level: float, weights_dir: Path, logfile: Path | None) -> dict:
    """Prune the dense model of ``dense_path`` to ``level`` in one shot, fine-tune, evaluate.

    Every level starts from the dense weights, so the levels can run in parallel
    (``--stage prune --level ...``); writes ``egru_pruned<NN>.npz``.
    """
    torch.manual_seed(cfg.seed)
    arrays, _ = load_weights(dense_path)
    model = _new_egru(cfg, len(corpus.vocab))
    model.load_arrays(arrays)
    pruner = Pruner(model, model.prunable(), level)
    before = evaluate_all(model, corpus, cfg, test=False)
    t0 = time.time()
    train_steps(model, train, cfg, cfg.prune_steps, cfg.prune_lr, logfile,
                f"prune {level:.0%}", pruner=pruner)
    after = evaluate_all(model, corpus, cfg)
    log(f"pruned {level:.0%}: valid ppl before fine-tuning "
        f"{before['valid']['perplexity']:.4f}, after {after['valid']['perplexity']:.4f}; "
        f"test {after['test']['perplexity']:.4f}", logfile)
    save_weights(weights_dir / f"egru_pruned{round(level * 100)}.npz", model.arrays(),
                 weight_meta(model, corpus, cfg, pruned_sparsity=level,
                             pruned_matrices=[n.replace("layers.", "egru")
                                              for n in model.prunable()]))
    return {"sparsity": level, "measured_sparsity": pruner.sparsity(),
            "fine_tune_steps": cfg.prune_steps, "fine_tune_seconds": time.time() - t0,
            "before_fine_tuning": before, "after_fine_tuning": after}


def evaluate_file(cfg: Config, corpus: Corpus, path: Path) -> dict:
    """Evaluate a saved EGRU weight file (validation, test, test prefix)."""
    arrays, _ = load_weights(path)
    model = _new_egru(cfg, len(corpus.vocab))
    model.load_arrays(arrays)
    return evaluate_all(model, corpus, cfg)


def run_lstm(cfg: Config, corpus: Corpus, train: torch.Tensor, valid_small: np.ndarray,
             logfile: Path | None) -> dict:
    torch.manual_seed(cfg.seed)
    vocab = len(corpus.vocab)
    hidden = matched_lstm_hidden(vocab, cfg.hidden_sizes)
    n_layers = len(cfg.hidden_sizes)
    model = LSTMLanguageModel(vocab, hidden, n_layers, dropout=cfg.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == lstm_lm_params(vocab, hidden, n_layers)
    log(f"LSTM {n_layers} x {hidden}: {n_params:,} parameters (EGRU: "
        f"{egru_lm_params(vocab, cfg.hidden_sizes):,})", logfile)
    t0 = time.time()
    losses = train_steps(model, train, cfg, cfg.steps, cfg.lr, logfile, "lstm",
                         valid=valid_small)
    result = {"parameters": n_params, "hidden_size": hidden, "layers": n_layers,
              "train_seconds": time.time() - t0, "first_loss": losses[0],
              "final_train_loss": float(np.mean(losses[-20:])),
              "dense": evaluate_all(model, corpus, cfg)}
    log(f"LSTM: {json.dumps(result['dense']['test'])}", logfile)
    return result


def run(cfg: Config, arch: str = "all", results_path: Path | None = None,
        weights_dir: Path | None = None, logfile: Path | None = None,
        corpus: Corpus | None = None, threads: int = 1) -> dict:
    """Train what ``arch`` names (``egru``, ``lstm`` or ``all``); return and save the results.

    ``threads`` is torch's intra-op thread count: 1 by default, because on a shared,
    oversubscribed CPU two threads made a training step many times slower here (each
    op's threads wait for one another while other processes hold the cores).
    """
    torch.set_num_threads(threads)
    results_path = results_path or HERE / "results" / f"{cfg.name}.json"
    weights_dir = weights_dir or HERE / "weights" / cfg.name
    corpus = corpus or load_corpus()
    train_tokens = corpus.train if cfg.train_chars is None else corpus.train[: cfg.train_chars]
    train = batchify(train_tokens, cfg.batch)
    valid_small = corpus.valid[: cfg.valid_chars_during_training]
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["config"] = {k: v for k, v in asdict(cfg).items() if k != "notes"}
    results["data"] = {"vocabulary_size": len(corpus.vocab),
                       **{f"{k}_chars": int(len(getattr(corpus, k)))
                          for k in ("train", "valid", "test")},
                       "works": {k: list(v) for k, v in corpus.works.items()}}
    results["torch"] = torch.__version__
    if arch in ("egru", "all"):
        results["egru"] = run_egru(cfg, corpus, train, valid_small, weights_dir, logfile)
        _write(results_path, results)
    if arch in ("lstm", "all"):
        results["lstm"] = run_lstm(cfg, corpus, train, valid_small, logfile)
        _write(results_path, results)
    return results


def _write(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # re-read so that two runs (egru, lstm) in parallel do not drop each other's section
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(results)
    path.write_text(json.dumps(merged, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="full")
    parser.add_argument("--arch", choices=("egru", "lstm", "all"), default="all")
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--weights-dir", type=Path, default=None)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--stage", choices=("train", "evaluate", "prune"), default="train",
                        help="train (default); evaluate the saved dense EGRU; or prune it to "
                             "--level (the levels can run in parallel)")
    parser.add_argument("--level", type=float, default=None, help="pruning level (--stage "
                                                                   "prune)")
    args = parser.parse_args(argv)
    cfg = CONFIGS[args.config]
    if args.stage == "train":
        run(cfg, args.arch, args.results, args.weights_dir, args.log, threads=args.threads)
    else:
        run_stage(cfg, args.stage, args.level, args.weights_dir, args.log, args.threads)


def run_stage(cfg: Config, stage: str, level: float | None, weights_dir: Path | None,
              logfile: Path | None, threads: int = 1, results_dir: Path | None = None,
              corpus: Corpus | None = None) -> dict:
    """One stage on the saved dense EGRU; writes ``results/<config>_egru_<what>.json``."""
    torch.set_num_threads(threads)
    weights_dir = weights_dir or HERE / "weights" / cfg.name
    dense = weights_dir / "egru_dense.npz"
    if not dense.exists():
        raise FileNotFoundError(f"{dense}: train the EGRU first (--arch egru)")
    corpus = corpus or load_corpus()
    if stage == "evaluate":
        out, name = {"dense": evaluate_file(cfg, corpus, dense)}, "dense"
    else:
        if level is None or not 0.0 < level < 1.0:
            raise ValueError(f"--stage prune needs --level in (0, 1), got {level}")
        train_tokens = corpus.train if cfg.train_chars is None else \
            corpus.train[: cfg.train_chars]
        out = prune_level(cfg, corpus, batchify(train_tokens, cfg.batch), dense, level,
                          weights_dir, logfile)
        name = f"pruned{round(level * 100)}"
    path = (results_dir or HERE / "results") / f"{cfg.name}_egru_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
