"""The synapse-type registry: one declaration per type, read by the network check and the
mapper; its parameters tied to PyNN's own classes."""

from __future__ import annotations

import numpy as np
import pytest
from pyNN.standardmodels import synapses as pynn_synapses

from pynn_spinnaker2.errors import NetworkError
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec, validate
from pynn_spinnaker2.synapses import (
    SYNAPSE_TYPES,
    SynapseType,
    register,
    synapse_region,
    unregister,
    with_region,
)

#: Parameters PyNN gives every synapse type, which the synaptic word holds.
_WORD = {"weight", "delay", "dendritic_delay_fraction"}


@pytest.mark.parametrize("name", ["StaticSynapse", "TsodyksMarkramSynapse",
                                  "SimpleStochasticSynapse", "StochasticTsodyksMarkramSynapse",
                                  "MultiQuantalSynapse"])
def test_parameters_are_pynns(name):
    """Each type's per-synapse parameters are exactly those of PyNN's class of that name."""
    pynn = getattr(pynn_synapses, name).default_parameters
    assert set(SYNAPSE_TYPES[name].params) == set(pynn) - _WORD


def test_stdp_parameters_are_pynns():
    expected = (set(pynn_synapses.SpikePairRule.default_parameters)
                | set(pynn_synapses.AdditiveWeightDependence.default_parameters))
    for name in ("STDP:SpikePairRule:AdditiveWeightDependence",
                 "STDP:SpikePairRule:MultiplicativeWeightDependence"):
        assert set(SYNAPSE_TYPES[name].params) == expected


def test_regions_follow_the_types():
    assert synapse_region("StaticSynapse") is None
    assert synapse_region("TsodyksMarkramSynapse") == "synapse_dynamics"
    assert synapse_region("SimpleStochasticSynapse") == "synapse_release"
    assert set(with_region("synapse_quantal")) == {"MultiQuantalSynapse",
                                                   "StochasticTsodyksMarkramSynapse"}
    assert synapse_region("unknown") is None


def _network(synapse: str, params: dict[str, np.ndarray]) -> Network:
    pops = (PopulationSpec("src", "SpikeSourceArray", 2,
                           spike_times=(np.array([1.0]), np.array([2.0]))),
            PopulationSpec("cells", "IF_curr_exp", 2))
    proj = ProjectionSpec("src->cells", "src", "cells", np.array([0, 1]), np.array([1, 0]),
                          np.full(2, 0.5), np.full(2, 1.0), synapse=synapse, params=params)
    return Network(0.1, pops, (proj,), (), Machine())


_GOOD = {
    "TsodyksMarkramSynapse": {"U": 0.5, "tau_rec": 100.0, "tau_facil": 0.0},
    "SimpleStochasticSynapse": {"p": 0.5},
    "StochasticTsodyksMarkramSynapse": {"U": 0.5, "tau_rec": 100.0, "tau_facil": 0.0},
    "MultiQuantalSynapse": {"U": 0.5, "n": 2.0, "tau_rec": 800.0, "tau_facil": 0.0},
    "STDP:SpikePairRule:AdditiveWeightDependence": {
        "tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.01, "A_minus": 0.01, "w_min": 0.0,
        "w_max": 1.0},
}


@pytest.mark.parametrize("synapse", sorted(_GOOD))
def test_good_parameters_pass_and_nan_is_refused_naming_the_projection(synapse):
    good = {k: np.full(2, v) for k, v in _GOOD[synapse].items()}
    validate(_network(synapse, good))
    for name in good:
        bad = dict(good)
        bad[name] = np.array([good[name][0], np.nan])
        with pytest.raises(NetworkError, match=rf"'src->cells'.*{name}.*non-finite"):
            validate(_network(synapse, bad))


def test_missing_parameter_is_named():
    with pytest.raises(NetworkError, match="needs the per-synapse parameters"):
        validate(_network("TsodyksMarkramSynapse", {"U": np.full(2, 0.5)}))


def test_unknown_type_lists_the_registered_ones():
    with pytest.raises(NotImplementedError, match="StaticSynapse"):
        validate(_network("NoSuchSynapse", {}))


def test_a_type_registered_elsewhere_is_checked_by_its_own_rule():
    """A synapse type declared outside the package (here, in this test) is known to the
    network check, which applies its parameters and its own check."""

    def check(label: str, params: dict[str, np.ndarray]) -> None:
        if np.any(params["gain"] > 2):
            raise NetworkError(f"projection {label!r}: gain must be <= 2")

    register(SynapseType("GainSynapse", ("gain",), check=check))
    try:
        validate(_network("GainSynapse", {"gain": np.full(2, 1.5)}))
        with pytest.raises(NetworkError, match="'src->cells': gain must be <= 2"):
            validate(_network("GainSynapse", {"gain": np.full(2, 3.0)}))
        with pytest.raises(ValueError, match="registered already"):
            register(SynapseType("GainSynapse", ("other",)))
    finally:
        unregister("GainSynapse")
    assert "GainSynapse" not in SYNAPSE_TYPES


def test_an_unknown_region_is_refused():
    with pytest.raises(ValueError, match="region must be None or one of"):
        SynapseType("Odd", region="synapse_elsewhere")


def test_a_type_registered_elsewhere_writes_its_records_into_the_image():
    """A synapse type declared only here, with its own encoder, reaches the image through the
    registry: the mapper sizes its region, the image builder writes the encoder's records."""
    from pynn_spinnaker2.image import build_image
    from pynn_spinnaker2.mapping import map_network

    def encode(proj, post) -> np.ndarray:
        return (np.asarray(proj.params["q"]) / 2).astype(np.float32)

    register(SynapseType("HalvedSynapse", ("q",), region="synapse_release",
                         record_dtype=np.dtype("<f4"), encode=encode))
    try:
        network = _network("HalvedSynapse", {"q": np.array([0.2, 0.8])})
        image = build_image(network, map_network(network))
        written = [c.dram["synapse_release"] for c in image.cores
                   if c.dram.get("synapse_release") is not None
                   and c.dram["synapse_release"].size]
        assert len(written) == 1
        np.testing.assert_array_equal(np.sort(written[0]), np.float32([0.1, 0.4]))
    finally:
        unregister("HalvedSynapse")


def test_a_region_keeps_one_record_format():
    with pytest.raises(ValueError, match="holds float32 records"):
        register(SynapseType("Wide", region="synapse_release", record_dtype=np.dtype("<f8"),
                             encode=lambda proj, post: np.zeros(len(proj))))
    assert "Wide" not in SYNAPSE_TYPES
    with pytest.raises(ValueError, match="needs a record_dtype and an encode"):
        SynapseType("Bare", region="synapse_release")
