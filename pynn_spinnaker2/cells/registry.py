"""The one table of cell types: every cell module registers its :class:`.CellType` here.

Everything keyed by a cell type or kernel name elsewhere (the network checks, the image
builder, the emulator's kernels, the cost model's operation counts, the PyNN classes) reads
these tables, so a new cell type is one module that calls :func:`register`, plus its tests.
The tables are module-level dicts mutated in place, never rebound: other modules hold
references to them from import time (``NEURON_KERNELS`` in the emulator), and a type
registered later (a test's own) must appear in them.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import CellType, KernelOps

#: Cell type name (PyNN's class name) -> :class:`CellType`.
CELL_TYPES: dict[str, CellType] = {}
#: Kernel name (an image core's ``kernel``) -> float32 neuron kernel; sources have none.
NEURON_KERNELS: dict[str, Callable[..., object]] = {}
#: Kernel name -> block generator of a source with a state (see ``CellType.block_source``).
SOURCE_GENERATORS: dict[str, Callable[..., object]] = {}
#: Kernel name -> its arithmetic per neuron update, for the cost model.
KERNEL_OPS: dict[str, KernelOps] = {}

_TABLES = ((NEURON_KERNELS, "kernel_step"), (SOURCE_GENERATORS, "block_source"),
           (KERNEL_OPS, "ops"))


def register(model: CellType) -> CellType:
    """Add ``model`` to :data:`CELL_TYPES` and its kernel to the kernel tables.

    Several cell types may share a kernel (the NIR family), provided they give it the same
    function and operation count: one kernel name is one on-chip binary.

    Parameters
    ----------
    model
        The cell type; its ``name`` must not be registered yet.

    Returns
    -------
    CellType
        ``model``, so a module can write ``MODEL = register(CellType(...))``.

    Raises
    ------
    ValueError
        The name is taken, or the kernel name is registered with another function or count.
    """
    if model.name in CELL_TYPES:
        raise ValueError(f"cell type {model.name!r} is already registered")
    if model.is_source and model.kernel_step is not None:
        raise ValueError(f"cell type {model.name!r} is a source: it has no neuron kernel")
    for table, attr in _TABLES:
        value = getattr(model, attr)
        if value is not None and table.get(model.kernel, value) != value:
            raise ValueError(f"cell type {model.name!r}: kernel {model.kernel!r} is already "
                             f"registered with another {attr}")
    CELL_TYPES[model.name] = model
    for table, attr in _TABLES:
        if getattr(model, attr) is not None:
            table[model.kernel] = getattr(model, attr)
    return model


def unregister(name: str) -> CellType:
    """Remove cell type ``name``, and its kernel where no other registered type uses it.

    Parameters
    ----------
    name
        A registered cell type.

    Returns
    -------
    CellType
        The model removed.
    """
    model = CELL_TYPES.pop(name)
    if all(m.kernel != model.kernel for m in CELL_TYPES.values()):
        for table, _ in _TABLES:
            table.pop(model.kernel, None)
    return model
