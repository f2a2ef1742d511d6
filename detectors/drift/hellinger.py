"""Hellinger distance between the reference and window proportions.

With ``p`` and ``q`` the two histograms normalised to proportions:

    H = sqrt(sum_i (sqrt(p_i) - sqrt(q_i))^2 / 2) = sqrt(1 - sum_i sqrt(p_i q_i))

in ``[0, 1]``; the second form is Evidently's ``hellinger`` on categorical data. It is computed
in the first form, which keeps its digits when the two mixes are close (``1 - BC`` cancels).
No flooring or smoothing: empty bins need none. Distance-based: drift when ``H >= threshold``
(0.1 by default).

>>> import numpy as np
>>> rng = np.random.default_rng(8)
>>> det = Hellinger().fit(rng.choice(["a", "b", "c", "d"], 1500, p=[0.4, 0.3, 0.2, 0.1]).tolist())
>>> det.update(rng.choice(["a", "b", "c", "d"], 500, p=[0.3, 0.3, 0.2, 0.2]).tolist())
>>> r = det.score()
>>> round(r.statistic, 4), r.drifted
(0.1605, True)
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import Counts, paired_counts, proportions


def hellinger_statistic(reference: Counts, current: Counts) -> Statistic:
    """``(Hellinger distance, None)`` between two histograms over the same bins."""
    ref, cur = paired_counts(reference, current)
    gap = np.sqrt(proportions(ref)) - np.sqrt(proportions(cur))
    return math.sqrt(float(np.dot(gap, gap)) / 2), None


class Hellinger(HistogramDriftDetector):
    """Hellinger distance over the reference bins; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "hellinger"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return hellinger_statistic(reference, current)
