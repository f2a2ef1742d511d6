"""Population Stability Index over frozen reference bins.

PSI = sum over bins of (c - r) * ln(c / r), where r and c are the reference and current
proportions. Empty bins are floored as Evidently does (``get_binned_data``, see
:func:`~detectors.drift._counts.floor_zeros`): on each side, a zero proportion becomes ``eps``
(1e-4), or the smallest non-zero proportion / 1e6 when that is not above ``eps``; non-zero
proportions are kept and nothing is renormalised, so the sum stays finite. Bins empty on both
sides are left out. Bins come from the reference alone, so values are comparable across windows
and the per-window counts merge by addition (unlike Evidently, which bins numeric reference and
current together). Distance-based: drift when ``PSI >= threshold`` (Evidently's 0.1 by default
for :class:`PopulationStabilityIndex`).

>>> round(population_stability_index([50, 50], [50, 50]), 6)
0.0
>>> round(population_stability_index([50, 50], [90, 10]), 4)
0.8789
>>> psi_test([500, 500], [900, 100], threshold=0.25)
DriftResult(method='psi', statistic=0.878...drifted=True, n_reference=1000, n_current=1000)
>>> import numpy as np
>>> rng = np.random.default_rng(2)
>>> det = PopulationStabilityIndex().fit(rng.normal(0, 1, 2000))
>>> det.update(rng.normal(0.3, 1.1, 700))
>>> r = det.score()
>>> round(r.statistic, 4), r.drifted
(0.148, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.drift._counts import DEFAULT_EPS, floor_zeros, paired_counts, proportions
from detectors.results import DriftResult

__all__ = ["DEFAULT_EPS", "PopulationStabilityIndex", "population_stability_index", "psi_test"]


def population_stability_index(
    reference_counts: Sequence[float] | np.ndarray,
    current_counts: Sequence[float] | np.ndarray,
    eps: float = DEFAULT_EPS,
) -> float:
    """PSI between two histograms over the same bins."""
    ref, cur = paired_counts(reference_counts, current_counts)
    r = floor_zeros(proportions(ref), eps)
    c = floor_zeros(proportions(cur), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_test(
    reference_counts: Sequence[float] | np.ndarray,
    current_counts: Sequence[float] | np.ndarray,
    threshold: float = 0.25,
    eps: float = DEFAULT_EPS,
) -> DriftResult:
    """PSI compared with a fixed threshold (``drifted`` when ``statistic >= threshold``)."""
    value = population_stability_index(reference_counts, current_counts, eps)
    return DriftResult(
        method="psi",
        statistic=value,
        p_value=None,
        threshold=threshold,
        drifted=value >= threshold,
        n_reference=int(np.sum(reference_counts)),
        n_current=int(np.sum(current_counts)),
    )


class PopulationStabilityIndex(HistogramDriftDetector):
    """PSI over the reference bins; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "psi"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, bins: int = 10, max_categories: int = 50) -> None:
        super().__init__(threshold, bins, max_categories)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return population_stability_index(reference, current), None
