"""Helpers shared by the count-based (histogram) tests: paired bins, proportions, zero floors.

Every histogram test starts from :func:`paired_counts`: both sides validated by
:func:`~detectors.drift._base.as_counts` (empty or negative histograms are a
:class:`~detectors._base.DetectorError`), the same number of bins, and the bins that are empty on
both sides dropped. Evidently builds its bins from the values seen on either side, so it never
has such bins; dropping them keeps degrees of freedom and zero floors the same as Evidently's.

:func:`floor_zeros` is Evidently's rule for empty bins (``get_binned_data`` with
``feel_zeroes=True``, used by its ``psi`` and ``kl_div``): on each side separately, a zero
proportion becomes ``eps`` (1e-4), or the smallest non-zero proportion / 1e6 when that one is
not above ``eps``. Non-zero proportions are never changed, and nothing is renormalised.

>>> ref, cur = paired_counts([5, 0, 5], [0, 0, 10])
>>> ref.tolist(), cur.tolist()
([5.0, 5.0], [0.0, 10.0])
>>> floor_zeros(proportions(cur)).tolist()
[0.0001, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detectors._base import DetectorError
from detectors.drift._base import as_counts

DEFAULT_EPS = 1e-4
Counts = Sequence[float] | np.ndarray


def paired_counts(reference: Counts, current: Counts) -> tuple[np.ndarray, np.ndarray]:
    """Both histograms as floats over the same bins, without the bins empty on both sides."""
    ref, cur = as_counts(reference), as_counts(current)
    if ref.shape != cur.shape:
        raise DetectorError(
            f"reference and current histograms have different bins ({len(ref)} vs {len(cur)})")
    if not (np.isfinite(ref).all() and np.isfinite(cur).all()):
        raise DetectorError("counts must be finite")
    used = (ref > 0) | (cur > 0)
    return ref[used], cur[used]


def proportions(counts: np.ndarray) -> np.ndarray:
    """Counts divided by their total."""
    shares: np.ndarray = counts / counts.sum()
    return shares


def floor_zeros(shares: np.ndarray, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Zero proportions raised to ``eps`` (or smallest non-zero / 1e6 if that is <= ``eps``)."""
    smallest = float(shares[shares > 0].min())
    floor = smallest / 1e6 if smallest <= eps else eps
    floored: np.ndarray = np.where(shares > 0, shares, floor)
    return floored
