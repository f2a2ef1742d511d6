"""ADWIN: River's published docstring index, parity with River 0.26, exact indices, memory."""

from __future__ import annotations

import math
from typing import Any

import pytest

from detectors._base import DetectorError
from detectors.concept.adwin import ADWIN
from tests.detectors.concept._streams import (
    bernoulli,
    binary_streams,
    indices,
    real_streams,
    river_doc_real,
    river_drift,
    seeded_streams,
)

STREAMS = seeded_streams("real")
PARAMS = [{}, {"clock": 1, "delta": 0.01},
          {"max_buckets": 2, "min_window_length": 10, "grace_period": 100},
          {"delta": 0.1, "clock": 7, "max_buckets": 3}]


def test_river_docstring_index() -> None:
    # River 0.26 prints: Change detected at index 1023, input value: 4
    stream = river_doc_real()
    assert indices(ADWIN(), stream) == [1023]
    assert stream[1023] == 4


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize(("name", "stream"), STREAMS, ids=[n for n, _ in STREAMS])
def test_same_change_points_and_window_as_river(
        params: dict[str, Any], name: str, stream: list[Any]) -> None:
    drift = river_drift()
    ours, theirs = ADWIN(**params), drift.ADWIN(**params)
    for i, x in enumerate(stream):
        ours.update(x)
        theirs.update(x)
        assert ours.drift_detected == theirs.drift_detected, f"{name} at {i}"
        if i % 97 == 0 or ours.drift_detected:
            assert ours.width == theirs.width
            assert ours.estimation == theirs.estimation  # same arithmetic, bit for bit


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1055]),
    ("ramp_0.1_0.5_from_1000", [1343, 1919]),
    ("down_0.4_0.1_at_1000", [1151]),  # two-sided: a falling error rate is a change too
    ("stable_0.2", []),
    ("alternating_20k", [2559, 5119, 7615, 10111, 12639, 15103, 17567]),
])
def test_exact_change_points_on_errors(name: str, expected: list[int]) -> None:
    assert indices(ADWIN(), binary_streams(0)[name]) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("mean_0_1_at_500", [543]),
    ("ramp_0_2_from_500", [831, 1151, 1567]),
    ("shifts_20k", [2047, 4031, 6047, 8031, 10015, 12063, 14015, 16031, 18047]),
    ("variance_1_3_at_800", [927]),
])
def test_exact_change_points_on_real_values(name: str, expected: list[int]) -> None:
    # checks run every 32 updates, so detections fall on multiples of 32 since the reset
    assert indices(ADWIN(), real_streams(0)[name]) == expected


def test_memory_is_logarithmic_in_the_window() -> None:
    det = ADWIN()
    for x in bernoulli([(100_000, 0.2)], seed=5):
        det.update(x)
    assert det.width == 100_000
    assert det.estimation == pytest.approx(0.19905)
    levels = math.ceil(math.log2(100_000 / det.max_buckets)) + 1
    assert det.n_buckets <= det.max_buckets * levels  # 63 buckets for 100k values


def test_the_update_after_a_change_starts_an_empty_window() -> None:
    det = ADWIN()
    stream = real_streams(0)["mean_0_1_at_500"]
    for x in stream[:544]:
        det.update(x)
    assert det.drift_detected
    assert 0 < det.width < 544  # the oldest buckets were dropped
    det.update(stream[544])
    assert (det.drift_detected, det.width) == (False, 1)
    assert det.estimation == stream[544]


@pytest.mark.parametrize("params", [{"delta": 0.0}, {"delta": 1.0}, {"clock": 0},
                                    {"max_buckets": 0}, {"min_window_length": 0},
                                    {"grace_period": -1}])
def test_parameters_are_checked(params: dict[str, Any]) -> None:
    with pytest.raises(DetectorError):
        ADWIN(**params)
