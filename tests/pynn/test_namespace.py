"""Namespace audit against pyNN.nest: every public name of ``pyNN.nest`` exists in
``pyNN.spinnaker2`` or is listed below, with the reason, as deliberately absent. A name
pyNN.nest gains (a new PyNN or NEST release) fails the test until it is exported or listed."""

from __future__ import annotations

import pytest

nest_sim = pytest.importorskip("pyNN.nest", reason="nest-simulator (NEST 3.10) is not installed")

pytestmark = [pytest.mark.nest, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

_NEST_ONLY = "NEST's own machinery (pyNN.nest's implementation, not PyNN's API)"

#: Public names of pyNN.nest that pyNN.spinnaker2 does not have, and why.
ABSENT: dict[str, str] = {
    "nest": "the NEST kernel module itself",
    "nestml": "NESTML model compilation: NEST-only",
    "connectors": "pyNN.nest's connector module (its classes are exported, as here)",
    "conversion": "pyNN.nest's unit conversion helpers for NEST's native units",
    "unsupported": "pyNN.nest's internal helper raising for NEST-missing features",
    "make_sli_compatible": "converts values for NEST's SLI interpreter",
    "adjust_spike_times_forward": "NEST's shift of spike times for its parrot neurons",
    "adjust_spike_times_backward": "NEST's shift of spike times for its parrot neurons",
    "NESTConnectorMixin": _NEST_ONLY,
    "NESTSynapseMixin": _NEST_ONLY,
    "NestCurrentSource": _NEST_ONLY,
    "NestStandardCurrentSource": _NEST_ONLY,
    "Multimeter": "a NEST recording device; recording here is Population.record",
    "SpikeDetector": "a NEST recording device; recording here is Population.record",
    "RecordingDevice": "a NEST recording device; recording here is Population.record",
    "NativeCellType": "NEST native models; the cores run compiled kernels (native_cell_type "
                      "raises, naming the supported types)",
    "NativeElectrodeType": "NEST native current generators; the four standard current "
                           "sources are supported",
    "NativeSynapseType": "NEST native synapse models; the standard synapse types are "
                         "supported",
    "native_electrode_type": "NEST native current generators (see NativeElectrodeType)",
    "native_synapse_type": "NEST native synapse models (see NativeSynapseType)",
    "DefaultCSAConnector": "pyNN.nest's name for PyNN's generic CSAConnector beside its "
                           "native one; sim.CSAConnector is the generic connector",
}


def _public(module: object) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def test_every_pynn_nest_name_is_here_or_listed_as_absent() -> None:
    import pyNN.spinnaker2 as sim

    missing = _public(nest_sim) - _public(sim) - set(ABSENT)
    assert not missing, f"pyNN.nest names missing from pyNN.spinnaker2: {sorted(missing)}"


def test_the_absent_list_is_honest() -> None:
    """Each listed name is in pyNN.nest and really not here: the list cannot go stale."""
    import pyNN.spinnaker2 as sim

    assert not set(ABSENT) - _public(nest_sim), "listed names pyNN.nest no longer has"
    assert not set(ABSENT) & _public(sim), "listed as absent but exported"


@pytest.mark.parametrize("name", ["get_time_step", "num_processes", "rank", "initialize",
                                  "record", "list_standard_models", "Sequence",
                                  "ArrayParameter", "Assembly", "PopulationView"])
def test_backend_neutral_names_are_callable_or_classes(name: str) -> None:
    import pyNN.spinnaker2 as sim

    assert callable(getattr(sim, name))


def test_standard_models_cover_nests() -> None:
    """Every standard cell type pyNN.nest lists runs here, but the ones refused with a
    NotImplementedError naming the supported types."""
    import pyNN.spinnaker2 as sim

    refused = {"IF_facets_hardware1"}
    ours = set(sim.list_standard_models())
    for name in nest_sim.list_standard_models():
        if name in refused:
            with pytest.raises(NotImplementedError, match=f"{name}.*IF_curr_exp"):
                getattr(sim, name)()
        else:
            assert name in ours, name
