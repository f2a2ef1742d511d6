"""Population Stability Index over frozen reference bins.

PSI = sum over bins of (c - r) * ln(c / r), where r and c are the reference and current
proportions. Empty bins are floored at ``eps`` (1e-4, as Evidently does) so the sum stays finite.
Bins come from the reference alone, so values are comparable across windows and the per-window
counts merge by addition (unlike Evidently, which bins reference and current together).

>>> round(population_stability_index([50, 50], [50, 50]), 6)
0.0
>>> round(population_stability_index([50, 50], [90, 10]), 4)
0.8789
>>> psi_test([500, 500], [900, 100], threshold=0.25)
DriftResult(method='psi', statistic=0.878...drifted=True, n_reference=1000, n_current=1000)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detectors.results import DriftResult

DEFAULT_EPS = 1e-4


def _proportions(counts: Sequence[float] | np.ndarray, eps: float) -> np.ndarray:
    arr = np.asarray(counts, dtype=np.float64)
    total = arr.sum()
    if total <= 0:
        raise ValueError("PSI needs at least one counted value on each side")
    proportions: np.ndarray = np.maximum(arr / total, eps)
    return proportions


def population_stability_index(
    reference_counts: Sequence[float] | np.ndarray,
    current_counts: Sequence[float] | np.ndarray,
    eps: float = DEFAULT_EPS,
) -> float:
    """PSI between two histograms over the same bins."""
    if len(reference_counts) != len(current_counts):
        raise ValueError("reference and current histograms have different bins")
    r = _proportions(reference_counts, eps)
    c = _proportions(current_counts, eps)
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
