"""The XML intermediate form: lossless round trips, schema validation, clear errors."""

from __future__ import annotations

import binascii
import dataclasses
import zlib
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pynn_spinnaker2.errors import FormatError
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.network import (
    FORMAT_VERSION,
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
    from_xml,
    load,
    save,
    to_xml,
    xml_arrays,
)
from pynn_spinnaker2.network.xml_io import NS


def _network() -> Network:
    rng = np.random.default_rng(0)
    pops = (
        PopulationSpec("src", "SpikeSourceArray", 3,
                       spike_times=(np.array([1.0, 2.5]), np.array([]), np.array([0.1])),
                       record={"spikes": RecordSpec(np.arange(3), 0.1)}),
        PopulationSpec("cells", "IF_curr_exp", 5,
                       params={"tau_m": rng.uniform(10, 20, 5), "cm": np.full(5, 0.25),
                               "i_offset": np.array([0.0, -0.0, 0.0, 1e-300, -1e300])},
                       initial={"v": np.full(5, -60.0)},
                       record={"v": RecordSpec(np.array([0, 3]), 1.0)}, max_per_core=2),
        PopulationSpec("noise", "SpikeSourcePoisson", 4,
                       params={"rate": np.array([1.0, 2.0, 3.0, 4.0]),
                               "duration": np.full(4, np.inf)}),
    )
    n = 200
    big = ProjectionSpec("big", "noise", "cells", rng.integers(0, 4, n),
                         np.sort(rng.integers(0, 5, n)), np.full(n, 0.5), np.full(n, 1.0))
    tm = ProjectionSpec("a->b", "src", "cells", np.array([0, 1, 2]), np.array([4, 0, 1]),
                        rng.uniform(0, 1, 3), np.array([1.0, 2.0, 0.1]), "inhibitory",
                        "TsodyksMarkramSynapse",
                        {"U": np.array([0.5, 0.4, 0.3]), "tau_rec": np.full(3, 800.0),
                         "tau_facil": np.zeros(3)})
    empty = ProjectionSpec("none", "src", "cells", np.zeros(0, int), np.zeros(0, int),
                           np.zeros(0), np.zeros(0))
    sources = (
        CurrentSourceSpec("step", "StepCurrentSource",
                          {"times": np.array([1.0, 5.0]), "amplitudes": np.array([0.1, 0.0])},
                          (("cells", np.array([1, 2])),)),
        CurrentSourceSpec("dc", "DCSource", {"amplitude": 0.5, "start": 0.0, "stop": 1e12},
                          (("cells", np.array([0])), ("cells", np.array([3, 4])))),
    )
    machine = Machine(width=2, height=3, pes_per_chip=16, router_entries=1000,
                      sram_reserved=40 * 1024, clock_hz=3e8, wrap_around=True)
    return Network(0.1, pops, (tm, big, empty), sources, machine, seed=7)


