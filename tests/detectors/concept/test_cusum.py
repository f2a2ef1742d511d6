"""CUSUM: River 0.26 has none, so parity is with the textbook recursion written out here;
exact indices on seeded streams and the documented relation to Page-Hinkley."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from detectors._base import DetectorError
from detectors.concept.cusum import CUSUM
from detectors.concept.page_hinkley import PageHinkley
from tests.detectors.concept._streams import (
    binary_streams,
    indices,
    real_streams,
    river_drift,
    seeded_streams,
)

STREAMS = seeded_streams("real", seeds=(0, 1))
PARAMS = [{}, {"delta": 0.5, "threshold": 5.0}, {"delta": 0.1, "threshold": 10.0,
                                                   "min_instances": 200}]


def textbook(stream: Sequence[float], delta: float = 0.005, threshold: float = 50.0,
             min_instances: int = 30) -> list[int]:
    """Page's two-sided tabular CUSUM against the mean of the earlier values since the reset."""
    found: list[int] = []
    n, total, hi, lo = 0, 0.0, 0.0, 0.0
    for i, x in enumerate(stream):
        target = total / n if n else x
        hi = max(0.0, hi + (x - target) - delta)
        lo = max(0.0, lo - (x - target) - delta)
        n, total = n + 1, total + x
        if n >= min_instances and max(hi, lo) > threshold:
            found.append(i)
            n, total, hi, lo = 0, 0.0, 0.0, 0.0
    return found


def test_river_has_no_cusum() -> None:
    drift = river_drift()
    assert not hasattr(drift, "CUSUM")
    assert not hasattr(drift.binary, "CUSUM")


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize(("name", "stream"), STREAMS, ids=[n for n, _ in STREAMS])
def test_same_change_points_as_the_textbook_recursion(
        params: dict[str, Any], name: str, stream: list[Any]) -> None:
    assert indices(CUSUM(**params), stream) == textbook(stream, **params), name


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1141]),
    ("ramp_0.1_0.5_from_1000", [1463, 2014]),
    ("down_0.4_0.1_at_1000", [1197]),
    ("stable_0.2", []),
    ("alternating_20k", [2593, 5185, 7714, 10203, 12712, 15083, 17620]),
])
def test_exact_change_points_on_errors(name: str, expected: list[int]) -> None:
    assert indices(CUSUM(), binary_streams(0)[name]) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("mean_0_1_at_500", [535, 1396]),
    ("ramp_0_2_from_500", [712, 1043, 1322]),
    ("variance_1_3_at_800", [886, 943, 1142, 1192, 1309, 1426, 1636, 1863, 1929]),
])
def test_exact_change_points_on_real_values(name: str, expected: list[int]) -> None:
    assert indices(CUSUM(), real_streams(0)[name]) == expected


def test_textbook_allowances_on_unit_variance_data() -> None:
    # k = 0.5 sigma, h = 5 sigma (in-control run length ~465 per side when the mean is known):
    # false alarms at 49 and 238, the shift at 500 found 7 updates late; h = 8 sigma is quiet
    # before the shift and finds it 14 updates late.
    stream = real_streams(0)["mean_0_1_at_500"]
    assert indices(CUSUM(delta=0.5, threshold=5.0), stream) == [49, 238, 507, 1094]
    assert indices(CUSUM(delta=0.5, threshold=8.0), stream) == [514, 1109]


def test_close_to_page_hinkley_without_forgetting_on_an_abrupt_change() -> None:
    # Documented relation: same sums up to the clipping at zero and the reference mean.
    stream = binary_streams(0)["step_0.1_0.4_at_1000"]
    ph = indices(PageHinkley(alpha=1.0), stream)
    cusum = indices(CUSUM(), stream)
    assert len(ph) == len(cusum) == 1
    assert abs(ph[0] - cusum[0]) <= 5


def test_statistics_are_the_two_sums() -> None:
    det = CUSUM(delta=0.1)
    for x in [0.0, 0.0, 1.0, 1.0]:
        det.update(x)
    up, down = det.statistics
    # deviations from the mean before each value: 0, 0, 1, 2/3
    assert up == pytest.approx((1 - 0.1) + (2 / 3 - 0.1))
    assert down == 0.0


@pytest.mark.parametrize("params", [{"delta": -0.1}, {"threshold": 0.0},
                                    {"min_instances": -5}, {"min_instances": 2.5}])
def test_parameters_are_checked(params: dict[str, Any]) -> None:
    with pytest.raises(DetectorError):
        CUSUM(**params)
