"""The node-type table of the NIR importer, its unit conversions, and the layering: the front
end imports nothing of the PyNN layer."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import nir
import numpy as np
import pytest

from pynn_spinnaker2.frontends import nir_dispatch, nir_units
from pynn_spinnaker2.frontends.nir_dispatch import LinearMap, NodeContext, lowers
from pynn_spinnaker2.frontends.nir_lower import nir_to_network
from pynn_spinnaker2.frontends.nir_ops import diagonal


@dataclass(eq=False)
class Negate(nir.NIRNode):
    """A toy linear node type nir does not have: out = -in."""

    def __post_init__(self) -> None:
        self.input_type = {"input": np.array([])}
        self.output_type = {"output": np.array([])}


@pytest.fixture
def negate():
    @lowers(Negate)
    def _negate(ctx: NodeContext) -> LinearMap:
        shape = ctx.in_shape()
        return LinearMap(diagonal(-np.ones(int(np.prod(shape)))), shape)

    yield
    del nir_dispatch.RULES[Negate]


def _graph(middle: nir.NIRNode) -> nir.NIRGraph:
    nodes = {"in": nir.Input(input_type=np.array([3])), "mid": middle,
             "lif": nir.LIF(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3),
                            v_threshold=np.ones(3))}
    return nir.NIRGraph(nodes=nodes, edges=[("in", "mid"), ("mid", "lif")], type_check=False)


def test_a_registered_node_type_is_lowered_by_its_function(negate) -> None:
    net = nir_to_network(_graph(Negate()), dt=1e-3).network
    (prj,) = net.projections
    assert prj.receptor == "inhibitory"
    np.testing.assert_array_equal(prj.weight, -np.ones(3))


def test_an_unknown_node_type_names_the_known_ones() -> None:
    with pytest.raises(NotImplementedError, match=r"cannot run on SpiNNaker 2.*'LIF'"):
        nir_to_network(_graph(Negate()), dt=1e-3)


def test_neuron_rules_need_a_shape_function() -> None:
    with pytest.raises(ValueError, match="shape function"):
        lowers(Negate, kind="neuron")


@pytest.mark.parametrize(("nir_type", "field"), [("LIF", "tau"), ("CubaLIF", "tau_syn"),
                                                 ("IF", "r"), ("LIF", "r"), ("LIF", "v_leak")])
def test_export_undoes_import(nir_type: str, field: str) -> None:
    value = np.random.default_rng(1).uniform(1e-4, 1e-1, 50)
    scale = nir_units.time_scale(0.1, 1e-4)
    there = nir_units.to_pynn(nir_type, field, value, scale)
    np.testing.assert_allclose(nir_units.to_nir(nir_type, field, there, scale), value,
                               rtol=2e-16, atol=0)


def test_the_front_end_does_not_import_the_pynn_layer() -> None:
    code = ("import sys, pynn_spinnaker2.frontends.nir_io, pynn_spinnaker2.frontends.nir_lower;"
            "assert not [m for m in sys.modules if m.startswith('pynn_spinnaker2.pynn')]")
    subprocess.run([sys.executable, "-c", code], check=True)
