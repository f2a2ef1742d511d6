"""Energy distance between two samples.

``D = sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|)`` with X, X' drawn from the reference and Y, Y'
from the current values; in one dimension it equals ``sqrt(2 * integral (F_ref - F_cur)² dx)``
over the two empirical CDFs, which is how scipy's ``energy_distance`` computes it (O(N log N)).
It is Evidently's ``ed`` test, the same scipy call. It is not normalised (unlike
:mod:`~detectors.drift.wasserstein`): D grows with the square root of the feature's scale, so
the default threshold of 0.1 suits features of roughly unit scale. No p-value: drift when
``D >= threshold`` (Evidently uses ``>``).

>>> import numpy as np
>>> rng = np.random.default_rng(7)
>>> det = EnergyDistance().fit(rng.normal(0, 1, 500))
>>> det.update(rng.normal(0.3, 1, 400))
>>> r = det.score()
>>> round(r.statistic, 4), r.p_value, r.drifted
(0.285, None, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import stats

from detectors.drift._base import SampleDriftDetector, Statistic, as_values


def energy_statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
    """``(D, None)``: the energy distance of the two samples."""
    return float(stats.energy_distance(as_values(reference), as_values(current))), None


class EnergyDistance(SampleDriftDetector):
    """Energy distance of a numeric feature; drift when it reaches ``threshold``."""

    method: ClassVar[str] = "ed"
    p_value_based: ClassVar[bool] = False

    def __init__(self, threshold: float = 0.1, sample_size: int = 1000, seed: int = 0) -> None:
        super().__init__(threshold, sample_size, seed)

    @staticmethod
    def statistic(reference: np.ndarray, current: np.ndarray) -> Statistic:
        return energy_statistic(reference, current)
