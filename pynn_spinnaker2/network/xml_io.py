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

import binascii
import zlib
from dataclasses import fields
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
#: Array element types (little-endian), narrowest integer first.
INT_DTYPES = ("u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8")
DTYPES = (*INT_DTYPES, "f4", "f8")


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


# -- arrays --------------------------------------------------------------------------------
def _narrow(values: np.ndarray) -> str:
    """The narrowest little-endian integer type holding every value."""
    if values.size == 0:
        return "u1"
    lo, hi = int(values.min()), int(values.max())
    for dtype in INT_DTYPES:
        info = np.iinfo(np.dtype(dtype))
        if info.min <= lo and hi <= info.max:
            return dtype
    return "i8"


def _encode(payload: bytes, compress: bool) -> str:
    if compress:
        payload = zlib.compress(payload, 1)
    return binascii.b2a_base64(payload, newline=False).decode("ascii")


def _array(parent: etree._Element, tag: str, values: np.ndarray, name: str | None = None,
           compress: bool = False) -> etree._Element:
    values = np.asarray(values).reshape(-1)
    el = etree.SubElement(parent, _q(tag))
    if name is not None:
        el.set("name", name)
    el.set("size", str(values.size))
    integer = values.dtype.kind in "biu"
    if integer:
        values = values.astype(np.int64, copy=False)
    else:
        values = values.astype(float, copy=False)
    first = values[0] if values.size else None
    # A constant array is one attribute; floats are compared bit for bit, so that -0.0
    # next to 0.0 is kept.
    bits = values if integer else values.view(np.int64)
    if values.size and (values.strides == (0,) or (bits == bits[0]).all()):
        el.set("value", str(int(first)) if integer else _xs_double(float(first)))
        if integer:
            el.set("dtype", "i8")
        return el
    dtype = _narrow(values) if integer else "f8"
    el.set("dtype", dtype)
    if integer and values.size > 64 and values.strides != (0,):
        changed = values[1:] != values[:-1]
        if np.count_nonzero(changed) * 4 < values.size:
            starts = np.flatnonzero(np.r_[True, changed])
            counts = np.diff(np.r_[starts, values.size])
            run_dtype = _narrow(np.r_[values[starts], counts])
            el.set("dtype", run_dtype)
            el.set("encoding", "runs")
            el.set("runs", str(starts.size))
            raw = np.concatenate((values[starts], counts)).astype(f"<{run_dtype}").tobytes()
            _payload(el, raw, compress)
            return el
    _payload(el, values.astype(f"<{dtype}", copy=False).tobytes(), compress)
    return el


def _payload(el: etree._Element, raw: bytes, compress: bool) -> None:
    if compress:
        el.set("compression", "zlib")
    el.text = _encode(raw, compress)


def _where(el: etree._Element) -> str:
    name = f' name="{el.get("name")}"' if el.get("name") else ""
    return f"line {el.sourceline}, <{etree.QName(el).localname}{name}>"


def _decode(el: etree._Element) -> bytes:
    text = el.text or ""
    try:
        raw = _a2b(text)
    except (binascii.Error, ValueError):
        try:  # tolerate line breaks and indentation inside hand-edited data
            raw = _a2b("".join(text.split()))
        except (binascii.Error, ValueError) as exc:
            raise FormatError(f"{_where(el)}: the array data is not valid base64 ({exc})"
                              ) from exc
    if el.get("compression") == "zlib":
        try:
            raw = zlib.decompress(raw)
        except zlib.error as exc:
            raise FormatError(f"{_where(el)}: the compressed array data is corrupt ({exc})"
                              ) from exc
    return raw


def _a2b(text: str) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except TypeError:  # Python 3.10: no strict mode
        import base64

        return base64.b64decode(text, validate=True)


