"""The XML intermediate form of a Network: versioned, schema-validated, lossless.

``to_xml``/``from_xml`` convert between a :class:`Network` and bytes; ``save``/``load`` use
files. Every document is validated against ``network.xsd`` (lxml) before it is read, and
every error names the place in the document that is wrong.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
from lxml import etree

from ..errors import FormatError
from ..machine import Machine
from .model import (
    FORMAT_VERSION,
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
)

NS = "urn:pynn-spinnaker2:network:1"
SCHEMA_PATH = Path(__file__).with_name("network.xsd")
_SCHEMA: etree.XMLSchema | None = None
#: Current-source parameters that are arrays; every other one is a number.
ARRAY_SOURCE_PARAMS = ("times", "amplitudes")
MACHINE_FIELDS = ("width", "height", "pes_per_chip", "sram_per_pe", "sram_reserved",
                  "dram_per_chip", "router_entries", "clock_hz", "wrap_around")


def schema() -> etree.XMLSchema:
    """The XML schema (loaded once)."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    return _SCHEMA


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _xs_double(value: float) -> str:
    """A float as XML Schema writes doubles (INF, -INF, NaN; repr round-trips the rest)."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(float(value))


def _array(parent: etree._Element, tag: str, values: np.ndarray, name: str | None = None
           ) -> etree._Element:
    values = np.asarray(values)
    el = etree.SubElement(parent, _q(tag))
    if name is not None:
        el.set("name", name)
    el.set("size", str(values.size))
    integer = np.issubdtype(values.dtype, np.integer)
    if values.size and np.all(values == values.flat[0]) and (
            integer or np.isfinite(values.flat[0]) or np.isinf(values.flat[0])):
        el.set("value", _xs_double(float(values.flat[0])))
        if integer:
            el.set("dtype", "i8")
    else:
        dtype = "i8" if integer else "f8"
        el.set("dtype", dtype)
        el.text = base64.b64encode(values.astype(f"<{dtype}").tobytes()).decode("ascii")
    return el


def _read_array(el: etree._Element) -> np.ndarray:
    size = int(el.get("size"))
    dtype = el.get("dtype", "f8")
    where = f"line {el.sourceline}, <{etree.QName(el).localname}>"
    if el.get("value") is not None:
        value = float(el.get("value"))
        return np.full(size, int(value) if dtype == "i8" else value,
                       dtype=np.int64 if dtype == "i8" else float)
    try:
        raw = base64.b64decode((el.text or "").strip(), validate=True)
    except ValueError as exc:
        raise FormatError(f"{where}: the array is not valid base64 ({exc})") from exc
    data = np.frombuffer(raw, dtype=f"<{dtype}") if len(raw) % 8 == 0 else None
    if data is None or data.size != size:
        raise FormatError(f"{where}: the array holds {len(raw)} bytes, expected {size} "
                          f"values of 8 bytes")
    return data.astype(np.int64 if dtype == "i8" else float)


def to_xml(network: Network) -> bytes:
    """The network as a schema-valid XML document."""
    root = etree.Element(_q("network"), nsmap={None: NS})
    root.set("version", FORMAT_VERSION)
    root.set("timestep", repr(float(network.timestep)))
    root.set("seed", str(int(network.seed)))
    machine = etree.SubElement(root, _q("machine"))
    for name in MACHINE_FIELDS:
        value = getattr(network.machine, name)
        machine.set(name, str(value).lower() if isinstance(value, bool) else repr(value))
    for pop in network.populations:
        el = etree.SubElement(root, _q("population"), label=pop.label, model=pop.model,
                              size=str(pop.size))
        if pop.max_per_core is not None:
            el.set("max_per_core", str(pop.max_per_core))
        for name, values in pop.params.items():
            _array(el, "parameter", values, name)
        for name, values in pop.initial.items():
            _array(el, "initial", values, name)
        if pop.spike_times is not None:
            st = etree.SubElement(el, _q("spike_times"))
            _array(st, "counts", np.array([len(t) for t in pop.spike_times], dtype=np.int64))
            times = [np.asarray(t, float) for t in pop.spike_times]
            _array(st, "times", np.concatenate(times) if times else np.zeros(0))
            if pop.spike_values is not None:  # graded events: one value per event
                values = [np.asarray(v, float) for v in pop.spike_values]
                _array(st, "values", np.concatenate(values) if values else np.zeros(0))
        for variable, spec in pop.record.items():
            rec = etree.SubElement(el, _q("record"), variable=variable,
                                   sampling_interval=repr(float(spec.sampling_interval)))
            _array(rec, "indices", np.asarray(spec.indices, dtype=np.int64))
    for proj in network.projections:
        el = etree.SubElement(root, _q("projection"), label=proj.label, pre=proj.pre,
                              post=proj.post, receptor=proj.receptor, synapse=proj.synapse)
        _array(el, "pre_idx", np.asarray(proj.pre_idx, dtype=np.int64))
        _array(el, "post_idx", np.asarray(proj.post_idx, dtype=np.int64))
        _array(el, "weight", np.asarray(proj.weight, dtype=float))
        _array(el, "delay", np.asarray(proj.delay, dtype=float))
        for name, values in proj.params.items():
            _array(el, "parameter", np.asarray(values, dtype=float), name)
    for src in network.current_sources:
        el = etree.SubElement(root, _q("current_source"), label=src.label, kind=src.kind)
        for name, value in src.params.items():
            _array(el, "parameter", np.atleast_1d(np.asarray(value, dtype=float)), name)
        for label, idx in src.targets:
            target = etree.SubElement(el, _q("target"), population=label)
            _array(target, "indices", np.asarray(idx, dtype=np.int64))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def from_xml(data: bytes | str) -> Network:
    """Parse and validate an XML document into a Network.

    Raises
    ------
    FormatError
        Malformed XML, a schema violation, an unknown version or bad array data; the
        message gives the line.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        # huge_tree: connection lists of millions of synapses are long text nodes.
        root = etree.fromstring(data, parser=etree.XMLParser(
            resolve_entities=False, no_network=True, huge_tree=True))
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"not well-formed XML: {exc}") from exc
    version = root.get("version")
    if version is not None and version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise FormatError(f"network format version {version} is not supported (this is "
                          f"{FORMAT_VERSION})")
    if not schema().validate(root):
        error = schema().error_log.last_error
        raise FormatError(f"line {error.line}: {error.message}")
    machine_el = root.find(_q("machine"))
    kwargs = {}
    for name in MACHINE_FIELDS:
        raw = machine_el.get(name)
        kwargs[name] = (raw == "true" if name == "wrap_around"
                        else float(raw) if name == "clock_hz" else int(raw))
    pops = tuple(_read_population(el) for el in root.iterfind(_q("population")))
    projections = tuple(
        ProjectionSpec(el.get("label"), el.get("pre"), el.get("post"),
                       _read_array(el.find(_q("pre_idx"))),
                       _read_array(el.find(_q("post_idx"))),
                       _read_array(el.find(_q("weight"))).astype(float),
                       _read_array(el.find(_q("delay"))).astype(float),
                       el.get("receptor"), el.get("synapse"),
                       {p.get("name"): _read_array(p).astype(float)
                        for p in el.iterfind(_q("parameter"))})
        for el in root.iterfind(_q("projection")))
    sources = tuple(_read_source(el) for el in root.iterfind(_q("current_source")))
    return Network(float(root.get("timestep")), pops, projections, sources,
                   Machine(**kwargs), int(root.get("seed")))