def _same(a: object, b: object, where: str = "network") -> None:
    """Deep equality of Network dataclasses, every field, arrays bit for bit."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        b = np.asarray(b)
        assert a.shape == b.shape, where
        if a.dtype.kind == "f":
            assert np.array_equal(a.view(np.int64), b.astype(float).view(np.int64)) or (
                np.array_equal(a, b, equal_nan=True)), where
        else:
            assert np.array_equal(a, b), where
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), f"{where}: {a} {b}"


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_is_lossless(tmp_path, compress: bool) -> None:
    net = _network()
    data = to_xml(net, compress=compress)
    _same(net, from_xml(data))
    assert to_xml(from_xml(data), compress=compress) == data
    _same(net, load(save(net, tmp_path / "net.xml", compress=compress)))


def test_every_network_field_is_carried() -> None:
    """A field added to the Network dataclasses without XML support fails here: the round
    trip compares every field of every dataclass."""
    net = _network()
    for cls in (Network, PopulationSpec, ProjectionSpec, CurrentSourceSpec, RecordSpec,
                Machine):
        assert dataclasses.fields(cls)
    _same(net, from_xml(to_xml(net)))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(width=64), min_size=1, max_size=50))
def test_float_arrays_round_trip_exactly(values: list[float]) -> None:
    n = len(values)
    pop = PopulationSpec("p", "IF_curr_exp", n, params={"i_offset": np.array(values)})
    back = from_xml(to_xml(Network(1.0, (pop,))))
    _same(np.array(values), back.populations[0].params["i_offset"])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(0, 300), compress=st.booleans())
def test_index_arrays_round_trip_in_any_encoding(data: st.DataObject, n: int,
                                                 compress: bool) -> None:
    """Narrow dtypes, runs and compression are all exact, whatever the values."""
    size = data.draw(st.sampled_from([1, 7, 255, 256, 70_000, 2**31 + 5]))
    sort = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    post = rng.integers(0, size, n)
    post = np.sort(post) if sort else post
    pre = rng.integers(0, 3, n)
    pops = (PopulationSpec("a", "IF_curr_exp", 3), PopulationSpec("b", "IF_curr_exp", size))
    proj = ProjectionSpec("p", "a", "b", pre, post, rng.uniform(0, 1, n), np.full(n, 1.0))
    net = Network(1.0, pops, (proj,))
    # Indices above 2**31 need a population larger than the reader's default limit.
    with mock.patch.object(xml_arrays, "MAX_POPULATION_SIZE", 2**32):
        _same(net, from_xml(to_xml(net, compress=compress)))


def test_large_sorted_connection_lists_are_compact() -> None:
    """A million synapses sorted by target, between populations under 65,536: about two
    bytes of base64 per synapse (narrow pre indices; targets as runs; constant weights and
    delays as one attribute each)."""
    n, size = 1_000_000, 10_000
    rng = np.random.default_rng(1)
    pops = (PopulationSpec("a", "IF_curr_exp", size), PopulationSpec("b", "IF_curr_exp", size))
    proj = ProjectionSpec("p", "a", "b", rng.integers(0, size, n),
                          np.repeat(np.arange(size), n // size), np.full(n, 0.1),
                          np.full(n, 1.5))
    data = to_xml(Network(0.1, pops, (proj,)))
    assert len(data) < 2.8 * n
    root = etree.fromstring(data, parser=etree.XMLParser(huge_tree=True))
    post = root.find(f"{{{NS}}}projection/{{{NS}}}post_idx")
    assert post.get("encoding") == "runs" and post.get("dtype") == "u2"


def test_documents_of_version_1_0_are_read() -> None:
    """The first version's documents (f8/i8 base64 arrays, fewer machine fields) load."""
    doc = f"""<?xml version='1.0' encoding='UTF-8'?>
<network xmlns="{NS}" version="1.0" timestep="0.1" seed="3">
  <machine width="2" height="1" pes_per_chip="152" sram_per_pe="131072"
           sram_reserved="32768" dram_per_chip="2147483648" router_entries="16384"
           clock_hz="150000000.0" wrap_around="false"/>
  <population label="p" model="IF_curr_exp" size="2">
    <parameter name="tau_m" size="2" dtype="f8">AAAAAAAAJEAAAAAAAAA0QA==</parameter>
  </population>
  <projection label="x" pre="p" post="p" receptor="excitatory" synapse="StaticSynapse">
    <pre_idx size="2" dtype="i8">AAAAAAAAAAABAAAAAAAAAA==</pre_idx>
    <post_idx size="2" value="1.0" dtype="i8"/>
    <weight size="2" value="0.5"/>
    <delay size="2" value="1.0"/>
  </projection>
</network>"""
    net = from_xml(doc)
    np.testing.assert_array_equal(net.populations[0].params["tau_m"], [10.0, 20.0])
    np.testing.assert_array_equal(net.projections[0].pre_idx, [0, 1])
    np.testing.assert_array_equal(net.projections[0].post_idx, [1, 1])
    assert net.machine.width == 2 and net.seed == 3


# -- errors ------------------------------------------------------------------------------
def _mangle(old: str, new: str, count: int = 1) -> bytes:
    text = to_xml(_network()).decode()
    assert old in text, old
    return text.replace(old, new, count).encode()


def test_malformed_xml_reports_the_problem() -> None:
    with pytest.raises(FormatError, match="not well-formed.*line 1"):
        from_xml(b"<network><population")


def test_empty_document() -> None:
    with pytest.raises(FormatError, match="not well-formed"):
        from_xml(b"")


def test_schema_violation_gives_the_line() -> None:
    with pytest.raises(FormatError, match="line [0-9]+.*size"):
        from_xml(_mangle('size="5"', 'size="-5"'))


def test_unknown_version_is_refused() -> None:
    with pytest.raises(FormatError, match="version 9.0 is not supported"):
        from_xml(_mangle(f'version="{FORMAT_VERSION}"', 'version="9.0"'))


