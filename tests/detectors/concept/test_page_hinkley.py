"""PageHinkley: River's published docstring index, parity with River 0.26, exact indices."""

from __future__ import annotations

from typing import Any

import pytest

from detectors._base import DetectorError
from detectors.concept.page_hinkley import PageHinkley
from tests.detectors.concept._streams import (
    binary_streams,
    indices,
    real_streams,
    river_doc_real,
    river_drift,
    seeded_streams,
)

STREAMS = seeded_streams("real")
PARAMS = [{}, {"mode": "up", "threshold": 20.0, "alpha": 1.0},
          {"mode": "down", "delta": 0.05, "threshold": 10.0, "min_instances": 100}]


def test_river_docstring_index() -> None:
    # River 0.26 prints: Change detected at index 1006, input value: 5
    stream = river_doc_real()
    assert indices(PageHinkley(), stream) == [1006]
    assert stream[1006] == 5


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize(("name", "stream"), STREAMS, ids=[n for n, _ in STREAMS])
def test_same_change_points_as_river(
        params: dict[str, Any], name: str, stream: list[Any]) -> None:
    drift = river_drift()
    assert indices(PageHinkley(**params), stream) == indices(
        drift.PageHinkley(**params), stream), name


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1141]),
    ("ramp_0.1_0.5_from_1000", [1463, 2040]),
    ("down_0.4_0.1_at_1000", [1197]),
    ("stable_0.2", []),
    ("alternating_20k", [2593, 5180, 7714, 10204, 12713, 15083, 17620]),
])
def test_exact_change_points_on_errors(name: str, expected: list[int]) -> None:
    assert indices(PageHinkley(), binary_streams(0)[name]) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("mean_0_1_at_500", [535, 1406]),
    ("ramp_0_2_from_500", [712, 1048, 1322]),
    ("variance_1_3_at_800", [886, 943, 1149, 1344, 1567, 1681, 1794, 1906]),
])
def test_exact_change_points_on_real_values(name: str, expected: list[int]) -> None:
    assert indices(PageHinkley(), real_streams(0)[name]) == expected


def test_modes_watch_one_side() -> None:
    down = binary_streams(0)["down_0.4_0.1_at_1000"]
    assert indices(PageHinkley(mode="up"), down) == []
    assert indices(PageHinkley(mode="down"), down) == [1197]
    det = PageHinkley()
    for x in down[:1197]:
        det.update(x)
    up, fall = det.statistics
    assert up < fall <= det.threshold


@pytest.mark.parametrize("params", [{"mode": "sideways"}, {"alpha": 0.0}, {"alpha": 1.5},
                                    {"threshold": 0.0}, {"delta": -1.0},
                                    {"min_instances": -1}])
def test_parameters_are_checked(params: dict[str, Any]) -> None:
    with pytest.raises(DetectorError):
        PageHinkley(**params)
