"""Realized performance of a multiclass classifier in one window, with intervals.

Inputs: ``y_true`` holds class labels, ``None`` (or ``NaN``) marking an unlabelled row, which is
dropped with its scores and prediction. ``scores`` holds the predicted class probabilities,
either one mapping ``{class: probability}`` per row (a class missing from a row has probability
0; the classes are the sorted union of the keys unless ``classes`` is given) or an ``(n, k)``
array whose columns are ``classes`` (then required). ``y_pred`` is the predicted label, by default
the class of highest probability (the first in ``classes`` on ties). A label outside the classes
is a :class:`~detectors._base.DetectorError`.

==================  ============================================  =========  ===================
metric              definition                                    interval   support ``n``
==================  ============================================  =========  ===================
accuracy            share of correct predictions                  Wilson     labelled rows
balanced_accuracy   mean recall over the classes present in       bootstrap  labelled rows
                    ``y_true`` (undefined with fewer than two)
macro_f1            mean F1 over the classes present in           bootstrap  labelled rows
                    ``y_true`` or ``y_pred``
weighted_f1         F1 per class weighted by its true count       bootstrap  labelled rows
log_loss            mean of -ln p(true class), p clipped as       bootstrap  labelled rows
                    scikit-learn does (to [eps, 1 - eps])
recall_class_<c>    share of class ``c`` predicted as ``c``       Wilson     members of ``c``
==================  ============================================  =========  ===================

F1 of class ``c`` is ``2 TP / (2 TP + FP + FN)``. The class sets of balanced accuracy and
macro F1 are scikit-learn's defaults, so the values equal ``balanced_accuracy_score``,
``f1_score(average="macro" | "weighted")`` and ``log_loss(labels=classes)`` (rows whose
probabilities sum to one). Intervals, ``None`` for undefined values and ``support_ok`` are as in
:mod:`~detectors.performance.binary`; ``recall_class_<c>`` carries ``label = str(c)``, one per
class of ``classes``, in that order, after the five overall metrics.

>>> import numpy as np
>>> rng = np.random.default_rng(4)
>>> truth = rng.choice(["a", "b", "c"], 300, p=[0.5, 0.3, 0.2])
>>> rows = [{c: 0.8 if c == t else 0.1 for c in "abc"} if rng.random() < 0.7
...         else {"a": 0.5, "b": 0.3, "c": 0.2} for t in truth]
>>> m = {v.metric: v for v in multiclass_metrics(truth.tolist(), rows)}
>>> round(m["accuracy"].value, 3), round(m["macro_f1"].value, 3), round(m["log_loss"].value, 3)
(0.833, 0.833, 0.475)
>>> r = m["recall_class_c"]
>>> round(r.value, 3), r.n, r.label, r.support_ok
(0.74, 77, 'c', True)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

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
from detectors.performance.results import MetricValue

__all__ = ["multiclass_metrics"]

Scores = np.ndarray | Sequence[Mapping[Hashable, float]]


def _is_missing(label: object) -> bool:
    return label is None or (isinstance(label, float) and math.isnan(label))


def _probabilities(scores: Scores, classes: Sequence[Hashable] | None
                   ) -> tuple[np.ndarray, list[Hashable]]:
    """The ``(n, k)`` probability matrix and its class list."""
    if isinstance(scores, np.ndarray):
        if classes is None:
            raise DetectorError("an (n, k) score array needs its class list (classes=...)")
        probs = np.asarray(scores, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[1] != len(classes):
            raise DetectorError(f"scores must be (n, {len(classes)}), got {probs.shape}")
        return probs, list(classes)
    if classes is None:
        keys = {key for row in scores for key in row}
        try:
            classes = sorted(keys)  # type: ignore[type-var]  # labels of one kind sort
        except TypeError:
            classes = sorted(keys, key=repr)
    column = {c: i for i, c in enumerate(classes)}
    probs = np.zeros((len(scores), len(column)))
    for i, row in enumerate(scores):
        for key, prob in row.items():
            if key not in column:
                raise DetectorError(f"score for {key!r}, which is not among the classes")
            probs[i, column[key]] = prob
    return probs, list(classes)


def _indices(labels: Sequence[Hashable], column: Mapping[Hashable, int], what: str) -> np.ndarray:
    try:
        return np.array([column[label] for label in labels], dtype=np.int64)
    except KeyError as exc:
        raise DetectorError(f"{what} holds {exc.args[0]!r}, which is not a class") from exc


def _statistics(y: np.ndarray, probs: np.ndarray, pred: np.ndarray) -> dict[str, Statistic]:
    k = probs.shape[1]
    truth = np.eye(k)[y]
    predicted = np.eye(k)[pred]
    hits = truth * predicted
    eps = np.finfo(np.float64).eps
    loss = -np.log(np.clip(probs[np.arange(y.size), y], eps, 1.0 - eps))

    def per_class(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return w @ hits, w @ truth, w @ predicted

    def balanced_accuracy(w: np.ndarray) -> np.ndarray:
        tp, support, _ = per_class(w)
        present = support > 0
        mean = ratio(np.nansum(ratio(tp, support), axis=1), present.sum(axis=1))
        return np.where(present.sum(axis=1) >= 2, mean, np.nan)

    def macro_f1(w: np.ndarray) -> np.ndarray:
        tp, support, pred_count = per_class(w)
        f1 = ratio(2.0 * tp, support + pred_count)
        return ratio(np.nansum(f1, axis=1), np.isfinite(f1).sum(axis=1))

    def weighted_f1(w: np.ndarray) -> np.ndarray:
        tp, support, pred_count = per_class(w)
        f1 = np.nan_to_num(ratio(2.0 * tp, support + pred_count))
        return ratio(np.sum(f1 * support, axis=1), support.sum(axis=1))

    def log_loss(w: np.ndarray) -> np.ndarray:
        result: np.ndarray = (w @ loss) / w.sum(axis=1)
        return result

    return {"balanced_accuracy": balanced_accuracy, "macro_f1": macro_f1,
            "weighted_f1": weighted_f1, "log_loss": log_loss}


def multiclass_metrics(
    y_true: Sequence[Hashable],
    scores: Scores,
    y_pred: Sequence[Hashable] | None = None,
    *,
    classes: Sequence[Hashable] | None = None,
    min_support: int = 30,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> list[MetricValue]:
    """Every multiclass metric of the module docstring for one window."""
    check_settings(min_support, confidence, n_bootstrap)
    probs, labels = _probabilities(scores, classes)
    if len(y_true) != len(probs) or (y_pred is not None and len(y_pred) != len(probs)):
        raise DetectorError("y_true, scores and y_pred must have the same length")
    keep = np.array([not _is_missing(label) for label in y_true], dtype=bool)
    probs = probs[keep]
    if not ((probs >= 0.0) & (probs <= 1.0)).all():
        raise DetectorError("scores must be probabilities in [0, 1] on every labelled row")
    column = {c: i for i, c in enumerate(labels)}
    y = _indices([t for t, kept in zip(y_true, keep, strict=True) if kept], column, "y_true")
    if y_pred is None:
        pred = np.argmax(probs, axis=1) if probs.size else np.zeros(0, dtype=np.int64)
    else:
        pred = _indices([p for p, kept in zip(y_pred, keep, strict=True) if kept], column,
                        "y_pred")
    n = int(y.size)
    z = z_value(confidence)
    est = bootstrap(_statistics(y, probs, pred), n, n_bootstrap=n_bootstrap, seed=seed,
                    confidence=confidence)
    correct = y == pred
    overall = [proportion("accuracy", int(correct.sum()), n, min_support=min_support, z=z)]
    overall += [from_estimate(name, est[name], n, min_support=min_support)
                for name in ("balanced_accuracy", "macro_f1", "weighted_f1", "log_loss")]
    recalls = [proportion(f"recall_class_{c}", int(np.sum(correct & (y == i))),
                          int(np.sum(y == i)), min_support=min_support, z=z, label=str(c))
               for i, c in enumerate(labels)]
    return overall + recalls
