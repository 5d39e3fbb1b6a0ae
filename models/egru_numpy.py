"""Plain float64 NumPy implementation of the EGRU equations of DESIGN.md (no torch).

The reference the PyTorch inference forward is tested against, and what a deployment can
compare its emulator run with. See :mod:`models.egru_torch` for the equations and
:mod:`models.weights` for the array layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


@dataclass(frozen=True)
class LayerRun:
    """One layer over a sequence: graded outputs y, events e (T, N, H) and the final (c, y)."""

    y: np.ndarray
    events: np.ndarray
    c_final: np.ndarray
    y_final: np.ndarray


def egru_layer(layer: dict[str, np.ndarray], x: np.ndarray,
               c0: np.ndarray | None = None, y0: np.ndarray | None = None) -> LayerRun:
    """Run one EGRU layer in float64.

    Parameters
    ----------
    layer
        ``kernel``, ``recurrent_kernel``, ``bias``, ``recurrent_bias``, ``thr`` (EvNN layout).
    x
        Inputs (T, N, I) as floats, or token ids (T, N) as integers (one-hot input).
    c0, y0
        Initial internal state and fed-back output (N, H); zero when omitted.
    """
    w = np.asarray(layer["kernel"], dtype=np.float64)
    v = np.asarray(layer["recurrent_kernel"], dtype=np.float64)
    b = np.asarray(layer["bias"], dtype=np.float64)
    bv = np.asarray(layer["recurrent_bias"], dtype=np.float64)
    thr = np.clip(np.asarray(layer["thr"], dtype=np.float64), 0.0, 1.0)
    h = thr.shape[0]
    wx = (w[x] if np.issubdtype(np.asarray(x).dtype, np.integer)
          else np.asarray(x, dtype=np.float64) @ w) + b
    steps, batch = wx.shape[:2]
    c = np.zeros((batch, h)) if c0 is None else np.array(c0, dtype=np.float64)
    y = np.zeros((batch, h)) if y0 is None else np.array(y0, dtype=np.float64)
    ys = np.empty((steps, batch, h))
    es = np.empty((steps, batch, h))
    for t in range(steps):
        vy = y @ v + bv
        u = sigmoid(wx[t, :, :h] + vy[:, :h])
        r = sigmoid(wx[t, :, h:2 * h] + vy[:, h:2 * h])
        g = np.tanh(wx[t, :, 2 * h:] + r * vy[:, 2 * h:])
        c_hat = u * c + (1.0 - u) * g
        e = (c_hat > thr).astype(np.float64)
        y = e * c_hat
        c = c_hat - e * thr
        ys[t] = y
        es[t] = e
    return LayerRun(ys, es, c, y)


def egru_stack(arrays: dict[str, np.ndarray], n_layers: int, x: np.ndarray,
               ) -> tuple[np.ndarray, list[LayerRun]]:
    """All layers then the readout: logits (T, N, C) and each layer's run, from zero state."""
    runs = []
    h = x
    for layer in range(n_layers):
        prefix = f"egru{layer}."
        run = egru_layer({k[len(prefix):]: a for k, a in arrays.items()
                          if k.startswith(prefix)}, h)
        runs.append(run)
        h = run.y
    logits = h @ np.asarray(arrays["readout.weight"], dtype=np.float64).T + np.asarray(
        arrays["readout.bias"], dtype=np.float64)
    return logits, runs


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