def _read_array(el: etree._Element, integer: bool | None = None) -> np.ndarray:
    """The values of an array element, as int64 or float64.

    Parameters
    ----------
    integer
        True: the values must be integers (indices, counts); False: return floats; None:
        as stored.
    """
    size = int(el.get("size"))
    dtype = el.get("dtype", "f8")
    if dtype not in DTYPES:
        raise FormatError(f"{_where(el)}: unknown dtype {dtype!r}; use one of {DTYPES}")
    if el.get("value") is not None:
        if el.get("encoding") is not None or (el.text or "").strip():
            raise FormatError(f"{_where(el)}: an array with a value attribute has no data")
        text = el.get("value").strip()
        as_int = integer if integer is not None else dtype in INT_DTYPES
        if as_int:
            try:
                number = int(text)
            except ValueError:
                value = float(text)
                if not np.isfinite(value) or value != np.round(value):
                    raise FormatError(f"{_where(el)}: expected integers, got value {text!r}"
                                      ) from None
                number = int(value)
            return np.broadcast_to(np.int64(number), (size,))
        # A read-only view of one value: nothing is allocated for a constant weight/delay.
        return np.broadcast_to(np.float64(float(text)), (size,))
    raw = _decode(el)
    item = np.dtype(dtype).itemsize
    if len(raw) % item:
        raise FormatError(f"{_where(el)}: the array holds {len(raw)} bytes, not a whole number "
                          f"of {dtype} values ({item} bytes each)")
    data = np.frombuffer(raw, dtype=f"<{dtype}")
    counts = None
    if el.get("encoding", "base64") == "runs":
        runs = int(el.get("runs", "-1"))
        if runs < 0 or data.size != 2 * runs:
            raise FormatError(f"{_where(el)}: a run-length array needs runs=K and 2K values, "
                              f"got runs={el.get('runs')} and {data.size} values")
        data, counts = data[:runs], data[runs:]
        if dtype not in INT_DTYPES or np.any(counts < 0) or counts.sum() != size:
            raise FormatError(f"{_where(el)}: run lengths add up to {counts.sum()}, but "
                              f"size is {size} (and must be integers)")
    elif data.size != size:
        raise FormatError(f"{_where(el)}: the array holds {data.size} values of {dtype}, "
                          f"expected size={size}")
    if integer and dtype not in INT_DTYPES:
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            raise FormatError(f"{_where(el)}: expected integers, got {dtype} values")
    out_type = np.int64 if integer or (integer is None and dtype in INT_DTYPES) else float
    data = data.astype(out_type)
    return data if counts is None else np.repeat(data, counts.astype(np.int64))


def _child(el: etree._Element, tag: str) -> etree._Element:
    found = el.find(_q(tag))
    if found is None:  # the schema requires it; this guards hand-made trees
        raise FormatError(f"line {el.sourceline}: <{etree.QName(el).localname}> lacks <{tag}>")
    return found


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
    root = etree.Element(_q("network"), nsmap={None: NS})
    root.set("version", FORMAT_VERSION)
    root.set("timestep", repr(float(network.timestep)))
    root.set("seed", str(int(network.seed)))
    machine = etree.SubElement(root, _q("machine"))
    for f in fields(Machine):
        value = getattr(network.machine, f.name)
        machine.set(f.name, str(value).lower() if isinstance(value, bool) else repr(value))
    for pop in network.populations:
        _write_population(root, pop, compress)
    for proj in network.projections:
        el = etree.SubElement(root, _q("projection"), label=proj.label, pre=proj.pre,
                              post=proj.post, receptor=proj.receptor, synapse=proj.synapse)
        _array(el, "pre_idx", np.asarray(proj.pre_idx, dtype=np.int64), compress=compress)
        _array(el, "post_idx", np.asarray(proj.post_idx, dtype=np.int64), compress=compress)
        _array(el, "weight", np.asarray(proj.weight, dtype=float), compress=compress)
        _array(el, "delay", np.asarray(proj.delay, dtype=float), compress=compress)
        for name, values in proj.params.items():
            _array(el, "parameter", np.asarray(values, dtype=float), name, compress)
    for src in network.current_sources:
        el = etree.SubElement(root, _q("current_source"), label=src.label, kind=src.kind)
        for name, value in src.params.items():
            p = _array(el, "parameter", np.atleast_1d(np.asarray(value, dtype=float)), name)
            if np.ndim(value) == 0:
                p.set("scalar", "true")
        for label, idx in src.targets:
            target = etree.SubElement(el, _q("target"), population=label)
            _array(target, "indices", np.asarray(idx, dtype=np.int64), compress=compress)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_population(root: etree._Element, pop: PopulationSpec, compress: bool) -> None:
    el = etree.SubElement(root, _q("population"), label=pop.label, model=pop.model,
                          size=str(pop.size))
    if pop.max_per_core is not None:
        el.set("max_per_core", str(pop.max_per_core))
    for name, values in pop.params.items():
        _array(el, "parameter", np.asarray(values, dtype=float), name, compress)
    for name, values in pop.initial.items():
        _array(el, "initial", np.asarray(values, dtype=float), name, compress)
    if pop.spike_times is not None:
        st = etree.SubElement(el, _q("spike_times"))
        _array(st, "counts", np.array([len(t) for t in pop.spike_times], dtype=np.int64),
               compress=compress)
        times = [np.asarray(t, float).reshape(-1) for t in pop.spike_times]
        _array(st, "times", np.concatenate(times) if times else np.zeros(0),
               compress=compress)
    for variable, spec in pop.record.items():
        rec = etree.SubElement(el, _q("record"), variable=variable,
                               sampling_interval=repr(float(spec.sampling_interval)))
        _array(rec, "indices", np.asarray(spec.indices, dtype=np.int64), compress=compress)


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
    machine_el = _child(root, "machine")
    kwargs: dict[str, object] = {}
    for f in fields(Machine):
        raw = machine_el.get(f.name)
        if raw is None:
            continue  # optional in the schema: the default of this version
        kind = type(getattr(Machine(), f.name))
        kwargs[f.name] = raw in ("true", "1") if kind is bool else kind(raw)
    pops = tuple(_read_population(el) for el in root.iterfind(_q("population")))
    projections = tuple(_read_projection(el) for el in root.iterfind(_q("projection")))
    sources = tuple(_read_source(el) for el in root.iterfind(_q("current_source")))
    try:
        machine = Machine(**kwargs)
    except ValueError as exc:
        raise FormatError(f"line {machine_el.sourceline}, <machine>: {exc}") from exc
    return Network(float(root.get("timestep")), pops, projections, sources, machine,
                   int(root.get("seed")))


