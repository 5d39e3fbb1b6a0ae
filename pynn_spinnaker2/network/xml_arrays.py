"""Arrays in the network's XML form: the compact encodings and their checked reader.

The encodings (one value, base64 of the narrowest dtype, runs of equal values, zlib) are
described in :mod:`.xml_io` and ``doc/xml_format.md``; the reader checks every array's dtype,
size, run counts and compressed stream, and names the element at fault.
"""

from __future__ import annotations

import binascii
import zlib

import numpy as np
from lxml import etree

from ..errors import FormatError

NS = "urn:pynn-spinnaker2:network:1"
#: Array element types (little-endian), narrowest integer first.
INT_DTYPES = ("u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8")
DTYPES = (*INT_DTYPES, "f4", "f8")
#: The largest array size a file may declare: the reader refuses a larger ``size`` or
#: ``runs`` before allocating anything. Raise it (``xml_arrays.MAX_ARRAY_SIZE = ...``) to read
#: bigger networks; every array element costs 8 bytes once read.
MAX_ARRAY_SIZE = 100_000_000
#: The largest population size a file may declare; raise it like ``MAX_ARRAY_SIZE``.
MAX_POPULATION_SIZE = 10_000_000


def declared_count(el: etree._Element, attr: str, limit: int | None = None,
                   what: str = "values", limit_name: str = "MAX_ARRAY_SIZE") -> int:
    """The whole number in attribute ``attr`` of ``el``, checked against ``limit``.

    Parameters
    ----------
    el
        The element declaring the count.
    attr
        The attribute (``size``, ``runs``).
    limit
        The largest count accepted (default :data:`MAX_ARRAY_SIZE`).
    what
        What is counted, for the message.
    limit_name
        The module constant that sets ``limit``, named in the message as the remedy.

    Returns
    -------
    int
        The count.

    Raises
    ------
    FormatError
        The attribute is not a whole number >= 0, or it exceeds ``limit``.
    """
    limit = MAX_ARRAY_SIZE if limit is None else limit
    text = el.get(attr)
    try:
        count = int(text)
    except (TypeError, ValueError):
        raise FormatError(f"{where(el)}: {attr}={text!r} is not a whole number") from None
    if count < 0:
        raise FormatError(f"{where(el)}: {attr}={count} is negative")
    if count > limit:
        if attr == "runs":
            raise FormatError(f"{where(el)}: runs={count} exceeds size={limit}; a run-length "
                              f"array has at most one run per value: fix runs or size")
        raise FormatError(f"{where(el)}: {attr}={count} {what} exceeds the reader's limit of "
                          f"{limit}; if the file is trusted, raise "
                          f"pynn_spinnaker2.network.xml_arrays.{limit_name}")
    return count
def q(tag: str) -> str:
    """``tag`` in the format's namespace."""
    return f"{{{NS}}}{tag}"


def xs_double(value: float) -> str:
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


def write_array(parent: etree._Element, tag: str, values: np.ndarray, name: str | None = None,
                compress: bool = False) -> etree._Element:
    """Append ``values`` to ``parent`` as an array element ``tag``, in its most compact
    encoding (see the module docstring of :mod:`.xml_io`)."""
    values = np.asarray(values).reshape(-1)
    el = etree.SubElement(parent, q(tag))
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
        el.set("value", str(int(first)) if integer else xs_double(float(first)))
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


def where(el: etree._Element) -> str:
    """Where ``el`` is, for error messages: its line, tag and name."""
    key = "name" if el.get("name") else "label"
    name = f' {key}="{el.get(key)}"' if el.get(key) else ""
    return f"line {el.sourceline}, <{etree.QName(el).localname}{name}>"


