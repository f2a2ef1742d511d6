"""Pearson's chi-square goodness-of-fit test of the window against the reference proportions.

Defined as Evidently's ``chisquare`` test (0.7.23): over the bins, the expected count is
``e_i = r_i * n_cur / n_ref`` (the reference count rescaled to the window size) and

    X^2 = sum_i (c_i - e_i)^2 / e_i,    p = P(chi2 with k - 1 degrees of freedom >= X^2)

with ``k`` the number of bins used (scipy's ``chisquare``). No smoothing; bins empty on both
sides are left out, as Evidently does by building its bins from the values seen. Drift when
``p < threshold``.

Bins that the reference never filled but the window did (a category unseen in the reference,
counted in the "other" bucket): under the null hypothesis such a value is impossible, so the
test returns ``X^2 = inf`` and ``p = 0.0`` (drift), which is also what Evidently returns, here
without scipy's division-by-zero warning. With a single bin used (everything in one bucket on
both sides) there is nothing to test: ``(0.0, 1.0)`` where scipy would give a NaN p-value.

>>> import numpy as np
>>> rng = np.random.default_rng(11)
>>> det = ChiSquare().fit(rng.choice(["a", "b", "c"], 1000, p=[0.5, 0.3, 0.2]).tolist())
>>> det.update(rng.choice(["a", "b", "c"], 400, p=[0.4, 0.35, 0.25]).tolist())
>>> r = det.score()
>>> round(r.statistic, 4), round(r.p_value, 6), r.drifted
(22.8911, 1.1e-05, True)
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from scipy import stats

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import Counts, paired_counts


def chi_square_statistic(reference: Counts, current: Counts) -> Statistic:
    """``(X^2, p_value)`` of the window's counts against the reference proportions."""
    ref, cur = paired_counts(reference, current)
    if len(ref) < 2:
        return 0.0, 1.0
    if (ref == 0).any():
        return math.inf, 0.0
    expected = ref * (cur.sum() / ref.sum())
    res = stats.chisquare(cur, expected)
    return float(res.statistic), float(res.pvalue)


class ChiSquare(HistogramDriftDetector):
    """Chi-square test over the reference bins; drift when the p-value is below ``threshold``."""

    method: ClassVar[str] = "chisquare"
    p_value_based: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.05, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return chi_square_statistic(reference, current)
