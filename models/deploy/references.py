"""The EGRU layers off the chip, to compare the emulator with: PyTorch float32 as trained
(:mod:`models.egru_torch`) or, without torch, float64 NumPy (:mod:`models.egru_numpy`)."""

from __future__ import annotations

import numpy as np

from models.deploy.weights import LAYER_ARRAYS, layer_arrays


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def reference_layers(arrays: dict[str, np.ndarray], n_layers: int, x: np.ndarray,
                     backend: str = "auto") -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """The EGRU layers off the chip, from zero state: per layer y and events (T, N, H).

    ``x``: token ids (T, N) (one-hot input) or inputs (T, N, I). ``backend``: ``"torch"``
    (:class:`models.egru_torch.EGRU`, float32, as trained), ``"numpy"``
    (:func:`models.egru_numpy.egru_layer`, float64) or ``"auto"`` (torch when installed).
    Returns the outputs, the events and a description of what computed them.
    """
    note = ""
    if backend == "auto":
        backend = "torch" if torch_available() else "numpy"
        note = "; torch is not installed"
    if backend == "torch":
        return (*_torch_layers(arrays, n_layers, x), "PyTorch float32 (models/egru_torch.py)")
    if backend != "numpy":
        raise ValueError(f"reference backend {backend!r}: use 'torch', 'numpy' or 'auto'")
    from models.egru_numpy import egru_layer

    ys, events, h = [], [], x
    for k in range(n_layers):
        run = egru_layer(layer_arrays(arrays, k), h)
        ys.append(run.y)
        events.append(run.events)
        h = run.y
    return ys, events, f"NumPy float64 (models/egru_numpy.py{note})"


def _torch_layers(arrays: dict[str, np.ndarray], n_layers: int, x: np.ndarray,
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import torch

    from models.egru_torch import EGRU

    ys, events = [], []
    h = torch.as_tensor(x) if np.issubdtype(np.asarray(x).dtype, np.integer) else \
        torch.as_tensor(np.asarray(x, np.float32))
    with torch.no_grad():
        for k in range(n_layers):
            a = layer_arrays(arrays, k)
            layer = EGRU(a["kernel"].shape[0], a["thr"].size).eval()
            for name in LAYER_ARRAYS:
                getattr(layer, name).copy_(torch.as_tensor(np.asarray(a[name], np.float32)))
            h, e, _ = layer(h)
            ys.append(h.numpy())
            events.append(e.numpy())
    return ys, events


def reference_name(results: list[dict]) -> str:
    """``PyTorch`` or ``NumPy float64``: what computed the references of ``results``."""
    names = {"PyTorch" if r["reference"]["backend"].startswith("PyTorch") else
             "NumPy float64" for r in results}
    return " / ".join(sorted(names))


def compare_layers(emulated: list[np.ndarray], reference: list[np.ndarray],
                   before: list[dict] | None = None) -> list[dict]:
    """Per layer: events on the emulator, (position, unit) pairs whose event differs from the
    reference, and the largest value gap; added to ``before`` (an earlier batch's figures)."""
    out = []
    for k, (y, r) in enumerate(zip(emulated, reference, strict=True)):
        d = {"events": int((y != 0).sum()),
             "reference_events": int((r != 0).sum()),
             "events_differing": int(((y != 0) != (r != 0)).sum()),
             "max_abs_value_difference": float(np.abs(y - r).max(initial=0.0))}
        if before is not None:
            d = {key: (max(v, before[k][key]) if key.startswith("max") else v + before[k][key])
                 for key, v in d.items()}
        out.append(d)
    return out