def _decode(el: etree._Element, max_bytes: int) -> bytes:
    """The raw bytes of ``el``'s data; a compressed stream is inflated to at most
    ``max_bytes`` (what the declared size needs), and a longer one is refused."""
    text = el.text or ""
    try:
        raw = _a2b(text)
    except (binascii.Error, ValueError):
        try:  # tolerate line breaks and indentation inside hand-edited data
            raw = _a2b("".join(text.split()))
        except (binascii.Error, ValueError) as exc:
            raise FormatError(f"{where(el)}: the array data is not valid base64 ({exc})"
                              ) from exc
    if el.get("compression") == "zlib":
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(raw, max_bytes)
            if not inflater.unconsumed_tail and not inflater.eof:
                out += inflater.flush()
        except zlib.error as exc:
            raise FormatError(f"{where(el)}: the compressed array data is corrupt ({exc})"
                              ) from exc
        if inflater.unconsumed_tail or len(out) > max_bytes:
            raise FormatError(f"{where(el)}: the compressed array data inflates beyond the "
                              f"{max_bytes} bytes its declared size needs; fix the size or "
                              f"the data")
        raw = out
    return raw


def _a2b(text: str) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except TypeError:  # Python 3.10: no strict mode
        import base64

        return base64.b64decode(text, validate=True)


def read_array(el: etree._Element, integer: bool | None = None) -> np.ndarray:
    """The values of an array element, as int64 or float64.

    Parameters
    ----------
    integer
        True: the values must be integers (indices, counts); False: return floats; None:
        as stored.
    """
    size = declared_count(el, "size")
    dtype = el.get("dtype", "f8")
    if dtype not in DTYPES:
        raise FormatError(f"{where(el)}: unknown dtype {dtype!r}; use one of {DTYPES}")
    runs_encoded = el.get("encoding", "base64") == "runs"
    if runs_encoded:
        declared_count(el, "runs", limit=size, what="runs (at most one per value)")
    if el.get("value") is not None:
        if el.get("encoding") is not None or (el.text or "").strip():
            raise FormatError(f"{where(el)}: an array with a value attribute has no data")
        text = el.get("value").strip()
        as_int = integer if integer is not None else dtype in INT_DTYPES
        if as_int:
            try:
                number = int(text)
            except ValueError:
                value = float(text)
                if not np.isfinite(value) or value != np.round(value):
                    raise FormatError(f"{where(el)}: expected integers, got value {text!r}"
                                      ) from None
                number = int(value)
            return np.broadcast_to(np.int64(number), (size,))
        # A read-only view of one value: nothing is allocated for a constant weight/delay.
        return np.broadcast_to(np.float64(float(text)), (size,))
    item = np.dtype(dtype).itemsize
    n_values = 2 * int(el.get("runs")) if runs_encoded else size
    raw = _decode(el, n_values * item)
    if len(raw) % item:
        raise FormatError(f"{where(el)}: the array holds {len(raw)} bytes, not a whole number "
                          f"of {dtype} values ({item} bytes each)")
    data = np.frombuffer(raw, dtype=f"<{dtype}")
    counts = None
    if runs_encoded:
        runs = int(el.get("runs"))
        if runs < 0 or data.size != 2 * runs:
            raise FormatError(f"{where(el)}: a run-length array needs runs=K and 2K values, "
                              f"got runs={el.get('runs')} and {data.size} values")
        data, counts = data[:runs], data[runs:]
        if dtype not in INT_DTYPES or np.any(counts < 0) or counts.sum() != size:
            raise FormatError(f"{where(el)}: run lengths add up to {counts.sum()}, but "
                              f"size is {size} (and must be integers)")
    elif data.size != size:
        raise FormatError(f"{where(el)}: the array holds {data.size} values of {dtype}, "
                          f"expected size={size}")
    if integer and dtype not in INT_DTYPES:
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            raise FormatError(f"{where(el)}: expected integers, got {dtype} values")
    out_type = np.int64 if integer or (integer is None and dtype in INT_DTYPES) else float
    if out_type is np.int64 and data.size and np.abs(data).max() < 2**31 \
            and (counts is None or size < 2**31):
        out_type = np.int32  # indices, one per synapse: host memory per synapse
    data = data.astype(out_type)
    return data if counts is None else np.repeat(data, counts.astype(np.int64))


def child(el: etree._Element, tag: str) -> etree._Element:
    """The required child ``tag`` of ``el``."""
    found = el.find(q(tag))
    if found is None:  # the schema requires it; this guards hand-made trees
        raise FormatError(f"line {el.sourceline}: <{etree.QName(el).localname}> lacks <{tag}>")
    return found
