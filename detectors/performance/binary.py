"""Realized performance of a binary classifier in one window, with intervals and minimum support.

Inputs: ``y_true`` holds 0/1 labels, ``NaN`` marking a row not (yet) labelled, which is dropped
together with its score and prediction; ``score`` is the predicted probability of class 1, in
``[0, 1]``; ``y_pred`` the hard 0/1 predictions, ``score >= threshold`` when not given. Class 1
is the positive class.

==================  ============================================  =========  ===================
metric              definition                                    interval   support ``n``
==================  ============================================  =========  ===================
accuracy            share of correct predictions                  Wilson     labelled rows
balanced_accuracy   mean of the two class recalls                 bootstrap  labelled rows
precision           TP / (TP + FP)                                Wilson     predicted positives
recall              TP / (TP + FN), the same as recall_class_1    Wilson     positives
f1                  2 TP / (2 TP + FP + FN)                       bootstrap  labelled rows
roc_auc             Mann-Whitney form, ties count one half        bootstrap  labelled rows
pr_auc              average precision, no interpolation           bootstrap  labelled rows
log_loss            mean of -ln p(true class), p clipped as       bootstrap  labelled rows
                    scikit-learn does (to [eps, 1 - eps])
brier               mean of (score - y)^2                         bootstrap  labelled rows
ece                 expected calibration error, see below         bootstrap  labelled rows
recall_class_0      TN / (TN + FP)                                Wilson     negatives
recall_class_1      TP / (TP + FN)                                Wilson     positives
==================  ============================================  =========  ===================

ECE is the calibration error of the class-1 probability over 10 equal-width bins of ``score``,
binned as ``sklearn.calibration.calibration_curve(strategy="uniform")`` bins (edges
``np.linspace(0, 1, 11)``, bins ``[0, 0.1], (0.1, 0.2], ..., (0.9, 1]``):
``sum_b (n_b / n) |mean(y)_b - mean(score)_b|`` over the non-empty bins. Binning noise biases
ECE upward on small windows, and its bootstrap replicates more so: for a well-calibrated model
its interval can lie above its value.

Wilson is the Wilson score interval at ``confidence``; bootstrap is the percentile interval of
``n_bootstrap`` resamples of the labelled rows drawn with ``seed`` (:mod:`._common`), none when
``n_bootstrap`` is 0. Where defined, every value equals scikit-learn's. A value is ``None`` (and
``support_ok`` false) where it is undefined: precision without predicted positives, a class
recall without members of the class, balanced accuracy and ROC AUC without both classes, PR AUC
without positives, F1 without a positive in truth or prediction, anything without labelled rows.
``support_ok`` is also false when ``n < min_support``. Nothing divides by zero.

>>> import numpy as np
>>> rng = np.random.default_rng(3)
>>> y = (rng.random(500) < 0.3).astype(int)
>>> score = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.2, 500), 0, 1)
>>> m = {v.metric: v for v in binary_metrics(y, score)}
>>> a = m["accuracy"]
>>> round(a.value, 3), round(a.ci_low, 3), round(a.ci_high, 3), a.n, a.method
(0.874, 0.842, 0.9, 500, 'wilson')
>>> r = m["roc_auc"]
>>> round(r.value, 3), round(r.ci_low, 3), round(r.ci_high, 3), r.method
(0.924, 0.898, 0.949, 'bootstrap')
>>> few = {v.metric: v for v in binary_metrics(y[:20], score[:20])}
>>> few["accuracy"].support_ok, few["precision"].n
(False, 8)
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
    proportion,
    ratio,
    z_value,
)
from detectors.performance._ranking import ranking_statistics
from detectors.performance.results import MetricValue

__all__ = ["ECE_BINS", "binary_metrics"]

ECE_BINS = 10
ArrayLike = Sequence[float] | np.ndarray


def _rows(y_true: ArrayLike, score: ArrayLike, y_pred: ArrayLike | None,
          threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled rows as float arrays ``(y, score, prediction)``, validated."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(score, dtype=np.float64).ravel()
    pred = None if y_pred is None else np.asarray(y_pred, dtype=np.float64).ravel()
    if p.shape != y.shape or (pred is not None and pred.shape != y.shape):
        raise DetectorError("y_true, score and y_pred must have the same length")
    labelled = ~np.isnan(y)
    y, p = y[labelled], p[labelled]
    if not np.isin(y, (0.0, 1.0)).all():
        raise DetectorError("y_true must hold 0 and 1 (NaN for an unlabelled row)")
    if not ((p >= 0.0) & (p <= 1.0)).all():
        raise DetectorError("score must be a probability in [0, 1] on every labelled row")
    if pred is None:
        return y, p, (p >= threshold).astype(np.float64)
    pred = pred[labelled]
    if not np.isin(pred, (0.0, 1.0)).all():
        raise DetectorError("y_pred must hold 0 and 1")
    return y, p, pred


def _statistics(y: np.ndarray, p: np.ndarray, pred: np.ndarray) -> dict[str, Statistic]:
    """The bootstrapped metrics as functions of ``(b, n)`` row weights."""
    pos, neg = y, 1.0 - y
    tp_row, fp_row = pos * pred, neg * pred
    tn_row = neg * (1.0 - pred)
    p_true = np.where(y == 1.0, p, 1.0 - p)
    eps = np.finfo(np.float64).eps
    loss = -np.log(np.clip(p_true, eps, 1.0 - eps))
    squared = (p - y) ** 2
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    bins = np.searchsorted(edges[1:-1], p)
    gaps = np.zeros((ECE_BINS, y.size))
    gaps[bins, np.arange(y.size)] = y - p

    def balanced_accuracy(w: np.ndarray) -> np.ndarray:
        result: np.ndarray = (ratio(w @ tp_row, w @ pos) + ratio(w @ tn_row, w @ neg)) / 2.0
        return result

    def f1(w: np.ndarray) -> np.ndarray:
        tp = w @ tp_row
        return ratio(2.0 * tp, tp + w @ pos + w @ fp_row)

    def mean_of(values: np.ndarray) -> Statistic:
        return lambda w: (w @ values) / w.sum(axis=1)

    def ece(w: np.ndarray) -> np.ndarray:
        total = sum(np.abs(w @ gap) for gap in gaps)  # ten products: steadier than one thin gemm
        result: np.ndarray = total / w.sum(axis=1)
        return result

    return {
        "balanced_accuracy": balanced_accuracy,
        "f1": f1,
        **ranking_statistics(y, p),
        "log_loss": mean_of(loss),
        "brier": mean_of(squared),
        "ece": ece,
    }


def binary_metrics(
    y_true: ArrayLike,
    score: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    threshold: float = 0.5,
    min_support: int = 30,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> list[MetricValue]:
    """Every binary metric of the module docstring for one window, in the order listed there."""
    check_settings(min_support, confidence, n_bootstrap)
    y, p, pred = _rows(y_true, score, y_pred, threshold)
    n = int(y.size)
    tp = int(np.sum((y == 1.0) & (pred == 1.0)))
    fp = int(np.sum((y == 0.0) & (pred == 1.0)))
    tn = int(np.sum((y == 0.0) & (pred == 0.0)))
    positives = int(np.sum(y == 1.0))
    z = z_value(confidence)
    est = bootstrap(_statistics(y, p, pred), n, n_bootstrap=n_bootstrap, seed=seed,
                    confidence=confidence)

    def boot(metric: str) -> MetricValue:
        return from_estimate(metric, est[metric], n, min_support=min_support)

    def prop(metric: str, successes: int, support: int, label: str | None = None) -> MetricValue:
        return proportion(metric, successes, support, min_support=min_support, z=z, label=label)

    return [
        prop("accuracy", tp + tn, n),
        boot("balanced_accuracy"),
        prop("precision", tp, tp + fp),
        prop("recall", tp, positives),
        boot("f1"),
        boot("roc_auc"),
        boot("pr_auc"),
        boot("log_loss"),
        boot("brier"),
        boot("ece"),
        prop("recall_class_0", tn, n - positives, label="0"),
        prop("recall_class_1", tp, positives, label="1"),
    ]
