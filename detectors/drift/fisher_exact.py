"""Fisher's exact test on the 2x2 table of a binary feature, for small counts.

The table is (reference, window) x (first bucket, the other bucket), with the buckets that hold a
value on either side; the statistic and two-sided p-value are scipy's ``fisher_exact`` (the
sample odds ratio ``a d / (b c)``, which may be ``inf`` or 0, and the exact hypergeometric
p-value). No smoothing. A histogram with more than two such buckets is refused with a
:class:`~detectors._base.DetectorError` (use ``chisquare``); with a single one there is nothing
to test: ``(1.0, 1.0)`` where scipy would give a NaN odds ratio. Drift when ``p < threshold``.

Evidently's ``fisher_exact`` gives the same p-value but also demands equal sample sizes; this
one does not.

>>> import numpy as np
>>> rng = np.random.default_rng(3)
>>> det = FisherExact().fit(rng.choice(["ok", "fail"], 40, p=[0.9, 0.1]).tolist())
>>> det.update(rng.choice(["ok", "fail"], 30, p=[0.6, 0.4]).tolist())
>>> r = det.score()
>>> round(r.statistic, 4), round(r.p_value, 6), r.drifted
(14.0952, 2.6e-05, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import stats

from detectors._base import DetectorError
from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import Counts, paired_counts


def fisher_exact_statistic(reference: Counts, current: Counts) -> Statistic:
    """``(odds ratio, p_value)`` of Fisher's exact test on two binary histograms."""
    ref, cur = paired_counts(reference, current)
    if len(ref) > 2:
        raise DetectorError(
            f"fisher_exact needs a binary feature (at most two non-empty buckets), got {len(ref)};"
            " use chisquare for more categories")
    if len(ref) < 2:
        return 1.0, 1.0
    table = np.array([ref, cur])
    if (table != np.round(table)).any():
        raise DetectorError("fisher_exact needs whole counts")
    res = stats.fisher_exact(table.astype(np.int64))
    return float(res.statistic), float(res.pvalue)


class FisherExact(HistogramDriftDetector):
    """Fisher's exact test of a binary feature; drift when the p-value is below ``threshold``."""

    method: ClassVar[str] = "fisher_exact"
    p_value_based: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.05, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return fisher_exact_statistic(reference, current)
