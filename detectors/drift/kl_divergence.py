"""Kullback-Leibler divergence KL(reference || window) over the reference bins.

    KL = sum_i p_i ln(p_i / q_i)

with ``p`` and ``q`` the reference and window proportions after Evidently's zero flooring
(``get_binned_data`` with ``feel_zeroes=True``, see :func:`~detectors.drift._counts.floor_zeros`):
on each side, a zero proportion becomes ``eps`` (1e-4), or the smallest non-zero proportion / 1e6
when that is not above ``eps``; then each side is renormalised to sum to 1, as
``scipy.stats.entropy`` (which Evidently's ``kl_div`` calls) does. This is Evidently's
``kl_div`` on categorical data. The floor keeps the divergence finite when the window leaves a
reference bin empty. Bins empty on both sides are left out. Not symmetric; natural logarithm.
Distance-based: drift when ``KL >= threshold`` (0.1 by default).

>>> import numpy as np
>>> rng = np.random.default_rng(6)
>>> det = KullbackLeibler().fit(rng.normal(0, 1, 2000))
>>> det.update(rng.normal(0, 1.6, 600))
>>> r = det.score()
>>> round(r.statistic, 4), r.drifted
(0.1163, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import rel_entr

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import DEFAULT_EPS, Counts, floor_zeros, paired_counts, proportions


def kl_statistic(reference: Counts, current: Counts, eps: float = DEFAULT_EPS) -> Statistic:
    """``(KL(reference || current), None)`` over the same bins, zeros floored as Evidently."""
    ref, cur = paired_counts(reference, current)
    p = proportions(floor_zeros(proportions(ref), eps))
    q = proportions(floor_zeros(proportions(cur), eps))
    return float(np.sum(rel_entr(p, q))), None


class KullbackLeibler(HistogramDriftDetector):
    """KL(reference || window) over the reference bins; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "kl_div"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return kl_statistic(reference, current)
