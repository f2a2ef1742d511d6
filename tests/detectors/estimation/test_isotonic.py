"""Our pool-adjacent-violators isotonic regression against scikit-learn's, to 1e-12."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression as SkIsotonic
from sklearn.isotonic import isotonic_regression

from detectors._base import DetectorError, NotFittedError
from detectors.estimation.isotonic import IsotonicRegression, pool_adjacent_violators


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    rng = np.random.default_rng(7)
    x = rng.random(3000)
    binary = (rng.random(3000) < x**2).astype(float)
    tied = np.round(rng.normal(0, 1, 2000), 1)
    noisy = tied + rng.normal(0, 1, 2000)
    weights = rng.uniform(0.1, 3.0, 2000)
    down = np.linspace(0, 1, 50)
    return {
        "binary calibration": (x, binary, None),
        "ties and weights": (tied, noisy, weights),
        "decreasing pools to one block": (down, 1 - down, None),
        "already increasing": (down, down**3, None),
        "one point": (np.array([0.3]), np.array([1.0]), None),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_matches_sklearn_to_1e_12(name: str) -> None:
    x, y, w = _cases()[name]
    ours = IsotonicRegression().fit(x, y, w)
    theirs = SkIsotonic(out_of_bounds="clip").fit(x, y, sample_weight=w)
    assert ours.x_thresholds_ is not None
    assert ours.y_thresholds_ is not None
    np.testing.assert_allclose(ours.x_thresholds_, theirs.X_thresholds_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.y_thresholds_, theirs.y_thresholds_, rtol=0, atol=1e-12)
    grid = np.concatenate([x, np.linspace(x.min() - 1, x.max() + 1, 5001)])
    np.testing.assert_allclose(ours.predict(grid), theirs.predict(grid), rtol=0, atol=1e-12)


def test_pav_matches_sklearn_isotonic_regression_with_weights() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(1, 400))
        y = np.cumsum(rng.normal(0, 1, n)) * rng.choice([-1, 1])
        w = rng.uniform(0.01, 5.0, n)
        np.testing.assert_allclose(pool_adjacent_violators(y, w),
                                   isotonic_regression(y, sample_weight=w), rtol=0, atol=1e-12)


def test_pav_is_monotone_and_keeps_the_weighted_mean() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(0, 1, 500)
    w = rng.uniform(0.5, 2.0, 500)
    fit = pool_adjacent_violators(y, w)
    assert (np.diff(fit) >= 0).all()
    assert float(fit @ w) == pytest.approx(float(y @ w), rel=1e-12)


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        IsotonicRegression().predict([0.5])
    with pytest.raises(DetectorError, match="length"):
        IsotonicRegression().fit([0.1, 0.2], [1.0])
    with pytest.raises(DetectorError, match="finite"):
        IsotonicRegression().fit([0.1, np.nan], [1.0, 0.0])
    with pytest.raises(DetectorError, match="positive"):
        pool_adjacent_violators([1.0, 2.0], [1.0, 0.0])
