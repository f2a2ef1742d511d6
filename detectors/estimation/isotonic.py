"""Isotonic (non-decreasing) regression by pool-adjacent-violators, in numpy.

:func:`pool_adjacent_violators` solves ``min sum w_i (y_i - f_i)^2`` subject to
``f_1 <= ... <= f_n`` for values already in order: walk left to right, keep a stack of blocks
(weighted sum and weight), and whenever the new block's mean is not above the previous one, pool
them and look left again. Each value is pushed and popped at most once, so the pass is O(n).

:class:`IsotonicRegression` orders the points by ``x``, averages the targets of equal ``x``
(weighted), pools, and keeps the first and last point of each constant run as knots
(``x_thresholds_``, ``y_thresholds_``). ``predict`` interpolates linearly between knots and
clips outside ``[x_min, x_max]`` to the end values: the behaviour of scikit-learn's
``IsotonicRegression(out_of_bounds="clip")``, which the tests match to 1e-12. On the training
points the fit is the PAV step function itself; between points, in a gap where the step rises,
the interpolant ramps.

>>> import numpy as np
>>> pool_adjacent_violators(np.array([1.0, 3.0, 2.0, 4.0, 0.0])).tolist()
[1.0, 2.25, 2.25, 2.25, 2.25]
>>> rng = np.random.default_rng(0)
>>> x = rng.random(200)
>>> iso = IsotonicRegression().fit(x, (rng.random(200) < x).astype(float))
>>> len(iso.x_thresholds_), iso.predict([-1.0, 0.5, 2.0]).round(4).tolist()
(18, [0.0, 0.4545, 1.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np

from detectors._base import DetectorError, NotFittedError

__all__ = ["IsotonicRegression", "pool_adjacent_violators"]

ArrayLike = Sequence[float] | np.ndarray


def pool_adjacent_violators(y: ArrayLike, weights: ArrayLike | None = None) -> np.ndarray:
    """The weighted least-squares non-decreasing fit to ``y`` (in the given order)."""
    vals = np.asarray(y, dtype=np.float64)
    w = np.ones_like(vals) if weights is None else np.asarray(weights, dtype=np.float64)
    if vals.ndim != 1 or w.shape != vals.shape:
        raise DetectorError(f"y and weights must be 1-D of one length ({vals.shape}, {w.shape})")
    if not (w > 0).all():
        raise DetectorError("weights must be positive")
    sums: list[float] = []
    mass: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip((vals * w).tolist(), w.tolist(), strict=True):
        s, m, k = yi, wi, 1
        while sums and sums[-1] / mass[-1] >= s / m:
            s += sums.pop()
            m += mass.pop()
            k += sizes.pop()
        sums.append(s)
        mass.append(m)
        sizes.append(k)
    means = np.asarray(sums) / np.asarray(mass)
    out: np.ndarray = np.repeat(means, sizes)
    return out


class IsotonicRegression:
    """Non-decreasing piecewise-linear fit of ``y`` on ``x``, clipped outside the data's range."""

    def __init__(self) -> None:
        self.x_thresholds_: np.ndarray | None = None
        self.y_thresholds_: np.ndarray | None = None

    def fit(self, x: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Self:
        """Learn the knots from finite ``x`` and ``y`` of one length."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        w = np.ones_like(xs) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if not len(xs) == len(ys) == len(w) > 0:
            raise DetectorError(f"x, y and weights differ in length ({len(xs)}, {len(ys)},"
                                f" {len(w)}) or are empty")
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise DetectorError("x and y must be finite")
        keep = w > 0
        xs, ys, w = xs[keep], ys[keep], w[keep]
        ux, inverse = np.unique(xs, return_inverse=True)
        mass = np.bincount(inverse, weights=w, minlength=len(ux))
        mean_y = np.bincount(inverse, weights=w * ys, minlength=len(ux)) / mass
        fitted = pool_adjacent_violators(mean_y, mass)
        keep_knot = np.ones(len(fitted), dtype=bool)
        keep_knot[1:-1] = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
        self.x_thresholds_ = ux[keep_knot]
        self.y_thresholds_ = fitted[keep_knot]
        return self

    def predict(self, x: ArrayLike) -> np.ndarray:
        """Linear interpolation between the knots; the end values outside them."""
        if self.x_thresholds_ is None or self.y_thresholds_ is None:
            raise NotFittedError("IsotonicRegression.fit must run before predict")
        out: np.ndarray = np.interp(np.asarray(x, dtype=np.float64),
                                    self.x_thresholds_, self.y_thresholds_)
        return out
