"""Event streams: the structured event array, binning into frames, and the DVS128 Gesture files.

Events are a NumPy structured array with fields ``x``, ``y``, ``p`` (polarity, 1 = ON,
0 = OFF) and ``t`` (microseconds), the dtype ``tonic`` uses, sorted by ``t``.

Real DVS128 Gesture data (IBM, Amir et al., CVPR 2017) cannot be downloaded here; this module
reads both forms users may have:

- the original release (``DvsGesture.tar.gz``): one AEDAT 3.1 file per trial,
  ``userNN_<lighting>.aedat``, and ``userNN_<lighting>_labels.csv`` with rows
  ``class,startTime_usec,endTime_usec`` (class 1-11); :func:`read_aedat31`,
  :func:`read_gesture_labels`, :func:`load_ibm_trial`;
- the layout ``tonic.datasets.DVSGesture`` unpacks (``ibmGestureTrain/<trial>/<class>.npy``,
  one gesture per file, an (N, 4) integer array with columns x, y, p, t, t in milliseconds,
  class 0-10); :func:`load_tonic_sample`, :func:`iter_tonic_folder`.

AEDAT 3.1 (as the data set's README documents it): a text header of lines starting with ``#``
(the first ``#!AER-DAT3.1``, the last ``#!END-HEADER``), then packets, each a 28-byte
little-endian header ``int16 eventType, int16 eventSource, int32 eventSize, int32
eventTSOffset, int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32
eventValid`` followed by ``eventNumber`` events of ``eventSize`` bytes. Polarity events
(type 1) are ``uint32 data, int32 timestamp``: ``x = (data >> 17) & 0x1FFF``,
``y = (data >> 2) & 0x1FFF``, ``p = (data >> 1) & 1``, bit 0 the valid mark; the 64-bit time
is ``eventTSOverflow << 31 | timestamp``. Packets of other types are skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

EVENT_DTYPE = np.dtype([("x", np.int64), ("y", np.int64), ("p", np.int64), ("t", np.int64)])
DVS128_SIZE = (128, 128)
IBM_CLASSES = ("hand_clapping", "right_hand_wave", "left_hand_wave", "right_arm_clockwise",
               "right_arm_counter_clockwise", "left_arm_clockwise", "left_arm_counter_clockwise",
               "arm_roll", "air_drums", "air_guitar", "other_gestures")
_PACKET_HEADER = np.dtype([("type", "<i2"), ("source", "<i2"), ("size", "<i4"),
                           ("ts_offset", "<i4"), ("ts_overflow", "<i4"), ("capacity", "<i4"),
                           ("number", "<i4"), ("valid", "<i4")])
_POLARITY_EVENT = np.dtype([("data", "<u4"), ("timestamp", "<i4")])
POLARITY_EVENT_TYPE = 1


def make_events(x, y, p, t) -> np.ndarray:
    """Structured events from four equal-length sequences, sorted by time (stable)."""
    ev = np.empty(len(t), dtype=EVENT_DTYPE)
    ev["x"], ev["y"], ev["p"], ev["t"] = x, y, p, t
    return ev[np.argsort(ev["t"], kind="stable")]


def _split_header(raw: bytes, path: Path) -> int:
    """Offset of the first packet: just after the ``#!END-HEADER`` line."""
    if not raw.startswith(b"#!AER-DAT3"):
        raise ValueError(f"{path}: not an AEDAT 3.x file (it starts {raw[:12]!r}); "
                         "DVS128 Gesture trials are AEDAT 3.1")
    end = raw.find(b"#!END-HEADER")
    if end < 0:
        raise ValueError(f"{path}: AEDAT header has no '#!END-HEADER' line")
    return raw.index(b"\n", end) + 1


def read_aedat31(path: str | Path) -> np.ndarray:
    """All valid polarity events of an AEDAT 3.1 file, time-sorted, t in microseconds."""
    path = Path(path)
    raw = path.read_bytes()
    pos = _split_header(raw, path)
    chunks = []
    while pos < len(raw):
        if pos + _PACKET_HEADER.itemsize > len(raw):
            raise ValueError(f"{path}: truncated packet header at byte {pos}")
        head = np.frombuffer(raw, _PACKET_HEADER, count=1, offset=pos)[0]
        pos += _PACKET_HEADER.itemsize
        n_bytes = int(head["number"]) * int(head["size"])
        if pos + n_bytes > len(raw):
            raise ValueError(f"{path}: packet at byte {pos} needs {n_bytes} bytes, "
                             f"{len(raw) - pos} left (truncated file)")
        if head["type"] == POLARITY_EVENT_TYPE:
            if head["size"] != _POLARITY_EVENT.itemsize:
                raise ValueError(f"{path}: polarity events of {head['size']} bytes, expected "
                                 f"{_POLARITY_EVENT.itemsize}")
            ev = np.frombuffer(raw, _POLARITY_EVENT, count=int(head["number"]), offset=pos)
            ev = ev[(ev["data"] & 1) == 1]
            t = (np.int64(head["ts_overflow"]) << 31) | ev["timestamp"].astype(np.int64)
            chunks.append(make_events((ev["data"] >> 17) & 0x1FFF, (ev["data"] >> 2) & 0x1FFF,
                                      (ev["data"] >> 1) & 1, t))
        pos += n_bytes
    if not chunks:
        return np.empty(0, dtype=EVENT_DTYPE)
    out = np.concatenate(chunks)
    return out[np.argsort(out["t"], kind="stable")]


