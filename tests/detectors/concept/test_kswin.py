"""KSWIN: River's published docstring index, parity with River 0.26 (same seeded draws, same
p-values), exact indices, and the memoised KS test against scipy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from detectors._base import DetectorError
from detectors.concept.kswin import KSWIN, ks_for_gap, largest_gap
from tests.detectors.concept._streams import (
    binary_streams,
    indices,
    real_streams,
    river_doc_real,
    river_drift,
    seeded_streams,
)

# River's KSWIN runs scipy's ks_2samp on every update (~170 us), so parity uses the shorter
# seed-0 streams and the first 6000 values of the 20k ones.
STREAMS = [(name, stream[:6000]) for name, stream in seeded_streams("real", seeds=(0,))]
SMALL = {"alpha": 0.01, "window_size": 60, "stat_size": 20, "seed": 7}
CASES = [({"seed": 3}, name, stream) for name, stream in STREAMS] + [
    (SMALL, name, stream) for name, stream in STREAMS
    if name.startswith(("step", "mean", "shifts", "variance"))]


def test_river_docstring_index() -> None:
    # River 0.26 prints (alpha=0.0001, seed=42): Change detected at index 1016, input value: 6
    stream = river_doc_real()
    assert indices(KSWIN(alpha=0.0001, seed=42), stream) == [1016]
    assert stream[1016] == 6


@pytest.mark.parametrize(("params", "name", "stream"), CASES,
                         ids=[f"{n}-{p}" for p, n, _ in CASES])
def test_same_change_points_and_p_values_as_river(
        params: dict[str, Any], name: str, stream: list[Any]) -> None:
    drift = river_drift()
    ours, theirs = KSWIN(**params), drift.KSWIN(**params)
    for i, x in enumerate(stream):
        ours.update(x)
        theirs.update(x)
        assert ours.drift_detected == theirs.drift_detected, f"{name} at {i}"
        assert ours.p_value == float(theirs.p_value), f"{name} at {i}"


@pytest.mark.parametrize(("name", "expected"), [
    ("step_0.1_0.4_at_1000", [1332, 2626]),
    ("ramp_0.1_0.5_from_1000", [2706]),
    ("stable_0.2", []),
])
def test_exact_change_points_on_errors(name: str, expected: list[int]) -> None:
    assert indices(KSWIN(seed=3), binary_streams(0)[name]) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("mean_0_1_at_500", [524, 1112, 1486]),
    ("ramp_0_2_from_500", [857, 1103, 1839]),
    ("variance_1_3_at_800", [1185, 1297, 1679, 1910]),  # a change of spread, not of mean
])
def test_exact_change_points_on_real_values(name: str, expected: list[int]) -> None:
    assert indices(KSWIN(seed=3), real_streams(0)[name]) == expected


def test_the_seed_sets_the_draws() -> None:
    stream = real_streams(0)["mean_0_1_at_500"]
    assert indices(KSWIN(seed=3), stream) == indices(KSWIN(seed=3), stream)
    assert indices(KSWIN(seed=4), stream) != indices(KSWIN(seed=3), stream)


@pytest.mark.filterwarnings("ignore:ks_2samp:RuntimeWarning")  # scipy's own fallback, size 5
@pytest.mark.parametrize("size", [5, 20, 30, 100])
def test_gap_and_memoised_test_equal_scipy_ks_2samp(size: int) -> None:
    rng = np.random.default_rng(size)
    for trial in range(200):
        # integers make ties, within and across the samples; shifts make large gaps
        a = rng.integers(0, 8, size).astype(float) if trial % 2 else rng.normal(0, 1, size)
        b = (rng.integers(0, 8, size) + trial % 3).astype(float) if trial % 2 else \
            rng.normal(trial % 4 * 0.5, 1, size)
        ref = stats.ks_2samp(a, b, method="auto")
        k = largest_gap(sorted(a.tolist()), sorted(b.tolist()))
        assert ks_for_gap(size, k) == (float(ref.statistic), float(ref.pvalue))


@pytest.mark.parametrize("params", [{"alpha": 0.0}, {"alpha": 1.0}, {"stat_size": 0},
                                    {"window_size": 59}, {"seed": -1},
                                    {"stat_size": 10_001, "window_size": 20_002}])
def test_parameters_are_checked(params: dict[str, Any]) -> None:
    with pytest.raises(DetectorError):
        KSWIN(**params)
