"""Intervals shared by the performance metrics: Wilson score intervals and a weighted bootstrap.

Every bootstrapped metric is written once as a *statistic*: a function of a ``(b, n)`` matrix of
row weights returning ``b`` values (``NaN`` where the metric is undefined for that row of
weights). The point estimate is the statistic at weights of one; a percentile-bootstrap
replicate is the statistic at the counts of a resample drawn with replacement (row ``i`` drawn
``w_i`` times). Sorting, binning and per-row losses are therefore done once, a replicate costs
``O(n)``, every metric sees the same resamples, and the resamples are made in chunks of at most
``CHUNK_CELLS`` weights so memory stays bounded. Replicates where a metric is undefined (a
resample without positives, say) are left out of its interval.

>>> import numpy as np
>>> x = np.random.default_rng(0).normal(1.0, 1.0, 400)
>>> est = bootstrap({"mean": lambda w: (w @ x) / w.sum(axis=1)}, x.size,
...                 n_bootstrap=200, seed=0, confidence=0.95)["mean"]
>>> round(est.value, 4), round(est.low, 3), round(est.high, 3), round(est.se, 4)
(0.9634, 0.852, 1.059, 0.0514)
>>> [round(v, 4) for v in wilson(170, 200, z_value(0.95))]
[0.7939, 0.8929]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from detectors._base import DetectorError
from detectors.performance.results import MetricValue

CHUNK_CELLS = 1 << 20
Statistic = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Estimate:
    """A bootstrapped metric: point value, percentile interval and bootstrap standard error."""

    value: float | None
    low: float | None
    high: float | None
    se: float | None


def check_settings(min_support: int, confidence: float, n_bootstrap: int) -> None:
    if min_support < 0:
        raise DetectorError(f"min_support must be >= 0, got {min_support}")
    if not 0.0 < confidence < 1.0:
        raise DetectorError(f"confidence must be in (0, 1), got {confidence}")
    if n_bootstrap < 0:
        raise DetectorError(f"n_bootstrap must be >= 0, got {n_bootstrap}")


def z_value(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence`` (1.96 for 0.95)."""
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, ``NaN`` where ``den`` is 0 (never a division by zero)."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def wilson(successes: float, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (``n > 0``)."""
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact ends, not 1 - 1e-16
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


def proportion(metric: str, successes: int, n: int, *, min_support: int, z: float,
               label: str | None = None) -> MetricValue:
    """A proportion with its Wilson interval; undefined (``None``) when ``n`` is 0."""
    if n == 0:
        return MetricValue(metric, None, None, None, 0, False, label, None, "wilson")
    value = successes / n
    low, high = wilson(successes, n, z)
    se = math.sqrt(value * (1.0 - value) / n)
    return MetricValue(metric, value, low, high, n, n >= min_support, label, se, "wilson")


def from_estimate(metric: str, est: Estimate, n: int, *, min_support: int,
                  label: str | None = None) -> MetricValue:
    ok = est.value is not None and n >= min_support
    return MetricValue(metric, est.value, est.low, est.high, n, ok, label, est.se, "bootstrap")


def resample_weights(n: int, n_bootstrap: int, seed: int) -> Iterator[np.ndarray]:
    """Counts of each row in ``n_bootstrap`` resamples with replacement, in bounded chunks."""
    rng = np.random.default_rng(seed)
    rows = max(1, CHUNK_CELLS // max(n, 1))
    done = 0
    while done < n_bootstrap:
        b = min(rows, n_bootstrap - done)
        drawn = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(drawn.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)
        done += b


def bootstrap(statistics: Mapping[str, Statistic], n: int, *, n_bootstrap: int, seed: int,
              confidence: float) -> dict[str, Estimate]:
    """Point value and percentile interval of every statistic over the same resamples."""
    if n == 0:
        return {name: Estimate(None, None, None, None) for name in statistics}
    ones = np.ones((1, n))
    points = {name: float(stat(ones)[0]) for name, stat in statistics.items()}
    reps: dict[str, list[np.ndarray]] = {name: [] for name in statistics}
    if n_bootstrap > 0:
        for weights in resample_weights(n, n_bootstrap, seed):
            for name, stat in statistics.items():
                reps[name].append(stat(weights))
    out: dict[str, Estimate] = {}
    for name, point in points.items():
        value = point if math.isfinite(point) else None
        drawn = np.concatenate(reps[name]) if reps[name] else np.empty(0)
        drawn = drawn[np.isfinite(drawn)]
        if value is None or drawn.size < 2:
            out[name] = Estimate(value, None, None, None)
            continue
        tail = (1.0 - confidence) / 2.0
        low, high = np.quantile(drawn, [tail, 1.0 - tail])
        out[name] = Estimate(value, float(low), float(high), float(np.std(drawn, ddof=1)))
    return out
