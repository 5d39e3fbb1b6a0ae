"""The XML intermediate form of a Network: versioned, schema-validated, lossless.

``to_xml``/``from_xml`` convert between a :class:`Network` and bytes; ``save``/``load`` use
files. Every document is validated against ``network.xsd`` (lxml) before it is read, and
every error names the place in the document that is wrong. The format is described in
``doc/xml_format.md``.

Arrays (parameters, connection lists, spike times...) are stored compactly, so that a
network of ten million synapses round-trips in a fraction of a second:

* ``value="x"``: every element is ``x`` (a homogeneous parameter, a constant weight); the
  reader returns a read-only broadcast view, so a constant array costs no memory;
* ``encoding="base64"`` (the default): the raw little-endian bytes of ``dtype``, in base64;
  integers are written in the narrowest type that holds them (``u1`` ... ``i8``), floats as
  ``f8``, so every value round-trips exactly;
* ``encoding="runs"``: runs of equal values, ``runs="K"`` of them: K values then K counts,
  each in ``dtype`` (a connection list sorted by target stores its targets this way);
* ``compression="zlib"``: the bytes above are zlib-compressed before base64 (``save`` does
  this by default; the compile step does not, as it costs more time than it saves).

The reader checks every array: its dtype, its byte length against ``size``, run counts
against ``size``, and the compressed stream.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
from lxml import etree

from ..errors import FormatError
from ..machine import Machine
from . import xml_arrays
from .spec import (
    FORMAT_VERSION,
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
)
from .xml_arrays import NS, child, declared_count, q, read_array, where, write_array

SCHEMA_PATH = Path(__file__).with_name("network.xsd")
_SCHEMA: etree.XMLSchema | None = None
#: Current-source parameters that are arrays; every other one is a number.
ARRAY_SOURCE_PARAMS = ("times", "amplitudes")
def schema() -> etree.XMLSchema:
    """The XML schema (loaded once)."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    return _SCHEMA


# -- writer ----------------------------------------------------------------------------------
def to_xml(network: Network, compress: bool = False) -> bytes:
    """The network as a schema-valid XML document.

    Parameters
    ----------
    network
        The network.
    compress
        zlib-compress the array data (smaller files, slower).
    """
    root = etree.Element(q("network"), nsmap={None: NS})
    root.set("version", FORMAT_VERSION)
    root.set("timestep", repr(float(network.timestep)))
    root.set("seed", str(int(network.seed)))
    machine = etree.SubElement(root, q("machine"))
    for f in fields(Machine):
        value = getattr(network.machine, f.name)
        machine.set(f.name, str(value).lower() if isinstance(value, bool) else repr(value))
    for pop in network.populations:
        _write_population(root, pop, compress)
    for proj in network.projections:
        el = etree.SubElement(root, q("projection"), label=proj.label, pre=proj.pre,
                              post=proj.post, receptor=proj.receptor, synapse=proj.synapse)
        write_array(el, "pre_idx", np.asarray(proj.pre_idx, dtype=np.int64), compress=compress)
        write_array(el, "post_idx", np.asarray(proj.post_idx, dtype=np.int64), compress=compress)
        write_array(el, "weight", np.asarray(proj.weight, dtype=float), compress=compress)
        write_array(el, "delay", np.asarray(proj.delay, dtype=float), compress=compress)
        for name, values in proj.params.items():
            write_array(el, "parameter", np.asarray(values, dtype=float), name, compress)
    for src in network.current_sources:
        el = etree.SubElement(root, q("current_source"), label=src.label, kind=src.kind)
        for name, value in src.params.items():
            p = write_array(el, "parameter", np.atleast_1d(np.asarray(value, dtype=float)), name)
            if np.ndim(value) == 0:
                p.set("scalar", "true")
        for label, idx in src.targets:
            target = etree.SubElement(el, q("target"), population=label)
            write_array(target, "indices", np.asarray(idx, dtype=np.int64), compress=compress)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_population(root: etree._Element, pop: PopulationSpec, compress: bool) -> None:
    el = etree.SubElement(root, q("population"), label=pop.label, model=pop.model,
                          size=str(pop.size))
    if pop.max_per_core is not None:
        el.set("max_per_core", str(pop.max_per_core))
    for name, values in pop.params.items():
        write_array(el, "parameter", np.asarray(values, dtype=float), name, compress)
    for name, values in pop.initial.items():
        write_array(el, "initial", np.asarray(values, dtype=float), name, compress)
    if pop.spike_times is not None:
        st = etree.SubElement(el, q("spike_times"))
        write_array(st, "counts", np.array([len(t) for t in pop.spike_times], dtype=np.int64),
               compress=compress)
        times = [np.asarray(t, float).reshape(-1) for t in pop.spike_times]
        write_array(st, "times", np.concatenate(times) if times else np.zeros(0),
               compress=compress)
        if pop.spike_values is not None:  # graded events: one value per event
            values = [np.asarray(v, float).reshape(-1) for v in pop.spike_values]
            write_array(st, "values", np.concatenate(values) if values else np.zeros(0),
                   compress=compress)
    for variable, spec in pop.record.items():
        rec = etree.SubElement(el, q("record"), variable=variable,
                               sampling_interval=repr(float(spec.sampling_interval)))
        write_array(rec, "indices", np.asarray(spec.indices, dtype=np.int64), compress=compress)


