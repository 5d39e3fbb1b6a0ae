"""Weight files of a deployment: read one, check that its arrays make the EGRU the deployment
builds, and take out one layer's arrays (the file format is :mod:`models.weights`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.weights import load_weights

LAYER_ARRAYS = ("kernel", "recurrent_kernel", "bias", "recurrent_bias", "thr")


class WeightFileError(ValueError):
    """A weight file that does not describe the model the deployment builds."""


def load_model_file(path: str | Path, model: str, input_size: int | None = None,
                    n_classes: int | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Read a weight file and check that it is a ``model`` EGRU whose arrays fit together.

    Parameters
    ----------
    path
        The ``.npz`` file.
    model
        ``"egru_lm"`` or ``"egru_gesture"`` (the file's ``__meta__["model"]``).
    input_size
        Inputs of layer 0 (rows of ``egru0.kernel``), when the deployment knows it.
    n_classes
        Rows of ``readout.weight``, when known.

    Raises
    ------
    WeightFileError
        Naming the file, the array, the shape found and the shape expected.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such weight file")
    try:
        arrays, meta = load_weights(path)
    except ValueError as err:
        raise WeightFileError(str(err)) from err
    if meta.get("model") != model:
        raise WeightFileError(f"{path}: the weights of {meta.get('model')!r}, but this deployment "
                              f"builds {model!r}")
    hidden = [int(h) for h in meta.get("hidden_sizes", [])]
    if not hidden:
        raise WeightFileError(f"{path}: __meta__ has no hidden_sizes")
    size_in = input_size if input_size is not None else _shape(arrays, path, "egru0.kernel")[0]
    expected = {}
    for layer, h in enumerate(hidden):
        expected.update({f"egru{layer}.kernel": (size_in, 3 * h),
                         f"egru{layer}.recurrent_kernel": (h, 3 * h),
                         f"egru{layer}.bias": (3 * h,), f"egru{layer}.recurrent_bias": (3 * h,),
                         f"egru{layer}.thr": (h,)})
        size_in = h
    classes = n_classes if n_classes is not None else _shape(arrays, path, "readout.weight")[0]
    expected.update({"readout.weight": (classes, hidden[-1]), "readout.bias": (classes,)})
    for name, shape in expected.items():
        found = _shape(arrays, path, name)
        if found != shape:
            raise WeightFileError(
                f"{path}: {name} has shape {found}, expected {shape} (hidden sizes {hidden} "
                f"from __meta__, {expected['egru0.kernel'][0]} inputs, {classes} outputs; "
                f"EvNN layout, gate columns [u | r | g])")
        if not np.all(np.isfinite(arrays[name])):
            raise WeightFileError(f"{path}: {name} has non-finite values")
    extra = sorted(set(arrays) - set(expected))
    if extra:
        raise WeightFileError(f"{path}: arrays {extra} belong to no layer of hidden sizes "
                              f"{hidden}")
    return arrays, meta


def check_io_sizes(arrays: dict[str, np.ndarray], path: Path, n_inputs: int, n_outputs: int,
                   inputs: str, outputs: str) -> None:
    """Refuse a file whose layer 0 does not take ``n_inputs`` inputs or whose readout does
    not give ``n_outputs`` outputs (``inputs``, ``outputs``: what they are, for the message).
    """
    for name, size, what in (("egru0.kernel", n_inputs, inputs),
                             ("readout.weight", n_outputs, outputs),
                             ("readout.bias", n_outputs, outputs)):
        if arrays[name].shape[0] != size:
            raise WeightFileError(f"{path}: {name} has shape {arrays[name].shape}, but the "
                                  f"deployment has {size} {what} (its first axis)")


def _shape(arrays: dict[str, np.ndarray], path: Path, name: str) -> tuple[int, ...]:
    if name not in arrays:
        raise WeightFileError(f"{path}: no array {name!r} (has {sorted(arrays)})")
    return tuple(arrays[name].shape)


def layer_arrays(arrays: dict[str, np.ndarray], layer: int) -> dict[str, np.ndarray]:
    """The five arrays of EGRU layer ``layer``; thresholds clamped to [0, 1] as EvNN does."""
    out = {name: arrays[f"egru{layer}.{name}"] for name in LAYER_ARRAYS}
    out["thr"] = np.clip(out["thr"], 0.0, 1.0)
    return out
