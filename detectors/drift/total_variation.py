"""Total variation distance between the reference and window proportions.

    TVD = 0.5 * sum_i |p_i - q_i|

in ``[0, 1]``: the largest difference in probability the two mixes give any set of bins. This
is the distance itself, compared with a threshold. Evidently's ``TVD`` test computes the same
distance on categorical value counts but reports the p-value of a permutation test on it; that
needs the raw values, which a mergeable histogram state does not keep, so this module does not
follow it. No flooring or smoothing. Drift when ``TVD >= threshold`` (0.1 by default).

>>> import numpy as np
>>> rng = np.random.default_rng(9)
>>> det = TotalVariation().fit(rng.normal(0, 1, 2000))
>>> det.update(rng.normal(0.5, 1, 500))
>>> r = det.score()
>>> round(r.statistic, 4), r.drifted
(0.214, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import Counts, paired_counts, proportions


def tvd_statistic(reference: Counts, current: Counts) -> Statistic:
    """``(total variation distance, None)`` between two histograms over the same bins."""
    ref, cur = paired_counts(reference, current)
    return 0.5 * float(np.abs(proportions(ref) - proportions(cur)).sum()), None


class TotalVariation(HistogramDriftDetector):
    """Total variation distance over the reference bins; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "tvd"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return tvd_statistic(reference, current)