# -- reader ----------------------------------------------------------------------------------
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
    if root is None:
        raise FormatError("the document is empty")
    version = root.get("version")
    if etree.QName(root).localname == "network" and version is not None and (
            version.split(".")[0] != FORMAT_VERSION.split(".")[0]):
        raise FormatError(f"network format version {version} is not supported (this reader "
                          f"reads {FORMAT_VERSION.split('.')[0]}.x, the version it writes is "
                          f"{FORMAT_VERSION})")
    if not schema().validate(root):
        error = schema().error_log.last_error
        raise FormatError(f"line {error.line}: {error.message}")
    try:
        return _read_network(root)
    except FormatError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        # The schema admits it, but a value is out of range (a huge size, an overflowing
        # number): still the file's fault, reported as such.
        raise FormatError(f"unreadable value in the document: {exc}") from exc


def _read_network(root: etree._Element) -> Network:
    machine_el = child(root, "machine")
    kwargs: dict[str, object] = {}
    for f in fields(Machine):
        raw = machine_el.get(f.name)
        if raw is None:
            continue  # optional in the schema: the default of this version
        kind = type(getattr(Machine(), f.name))
        kwargs[f.name] = raw in ("true", "1") if kind is bool else kind(raw)
    pops = tuple(_read_population(el) for el in root.iterfind(q("population")))
    projections = tuple(_read_projection(el) for el in root.iterfind(q("projection")))
    sources = tuple(_read_source(el) for el in root.iterfind(q("current_source")))
    try:
        machine = Machine(**kwargs)
    except ValueError as exc:
        raise FormatError(f"line {machine_el.sourceline}, <machine>: {exc}") from exc
    return Network(float(root.get("timestep")), pops, projections, sources, machine,
                   int(root.get("seed")))


def _read_projection(el: etree._Element) -> ProjectionSpec:
    pre_idx = read_array(child(el, "pre_idx"), integer=True)
    post_idx = read_array(child(el, "post_idx"), integer=True)
    weight = read_array(child(el, "weight"), integer=False)
    delay = read_array(child(el, "delay"), integer=False)
    params = {p.get("name"): read_array(p, integer=False)
              for p in el.iterfind(q("parameter"))}
    for name, values in (("post_idx", post_idx), ("weight", weight), ("delay", delay),
                         *params.items()):
        if values.size != pre_idx.size:
            raise FormatError(f"line {el.sourceline}, projection {el.get('label')!r}: "
                              f"{name} has {values.size} values but pre_idx has "
                              f"{pre_idx.size}")
    return ProjectionSpec(el.get("label"), el.get("pre"), el.get("post"), pre_idx, post_idx,
                          weight, delay, el.get("receptor"), el.get("synapse"), params)


def _read_population(el: etree._Element) -> PopulationSpec:
    size = declared_count(el, "size", xml_arrays.MAX_POPULATION_SIZE, "neurons",
                          "MAX_POPULATION_SIZE")
    label = el.get("label")
    params = {p.get("name"): read_array(p, integer=False)
              for p in el.iterfind(q("parameter"))}
    initial = {p.get("name"): read_array(p, integer=False)
               for p in el.iterfind(q("initial"))}
    for name, values in {**params, **initial}.items():
        if values.size != size:
            raise FormatError(f"line {el.sourceline}, population {label!r}: {name!r} has "
                              f"{values.size} values, the population {size} neurons")
    spike_times = spike_values = None
    st = el.find(q("spike_times"))
    if st is not None:
        counts = read_array(child(st, "counts"), integer=True)
        times = read_array(child(st, "times"), integer=False)
        if counts.size != size or np.any(counts < 0) or counts.sum() != times.size:
            raise FormatError(f"line {st.sourceline}, population {label!r}: spike time "
                              f"counts ({counts.size} of them, adding up to {counts.sum()}) "
                              f"do not match {size} neurons and {times.size} times")
        spike_times = tuple(np.split(times, np.cumsum(counts)[:-1]))
        values_el = st.find(q("values"))
        if values_el is not None:
            values = read_array(values_el, integer=False)
            if values.size != times.size:
                raise FormatError(f"line {values_el.sourceline}, population {label!r}: "
                                  f"{values.size} event values for {times.size} event times")
            spike_values = tuple(np.split(values, np.cumsum(counts)[:-1]))
    record = {r.get("variable"): RecordSpec(read_array(child(r, "indices"), integer=True),
                                            float(r.get("sampling_interval")))
              for r in el.iterfind(q("record"))}
    per_core = el.get("max_per_core")
    return PopulationSpec(label, el.get("model"), size, params, initial, spike_times, record,
                          int(per_core) if per_core else None, spike_values)


def _read_source(el: etree._Element) -> CurrentSourceSpec:
    params: dict[str, np.ndarray | float] = {}
    for p in el.iterfind(q("parameter")):
        values = read_array(p, integer=False)
        scalar = p.get("scalar") == "true" or (
            p.get("scalar") is None and p.get("name") not in ARRAY_SOURCE_PARAMS)
        if scalar and values.size != 1:
            raise FormatError(f"{where(p)}: a scalar parameter needs size=1")
        params[p.get("name")] = float(values[0]) if scalar else values
    targets = tuple((t.get("population"), read_array(child(t, "indices"), integer=True))
                    for t in el.iterfind(q("target")))
    return CurrentSourceSpec(el.get("label"), el.get("kind"), params, targets)


def save(network: Network, path: str | Path, compress: bool = True) -> Path:
    """Write ``network`` to ``path`` as XML (array data zlib-compressed unless
    ``compress=False``)."""
    path = Path(path)
    path.write_bytes(to_xml(network, compress=compress))
    return path


def load(path: str | Path) -> Network:
    """Read a Network from an XML file (see :func:`from_xml`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read the network file ({exc.strerror})") from exc
    try:
        return from_xml(data)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from exc