def write_aedat31(path: str | Path, events: np.ndarray, packet_size: int = 4096,
                  source: int = 1) -> Path:
    """Write polarity events as AEDAT 3.1 (what the DVS128 Gesture release holds).

    Used to test :func:`read_aedat31` on files of the real layout; times above 2**31 - 1
    microseconds go into the packets' ``eventTSOverflow``.
    """
    path = Path(path)
    header = ("#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
              "#Start-Time: written by pynn_spinnaker2 models\r\n#!END-HEADER\r\n")
    parts = [header.encode("ascii")]
    t = np.asarray(events["t"], dtype=np.int64)
    overflow = t >> 31
    for ov in np.unique(overflow):
        sel = np.flatnonzero(overflow == ov)
        for start in range(0, len(sel), packet_size):
            idx = sel[start: start + packet_size]
            ev = np.empty(len(idx), dtype=_POLARITY_EVENT)
            ev["data"] = ((events["x"][idx].astype(np.uint32) << 17)
                          | (events["y"][idx].astype(np.uint32) << 2)
                          | (events["p"][idx].astype(np.uint32) << 1) | 1)
            ev["timestamp"] = (t[idx] & 0x7FFFFFFF).astype(np.int32)
            head = np.zeros(1, dtype=_PACKET_HEADER)
            head["type"], head["source"], head["size"] = POLARITY_EVENT_TYPE, source, 8
            head["ts_offset"], head["ts_overflow"] = 4, ov
            head["capacity"] = head["number"] = head["valid"] = len(idx)
            parts += [head.tobytes(), ev.tobytes()]
    path.write_bytes(b"".join(parts))
    return path


def read_gesture_labels(path: str | Path) -> list[tuple[int, int, int]]:
    """``(class 0-10, start_us, end_us)`` per row of a DVS128 Gesture ``*_labels.csv``."""
    path = Path(path)
    rows = []
    with path.open(newline="") as f:
        reader = csv.reader(f)
        head = next(reader, None)
        if head is None or [h.strip() for h in head] != ["class", "startTime_usec",
                                                         "endTime_usec"]:
            raise ValueError(f"{path}: expected the header 'class,startTime_usec,endTime_usec',"
                             f" got {head}")
        for row in reader:
            if not row:
                continue
            label = int(row[0])
            if not 1 <= label <= len(IBM_CLASSES):
                raise ValueError(f"{path}: class {label} outside 1..{len(IBM_CLASSES)}")
            rows.append((label - 1, int(row[1]), int(row[2])))
    return rows


def load_ibm_trial(aedat_path: str | Path) -> list[tuple[np.ndarray, int]]:
    """One trial of the original release cut into gestures: ``[(events, class 0-10), ...]``.

    Event times in each gesture start at its ``startTime_usec``; they are shifted to start
    at zero.
    """
    aedat_path = Path(aedat_path)
    labels = aedat_path.with_name(aedat_path.stem + "_labels.csv")
    if not labels.exists():
        raise FileNotFoundError(f"{aedat_path}: its labels file {labels.name} is missing")
    events = read_aedat31(aedat_path)
    out = []
    for label, start, end in read_gesture_labels(labels):
        lo, hi = np.searchsorted(events["t"], [start, end])
        ev = events[lo:hi].copy()
        ev["t"] -= start
        out.append((ev, label))
    return out


def load_tonic_sample(path: str | Path) -> tuple[np.ndarray, int]:
    """One ``<class>.npy`` of tonic's DVSGesture layout: (events with t in us, class 0-10)."""
    path = Path(path)
    arr = np.load(path)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{path}: expected an (N, 4) x, y, p, t array, got shape {arr.shape}")
    return make_events(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3].astype(np.int64) * 1000), \
        int(path.stem)


def iter_tonic_folder(root: str | Path, train: bool = True,
                      ) -> Iterator[tuple[np.ndarray, int]]:
    """All samples under ``root/ibmGestureTrain`` (or ``ibmGestureTest``), in sorted order."""
    folder = Path(root) / ("ibmGestureTrain" if train else "ibmGestureTest")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (tonic's DVSGesture layout)")
    for path in sorted(folder.glob("*/*.npy")):
        yield load_tonic_sample(path)


def events_to_frames(events: np.ndarray, n_bins: int, duration_us: int,
                     sensor_size: tuple[int, int], pooled_size: tuple[int, int],
                     binary: bool = True) -> np.ndarray:
    """Bin events into ``n_bins`` equal time bins over ``[0, duration_us)``.

    Pixels are pooled to ``pooled_size`` (sensor size a multiple of it). Returns float32
    (n_bins, 2 * H * W), index ``p * H * W + y * W + x``: the event count per bin, or 1 where
    there was at least one event when ``binary`` (one input spike per active pixel and bin).
    """
    sw, sh = sensor_size
    pw, ph = pooled_size
    if sw % pw or sh % ph:
        raise ValueError(f"events_to_frames: sensor {sensor_size} is not a multiple of "
                         f"{pooled_size}")
    keep = (events["t"] >= 0) & (events["t"] < duration_us)
    ev = events[keep]
    b = (ev["t"] * n_bins // duration_us).astype(np.int64)
    px = ev["x"] // (sw // pw)
    py = ev["y"] // (sh // ph)
    index = b * (2 * pw * ph) + ev["p"] * pw * ph + py * pw + px
    frames = np.bincount(index, minlength=n_bins * 2 * pw * ph).astype(np.float32)
    frames = frames.reshape(n_bins, 2 * pw * ph)
    return np.minimum(frames, 1.0) if binary else frames
