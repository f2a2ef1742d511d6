"""Two-sample Anderson-Darling test: a CDF gap weighted towards the tails.

The statistic is Scholz and Stephens' (1987) normalised k-sample statistic for k = 2,
``(A² - 1) / sigma_N``, where without ties ``A² = 1/N sum_i 1/n_i sum_j (N M_ij - j n_i)² /
(j (N - j))`` (j over the N - 1 first pooled order statistics, M_ij the number of sample i's
values among the j smallest) and with ties its midrank form (their eq. 7). It is scipy's
``anderson_ksamp`` with ``variant="midrank"``, the same statistic and p-value Evidently's
``anderson`` test returns (it calls ``anderson_ksamp`` with the default ``midrank=True``).

P-value: interpolated from Scholz and Stephens' table, so it is capped at 0.25 and floored at
0.001 (scipy's cap/floor warnings are silenced: they fire on most windows). Decisions at a
threshold inside that range, such as the default 0.05, are unaffected by the cap and floor; a
threshold at or below 0.001 would never fire. We do not use scipy's permutation ``method``: it costs
thousands of recomputations per score and would make the p-value random. When every value on
both sides is the same, scipy refuses; the samples are then identical and we return
``(0.0, 0.25)``. Drift when ``p < threshold``.

>>> import numpy as np
>>> rng = np.random.default_rng(7)
>>> det = AndersonDarling().fit(rng.normal(0, 1, 500))
>>> det.update(rng.normal(0.3, 1, 400))
>>> r = det.score()
>>> round(r.statistic, 4), r.p_value, r.drifted
(20.1095, 0.001, True)
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from scipy import stats

from detectors.drift._base import SampleDriftDetector, Statistic, as_values

P_CAP = 0.25


def anderson_darling_statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
    """``(normalised A², p_value)`` of the two-sample Anderson-Darling test (midrank)."""
    ref, cur = as_values(reference), as_values(current)
    pooled = np.concatenate([ref, cur])
    if len(ref) and len(cur) and np.all(pooled == pooled[0]):
        return 0.0, P_CAP
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="p-value (capped|floored)", category=UserWarning)
        res = stats.anderson_ksamp([ref, cur], variant="midrank")
    return float(res.statistic), float(res.pvalue)


class AndersonDarling(SampleDriftDetector):
    """Anderson-Darling test of a numeric feature; drift when the p-value is below ``threshold``."""

    method: ClassVar[str] = "anderson"
    p_value_based: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.05, sample_size: int = 1000, seed: int = 0) -> None:
        super().__init__(threshold, sample_size, seed)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return anderson_darling_statistic(reference, current)
