"""Realized performance of a regression model in one window, with bootstrap intervals.

Inputs: ``y_true`` the observed targets, ``NaN`` marking a row not (yet) labelled, which is
dropped with its prediction; ``y_pred`` the predictions, finite on every labelled row.

=======  ===============================================================  ====================
metric   definition                                                       support ``n``
=======  ===============================================================  ====================
mae      mean of ``|y - y_pred|``                                         labelled rows
rmse     square root of the mean of ``(y - y_pred)^2``                    labelled rows
mape     mean of ``|y - y_pred| / |y|`` over the rows with ``y != 0``, a  rows with ``y != 0``
         fraction (0.05 = 5 %); rows with a zero target are skipped
r2       ``1 - SS_res / SS_tot`` (undefined when ``y`` is constant)       labelled rows
=======  ===============================================================  ====================

Every interval is the percentile bootstrap of ``n_bootstrap`` resamples of the labelled rows drawn
with ``seed`` (:mod:`._common`); ``mape`` uses the nonzero-target rows of the same resamples. The
values equal scikit-learn's ``mean_absolute_error``, ``root_mean_squared_error``, ``r2_score``
and, on the nonzero-target rows, ``mean_absolute_percentage_error`` (which instead divides by
``max(|y|, eps)``, so a zero target weighs about 4.5e15 times its error there). A value is
``None`` where undefined (no labelled rows, no nonzero target, constant ``y`` or a single row for
``r2``; scikit-learn returns 0 or 1 for a constant ``y``), and ``support_ok`` is false then or
when ``n < min_support``.

>>> import numpy as np
>>> rng = np.random.default_rng(5)
>>> y = rng.normal(10.0, 2.0, 400)
>>> pred = y + rng.normal(0.0, 1.0, 400)
>>> m = {v.metric: v for v in regression_metrics(y, pred)}
>>> e = m["mae"]
>>> round(e.value, 3), round(e.ci_low, 3), round(e.ci_high, 3), e.method
(0.811, 0.74, 0.876, 'bootstrap')
>>> round(m["rmse"].value, 3), round(m["mape"].value, 4), round(m["r2"].value, 3)
(1.008, 0.085, 0.726)
>>> regression_metrics(y[:10], pred[:10])[0].support_ok
False
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detectors._base import DetectorError
from detectors.performance._common import (
    Statistic,
    bootstrap,
    check_settings,
    from_estimate,
    ratio,
)
from detectors.performance.results import MetricValue

__all__ = ["regression_metrics"]

ArrayLike = Sequence[float] | np.ndarray
CONSTANT = 1e-10  # SS_tot below this share of the centred sum of squares counts as 0


def _statistics(y: np.ndarray, pred: np.ndarray) -> dict[str, Statistic]:
    err = y - pred
    absolute, squared = np.abs(err), err**2
    nonzero = (y != 0.0).astype(np.float64)
    relative = np.divide(absolute, np.abs(y), out=np.zeros_like(y), where=y != 0.0)
    centred = y - y.mean() if y.size else y

    def mae(w: np.ndarray) -> np.ndarray:
        result: np.ndarray = (w @ absolute) / w.sum(axis=1)
        return result

    def rmse(w: np.ndarray) -> np.ndarray:
        result: np.ndarray = np.sqrt((w @ squared) / w.sum(axis=1))
        return result

    def mape(w: np.ndarray) -> np.ndarray:
        return ratio(w @ relative, w @ nonzero)

    def r2(w: np.ndarray) -> np.ndarray:
        scale = w @ centred**2
        ss_tot = scale - (w @ centred) ** 2 / w.sum(axis=1)
        ss_tot = np.where((ss_tot > CONSTANT * scale) & (w.sum(axis=1) >= 2), ss_tot, 0.0)
        return 1.0 - ratio(w @ squared, ss_tot)

    return {"mae": mae, "rmse": rmse, "mape": mape, "r2": r2}


def regression_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    min_support: int = 30,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> list[MetricValue]:
    """``mae``, ``rmse``, ``mape`` and ``r2`` of one window with bootstrap intervals."""
    check_settings(min_support, confidence, n_bootstrap)
    y = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y.shape != pred.shape:
        raise DetectorError("y_true and y_pred must have the same length")
    labelled = ~np.isnan(y)
    y, pred = y[labelled], pred[labelled]
    if not (np.isfinite(y).all() and np.isfinite(pred).all()):
        raise DetectorError("y_true and y_pred must be finite on every labelled row")
    n = int(y.size)
    est = bootstrap(_statistics(y, pred), n, n_bootstrap=n_bootstrap, seed=seed,
                    confidence=confidence)
    nonzero = int(np.count_nonzero(y))
    return [
        from_estimate("mae", est["mae"], n, min_support=min_support),
        from_estimate("rmse", est["rmse"], n, min_support=min_support),
        from_estimate("mape", est["mape"], nonzero, min_support=min_support),
        from_estimate("r2", est["r2"], n, min_support=min_support),
    ]
