"""Thresholds calibrated by resampling the reference at the window's own size.

A fixed threshold means different things at different window sizes: a normed Wasserstein distance
of 0.1 is ordinary noise for 50 rows and a large shift for 100 000. Here the null distribution of
the statistic is simulated instead: both sides are redrawn from the reference histogram, the
reference at its own size ``N`` and the window at its size ``n`` (a parametric two-sample
bootstrap), ``B`` times. The p-value of the observed statistic is the Monte Carlo p-value
``(1 + k) / (B + 1)``, ``k`` the number of resampled statistics at least as large. It is valid at
any ``B`` (``P(p <= u) <= u`` under the null) and can go as low as ``1 / (B + 1)``, so the caller
asks for enough resamples to resolve its corrected level (``drift_eval`` uses at least
``4 m / alpha`` for ``m`` features). No tail is extrapolated: an earlier gamma fit to the tail
put two to three times too many drift-free windows below 0.0004 (see docs/benchmarks.md).

Statistics (both from histograms, so the whole window counts, not a sample):

- ``wasserstein``: normed Wasserstein-1 between the binned distributions, mass placed at the
  bucket midpoints (outer buckets bounded by the reference range), divided by the reference
  standard deviation.
- ``jensenshannon``: Jensen-Shannon distance (natural log) between category shares.

>>> import numpy as np
>>> ref = np.array([100, 300, 400, 200])
>>> cal = CalibratedTest("jensenshannon", ref, resamples=2000, seed=1)
>>> quiet = cal.test(np.array([10, 31, 38, 21]))
>>> loud = cal.test(np.array([40, 30, 20, 10]))
>>> round(quiet.p_value, 3), round(loud.p_value, 6)
(0.985, 0.0005)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detectors._base import DetectorError

STATISTICS = ("wasserstein", "jensenshannon")
MAX_CACHED_SIZES = 16


@dataclass(frozen=True)
class CalibratedResult:
    """The observed statistic, its resampled p-value and the null at this window size."""

    statistic: float
    p_value: float
    n: int
    null_mean: float
    null_q99: float


def _props(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=-1, keepdims=True)
    out: np.ndarray = counts / np.where(totals == 0, 1, totals)
    return out


def wasserstein_rows(p: np.ndarray, q: np.ndarray, gaps: np.ndarray, scale: float) -> np.ndarray:
    """Binned normed Wasserstein-1 per row of two proportion arrays (last axis = buckets)."""
    cdf_gap = np.abs(np.cumsum(p - q, axis=-1)[..., :-1])
    out: np.ndarray = cdf_gap @ gaps / scale
    return out


def jensenshannon_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (natural log) per row; 0 log 0 = 0."""
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum(axis=-1)
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum(axis=-1)
    out: np.ndarray = np.sqrt(np.maximum((kl_p + kl_q) / 2, 0.0))
    return out


def midpoint_gaps(edges: list[float], lo: float, hi: float) -> np.ndarray:
    """Distances between consecutive bucket midpoints; outer buckets end at ``lo`` and ``hi``."""
    bounds = np.asarray([lo, *edges, hi], dtype=np.float64)
    mids = (bounds[:-1] + bounds[1:]) / 2
    return np.diff(mids)


class CalibratedTest:
    """One feature's statistic with a null distribution resampled per window size."""

    def __init__(self, statistic: str, reference_counts: np.ndarray, *,
                 gaps: np.ndarray | None = None, scale: float = 1.0,
                 resamples: int = 2000, seed: int = 0) -> None:
        if statistic not in STATISTICS:
            raise DetectorError(f"unknown calibrated statistic {statistic!r}; use {STATISTICS}")
        ref = np.asarray(reference_counts, dtype=np.int64)
        if ref.ndim != 1 or ref.sum() <= 0:
            raise DetectorError("the reference histogram is empty")
        if statistic == "wasserstein" and (gaps is None or len(gaps) != len(ref) - 1):
            raise DetectorError("wasserstein needs one midpoint gap per inner bin edge")
        self.statistic = statistic
        self.reference = ref
        self.gaps = np.zeros(0) if gaps is None else np.asarray(gaps, dtype=np.float64)
        self.scale = max(float(scale), 1e-3) if np.isfinite(scale) else 1.0
        self.resamples = resamples
        self.seed = seed
        self._p = ref / ref.sum()
        self._null_cache: dict[tuple[int, int], np.ndarray] = {}

    def distance(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        if self.statistic == "wasserstein":
            return wasserstein_rows(p, q, self.gaps, self.scale)
        return jensenshannon_rows(p, q)

    def null(self, n: int, resamples: int | None = None) -> np.ndarray:
        """Sorted resampled statistics for windows of ``n`` values (cached per size).

        Above 100 values the size is rounded down to a grid 2% apart, so that windows of similar
        size share one null; a smaller size has the wider null, so the rounding is conservative.
        """
        n, b = grid_size(n), resamples or self.resamples
        cached = self._null_cache.get((n, b))
        if cached is not None:
            return cached
        rng = np.random.default_rng([self.seed, n, b])
        values = np.empty(b)
        for lo in range(0, b, 5000):  # chunks keep the draws' memory at O(5000 x bins)
            size = min(5000, b - lo)
            ref = rng.multinomial(int(self.reference.sum()), self._p, size=size)
            cur = rng.multinomial(n, self._p, size=size)
            values[lo:lo + size] = self.distance(_props(ref), _props(cur))
        values.sort()
        if len(self._null_cache) >= MAX_CACHED_SIZES:
            self._null_cache.pop(next(iter(self._null_cache)))
        self._null_cache[(n, b)] = values
        return values

    def test(self, current_counts: np.ndarray, resamples: int | None = None) -> CalibratedResult:
        cur = np.asarray(current_counts, dtype=np.int64)
        if cur.shape != self.reference.shape:
            raise DetectorError("current histogram has different bins than the reference")
        n = int(cur.sum())
        if n == 0:
            raise DetectorError("the window histogram is empty")
        observed = float(self.distance(self._p, _props(cur)))
        null = self.null(n, resamples)
        return CalibratedResult(observed, monte_carlo_p_value(null, observed), n,
                                float(null.mean()), float(np.quantile(null, 0.99)))


def grid_size(n: int, exact_below: int = 100, step: float = 1.02) -> int:
    """``n`` rounded down to a geometric grid (exact below ``exact_below``).

    >>> grid_size(50), grid_size(1000), grid_size(1010), grid_size(100_000)
    (50, 995, 995, 98369)
    """
    if n <= exact_below:
        return n
    k = math.floor(math.log(n / exact_below) / math.log(step) + 1e-9)
    return min(n, round(exact_below * step**k))


def critical_value(null_sorted: np.ndarray, level: float) -> float:
    """The statistic a window must exceed for a Monte Carlo p-value of at most ``level``.

    >>> critical_value(np.arange(1.0, 100.0), 0.05)
    95.0
    """
    b = len(null_sorted)
    allowed = math.floor(level * (b + 1) + 1e-9) - 1  # resamples that may reach the statistic
    if allowed < 0:
        return math.inf
    return float(null_sorted[max(b - 1 - allowed, 0)])


def monte_carlo_p_value(null_sorted: np.ndarray, observed: float) -> float:
    """``(1 + k) / (B + 1)`` with ``k`` resampled statistics at or above ``observed``."""
    b = len(null_sorted)
    exceed = b - int(np.searchsorted(null_sorted, observed - 1e-12, side="left"))
    return (1 + exceed) / (b + 1)
