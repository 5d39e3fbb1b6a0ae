"""PyNN parameter values (LazyArray, scalars, arrays) as plain float arrays."""

from __future__ import annotations

import numpy as np


def evaluate(values: object, size: int) -> np.ndarray:
    """A PyNN parameter value (LazyArray, scalar, array) as a float array of ``size``."""
    from lazyarray import larray

    if isinstance(values, larray):
        values = values.evaluate(simplify=False)
    return np.broadcast_to(np.asarray(values, dtype=float), (size,)).copy()