def _read_population(el: etree._Element) -> PopulationSpec:
    size = int(el.get("size"))
    params = {p.get("name"): _read_array(p).astype(float) for p in el.iterfind(_q("parameter"))}
    initial = {p.get("name"): _read_array(p).astype(float) for p in el.iterfind(_q("initial"))}
    spike_times = spike_values = None
    st = el.find(_q("spike_times"))
    if st is not None:
        counts = _read_array(st.find(_q("counts"))).astype(np.int64)
        times = _read_array(st.find(_q("times"))).astype(float)
        if counts.sum() != times.size or np.any(counts < 0):
            raise FormatError(f"line {st.sourceline}: spike time counts add up to "
                              f"{counts.sum()} but {times.size} times are stored")
        spike_times = tuple(np.split(times, np.cumsum(counts)[:-1]))
        values_el = st.find(_q("values"))
        if values_el is not None:
            values = _read_array(values_el).astype(float)
            if values.size != times.size:
                raise FormatError(f"line {values_el.sourceline}: {values.size} event values "
                                  f"for {times.size} event times")
            spike_values = tuple(np.split(values, np.cumsum(counts)[:-1]))
    record = {r.get("variable"): RecordSpec(_read_array(r.find(_q("indices"))),
                                            float(r.get("sampling_interval")))
              for r in el.iterfind(_q("record"))}
    per_core = el.get("max_per_core")
    return PopulationSpec(el.get("label"), el.get("model"), size, params, initial,
                          spike_times, record, int(per_core) if per_core else None,
                          spike_values)


def _read_source(el: etree._Element) -> CurrentSourceSpec:
    params: dict[str, np.ndarray | float] = {}
    for p in el.iterfind(_q("parameter")):
        values = _read_array(p).astype(float)
        params[p.get("name")] = values if p.get("name") in ARRAY_SOURCE_PARAMS else float(
            values[0]) if values.size else float("nan")
    targets = tuple((t.get("population"), _read_array(t.find(_q("indices"))))
                    for t in el.iterfind(_q("target")))
    return CurrentSourceSpec(el.get("label"), el.get("kind"), params, targets)


def save(network: Network, path: str | Path) -> Path:
    """Write ``network`` to ``path`` as XML."""
    path = Path(path)
    path.write_bytes(to_xml(network))
    return path


def load(path: str | Path) -> Network:
    """Read a Network from an XML file (see :func:`from_xml`)."""
    path = Path(path)
    try:
        return from_xml(path.read_bytes())
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from exc
