"""A SYNTHETIC event-camera gesture data set (no real DVS data can be downloaded here).

Each sample is one second of a simulated event camera (32 x 32 pixels, ON/OFF polarity,
microsecond timestamps) watching one of ten motions of a bright or dark shape over a faint
textured background:

====  ===================  ==========================================================
  0   ``bar_right``        vertical bar sweeping left to right
  1   ``bar_left``         vertical bar sweeping right to left
  2   ``bar_down``         horizontal bar sweeping top to bottom
  3   ``bar_up``           horizontal bar sweeping bottom to top
  4   ``bar_rotate_cw``    bar rotating clockwise about a point near the centre
  5   ``bar_rotate_ccw``   bar rotating counter-clockwise
  6   ``blob_circle_cw``   Gaussian blob circling clockwise
  7   ``blob_circle_ccw``  Gaussian blob circling counter-clockwise
  8   ``blob_grow``        blob expanding from a point (looming)
  9   ``blob_shrink``      blob contracting to a point
====  ===================  ==========================================================

Per sample, at random: speed (x0.7-1.3), start phase or offset, bar width, blob size, centre
jitter, contrast (the shape is brighter or darker than the background, which swaps the
polarities) and the background texture.

The camera model is the usual idealised DVS pixel: intensity frames are rendered every 2 ms;
each pixel keeps the log intensity at its last event and emits ``floor(|delta| / C)`` events
(ON if the log intensity rose, OFF if it fell) when it has moved by at least its contrast
threshold ``C`` (mean 0.15, pixel-to-pixel mismatch sd 0.02), with timestamps spread uniformly
inside the frame interval. Noise: background activity (each pixel fires random-polarity events as
a Poisson process, 0.5 Hz per pixel by default) and a few hot pixels (50 Hz).

This is not DVS128 Gesture: it has the same kind of data (polarity events from moving edges),
not the same statistics. :mod:`models.egru_gesture.events` reads the real data set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.egru_gesture.events import EVENT_DTYPE, make_events

CLASSES = ("bar_right", "bar_left", "bar_down", "bar_up", "bar_rotate_cw", "bar_rotate_ccw",
           "blob_circle_cw", "blob_circle_ccw", "blob_grow", "blob_shrink")


@dataclass(frozen=True)
class CameraConfig:
    """The simulated sensor and the recording."""

    size: int = 32
    duration_us: int = 1_000_000
    frame_us: int = 2_000
    threshold: float = 0.15
    threshold_sd: float = 0.02
    background_rate_hz: float = 0.5
    hot_pixels: int = 3
    hot_pixel_rate_hz: float = 50.0


def _texture(rng: np.random.Generator, n: int) -> np.ndarray:
    """Smooth random background in [0.4, 0.6] (low-pass filtered noise)."""
    noise = rng.normal(size=(n, n))
    k = np.fft.fftfreq(n)
    lowpass = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / (2 * 0.08 ** 2))
    smooth = np.real(np.fft.ifft2(np.fft.fft2(noise) * lowpass))
    smooth = (smooth - smooth.min()) / (np.ptp(smooth) + 1e-12)
    return 0.4 + 0.2 * smooth


def _shape_masks(label: int, n: int, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Soft shape coverage in [0, 1] per frame: (frames, n, n)."""
    s = np.linspace(0.0, 1.0, frames)[:, None, None] * rng.uniform(0.7, 1.3)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    xx, yy = xx[None], yy[None]
    cx, cy = n / 2 + rng.uniform(-3, 3, size=2)
    width = rng.uniform(2.0, 4.0)
    if label < 4:
        travel = -0.15 * n + s * 1.3 * n + rng.uniform(-2, 2)
        if label == 0:
            d = xx - travel
        elif label == 1:
            d = xx - (n - 1 - travel)
        elif label == 2:
            d = yy - travel
        else:
            d = yy - (n - 1 - travel)
        return np.clip(width / 2 + 0.5 - np.abs(d), 0.0, 1.0)
    if label < 6:
        sign = -1.0 if label == 4 else 1.0  # image y points down: clockwise is -angle
        angle = rng.uniform(0, np.pi) + sign * s * 2.0 * np.pi
        dist = np.abs((xx - cx) * np.sin(angle) - (yy - cy) * np.cos(angle))
        along = np.abs((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle))
        return np.clip(width / 2 + 0.5 - dist, 0.0, 1.0) * (along < 0.4 * n)
    sigma = rng.uniform(2.5, 4.0)
    if label < 8:
        sign = 1.0 if label == 6 else -1.0
        angle = rng.uniform(0, 2 * np.pi) + sign * s * 2.0 * np.pi
        radius = rng.uniform(0.22, 0.32) * n
        bx, by = cx + radius * np.cos(angle), cy + radius * np.sin(angle)
        return np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * sigma ** 2))
    grow = s if label == 8 else 1.0 - s
    r = 0.5 + grow * rng.uniform(0.3, 0.45) * n
    return np.clip(r + 0.5 - np.hypot(xx - cx, yy - cy), 0.0, 1.0)


