"""Framework-neutral weight files: one ``.npz`` of float32 arrays plus a JSON metadata string.

Reading needs only NumPy (``allow_pickle=False``), so the deployment never imports torch.

Layout (every model here)
-------------------------
For each EGRU layer ``l`` (0 = nearest the input), in EvNN's own layout and gate order
[u | r | g] (EvNN calls u ``z``; column block ``k`` of a ``3H`` axis is gate ``k``)::

    egru{l}.kernel            (I_l, 3 H_l)  input weights: x @ kernel
    egru{l}.recurrent_kernel  (H_l, 3 H_l)  weights of the fed-back graded output y_{t-1}
    egru{l}.bias              (3 H_l,)      input bias
    egru{l}.recurrent_bias    (3 H_l,)      recurrent bias (its g block is multiplied by r)
    egru{l}.thr               (H_l,)        thresholds theta, in [0, 1]
    readout.weight            (C, H_last)   logits = y_last @ readout.weight.T + readout.bias
    readout.bias              (C,)

``__meta__`` is a JSON object: ``format`` (``"pynn_spinnaker2.models/1"``), ``model``
(``"egru_lm"`` or ``"egru_gesture"``), ``hidden_sizes``, ``input`` (how x is formed, e.g.
``"one-hot token"``: layer 0's ``x @ kernel`` is then row ``token`` of the kernel), and
model-specific entries (vocabulary, classes, time bins, sparsity of the pruned matrices).
Pruned weights are exact zeros.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FORMAT = "pynn_spinnaker2.models/1"
META_KEY = "__meta__"


def save_weights(path: str | Path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` (as float32) and ``meta`` to a compressed ``.npz``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if META_KEY in arrays:
        raise ValueError(f"{path}: array name {META_KEY!r} is reserved for the metadata")
    payload = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
    payload[META_KEY] = np.array(json.dumps({"format": FORMAT, **meta}, sort_keys=True))
    np.savez_compressed(path, **payload)
    return path


def load_weights(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_weights`: (arrays, metadata)."""
    with np.load(Path(path), allow_pickle=False) as data:
        if META_KEY not in data.files:
            raise ValueError(f"{path}: no {META_KEY!r} entry; not a pynn_spinnaker2 model file")
        meta = json.loads(str(data[META_KEY]))
        arrays = {k: data[k] for k in data.files if k != META_KEY}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
    return arrays, meta


def egru_layer_arrays(arrays: dict[str, np.ndarray], layer: int) -> dict[str, np.ndarray]:
    """The five arrays of EGRU layer ``layer``, keyed without the ``egru{l}.`` prefix."""
    prefix = f"egru{layer}."
    out = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    if not out:
        raise KeyError(f"no EGRU layer {layer} in the weight file")
    return out