def test_truncated_array_data_is_caught() -> None:
    text = to_xml(_network()).decode()
    start = text.index('"tau_m" size="5" dtype="f8">') + len('"tau_m" size="5" dtype="f8">')
    with pytest.raises(FormatError, match=r"line [0-9]+, <parameter name=\"tau_m\">"):
        from_xml(text[:start] + text[start + 8:])


def test_wrong_size_names_the_array() -> None:
    with pytest.raises(FormatError, match=r"<parameter name=\"tau_m\">: .*expected size=6"):
        from_xml(_mangle('name="tau_m" size="5"', 'name="tau_m" size="6"'))


def test_bad_base64_names_the_array() -> None:
    text = to_xml(_network()).decode()
    start = text.index('dtype="f8">') + len('dtype="f8">')
    with pytest.raises(FormatError, match="not valid base64"):
        from_xml(text[:start] + "!!" + text[start + 2:])


def test_bad_run_lengths_are_caught() -> None:
    net = _network()
    text = to_xml(net).decode()
    assert 'encoding="runs"' in text
    with pytest.raises(FormatError, match="run lengths add up to 200, but size is 201"):
        from_xml(text.replace('size="200" dtype="u1" encoding="runs"',
                              'size="201" dtype="u1" encoding="runs"'))


def test_corrupt_compressed_data_is_caught() -> None:
    text = to_xml(_network(), compress=True).decode()
    start = text.index('compression="zlib">') + len('compression="zlib">')
    good = text[start:start + 8]
    bad = "AAAA" + good[4:] if good[:4] != "AAAA" else "BBBB" + good[4:]
    with pytest.raises(FormatError, match="compressed array data is corrupt"):
        from_xml(text[:start] + bad + text[start + 8:])


def test_projection_columns_of_different_lengths() -> None:
    net = _network()
    proj = dataclasses.replace(net.projections[0], weight=np.zeros(2))
    data = to_xml(dataclasses.replace(net, projections=(proj,)))
    with pytest.raises(FormatError, match="projection 'a->b': weight has 2 values but "
                                          "pre_idx has 3"):
        from_xml(data)


def test_spike_time_counts_must_match() -> None:
    with pytest.raises(FormatError, match="population 'src': spike time counts"):
        from_xml(_mangle('<counts size="3"', '<counts size="2"').replace(
            b'<counts size="2" dtype="u1">AgAB', b'<counts size="2" dtype="u1">AgA='))


def test_integers_stored_as_fractions_are_refused() -> None:
    with pytest.raises(FormatError, match="<counts>: expected integers"):
        from_xml(_mangle('<counts size="3" dtype="u1">AgAB</counts>',
                         '<counts size="3" value="0.5" dtype="i8"/>'))


def test_missing_file(tmp_path) -> None:
    with pytest.raises(FormatError, match="cannot read the network file"):
        load(tmp_path / "nothing.xml")


def test_errors_from_a_file_name_it(tmp_path) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(b"<network")
    with pytest.raises(FormatError, match="bad.xml: not well-formed"):
        load(path)


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(0, 100_000), junk=st.binary(max_size=12), compress=st.booleans(),
       flips=st.lists(st.integers(0, 100_000), max_size=4))
def test_mangled_files_never_crash(cut: int, junk: bytes, compress: bool,
                                   flips: list[int]) -> None:
    """Truncated, overwritten or bit-flipped documents raise FormatError (or, where the
    damage keeps the document valid, read as a Network), never anything deeper."""
    data = bytearray(to_xml(_network(), compress=compress))
    for f in flips:
        data[f % len(data)] ^= 1 << (f % 8)
    cut = cut % len(data)
    mangled = bytes(data[:cut]) + junk + bytes(data[cut + len(junk):])
    try:
        assert isinstance(from_xml(mangled), Network)
    except FormatError as exc:
        assert str(exc), "a FormatError must say what is wrong"


@settings(max_examples=80, deadline=None)
@given(attr=st.sampled_from(["size", "dtype", "runs", "value", "encoding", "compression",
                             "scalar", "timestep", "seed", "width", "sampling_interval"]),
       value=st.one_of(st.integers(-5, 10**20).map(str), st.sampled_from(
           ["", "x", "NaN", "INF", "-1", "1e400", "f4", "u8", "runs", "zlib", "true"])))
