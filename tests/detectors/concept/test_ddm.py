"""DDM: River's published docstring indices, per-update parity with River 0.26, exact indices."""

from __future__ import annotations

from typing import Any

import pytest

from detectors._base import DetectorError
from detectors.concept.ddm import DDM
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
PARAMS = [{}, {"warm_start": 100, "warning_threshold": 1.5, "drift_threshold": 2.5}]


def test_river_docstring_indices() -> None:
    # River 0.26 prints: Warning 1084, Change 1334, Warning 1492
    assert doc_events(DDM(), river_doc_binary()) == ["warning 1084", "change 1334",
                                                     "warning 1492"]


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize(("name", "stream"), STREAMS, ids=[n for n, _ in STREAMS])
def test_same_drift_and_warning_as_river_on_every_update(
        params: dict[str, Any], name: str, stream: list[Any]) -> None:
    drift = river_drift()
    assert flags(DDM(**params), stream) == flags(drift.binary.DDM(**params), stream), name


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1041]),
    ("ramp_0.1_0.5_from_1000", [1246, 1678]),
    ("down_0.4_0.1_at_1000", []),  # DDM only watches for an increase of the error rate
    ("stable_0.2", []),
    ("alternating_20k", [2056, 2541, 8067, 12968, 17940, 18052]),
])
def test_exact_change_points(name: str, expected: list[int]) -> None:
    assert indices(DDM(), binary_streams(0)[name]) == expected


def test_the_warning_zone_comes_before_the_change_and_clears_with_it() -> None:
    seen = flags(DDM(), binary_streams(0)["step_0.1_0.4_at_1000"])
    warnings = [i for i, (_, w) in enumerate(seen) if w]
    assert warnings[:7] == [117, 119, 120, 121, 122, 123, 124]  # a short false warning
    assert min(i for i in warnings if i >= 1000) == 1013
    assert seen[1041] == (True, False)
    assert seen[1042] == (False, False)


def test_nothing_fires_during_the_warm_start() -> None:
    det = DDM(warm_start=50)
    seen = flags(det, [1] * 50 + [0] * 10)
    assert not any(d or w for d, w in seen)
    assert det.error_rate == pytest.approx(50 / 60)


@pytest.mark.parametrize("params", [{"warm_start": -1}, {"warm_start": 1.5},
                                    {"warning_threshold": 4.0, "drift_threshold": 3.0},
                                    {"warning_threshold": 0.0}])
def test_parameters_are_checked(params: dict[str, Any]) -> None:
    with pytest.raises(DetectorError):
        DDM(**params)
