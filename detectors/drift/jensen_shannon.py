"""Jensen-Shannon distance between the reference and window proportions.

With ``p`` and ``q`` the two histograms normalised to proportions and ``m = (p + q) / 2``:

    JS = sqrt((KL(p || m) + KL(q || m)) / 2),    KL(a || b) = sum a ln(a / b)

the square root of the Jensen-Shannon divergence, in natural logarithms: scipy's
``scipy.spatial.distance.jensenshannon`` with its default base, as Evidently's ``jensenshannon``
uses it (Evidently calls ``get_binned_data`` with ``feel_zeroes=False`` here). No flooring or
smoothing: an empty bin adds ``0 ln 0 = 0``, so the distance stays finite and lies in
``[0, sqrt(ln 2)]``. Distance-based: drift when ``JS >= threshold`` (0.1 by default).

>>> import numpy as np
>>> rng = np.random.default_rng(4)
>>> det = JensenShannon().fit(rng.normal(0, 1, 2000))
>>> det.update(rng.normal(0.4, 1, 600))
>>> r = det.score()
>>> round(r.statistic, 4), r.drifted
(0.1349, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.spatial import distance

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import Counts, paired_counts


def jensen_shannon_statistic(reference: Counts, current: Counts) -> Statistic:
    """``(Jensen-Shannon distance, None)`` between two histograms over the same bins."""
    ref, cur = paired_counts(reference, current)
    return float(distance.jensenshannon(ref, cur)), None


class JensenShannon(HistogramDriftDetector):
    """Jensen-Shannon distance over the reference bins; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "jensenshannon"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return jensen_shannon_statistic(reference, current)
