"""The NIR reader and importer against mangled files: every failure is a clear error of
ours (FormatError for the file, NetworkError / NotImplementedError for a graph we cannot
run) that names where, never an exception from deep inside h5py or nir. The file holds an
EGRU extension node (a marked subgraph) too."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.errors import FormatError, NetworkError
from pynn_spinnaker2.frontends.nir_egru import EGRU
from pynn_spinnaker2.frontends.nir_lower import nir_to_network
from pynn_spinnaker2.frontends.nir_read import read_nir
from pynn_spinnaker2.network import validate

CLEAR = (FormatError, NetworkError, NotImplementedError)


def _graph() -> nir.NIRGraph:
    rng = np.random.default_rng(0)
    sub = nir.NIRGraph(nodes={"input": nir.Input(input_type=np.array([4])),
                              "lif": nir.LIF(tau=np.full(4, 0.01), r=np.ones(4),
                                             v_leak=np.zeros(4), v_threshold=np.ones(4)),
                              "rec": nir.Linear(weight=rng.normal(size=(4, 4))),
                              "output": nir.Output(output_type=np.array([4]))},
                       edges=[("input", "lif"), ("lif", "rec"), ("rec", "lif"),
                              ("lif", "output")], type_check=False)
    nodes = {"input": nir.Input(input_type=np.array([1, 5, 5])),
             "conv": nir.Conv2d(input_shape=(5, 5), weight=rng.normal(size=(2, 1, 3, 3)),
                                stride=1, padding=0, dilation=1, groups=1, bias=np.zeros(2)),
             "pool": nir.SumPool2d(kernel_size=np.array([3, 3]), stride=np.array([1, 1]),
                                   padding=np.array([0, 0])),
             "flat": nir.Flatten(input_type=np.array([2, 1, 1]), start_dim=0),
             "fc": nir.Affine(weight=rng.normal(size=(4, 2)), bias=np.ones(4)),
             "delay": nir.Delay(delay=np.full(4, 2e-3)),
             "layer": sub,
             "w": nir.Linear(weight=rng.normal(size=(3, 4))),
             "cuba": nir.CubaLIF(tau_syn=np.full(3, 5e-3), tau_mem=np.full(3, 0.01),
                                 r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3)),
             "output": nir.Output(output_type=np.array([3])),
             "egru": EGRU(weight_ih=rng.normal(size=(9, 4)), weight_hh=rng.normal(size=(9, 3)),
                          bias_ih=rng.normal(size=9), bias_hh=rng.normal(size=9),
                          threshold=np.full(3, 0.2), zoneout=0.1),
             "egru_output": nir.Output(output_type=np.array([3]))}
    edges = [("input", "conv"), ("conv", "pool"), ("pool", "flat"), ("flat", "fc"),
             ("fc", "delay"), ("delay", "layer"), ("layer", "w"), ("w", "cuba"),
             ("cuba", "output"), ("layer", "egru"), ("egru", "egru_output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


@pytest.fixture(scope="module")
def valid_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nir") / "valid.nir"
    nir.write(path, _graph())
    return path


def _load(path: Path):
    """Read and import; raise only our clear errors. Returns the Network."""
    graph = read_nir(path)
    network = nir_to_network(graph, dt=1e-3).network
    validate(network)
    return network


def _assert_clear(path: Path) -> None:
    try:
        _load(path)
    except CLEAR as exc:
        assert str(exc), "an error must say what is wrong"
    # any other exception type fails the test


def test_the_valid_file_imports(valid_file) -> None:
    """The unmangled file imports as the graph's populations (the input image, the nested
    LIF layer, the CubaLIF and the EGRU) with every projection."""
    network = _load(valid_file)
    assert sorted((p.label, p.size, p.model) for p in network.populations) == [
        ("cuba", 3, "NIR_CubaLIF"), ("egru", 3, "EGRU"), ("input", 25, "SpikeSourceArray"),
        ("layer.lif", 4, "NIR_LIF")]
    assert len(network.projections) == 12


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_and_overwritten_bytes(valid_file, tmp_path, data) -> None:
    raw = bytearray(valid_file.read_bytes())
    how = data.draw(st.sampled_from(["truncate", "overwrite", "flip"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    if how == "truncate":
        raw = raw[:pos]
    elif how == "overwrite":
        junk = data.draw(st.binary(min_size=1, max_size=64))
        raw[pos:pos + len(junk)] = junk
    else:
        raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    path = tmp_path / "mangled.nir"
    path.write_bytes(bytes(raw))
    if how == "truncate":
        with pytest.raises(CLEAR):
            _load(path)
    else:
        _assert_clear(path)


def _datasets(path: Path) -> list[str]:
    names: list[str] = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(n for n in names if n.startswith("node/"))


REPLACEMENTS = {
    "string": lambda v: "not a number",
    "nan": lambda v: np.full(np.shape(v), np.nan) if np.ndim(v) else np.nan,
    "wrong shape": lambda v: np.ones((7, 3)),
    "empty": lambda v: np.zeros(0),
    "negative": lambda v: -np.abs(np.asarray(v, dtype=float)) - 1.0
    if np.asarray(v).dtype.kind in "fiu" else v,
    "unknown type": lambda v: "Mystery",
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mangled_datasets(valid_file, tmp_path, data) -> None:
    path = tmp_path / "mangled.nir"
    shutil.copy(valid_file, path)
    target = data.draw(st.sampled_from(_datasets(valid_file)))
    action = data.draw(st.sampled_from(["delete", *REPLACEMENTS]))
    with h5py.File(path, "r+") as f:
        old = f[target][()]
        del f[target]
        if action != "delete":
            new = REPLACEMENTS[action](old)
            if isinstance(new, str):
                f.create_dataset(target, data=new, dtype=h5py.string_dtype())
            else:
                f.create_dataset(target, data=new)
    _assert_clear(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f["node/nodes/layer/nodes"].move("lif", "lif2"),
     r"node 'layer': edge \('input', 'lif'\) names node 'lif', which is not in the graph"),
    (lambda f: f.__delitem__("node"), "no 'node' group"),
    (lambda f: f.__delitem__("node/nodes/fc/bias"),
     r"node 'fc' \(Affine\): missing \['bias'\]"),
    (lambda f: f["node/nodes/cuba"].create_dataset("colour", data=1.0),
     r"node 'cuba' \(CubaLIF\): unexpected entries \['colour'\]"),
    (lambda f: (f.__delitem__("node/nodes/cuba/type"),
                f["node/nodes/cuba"].create_dataset("type", data="EGRU2",
                                                    dtype=h5py.string_dtype())),
     r"node 'cuba': unknown NIR node type 'EGRU2'"),
    (lambda f: (f.__delitem__("node/nodes/layer/nodes/lif/tau"),
                f["node/nodes/layer/nodes/lif"].create_dataset("tau", data=np.ones(3))),
     r"node 'layer.lif' \(LIF\).*same shape"),
])
def test_errors_name_the_place(valid_file, tmp_path, mutate, message) -> None:
    path = tmp_path / "bad.nir"
    shutil.copy(valid_file, path)
    with h5py.File(path, "r+") as f:
        mutate(f)
    with pytest.raises(FormatError, match=message):
        read_nir(path)


def test_not_a_file_and_not_hdf5(tmp_path) -> None:
    with pytest.raises(FormatError, match="no such NIR file"):
        read_nir(tmp_path / "missing.nir")
    (tmp_path / "text.nir").write_text("hello")
    with pytest.raises(FormatError, match="text.nir: not a readable HDF5 file"):
        read_nir(tmp_path / "text.nir")


def test_a_file_without_edges_is_refused_clearly(valid_file, tmp_path) -> None:
    """No edge at all: the EGRU's input maps meet nothing (once an IndexError deep inside)."""
    path = tmp_path / "no_edges.nir"
    shutil.copy(valid_file, path)
    with h5py.File(path, "r+") as f:
        del f["node/edges"]
        f.create_dataset("node/edges", data=np.zeros(0))
    with pytest.raises(NetworkError, match="has no input edge"):
        _load(path)


@pytest.mark.parametrize(("shape", "message"), [
    ([10**8], r"node 'input' \(Input\): shape \[100000000\] declares 100000000 neurons, "
              r"beyond the reader's limit of 10000000; .*raise .*MAX_POPULATION_SIZE"),
    ([10**6, 10**6, 10**6], r"declares 1000000000000000000 neurons"),
    ([4, 0], r"node 'input' \(Input\): 'shape' must be whole numbers >= 1, got \[4, 0\]"),
    ([2.5], r"'shape' must be whole numbers >= 1, got \[2.5\]"),
])
def test_huge_or_bad_declared_shapes_are_refused_before_building(valid_file, tmp_path, shape,
                                                                 message) -> None:
    """A small file declaring an Input of 10**8 neurons: a FormatError at once."""
    path = tmp_path / "huge.nir"
    shutil.copy(valid_file, path)
    with h5py.File(path, "r+") as f:
        del f["node/nodes/input/shape"]
        f["node/nodes/input"].create_dataset("shape", data=np.array(shape))
    with pytest.raises(FormatError, match=message):
        read_nir(path)