def generate_sample(label: int, rng: np.random.Generator,
                    camera: CameraConfig = CameraConfig()) -> np.ndarray:
    """The events of one recording of class ``label`` (structured, time-sorted)."""
    if not 0 <= label < len(CLASSES):
        raise ValueError(f"synthetic gestures: label {label} outside 0..{len(CLASSES) - 1}")
    n = camera.size
    frames = camera.duration_us // camera.frame_us
    background = _texture(rng, n)
    contrast = rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.4)
    intensity = background[None] + contrast * _shape_masks(label, n, frames, rng)
    log_i = np.log(np.clip(intensity, 0.02, None))
    thresholds = np.clip(rng.normal(camera.threshold, camera.threshold_sd, size=(n, n)),
                         0.05, None)
    reference = log_i[0].copy()
    xs, ys, ps, ts = [], [], [], []
    for f in range(1, frames):
        delta = log_i[f] - reference
        count = np.floor(np.abs(delta) / thresholds).astype(np.int64)
        py, px = np.nonzero(count)
        if len(py):
            k = count[py, px]
            reference[py, px] += np.sign(delta[py, px]) * k * thresholds[py, px]
            xs.append(np.repeat(px, k))
            ys.append(np.repeat(py, k))
            ps.append(np.repeat((delta[py, px] > 0).astype(np.int64), k))
            ts.append(f * camera.frame_us + rng.integers(0, camera.frame_us, size=int(k.sum())))
    xs, ys, ps, ts = _add_noise(rng, camera, xs, ys, ps, ts)
    if not xs:
        return np.empty(0, dtype=EVENT_DTYPE)
    return make_events(*(np.concatenate(v) for v in (xs, ys, ps, ts)))


def _add_noise(rng, camera, xs, ys, ps, ts):
    n, duration = camera.size, camera.duration_us
    seconds = duration / 1e6
    count = rng.poisson(camera.background_rate_hz * seconds * n * n)
    xs.append(rng.integers(0, n, count))
    ys.append(rng.integers(0, n, count))
    ps.append(rng.integers(0, 2, count))
    ts.append(rng.integers(0, duration, count))
    for _ in range(camera.hot_pixels):
        k = rng.poisson(camera.hot_pixel_rate_hz * seconds)
        x, y = rng.integers(0, n, 2)
        xs.append(np.full(k, x))
        ys.append(np.full(k, y))
        ps.append(rng.integers(0, 2, k))
        ts.append(rng.integers(0, duration, k))
    return xs, ys, ps, ts


def generate_dataset(n_samples: int, seed: int, camera: CameraConfig = CameraConfig(),
                     ) -> tuple[list[np.ndarray], np.ndarray]:
    """``n_samples`` recordings with balanced labels (cycled, then shuffled): (events, labels)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n_samples) % len(CLASSES))
    return [generate_sample(int(lab), rng, camera) for lab in labels], labels