def _read_projection(el: etree._Element) -> ProjectionSpec:
    pre_idx = _read_array(_child(el, "pre_idx"), integer=True)
    post_idx = _read_array(_child(el, "post_idx"), integer=True)
    weight = _read_array(_child(el, "weight"), integer=False)
    delay = _read_array(_child(el, "delay"), integer=False)
    params = {p.get("name"): _read_array(p, integer=False)
              for p in el.iterfind(_q("parameter"))}
    for name, values in (("post_idx", post_idx), ("weight", weight), ("delay", delay),
                         *params.items()):
        if values.size != pre_idx.size:
            raise FormatError(f"line {el.sourceline}, projection {el.get('label')!r}: "
                              f"{name} has {values.size} values but pre_idx has "
                              f"{pre_idx.size}")
    return ProjectionSpec(el.get("label"), el.get("pre"), el.get("post"), pre_idx, post_idx,
                          weight, delay, el.get("receptor"), el.get("synapse"), params)


def _read_population(el: etree._Element) -> PopulationSpec:
    size = int(el.get("size"))
    label = el.get("label")
    params = {p.get("name"): _read_array(p, integer=False)
              for p in el.iterfind(_q("parameter"))}
    initial = {p.get("name"): _read_array(p, integer=False)
               for p in el.iterfind(_q("initial"))}
    for name, values in {**params, **initial}.items():
        if values.size != size:
            raise FormatError(f"line {el.sourceline}, population {label!r}: {name!r} has "
                              f"{values.size} values, the population {size} neurons")
    spike_times = None
    st = el.find(_q("spike_times"))
    if st is not None:
        counts = _read_array(_child(st, "counts"), integer=True)
        times = _read_array(_child(st, "times"), integer=False)
        if counts.size != size or np.any(counts < 0) or counts.sum() != times.size:
            raise FormatError(f"line {st.sourceline}, population {label!r}: spike time "
                              f"counts ({counts.size} of them, adding up to {counts.sum()}) "
                              f"do not match {size} neurons and {times.size} times")
        spike_times = tuple(np.split(times, np.cumsum(counts)[:-1]))
    record = {r.get("variable"): RecordSpec(_read_array(_child(r, "indices"), integer=True),
                                            float(r.get("sampling_interval")))
              for r in el.iterfind(_q("record"))}
    per_core = el.get("max_per_core")
    return PopulationSpec(label, el.get("model"), size, params, initial, spike_times, record,
                          int(per_core) if per_core else None)


def _read_source(el: etree._Element) -> CurrentSourceSpec:
    params: dict[str, np.ndarray | float] = {}
    for p in el.iterfind(_q("parameter")):
        values = _read_array(p, integer=False)
        scalar = p.get("scalar") == "true" or (
            p.get("scalar") is None and p.get("name") not in ARRAY_SOURCE_PARAMS)
        if scalar and values.size != 1:
            raise FormatError(f"{_where(p)}: a scalar parameter needs size=1")
        params[p.get("name")] = float(values[0]) if scalar else values
    targets = tuple((t.get("population"), _read_array(_child(t, "indices"), integer=True))
                    for t in el.iterfind(_q("target")))
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
