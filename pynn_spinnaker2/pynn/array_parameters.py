"""PyNN's array-valued cell parameters (GIF_cond_exp's ``tau_eta``, ``a_eta``,
``tau_gamma``, ``a_gamma``) as the Network stores them: one number per neuron in each of
``N_COMPONENTS`` columns named ``<name>_<k>``."""

from __future__ import annotations

import numpy as np
from pyNN.parameters import ArrayParameter, ParameterSpace

from ..cells.gif_cond_exp import ARRAY_PARAMETERS, N_COMPONENTS


def _components(name: str, value: object) -> list[object]:
    """The N_COMPONENTS columns of an array parameter: numbers when every neuron has the
    same array, per-neuron arrays otherwise."""
    base = getattr(value, "base_value", value)
    if getattr(value, "operations", None):
        base = None  # an expression of arrays: not evaluated element by element here
    if isinstance(base, ArrayParameter):
        rows = np.asarray(base.value, dtype=float)[None, :]
    elif isinstance(base, np.ndarray) and base.dtype == object:
        rows = np.array([np.asarray(getattr(a, "value", a), dtype=float) for a in base])
    else:
        raise ValueError(f"GIF_cond_exp: {name} must be a sequence of {N_COMPONENTS} numbers "
                         f"(one for every neuron) or one such sequence per neuron, got {base!r}")
    if rows.ndim != 2 or rows.shape[1] != N_COMPONENTS:
        raise ValueError(f"GIF_cond_exp: {name} has {rows.shape[-1]} components per neuron; "
                         f"SpiNNaker 2's GIF kernel has {N_COMPONENTS} (give "
                         f"{N_COMPONENTS} values, zeros for unused ones)")
    return [float(rows[0, k]) if rows.shape[0] == 1 else rows[:, k]
            for k in range(N_COMPONENTS)]


def split_array_parameters(native: ParameterSpace) -> ParameterSpace:
    """``native`` with each array parameter replaced by its component columns."""
    out = {}
    for name in native.keys():
        value = native[name]
        if name in ARRAY_PARAMETERS:
            for k, column in enumerate(_components(name, value)):
                out[f"{name}_{k}"] = column
        else:
            out[name] = value
    return ParameterSpace(out, schema=None, shape=native.shape)


def join_array_parameters(native: ParameterSpace) -> dict[str, object]:
    """The values of ``native`` with component columns joined back into PyNN's arrays: one
    ``ArrayParameter`` when all neurons share it, one per neuron otherwise."""
    values = {}
    for name in native.keys():
        value = native[name]
        values[name] = value.evaluate(simplify=True) if hasattr(value, "evaluate") else value
    out = {k: v for k, v in values.items() if k.rsplit("_", 1)[0] not in ARRAY_PARAMETERS}
    for name in ARRAY_PARAMETERS:
        columns = [values.get(f"{name}_{k}") for k in range(N_COMPONENTS)]
        if any(c is None for c in columns):
            continue
        if all(np.ndim(c) == 0 for c in columns):
            out[name] = ArrayParameter([float(c) for c in columns])
        else:
            size = max(np.size(c) for c in columns)
            rows = np.stack([np.broadcast_to(c, (size,)) for c in columns], axis=1)
            out[name] = np.array([ArrayParameter(r) for r in rows], dtype=object)
    return out


def native_names(names: tuple[str, ...]) -> list[str]:
    """The stored columns of the PyNN parameters ``names``."""
    out = []
    for name in names:
        if name in ARRAY_PARAMETERS:
            out += [f"{name}_{k}" for k in range(N_COMPONENTS)]
        else:
            out.append(name)
    return out