def test_mangled_attributes_never_crash(attr: str, value: str) -> None:
    """Every attribute the reader interprets, set to nonsense, gives a FormatError; where
    the value happens to be legal there, the document still reads as a Network."""
    data = to_xml(_network(), compress=True)
    root = etree.fromstring(data)
    changed = 0
    for el in root.iter():
        if el.get(attr) is not None:
            el.set(attr, value)
            changed += 1
    assert changed > 0, f"the sample network must carry the attribute {attr!r}"
    try:
        net = from_xml(etree.tostring(root))
    except FormatError as exc:
        assert str(exc)
    else:
        assert isinstance(net, Network)


def test_zlib_payload_of_wrong_length() -> None:
    """Compressed data that decompresses to the wrong number of bytes."""
    text = to_xml(_network(), compress=True).decode()
    start = text.index('compression="zlib">') + len('compression="zlib">')
    end = text.index("<", start)
    raw = zlib.compress(b"\x00" * 2)
    text = text[:start] + binascii.b2a_base64(raw, newline=False).decode() + text[end:]
    with pytest.raises(FormatError, match="<counts>: the array holds 2 values of u1, "
                                          "expected size=3"):
        from_xml(text)


# -- bounded reading ---------------------------------------------------------------------------
_POP = ('<population label="p" model="IF_curr_exp" size="{size}">{body}</population>')


def _doc(body: str, size: int = 3) -> bytes:
    """A network document holding one population of ``size`` with ``body`` inside."""
    text = to_xml(Network(1.0, (PopulationSpec("p", "IF_curr_exp", 3),))).decode()
    start = text.index("<population")
    end = text.index("</population>") + len("</population>") if "</population>" in text \
        else text.index("/>", start) + 2
    return (text[:start] + _POP.format(size=size, body=body) + text[end:]).encode()


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode()


def test_huge_declared_population_is_refused_before_reading() -> None:
    """A tiny file declaring 10**8 neurons: refused at once, naming the limit to raise."""
    body = '<parameter name="tau_m" size="100000000" value="20.0"/>'
    with pytest.raises(FormatError, match=r'<population label="p">: size=100000000 neurons '
                                          r"exceeds the reader's limit of 10000000; .*raise .*"
                                          r"MAX_POPULATION_SIZE"):
        from_xml(_doc(body, size=10**8))


def test_huge_run_length_array_is_refused_before_allocating() -> None:
    """2**31 values declared as one run of a 2.4 KB file: a FormatError, no allocation."""
    raw = np.array([1, 2**31], dtype="<u4").tobytes()
    body = (f'<initial name="v" size="{2**31}" dtype="u4" encoding="runs" runs="1">'
            f"{_b64(raw)}</initial>")
    with pytest.raises(FormatError, match=r'<initial name="v">: size=2147483648 values '
                                          r"exceeds the reader's limit of 100000000; .*"
                                          r"MAX_ARRAY_SIZE"):
        from_xml(_doc(body))


def test_more_runs_than_values_are_refused() -> None:
    raw = np.array([1, 2, 3, 1, 1, 1], dtype="<u1").tobytes()
    body = (f'<initial name="v" size="2" dtype="u1" encoding="runs" runs="3">'
            f"{_b64(raw)}</initial>")
    with pytest.raises(FormatError, match=r'<initial name="v">: runs=3 exceeds size=2; .*'
                                          r"fix runs or size"):
        from_xml(_doc(body))


def test_zlib_bomb_is_refused_without_inflating_it() -> None:
    """A stream inflating to 256 MiB, declared as 3 values: refused after 24 bytes."""
    bomb = zlib.compressobj(9)
    raw = b"".join(bomb.compress(b"\x00" * 2**24) for _ in range(16)) + bomb.flush()
    body = (f'<initial name="v" size="3" dtype="f8" compression="zlib">{_b64(raw)}'
            "</initial>")
    with pytest.raises(FormatError, match=r'<initial name="v">: the compressed array data '
                                          r"inflates beyond the 24 bytes its declared size "
                                          r"needs; fix the size or the data"):
        from_xml(_doc(body))


def test_raised_limit_reads_a_bigger_array() -> None:
    """The limits are module constants a user with a trusted file can raise."""
    raw = np.array([7, 5], dtype="<u1").tobytes()
    body = (f'<initial name="v" size="5" dtype="u1" encoding="runs" runs="1">'
            f"{_b64(raw)}</initial>")
    with mock.patch.object(xml_arrays, "MAX_ARRAY_SIZE", 4):
        with pytest.raises(FormatError, match="limit of 4"):
            from_xml(_doc(body, size=5))
    net = from_xml(_doc(body, size=5))
    assert list(net.populations[0].initial["v"]) == [7.0] * 5
