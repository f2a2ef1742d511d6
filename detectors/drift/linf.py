"""L-infinity distance between the reference and window proportions.

    Linf = max_i |p_i - q_i|

in ``[0, 1]``: the largest change of any single bin's share. Evidently has no such test. No
flooring or smoothing. Distance-based: drift when ``Linf >= threshold`` (0.1 by default).

>>> import numpy as np
>>> rng = np.random.default_rng(10)
>>> det = LInfinity().fit(rng.choice(["x", "y", "z"], 1200, p=[0.5, 0.3, 0.2]).tolist())
>>> det.update(rng.choice(["x", "y", "z"], 400, p=[0.35, 0.35, 0.3]).tolist())
>>> r = det.score()
>>> round(r.statistic, 4), r.drifted
(0.1833, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import Counts, paired_counts, proportions


def linf_statistic(reference: Counts, current: Counts) -> Statistic:
    """``(max |p - q| over the bins, None)`` between two histograms over the same bins."""
    ref, cur = paired_counts(reference, current)
    return float(np.abs(proportions(ref) - proportions(cur)).max()), None


class LInfinity(HistogramDriftDetector):
    """L-infinity distance over the reference bins; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "linf"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return linf_statistic(reference, current)
