"""Two-proportion z-test on the share of the first bucket (for binary features).

With ``a`` and ``b`` the counts of the first bucket used in the reference and the window
(``n_ref`` and ``n_cur`` values), ``s_ref = a / n_ref``, ``s_cur = b / n_cur`` and the pooled
share ``s = (a + b) / (n_ref + n_cur)``:

    z = (s_cur - s_ref) / sqrt(s (1 - s) (1 / n_ref + 1 / n_cur)),    p = 2 P(Z >= |z|)

This is Evidently's ``z`` test: it takes the first of the values seen (sorted) against all the
others, and its ``z`` has this sign. Here the first bucket is the first one holding a value on
either side: the most frequent reference category, or the lowest numeric bin. With more than two
buckets the test is still "first bucket against the rest". The p-value is the normal survival
function (Evidently computes ``1 - cdf``, which loses digits for tiny p-values). No smoothing;
when both sides are entirely in, or entirely out of, the first bucket: ``(0.0, 1.0)``.
Drift when ``p < threshold``.

>>> import numpy as np
>>> rng = np.random.default_rng(5)
>>> det = ZTest().fit(rng.choice(["no", "yes"], 800, p=[0.7, 0.3]).tolist())
>>> det.update(rng.choice(["no", "yes"], 300, p=[0.62, 0.38]).tolist())
>>> r = det.score()
>>> round(r.statistic, 4), round(r.p_value, 6), r.drifted
(-4.3374, 1.4e-05, True)
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from scipy import stats

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import Counts, paired_counts


def z_statistic(reference: Counts, current: Counts) -> Statistic:
    """``(z, p_value)`` of the two-sided two-proportion z-test on the first bucket's share."""
    ref, cur = paired_counts(reference, current)
    n_ref, n_cur = ref.sum(), cur.sum()
    pooled = (ref[0] + cur[0]) / (n_ref + n_cur)
    if pooled in {0.0, 1.0}:
        return 0.0, 1.0
    z = (cur[0] / n_cur - ref[0] / n_ref) / math.sqrt(
        pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    return float(z), float(2 * stats.norm.sf(abs(z)))


class ZTest(HistogramDriftDetector):
    """Z-test on the first bucket's share; drift when the p-value is below ``threshold``."""

    method: ClassVar[str] = "z"
    p_value_based: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.05, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return z_statistic(reference, current)
