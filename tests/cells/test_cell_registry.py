"""The cell registry: every type's defaults are PyNN's where PyNN has the type, every kernel
is known to the emulator and the cost model, and the PyNN classes agree with the models."""

from __future__ import annotations

import numpy as np
import pyNN.spinnaker2 as sim
import pytest
from pyNN.parameters import ArrayParameter
from pyNN.standardmodels import cells as pynn_cells

from pynn_spinnaker2.backends.emulator.kernels import NEURON_KERNELS
from pynn_spinnaker2.backends.emulator.sources import SOURCE_GENERATORS
from pynn_spinnaker2.cells import CELL_TYPES, KERNEL_OPS, CellType, register, unregister
from pynn_spinnaker2.cost.constants import DEFAULT_CONSTANTS

PYNN_TYPES = sorted(name for name in CELL_TYPES if hasattr(pynn_cells, name))


def test_pynn_types_are_covered() -> None:
    """The tie below is not vacuous: every standard type the chip runs is checked."""
    assert len(PYNN_TYPES) == 15, PYNN_TYPES


@pytest.mark.parametrize("name", PYNN_TYPES)
def test_defaults_are_pynn_defaults(name: str) -> None:
    """Parameter defaults and initial values are exactly PyNN's (a sequence default, the
    spike times, travels beside the parameters and stands as 0.0)."""
    cls = getattr(pynn_cells, name)
    model = CELL_TYPES[name]
    expected = {}
    for k, v in cls.default_parameters.items():
        if name == "GIF_cond_exp" and isinstance(v, ArrayParameter):  # a column each
            expected.update({f"{k}_{i}": float(x) for i, x in enumerate(v.value)})
        else:
            expected[k] = float(v) if np.isscalar(v) else 0.0
    assert model.defaults == expected
    assert model.initial == {k: float(v) for k, v in cls.default_initial_values.items()}


@pytest.mark.parametrize("name", PYNN_TYPES)
def test_pynn_class_follows_the_model(name: str) -> None:
    """sim's class keeps PyNN's parameters and takes recordables, units and receptors from
    the registered model."""
    cls = getattr(sim, name)
    model = CELL_TYPES[name]
    assert issubclass(cls, getattr(pynn_cells, name))
    assert cls.default_parameters == getattr(pynn_cells, name).default_parameters
    assert cls.recordable == list(model.recordables)
    assert tuple(cls.receptor_types) == model.receptors
    assert all(cls.units[k] == u for k, u in model.units.items())
    assert sim.cell_type(name) is cls


def test_kernel_tables_are_the_registry() -> None:
    """One kernel name -> one function: the emulator's tables are the registry's."""
    for model in CELL_TYPES.values():
        assert model.kernel in KERNEL_OPS
        assert KERNEL_OPS[model.kernel] == model.ops
        if model.is_source:
            assert model.kernel not in NEURON_KERNELS
        else:
            assert NEURON_KERNELS[model.kernel] is model.kernel_step
        if model.block_source is not None:
            assert SOURCE_GENERATORS[model.kernel] is model.block_source
    assert set(DEFAULT_CONSTANTS.kernel_ops) == set(KERNEL_OPS)


def test_register_refuses_clashes() -> None:
    """A taken name, or a taken kernel name with another function, is refused; unregister
    keeps a kernel other types still use."""
    lif = CELL_TYPES["IF_curr_exp"]
    with pytest.raises(ValueError, match="already registered"):
        register(lif)
    clash = CellType(**{**vars(lif), "name": "Clash", "kernel_step": lambda *a: None})
    with pytest.raises(ValueError, match="kernel 'lif_curr_exp'"):
        register(clash)
    assert "Clash" not in CELL_TYPES
    twin = register(CellType(**{**vars(lif), "name": "Twin"}))
    try:
        assert NEURON_KERNELS["lif_curr_exp"] is lif.kernel_step
    finally:
        assert unregister("Twin") is twin
    assert NEURON_KERNELS["lif_curr_exp"] is lif.kernel_step
    assert "lif_curr_exp" in KERNEL_OPS
