"""Thresholds calibrated by resampling the reference at the window's own size.

A fixed threshold means different things at different window sizes: a normed Wasserstein distance
of 0.1 is ordinary noise for 50 rows and a large shift for 100 000. Here the null distribution of
the statistic is simulated instead: both sides are redrawn from the reference histogram, the
reference at its own size ``N`` and the window at its size ``n`` (a parametric two-sample
bootstrap), ``resamples`` times. The p-value of the observed statistic is the share of resampled
statistics at least as large, ``(1 + k) / (B + 1)``. Where fewer than ten resamples reach it (the
far tail, which ``B`` draws cannot resolve), the p-value comes from a gamma distribution fitted to
the resampled statistics by their mean and variance; the benchmarks measure that the resulting
false-alarm rate holds.

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
>>> round(quiet.p_value, 3), loud.p_value < 1e-6
(0.99, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from detectors._base import DetectorError

STATISTICS = ("wasserstein", "jensenshannon")
MIN_EXCEEDANCES = 10


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
        self._null_cache: dict[int, np.ndarray] = {}

    def distance(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        if self.statistic == "wasserstein":
            return wasserstein_rows(p, q, self.gaps, self.scale)
        return jensenshannon_rows(p, q)

    def null(self, n: int) -> np.ndarray:
        """Sorted resampled statistics for windows of ``n`` values (cached per size).

        Above 100 values the size is rounded down to a grid 2% apart, so that windows of similar
        size share one null; a smaller size has the wider null, so the rounding is conservative.
        """
        n = grid_size(n)
        cached = self._null_cache.get(n)
        if cached is not None:
            return cached
        rng = np.random.default_rng([self.seed, n])
        ref = rng.multinomial(int(self.reference.sum()), self._p, size=self.resamples)
        cur = rng.multinomial(n, self._p, size=self.resamples)
        values = np.sort(self.distance(_props(ref), _props(cur)))
        if len(self._null_cache) >= 64:
            self._null_cache.pop(next(iter(self._null_cache)))
        self._null_cache[n] = values
        return values

    def test(self, current_counts: np.ndarray) -> CalibratedResult:
        cur = np.asarray(current_counts, dtype=np.int64)
        if cur.shape != self.reference.shape:
            raise DetectorError("current histogram has different bins than the reference")
        n = int(cur.sum())
        if n == 0:
            raise DetectorError("the window histogram is empty")
        observed = float(self.distance(self._p, _props(cur)))
        null = self.null(n)
        return CalibratedResult(observed, tail_p_value(null, observed), n,
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
    """The statistic a window must reach for a p-value of ``level`` (same tail rule)."""
    b = len(null_sorted)
    if level * (b + 1) >= MIN_EXCEEDANCES + 1:
        return float(np.quantile(null_sorted, 1 - level))
    mean, var = float(null_sorted.mean()), float(null_sorted.var())
    if mean <= 0 or var <= 0:
        return float(null_sorted[-1])
    return float(stats.gamma.isf(level, mean * mean / var, scale=var / mean))


def tail_p_value(null_sorted: np.ndarray, observed: float) -> float:
    """Share of the null at or above ``observed``; a fitted gamma tail where draws run out."""
    b = len(null_sorted)
    exceed = b - int(np.searchsorted(null_sorted, observed - 1e-12, side="left"))
    if exceed >= MIN_EXCEEDANCES:
        return (1 + exceed) / (b + 1)
    mean, var = float(null_sorted.mean()), float(null_sorted.var())
    if mean <= 0 or var <= 0:
        return (1 + exceed) / (b + 1)
    shape, scale = mean * mean / var, var / mean
    tail = float(stats.gamma.sf(observed, shape, scale=scale))
    return min(tail, (1 + exceed) / (b + 1))
