"""Event files (AEDAT 3.1 of DVS128 Gesture, tonic's layout), binning, and the synthetic set.

No torch needed.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.egru_gesture.events import (
    EVENT_DTYPE,
    events_to_frames,
    iter_tonic_folder,
    load_ibm_trial,
    make_events,
    read_aedat31,
    read_gesture_labels,
    write_aedat31,
)
from models.egru_gesture.synth import CLASSES, CameraConfig, generate_sample

FAST = CameraConfig(duration_us=400_000, frame_us=4_000)


def _random_events(rng, n, t_max):
    return make_events(rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n),
                       np.sort(rng.integers(0, t_max, n)))


def test_aedat31_round_trip_with_timestamp_overflow(tmp_path):
    rng = np.random.default_rng(0)
    events = _random_events(rng, 5000, 3 * 2**31)  # beyond 31 bits: eventTSOverflow > 0
    path = write_aedat31(tmp_path / "user01_led.aedat", events, packet_size=700)
    back = read_aedat31(path)
    assert back.dtype == EVENT_DTYPE
    for field in ("x", "y", "p", "t"):
        np.testing.assert_array_equal(back[field], events[field])


def test_aedat31_bit_layout_matches_the_dataset_readme(tmp_path):
    """x = data >> 17, y = (data >> 2) & 0x1FFF, p = (data >> 1) & 1, bit 0 valid."""
    events = make_events([127], [5], [1], [42])
    raw = write_aedat31(tmp_path / "a.aedat", events).read_bytes()
    body = raw[raw.index(b"#!END-HEADER\r\n") + 14:]
    header = np.frombuffer(body[:28], dtype="<i4", count=7, offset=0)
    data, timestamp = np.frombuffer(body[28:36], dtype="<u4")
    assert int(np.frombuffer(body[:2], "<i2")[0]) == 1  # polarity event type
    assert header[1] == 8  # eventSize
    assert data == (127 << 17) | (5 << 2) | (1 << 1) | 1 and timestamp == 42


def test_aedat31_skips_other_packets_and_invalid_events(tmp_path):
    events = make_events([1, 2], [3, 4], [0, 1], [10, 20])
    raw = bytearray(write_aedat31(tmp_path / "a.aedat", events).read_bytes())
    start = raw.index(b"#!END-HEADER\r\n") + 14
    raw[start + 28 + 8] &= 0xFE  # second event: clear its valid bit
    special = np.zeros(1, dtype=[("h", "<i2", 2), ("i", "<i4", 6)])
    special["h"] = (0, 1)  # type 0: special events, 8 bytes each
    special["i"] = (8, 4, 0, 1, 1, 1)
    raw += special.tobytes() + bytes(8)
    (tmp_path / "b.aedat").write_bytes(bytes(raw))
    back = read_aedat31(tmp_path / "b.aedat")
    assert back["x"].tolist() == [1] and back["t"].tolist() == [10]


def test_aedat31_errors(tmp_path):
    (tmp_path / "v2.aedat").write_bytes(b"#!AER-DAT2.0\r\n" + bytes(16))
    with pytest.raises(ValueError, match="not an AEDAT 3"):
        read_aedat31(tmp_path / "v2.aedat")
    path = write_aedat31(tmp_path / "t.aedat", make_events([1], [1], [1], [1]))
    (tmp_path / "cut.aedat").write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_aedat31(tmp_path / "cut.aedat")


def test_ibm_trial_is_cut_by_its_labels(tmp_path):
    rng = np.random.default_rng(1)
    events = _random_events(rng, 3000, 9_000_000)
    write_aedat31(tmp_path / "user02_natural.aedat", events)
    (tmp_path / "user02_natural_labels.csv").write_text(
        "class,startTime_usec,endTime_usec\n3,1000000,2500000\n11,4000000,6000000\n")
    gestures = load_ibm_trial(tmp_path / "user02_natural.aedat")
    assert [label for _, label in gestures] == [2, 10]
    first = gestures[0][0]
    expected = events[(events["t"] >= 1_000_000) & (events["t"] < 2_500_000)]
    np.testing.assert_array_equal(first["t"], expected["t"] - 1_000_000)
    np.testing.assert_array_equal(first["x"], expected["x"])


def test_gesture_labels_errors(tmp_path):
    (tmp_path / "bad_labels.csv").write_text("label,start,end\n1,0,1\n")
    with pytest.raises(ValueError, match="expected the header"):
        read_gesture_labels(tmp_path / "bad_labels.csv")
    (tmp_path / "range_labels.csv").write_text("class,startTime_usec,endTime_usec\n12,0,1\n")
    with pytest.raises(ValueError, match="outside 1..11"):
        read_gesture_labels(tmp_path / "range_labels.csv")
    write_aedat31(tmp_path / "alone.aedat", make_events([1], [1], [1], [1]))
    with pytest.raises(FileNotFoundError, match="alone_labels.csv"):
        load_ibm_trial(tmp_path / "alone.aedat")


def test_tonic_layout(tmp_path):
    folder = tmp_path / "ibmGestureTrain" / "user05_led"
    folder.mkdir(parents=True)
    arr = np.array([[10, 20, 1, 3], [11, 21, 0, 7]])  # x, y, p, t in ms
    np.save(folder / "4.npy", arr)
    (events, label), = list(iter_tonic_folder(tmp_path, train=True))
    assert label == 4
    assert events["t"].tolist() == [3000, 7000] and events["x"].tolist() == [10, 11]
    with pytest.raises(FileNotFoundError, match="ibmGestureTest"):
        list(iter_tonic_folder(tmp_path, train=False))


def test_events_to_frames_by_hand():
    events = make_events([0, 1, 3, 3, 2], [0, 0, 3, 3, 1], [1, 1, 0, 0, 1],
                         [0, 10, 50, 60, 99])
    counts = events_to_frames(events, 2, 100, (4, 4), (2, 2), binary=False)
    assert counts.shape == (2, 8)
    # bin 0: (0,0) and (1,0) ON pool to ON cell 0 -> 2 events
    assert counts[0].tolist() == [0, 0, 0, 0, 2, 0, 0, 0]
    # bin 1: two OFF at (3,3) -> OFF cell (1,1) index 3; one ON at (2,1) -> ON cell (1,0) = 4+1
    assert counts[1].tolist() == [0, 0, 0, 2, 0, 1, 0, 0]
    assert events_to_frames(events, 2, 100, (4, 4), (2, 2)).max() == 1.0
    with pytest.raises(ValueError, match="not a multiple"):
        events_to_frames(events, 2, 100, (4, 4), (3, 3))


@pytest.mark.parametrize(("label", "direction"), [(0, 1), (1, -1)])
def test_synthetic_bar_moves_the_right_way(label, direction):
    """The event centroid of a sweeping bar moves left to right (class 0) or back (1)."""
    ev = generate_sample(label, np.random.default_rng(3), FAST)
    assert len(ev) > 500
    slope = np.polyfit(ev["t"] / 1e6, ev["x"], 1)[0]
    assert np.sign(slope) == direction and abs(slope) > 10  # pixels per second


def test_synthetic_every_class_has_both_polarities_and_noise():
    rng = np.random.default_rng(5)
    for label in range(len(CLASSES)):
        ev = generate_sample(label, rng, FAST)
        assert 0.05 < ev["p"].mean() < 0.95, CLASSES[label]
        assert ev["t"].min() >= 0 and ev["t"].max() < FAST.duration_us
    quiet = generate_sample(0, np.random.default_rng(3), CameraConfig(
        duration_us=400_000, frame_us=4_000, background_rate_hz=0.0, hot_pixels=0))
    noisy = generate_sample(0, np.random.default_rng(3), FAST)
    assert len(noisy) > len(quiet)
    with pytest.raises(ValueError, match="label 10 outside"):
        generate_sample(10, rng, FAST)
