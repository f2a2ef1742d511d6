"""Normed Wasserstein-1 distance: the area between the two CDFs, in reference standard deviations.

``W = integral |F_ref - F_cur| dx / max(std(reference), 0.001)``, where the distance is scipy's
``wasserstein_distance`` and ``std`` the population standard deviation (ddof = 0). That is
Evidently's ``wasserstein`` test exactly: it calls ``np.std`` on the reference Series, which
passes ``ddof=0`` to pandas. No p-value: drift when ``W >= threshold``.

:func:`binned_wasserstein` computes the same quantity from two histograms over the reference's
frozen bins (see :class:`~detectors.histograms.NumericHistogram`), within a stated error.

>>> import numpy as np
>>> rng = np.random.default_rng(7)
>>> det = Wasserstein().fit(rng.normal(0, 1, 500))
>>> det.update(rng.normal(0.3, 1, 400))
>>> r = det.score()
>>> round(r.statistic, 4), r.p_value, r.drifted
(0.3937, None, True)
>>> round(binned_wasserstein([0, 10, 0], [0, 0, 10], [0.0, 2.0], lo=-2.0, hi=4.0, scale=1.0), 6)
2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from scipy import stats

from detectors._base import DetectorError
from detectors.drift._base import SampleDriftDetector, Statistic, as_counts, as_values

MIN_SCALE = 0.001


def wasserstein_statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
    """``(W1 / max(std(reference), 0.001), None)``, std with ddof = 0."""
    ref, cur = as_values(reference), as_values(current)
    scale = max(float(np.std(ref)), MIN_SCALE)
    return float(stats.wasserstein_distance(ref, cur)) / scale, None


def binned_wasserstein(
    reference_counts: Sequence[float] | np.ndarray,
    current_counts: Sequence[float] | np.ndarray,
    edges: Sequence[float] | np.ndarray,
    lo: float,
    hi: float,
    scale: float,
) -> float:
    """Normed W1 of two histograms over buckets ``[lo, e1), [e1, e2), ..., [ek, hi]``.

    The counts have ``len(edges) + 1`` entries; the outer buckets, open-ended in the histogram,
    are taken to end at ``lo`` and ``hi`` (the reference's minimum and maximum). Each bucket's
    mass is moved to the bucket's midpoint, so the result is ``sum_j |C_ref(j) - C_cur(j)| *
    (m_{j+1} - m_j) / scale``, C the cumulative proportions up to edge ``e_{j+1}`` and m the
    midpoints: the trapezoid rule on the CDF gap, which is known exactly at every edge.

    Exact when every value sits at its bucket's midpoint. In general the error is at most
    ``sum_j w_j (r_j + c_j) / 2 / scale`` (w the bucket widths, r and c the proportions), so at
    most the largest bucket width divided by ``scale``: under the monotone coupling, optimal
    before and after binning, moving two coupled values to their midpoints changes their
    distance by at most half of each one's bucket width. This holds while both samples lie
    within ``[lo, hi]``; values outside it add at most the mean, over their side, of their
    distances beyond it (divided by ``scale``).
    """
    ref, cur = as_counts(reference_counts), as_counts(current_counts)
    inner = np.asarray(edges, dtype=np.float64)
    bounds = np.concatenate([[lo], inner, [hi]])
    if len(ref) != len(inner) + 1 or len(cur) != len(ref):
        raise DetectorError("histograms need len(edges) + 1 counts on each side")
    if np.any(np.diff(bounds) < 0) or not scale > 0:
        raise DetectorError("need lo <= edges <= hi in increasing order and scale > 0")
    gap = np.abs(np.cumsum(ref / ref.sum())[:-1] - np.cumsum(cur / cur.sum())[:-1])
    midpoints = (bounds[:-1] + bounds[1:]) / 2
    return float(np.sum(gap * np.diff(midpoints))) / scale


class Wasserstein(SampleDriftDetector):
    """Normed Wasserstein distance of a numeric feature; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "wasserstein"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, sample_size: int = 1000, seed: int = 0) -> None:
        super().__init__(threshold, sample_size, seed)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return wasserstein_statistic(reference, current)
