"""The synthetic gesture data set as frames, and the training configurations (no torch).

``make_frames`` generates (or reads from ``.cache/gesture_synth/``) binned event frames of
the synthetic event camera (:mod:`models.egru_gesture.synth`); ``CONFIGS`` holds the
configurations that ``train.py`` trains and ``deploy.py`` deploys (the test split of a
configuration is ``make_frames(cfg, cfg.n_test, cfg.seed + 2, cfg.camera())``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.egru_gesture.events import events_to_frames
from models.egru_gesture.synth import CameraConfig, generate_dataset

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "gesture_synth"


@dataclass(frozen=True)
class Config:
    name: str
    n_train: int
    n_valid: int
    n_test: int
    hidden_sizes: tuple[int, ...]
    epochs: int
    n_bins: int = 25
    pooled: int = 16
    batch: int = 32
    lr: float = 3e-3
    dropout: float = 0.0
    activity_weight: float = 0.0
    seed: int = 7
    cache: bool = True
    duration_us: int = 1_000_000
    frame_us: int = 2_000

    def camera(self) -> CameraConfig:
        return CameraConfig(duration_us=self.duration_us, frame_us=self.frame_us)


CONFIGS = {
    "tiny": Config("tiny", n_train=100, n_valid=20, n_test=40, hidden_sizes=(24,), epochs=8,
                   n_bins=20, pooled=8, batch=10, lr=1e-2, cache=False, duration_us=500_000,
                   frame_us=5_000),
    "full": Config("full", n_train=1500, n_valid=200, n_test=500, hidden_sizes=(64,),
                   epochs=15, activity_weight=0.1),
}


def make_frames(cfg: Config, n: int, seed: int, camera: CameraConfig,
                ) -> tuple[np.ndarray, np.ndarray]:
    """(frames (n, T, D) uint8, labels (n,)) for ``n`` synthetic samples, cached on disk."""
    path = CACHE / (f"{cfg.name}_n{n}_s{seed}_b{cfg.n_bins}_p{cfg.pooled}"
                    f"_d{camera.duration_us}_f{camera.frame_us}.npz")
    if cfg.cache and path.exists():
        with np.load(path) as d:
            return d["frames"], d["labels"]
    events, labels = generate_dataset(n, seed, camera)
    sensor = (camera.size, camera.size)
    frames = np.stack([events_to_frames(ev, cfg.n_bins, camera.duration_us, sensor,
                                        (cfg.pooled, cfg.pooled)) for ev in events])
    frames = frames.astype(np.uint8)
    if cfg.cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, frames=frames, labels=labels)
    return frames, labels


def split_test(cfg: Config, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` (default all) test recordings of ``cfg``: (frames (n, T, D), labels)."""
    frames, labels = make_frames(cfg, cfg.n_test, cfg.seed + 2, cfg.camera())
    return frames[:n], labels[:n]
