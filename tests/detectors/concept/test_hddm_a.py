"""HDDM_A: River's published docstring indices, per-update parity with River 0.26, exact indices."""

from __future__ import annotations

from typing import Any

import pytest

from detectors._base import DetectorError
from detectors.concept.hddm_a import HDDM_A
from tests.detectors.concept._streams import (
    binary_streams,
    doc_events,
    flags,
    indices,
    river_doc_binary,
    river_drift,
    seeded_streams,
    unit_stream,
)

STREAMS = seeded_streams("binary") + [(f"unit-seed{s}", unit_stream(s)) for s in (0, 1)]
PARAMS = [{}, {"two_sided_test": True}, {"drift_confidence": 0.0001, "warning_confidence": 0.01}]


def test_river_docstring_indices() -> None:
    # River 0.26 prints: warning 451, change 1206
    assert doc_events(HDDM_A(), river_doc_binary()) == ["warning 451", "change 1206"]


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize(("name", "stream"), STREAMS, ids=[n for n, _ in STREAMS])
def test_same_drift_and_warning_as_river_on_every_update(
        params: dict[str, Any], name: str, stream: list[Any]) -> None:
    drift = river_drift()
    assert flags(HDDM_A(**params), stream) == flags(drift.binary.HDDMA(**params), stream), name


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1017]),
    ("ramp_0.1_0.5_from_1000", [1345, 1798]),
    ("down_0.4_0.1_at_1000", []),  # one-sided by default: a falling error rate is no alarm
    ("stable_0.2", []),
    ("alternating_20k", [2694, 3612, 7670, 12836, 17574]),
])
def test_exact_change_points(name: str, expected: list[int]) -> None:
    assert indices(HDDM_A(), binary_streams(0)[name]) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1017]),
    ("ramp_0.1_0.5_from_1000", [1345, 1798]),
    ("down_0.4_0.1_at_1000", [1101]),
    ("stable_0.2", []),
])
def test_exact_change_points_two_sided(name: str, expected: list[int]) -> None:
    assert indices(HDDM_A(two_sided_test=True), binary_streams(0)[name]) == expected


def test_values_in_the_unit_interval_are_monitored_too() -> None:
    assert indices(HDDM_A(), unit_stream(0)) == [1084]


@pytest.mark.parametrize("params", [{"drift_confidence": 0.0}, {"warning_confidence": 1.0},
                                    {"drift_confidence": -0.1}])
def test_parameters_are_checked(params: dict[str, Any]) -> None:
    with pytest.raises(DetectorError):
        HDDM_A(**params)
