"""EDDM: River's published docstring indices, per-update parity with River 0.26, exact indices."""

from __future__ import annotations

from typing import Any

import pytest

from detectors._base import DetectorError
from detectors.concept.eddm import EDDM
from tests.detectors.concept._streams import (
    binary_streams,
    doc_events,
    flags,
    indices,
    river_doc_binary,
    river_drift,
    seeded_streams,
)

STREAMS = seeded_streams("binary")
PARAMS = [{}, {"alpha": 0.8, "beta": 0.75}, {"warm_start": 60, "alpha": 0.9, "beta": 0.9}]


def test_river_docstring_indices() -> None:
    # River 0.26 prints (alpha=0.8, beta=0.75): Warning 1059, Change 1278
    assert doc_events(EDDM(alpha=0.8, beta=0.75), river_doc_binary()) == [
        "warning 1059", "change 1278"]


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize(("name", "stream"), STREAMS, ids=[n for n, _ in STREAMS])
def test_same_drift_and_warning_as_river_on_every_update(
        params: dict[str, Any], name: str, stream: list[Any]) -> None:
    drift = river_drift()
    assert flags(EDDM(**params), stream) == flags(drift.binary.EDDM(**params), stream), name


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1151]),
    ("ramp_0.1_0.5_from_1000", [1414, 1752, 1816]),
    ("down_0.4_0.1_at_1000", [69, 172]),
    ("stable_0.2", []),
])
def test_exact_change_points_with_river_example_thresholds(
        name: str, expected: list[int]) -> None:
    found = indices(EDDM(alpha=0.8, beta=0.75), binary_streams(0)[name])
    assert found == expected


def test_defaults_are_sensitive_even_on_a_calm_stream() -> None:
    # River's defaults (0.95 / 0.9) alarm on a stable 20% error rate; River's own example
    # lowers them. Pinned so that a change of behaviour shows.
    assert indices(EDDM(), binary_streams(0)["stable_0.2"]) == [207, 354, 633, 1966, 2094]


def test_distances_are_counted_between_errors() -> None:
    det = EDDM()
    for x in [0, 0, 1, 0, 0, 0, 1, 1]:  # errors at updates 3, 7, 8: distances 3, 4, 1
        det.update(x)
    assert det.mean_distance == pytest.approx(8 / 3)
    assert not det.warning_detected


@pytest.mark.parametrize("params", [{"alpha": 0.8, "beta": 0.9}, {"beta": 0.0},
                                    {"alpha": 1.5}, {"warm_start": -3}])
def test_parameters_are_checked(params: dict[str, Any]) -> None:
    with pytest.raises(DetectorError):
        EDDM(**params)
