"""Regression metrics: values equal scikit-learn's within 1e-12 (absolute) on seeded data, MAPE
skips zero targets, bootstrap intervals cover near the nominal rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from detectors._base import DetectorError
from detectors.performance import MetricValue, regression_metrics

TOL = 1e-12


def by_name(values: list[MetricValue]) -> dict[str, MetricValue]:
    return {v.metric: v for v in values}


@pytest.mark.parametrize(("seed", "n", "loc"), [(0, 300, 10.0), (1, 2000, -3.0), (2, 50, 1e4)])
def test_values_equal_scikit_learn(seed: int, n: int, loc: float) -> None:
    rng = np.random.default_rng(seed)
    y = rng.normal(loc, 2.0, n)
    pred = y + rng.normal(0.3, 1.0, n)
    m = by_name(regression_metrics(y, pred, n_bootstrap=20))
    assert m["mae"].value == pytest.approx(skm.mean_absolute_error(y, pred), abs=TOL)
    assert m["rmse"].value == pytest.approx(skm.root_mean_squared_error(y, pred), abs=TOL)
    assert m["rmse"].value == pytest.approx(
        math.sqrt(skm.mean_squared_error(y, pred)), abs=TOL)
    assert m["mape"].value == pytest.approx(
        skm.mean_absolute_percentage_error(y, pred), abs=TOL)
    assert m["r2"].value == pytest.approx(skm.r2_score(y, pred), abs=TOL)
    assert [v.metric for v in m.values()] == ["mae", "rmse", "mape", "r2"]
    assert all(v.method == "bootstrap" for v in m.values())


def test_mape_skips_zero_targets() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, 400).astype(float)
    pred = y + rng.normal(0, 0.5, 400)
    m = by_name(regression_metrics(y, pred))
    nonzero = y != 0
    assert m["mape"].n == int(nonzero.sum()) < 400
    assert m["mape"].value == pytest.approx(
        skm.mean_absolute_percentage_error(y[nonzero], pred[nonzero]), abs=TOL)
    assert m["mae"].n == 400
    only_zeros = by_name(regression_metrics(np.zeros(40), np.ones(40)))["mape"]
    assert (only_zeros.value, only_zeros.n, only_zeros.support_ok) == (None, 0, False)


def test_constant_targets_leave_r2_undefined() -> None:
    m = by_name(regression_metrics(np.full(50, 2.0), np.linspace(1, 3, 50)))
    assert m["r2"].value is None
    assert not m["r2"].support_ok
    assert m["mae"].value == pytest.approx(skm.mean_absolute_error(np.full(50, 2.0),
                                                                   np.linspace(1, 3, 50)))
    single = by_name(regression_metrics([1.0], [2.0]))
    assert single["r2"].value is None
    assert single["mae"].value == 1.0


def test_bootstrap_intervals_cover_near_the_nominal_rate() -> None:
    """Errors N(0, 1): true MAE sqrt(2 / pi), true RMSE 1; 200 seeded windows of 200 rows.
    Measured: the 95 % percentile bootstrap covers MAE 185 times and RMSE 186 times."""
    rng = np.random.default_rng(4)
    covered = {"mae": 0, "rmse": 0}
    truth = {"mae": math.sqrt(2 / math.pi), "rmse": 1.0}
    for i in range(200):
        y = rng.normal(0, 3, 200)
        m = by_name(regression_metrics(y, y + rng.normal(0, 1, 200), seed=i))
        for name in covered:
            low, high = m[name].ci_low, m[name].ci_high
            assert low is not None
            assert high is not None
            covered[name] += low <= truth[name] <= high
    assert all(0.88 <= hits / 200 <= 0.99 for hits in covered.values()), covered


def test_min_support_unlabelled_rows_and_seeds() -> None:
    rng = np.random.default_rng(5)
    y, pred = rng.normal(0, 1, 100), rng.normal(0, 1, 100)
    assert not any(v.support_ok for v in regression_metrics(y[:29], pred[:29]))
    assert all(v.support_ok for v in regression_metrics(y[:30], pred[:30]))
    masked = y.copy()
    masked[::3] = np.nan
    keep = ~np.isnan(masked)
    assert regression_metrics(masked, pred) == regression_metrics(y[keep], pred[keep])
    assert regression_metrics(y, pred, seed=1) == regression_metrics(y, pred, seed=1)
    assert regression_metrics(y, pred, seed=1) != regression_metrics(y, pred, seed=2)
    empty = regression_metrics([], [])
    assert all(v.value is None and v.n == 0 for v in empty)


@pytest.mark.parametrize(
    ("y", "pred"), [([1.0, 2.0], [1.0]), ([1.0, 2.0], [1.0, np.nan]), ([1.0, np.inf], [1.0, 2.0])]
)
def test_invalid_input_is_a_detector_error(y: list[float], pred: list[float]) -> None:
    with pytest.raises(DetectorError):
        regression_metrics(y, pred)
