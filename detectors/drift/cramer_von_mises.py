"""Two-sample Cramér-von Mises test: the mean squared gap between the two empirical CDFs.

With n reference and m current values, N = n + m, and r_i, s_j the midranks of the sorted
reference and current values in the pooled sample, ``U = n sum_i (r_i - i)² + m sum_j (s_j - j)²``
and the statistic is Anderson's (1962) ``T = U / (n m N) - (4 n m - 1) / (6 N)``.

It is scipy's ``cramervonmises_2samp`` with ``method="auto"``: the exact p-value (Xiao, Gordon
and Yakovlev 2006) when both samples hold at most 20 values, otherwise the asymptotic one
(Anderson's normalised T against the limiting one-sample distribution). Evidently's
``cramer_von_mises`` test computes the same T and p-value with the same rule from its own copy
of that code, except that its exact p-values, tallied in float32, differ from scipy's integer
tally around the 8th digit. Needs at least two values on each side. Drift when
``p < threshold`` (Evidently uses ``<=``).

>>> import numpy as np
>>> rng = np.random.default_rng(7)
>>> det = CramerVonMises().fit(rng.normal(0, 1, 500))
>>> det.update(rng.normal(0.3, 1, 400))
>>> r = det.score()
>>> round(r.statistic, 4), f"{r.p_value:.2e}", r.drifted
(3.206, '2.63e-08', True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import stats

from detectors._base import DetectorError
from detectors.drift._base import SampleDriftDetector, Statistic, as_values


def cramer_von_mises_statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
    """``(T, p_value)`` of the two-sample Cramér-von Mises test."""
    ref, cur = as_values(reference), as_values(current)
    if len(ref) < 2 or len(cur) < 2:
        raise DetectorError(
            f"cramer_von_mises needs two values on each side (got {len(ref)}, {len(cur)})")
    res = stats.cramervonmises_2samp(ref, cur, method="auto")
    return float(res.statistic), float(res.pvalue)


class CramerVonMises(SampleDriftDetector):
    """Cramér-von Mises test of a numeric feature; drift when the p-value is below ``threshold``."""

    method: ClassVar[str] = "cramer_von_mises"
    p_value_based: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.05, sample_size: int = 1000, seed: int = 0) -> None:
        super().__init__(threshold, sample_size, seed)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return cramer_von_mises_statistic(reference, current)
