"""ROC AUC and average precision as weighted statistics (see :mod:`._common`).

Rows are sorted by score once, and each row knows where its group of tied scores starts and ends
in that order. A set of row weights then needs only running sums in the sorted order: the
weighted negatives below a positive's group (and within it, for ties), or the weighted rows and
positives at or above a group's score. A bootstrap replicate therefore costs ``O(n)``, not a
sort.

- ROC AUC is the Mann-Whitney form: the weighted share of (positive, negative) pairs ranked
  correctly, ties counting one half. It equals the trapezoidal area under the ROC curve, i.e.
  ``sklearn.metrics.roc_auc_score``.
- Average precision is ``sum_k (R_k - R_{k-1}) P_k`` over the distinct scores from the highest
  down (no interpolation), i.e. ``sklearn.metrics.average_precision_score``: every positive row
  adds its weight times the precision at its score, over the total positive weight.

Both are ``NaN`` for weights without positives; ROC AUC also without negatives.

>>> import numpy as np
>>> y = np.array([0, 0, 1, 1, 0, 1])
>>> s = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.9])
>>> stats = ranking_statistics(y, s)
>>> ones = np.ones((1, y.size))
>>> float(stats["roc_auc"](ones)[0]), round(float(stats["pr_auc"](ones)[0]), 6)
(0.777777..., 0.866667)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.performance._common import Statistic, ratio


@dataclass(frozen=True)
class _Ranked:
    """Ascending score order; per row in that order, its tie group's ``[start, end)`` bounds."""

    order: np.ndarray
    start: np.ndarray
    end: np.ndarray
    positive: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, score: np.ndarray) -> _Ranked:
        order = np.argsort(score, kind="stable")
        ranked = score[order]
        new_group = np.r_[True, ranked[1:] != ranked[:-1]]
        group = np.cumsum(new_group) - 1
        starts = np.flatnonzero(new_group)
        ends = np.r_[starts[1:], ranked.size]
        return cls(order, starts[group], ends[group], y[order] == 1)

    def running(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted weights, and running sums of all and of positive weights (zero first)."""
        w = weights[:, self.order]
        zero = np.zeros((w.shape[0], 1))
        rows = np.concatenate([zero, np.cumsum(w, axis=1)], axis=1)
        hits = np.concatenate([zero, np.cumsum(w * self.positive, axis=1)], axis=1)
        return w, rows, hits


def ranking_statistics(y: np.ndarray, score: np.ndarray) -> dict[str, Statistic]:
    """``roc_auc`` and ``pr_auc`` of scores ``score`` for 0/1 labels ``y``.

    The two share the running sums of the last weights they saw (a one-slot memo), so a
    bootstrap chunk is sorted and summed once for both.
    """
    ranked = _Ranked.of(y, score)
    pos = ranked.positive
    start, end = ranked.start[pos], ranked.end[pos]
    memo: list[tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]] = []

    def running(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not memo or memo[0][0] is not weights:
            memo[:] = [(weights, ranked.running(weights))]
        return memo[0][1]

    def roc_auc(weights: np.ndarray) -> np.ndarray:
        w, rows, hits = running(weights)
        negatives = rows - hits
        below_and_half_ties = (negatives[:, start] + negatives[:, end]) / 2.0
        concordant = np.sum(w[:, pos] * below_and_half_ties, axis=1)
        return ratio(concordant, hits[:, -1] * negatives[:, -1])

    def average_precision(weights: np.ndarray) -> np.ndarray:
        w, rows, hits = running(weights)
        at_or_above = rows[:, -1:] - rows[:, start]
        hits_above = hits[:, -1:] - hits[:, start]
        precision = np.nan_to_num(ratio(hits_above, at_or_above))
        return ratio(np.sum(w[:, pos] * precision, axis=1), hits[:, -1])

    return {"roc_auc": roc_auc, "pr_auc": average_precision}
