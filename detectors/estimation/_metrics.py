"""Confusion-matrix metrics and ROC AUC, expected (from probabilities) or realized (from labels).

With ``p_i`` the probability that row ``i`` is positive and ``yhat_i`` its prediction, the
expected confusion matrix is ``E[TP] = sum p_i [yhat_i = 1]``, ``E[FP] = sum (1 - p_i) [yhat_i =
1]``, ``E[FN] = sum p_i [yhat_i = 0]``, ``E[TN] = sum (1 - p_i) [yhat_i = 0]``; accuracy,
precision, recall and F1 are computed from it as from a realized one (a ratio of expectations).
A realized confusion matrix is the expected one with ``p_i = y_i``, so one set of formulas
serves both.

The expected ROC AUC weighs each ordered pair ``(i, j)``, ``i != j``, by ``p_i (1 - p_j)`` (``i``
positive, ``j`` negative) and counts it as 1 when ``score_i > score_j`` and 1/2 when tied:
``sum p_i (1 - p_j) [s_i > s_j] / sum_{i != j} p_i (1 - p_j)``. Over groups of equal score in
ascending order, with ``P_g = sum p``, ``N_g = sum (1 - p)`` and ``S_g = sum p (1 - p)``, it is
``(sum_g P_g N_below(g) + (P_g N_g - S_g) / 2) / (P N - S)``: one sort, then O(n). With
``p = y`` it is the Mann-Whitney ROC AUC.

A metric whose denominator is zero (no predicted positives for precision, say) is NaN.

>>> c = confusion([0.75, 0.25, 0.5, 0.0], [1, 0, 1, 0])
>>> c
Confusion(tp=1.25, fp=0.75, fn=0.25, tn=1.75)
>>> c.value("accuracy"), c.value("precision"), round(c.value("f1"), 4)
(0.75, 0.625, 0.7143)
>>> expected_auc([0.9, 0.2, 0.6, 0.1], [0.75, 0.25, 0.5, 0.0])
0.9
>>> expected_auc([0.9, 0.2, 0.6, 0.1], [1, 0, 0, 1])
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1", "roc_auc")

ArrayLike = Sequence[float] | np.ndarray


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


@dataclass(frozen=True)
class Confusion:
    """A (possibly expected, so fractional) binary confusion matrix."""

    tp: float
    fp: float
    fn: float
    tn: float

    @property
    def n(self) -> float:
        return self.tp + self.fp + self.fn + self.tn

    def value(self, metric: str) -> float:
        """Accuracy, precision, recall or F1 of this matrix (NaN when undefined)."""
        if metric == "accuracy":
            return _ratio(self.tp + self.tn, self.n)
        if metric == "precision":
            return _ratio(self.tp, self.tp + self.fp)
        if metric == "recall":
            return _ratio(self.tp, self.tp + self.fn)
        if metric == "f1":
            return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)
        raise ValueError(f"{metric!r} is not a confusion-matrix metric")

    def effective_n(self, metric: str) -> float:
        """The rows whose labels move ``metric``: its sampling variance is ~ sigma^2 / this.

        Accuracy: all rows. Precision: the predicted positives. Recall: the positives. F1:
        the rows that are not true negatives (F1 ignores TN). ROC AUC: ``n_pos n_neg / n``,
        from its variance ~ a / n_neg + b / n_pos (Hanley and McNeil) with ``a = b``.
        """
        counts = {
            "accuracy": self.n,
            "precision": self.tp + self.fp,
            "recall": self.tp + self.fn,
            "f1": self.tp + self.fp + self.fn,
            "roc_auc": _ratio((self.tp + self.fn) * (self.fp + self.tn), self.n),
        }
        return counts[metric]


def confusion(p: ArrayLike, y_pred: ArrayLike, weights: ArrayLike | None = None) -> Confusion:
    """The expected confusion matrix of probabilities ``p`` (labels for a realized one)."""
    prob = np.asarray(p, dtype=np.float64)
    w = np.ones_like(prob) if weights is None else np.asarray(weights, dtype=np.float64)
    pos = np.asarray(y_pred).astype(bool)
    wp = w * prob
    wq = w - wp
    return Confusion(float(wp[pos].sum()), float(wq[pos].sum()),
                     float(wp[~pos].sum()), float(wq[~pos].sum()))


def ordered_auc(pos: np.ndarray, neg: np.ndarray, self_pairs: float) -> float:
    """Expected AUC from groups in ascending score order: positive and negative mass per group,
    and ``sum p (1 - p)`` over all rows (the pairs of a row with itself, left out)."""
    below = np.cumsum(neg) - neg
    num = float(pos @ below) + 0.5 * (float(pos @ neg) - self_pairs)
    den = float(pos.sum()) * float(neg.sum()) - self_pairs
    return _ratio(num, den) if den > 1e-12 else math.nan


def expected_auc(scores: ArrayLike, p: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Expected ROC AUC of ``scores`` when row ``i`` is positive with probability ``p_i``."""
    s = np.asarray(scores, dtype=np.float64)
    prob = np.asarray(p, dtype=np.float64)
    w = np.ones_like(prob) if weights is None else np.asarray(weights, dtype=np.float64)
    uniq, inverse = np.unique(s, return_inverse=True)
    wp = w * prob
    pos = np.bincount(inverse, weights=wp, minlength=len(uniq))
    neg = np.bincount(inverse, weights=w - wp, minlength=len(uniq))
    return ordered_auc(pos, neg, float(wp @ (1 - prob)))


def realized_metrics(scores: ArrayLike, labels: ArrayLike, y_pred: ArrayLike,
                     metrics: Sequence[str] = METRICS) -> dict[str, float]:
    """The realized metrics of labelled rows (NaN where a denominator is zero)."""
    y = np.asarray(labels, dtype=np.float64)
    c = confusion(y, y_pred)
    return {m: expected_auc(scores, y) if m == "roc_auc" else c.value(m) for m in metrics}


def bootstrap_sigma(scores: np.ndarray, labels: np.ndarray, y_pred: np.ndarray,
                    metrics: Sequence[str], n_bootstrap: int,
                    seed: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per-unit sampling sd of each realized metric, and its effective count's share of rows.

    The sd over ``n_bootstrap`` resamples of the rows (at their own size ``n``), times
    ``sqrt(effective count)``: a sample's standard error is then ``sigma / sqrt(its count)``.
    """
    n = len(scores)
    y = labels.astype(np.float64)
    uniq, inverse = np.unique(scores, return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_bootstrap, len(metrics)))
    for b in range(n_bootstrap):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        conf = confusion(y, y_pred, w)
        for k, m in enumerate(metrics):
            if m == "roc_auc":
                pos = np.bincount(inverse, weights=w * y, minlength=len(uniq))
                neg = np.bincount(inverse, weights=w * (1 - y), minlength=len(uniq))
                draws[b, k] = ordered_auc(pos, neg, 0.0)
            else:
                draws[b, k] = conf.value(m)
    whole = confusion(y, y_pred)
    sigma = {m: float(np.nanstd(draws[:, k], ddof=1)) * math.sqrt(whole.effective_n(m))
             for k, m in enumerate(metrics)}
    return sigma, {m: whole.effective_n(m) / n for m in metrics}
