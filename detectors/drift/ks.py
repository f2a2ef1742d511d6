"""Two-sample Kolmogorov-Smirnov test: the largest gap between the two empirical CDFs.

Works from bounded samples (see :class:`~detectors.drift._base.SampleDriftDetector`). The
statistic and p-value are scipy's ``ks_2samp`` (exact p-value for small samples, asymptotic
otherwise), which is also what Evidently's ``ks`` test returns. Drift when ``p < threshold``.

>>> import numpy as np
>>> rng = np.random.default_rng(7)
>>> det = KolmogorovSmirnov().fit(rng.normal(0, 1, 500))
>>> det.update(rng.normal(0.3, 1, 400))
>>> r = det.score()
>>> round(r.statistic, 4), r.drifted
(0.193, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import stats

from detectors.drift._base import SampleDriftDetector, Statistic, as_values


def ks_statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
    """``(D, p_value)`` of the two-sample KS test."""
    res = stats.ks_2samp(as_values(reference), as_values(current))
    return float(res.statistic), float(res.pvalue)


class KolmogorovSmirnov(SampleDriftDetector):
    """KS test of a numeric feature; drift when the p-value is below ``threshold``."""

    method: ClassVar[str] = "ks"
    p_value_based: ClassVar[bool] = True

    def __init__(self, threshold: float = 0.05, sample_size: int = 1000, seed: int = 0) -> None:
        super().__init__(threshold, sample_size, seed)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return ks_statistic(reference, current)
