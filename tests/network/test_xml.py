"""The XML intermediate form: lossless round trips, schema validation, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.errors import FormatError
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.network import (
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
    from_xml,
    load,
    save,
    to_xml,
)


def _network() -> Network:
    rng = np.random.default_rng(0)
    pops = (
        PopulationSpec("src", "SpikeSourceArray", 3,
                       spike_times=(np.array([1.0, 2.5]), np.array([]), np.array([0.1])),
                       record={"spikes": RecordSpec(np.arange(3), 0.1)}),
        PopulationSpec("cells", "IF_curr_exp", 5,
                       params={"tau_m": rng.uniform(10, 20, 5), "cm": np.full(5, 0.25)},
                       initial={"v": np.full(5, -60.0)},
                       record={"v": RecordSpec(np.array([0, 3]), 1.0)}, max_per_core=2),
    )
    proj = ProjectionSpec("a->b", "src", "cells", np.array([0, 1, 2]), np.array([4, 0, 1]),
                          rng.uniform(0, 1, 3), np.array([1.0, 2.0, 0.1]), "inhibitory")
    source = CurrentSourceSpec("dc", "StepCurrentSource",
                               {"times": np.array([1.0, 5.0]),
                                "amplitudes": np.array([0.1, 0.0])},
                               (("cells", np.array([1, 2])),))
    return Network(0.1, pops, (proj,), (source,), Machine(width=2, height=3), seed=7)


def _assert_same(a: Network, b: Network) -> None:
    assert a.timestep == b.timestep and a.seed == b.seed and a.machine == b.machine
    for pa, pb in zip(a.populations, b.populations, strict=True):
        assert (pa.label, pa.model, pa.size, pa.max_per_core) == (
            pb.label, pb.model, pb.size, pb.max_per_core)
        for name in pa.params:
            np.testing.assert_array_equal(pa.params[name], pb.params[name])
        for name in pa.initial:
            np.testing.assert_array_equal(pa.initial[name], pb.initial[name])
        assert (pa.spike_times is None) == (pb.spike_times is None)
        for ta, tb in zip(pa.spike_times or (), pb.spike_times or (), strict=True):
            np.testing.assert_array_equal(ta, tb)
        assert pa.record.keys() == pb.record.keys()
    for ja, jb in zip(a.projections, b.projections, strict=True):
        for name in ("pre_idx", "post_idx", "weight", "delay"):
            np.testing.assert_array_equal(getattr(ja, name), getattr(jb, name))
        assert (ja.label, ja.receptor) == (jb.label, jb.receptor)
    for sa, sb in zip(a.current_sources, b.current_sources, strict=True):
        np.testing.assert_array_equal(sa.params["times"], sb.params["times"])


def test_round_trip_is_lossless(tmp_path) -> None:
    net = _network()
    _assert_same(net, from_xml(to_xml(net)))
    _assert_same(net, load(save(net, tmp_path / "net.xml")))


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=50))
def test_float_arrays_round_trip_exactly(values: list[float]) -> None:
    n = len(values)
    pop = PopulationSpec("p", "IF_curr_exp", n, params={"i_offset": np.array(values)})
    back = from_xml(to_xml(Network(1.0, (pop,))))
    np.testing.assert_array_equal(back.populations[0].params["i_offset"], np.array(values))


def test_malformed_xml_reports_the_problem() -> None:
    with pytest.raises(FormatError, match="not well-formed"):
        from_xml(b"<network><population")


def test_schema_violation_gives_the_line() -> None:
    text = to_xml(_network()).decode().replace('size="5"', 'size="-5"', 1)
    with pytest.raises(FormatError, match="line [0-9]+"):
        from_xml(text)


def test_truncated_array_data_is_caught() -> None:
    net = _network()
    text = to_xml(net).decode()
    start = text.index('dtype="f8">') + len('dtype="f8">')
    broken = text[:start] + text[start + 8:]
    with pytest.raises(FormatError, match="line [0-9]+"):
        from_xml(broken)


def test_unknown_version_is_refused() -> None:
    text = to_xml(_network()).decode().replace('version="1.0"', 'version="9.0"')
    with pytest.raises(FormatError, match="version 9.0"):
        from_xml(text)


@settings(max_examples=80, deadline=None)
@given(cut=st.integers(0, 10_000), junk=st.binary(max_size=8))
def test_mangled_files_never_crash(cut: int, junk: bytes) -> None:
    """Truncated or corrupted documents raise FormatError, never anything deeper."""
    data = to_xml(_network())
    cut = cut % len(data)
    mangled = data[:cut] + junk + data[cut + len(junk):]
    try:
        from_xml(mangled)
    except FormatError:
        pass
