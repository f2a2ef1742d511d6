"""KSWIN, Kolmogorov-Smirnov windowing (Raab, Heusinger and Schleif, 2020).

KSWIN keeps the last ``window_size`` values. Once the window is full, every update compares its
newest ``stat_size`` values ``R`` with ``stat_size`` values ``W`` drawn without replacement from
the older ``window_size - stat_size`` (a fresh draw each time) by the two-sample KS test, and
reports a change when the p-value is at most ``alpha`` and the statistic exceeds 0.1.

The draw is River's ``drift.KSWIN`` (0.26) exactly: a private ``random.Random(seed)``, re-seeded
at every reset, calls ``sample(range(window_size - stat_size), stat_size)`` once per full-window
update, so with the same ``seed`` the detection indices equal River's
(``tests/detectors/concept/test_kswin.py``). The generator's state is part of the saved state
(625 integers), so a restored detector draws the same samples as the uninterrupted one.

Two deliberate differences, neither changing a detection:

- the test is not recomputed by ``scipy.stats.ks_2samp`` on every update: with two samples of
  the same size ``r``, scipy's statistic is ``k / r`` for the largest gap ``k`` between the two
  empirical counts, and its p-value (exact for ``r <= 10000``) depends on ``(r, k)`` alone. We
  compute ``k`` by merging the sorted samples and take the statistic and p-value from
  ``ks_2samp`` itself, called once per ``(r, k)`` on two samples with that gap and memoised,
  which is about ten times faster than River and gives scipy's numbers bit for bit;
- ``seed`` defaults to 0 (River's ``None`` draws from the operating system, which no saved
  configuration could reproduce), and River's ``window`` argument (values to start from) is
  left out: a detector's parameters are plain configuration, its data lives in its state.

River's docstring example, reproduced (``alpha=0.0001, seed=42``):

>>> import random
>>> rng = random.Random(12345)
>>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
>>> kswin = KSWIN(alpha=0.0001, seed=42)
>>> for i, val in enumerate(stream):
...     kswin.update(val)
...     if kswin.drift_detected:
...         print(f"Change detected at index {i}, input value: {val}")
Change detected at index 1016, input value: 6
"""

from __future__ import annotations

import random
import warnings
from collections import deque
from functools import lru_cache
from itertools import islice
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from detectors._base import DetectorError
from detectors.concept._base import ConceptDriftDetector, check_open_unit, check_positive_int

MAX_EXACT = 10_000  # scipy's ks_2samp is exact (method "auto") up to this sample size
MIN_STATISTIC = 0.1  # River's second condition: the statistic must exceed it


@lru_cache(maxsize=4096)
def ks_for_gap(r: int, k: int) -> tuple[float, float]:
    """scipy's ``(statistic, p_value)`` for two samples of size ``r`` whose counts differ by k."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        res = stats.ks_2samp(np.arange(r, dtype=np.float64),
                             np.arange(k, k + r, dtype=np.float64), method="auto")
    return float(res.statistic), float(res.pvalue)


def largest_gap(a: list[float], b: list[float]) -> int:
    """``max_v |#{a <= v} - #{b <= v}|`` for two sorted lists of the same length."""
    n, i, j, best = len(a), 0, 0, 0
    while i < n and j < n:
        v = a[i] if a[i] < b[j] else b[j]
        while i < n and a[i] == v:
            i += 1
        while j < n and b[j] == v:
            j += 1
        gap = i - j if i > j else j - i
        best = max(best, gap)
    return best


class KSWIN(ConceptDriftDetector):
    """Sliding-window Kolmogorov-Smirnov change detector for a real-valued stream.

    Parameters
    ----------
    alpha
        Significance of the KS test, in (0, 1); keep it small (below 0.01).
    window_size
        Values kept; at least ``2 * stat_size``.
    stat_size
        Size of the newest part and of the sample drawn from the older part (at most 10000).
    seed
        Seed of the private generator that draws the samples.
    """

    method: ClassVar[str] = "kswin"

    def __init__(self, alpha: float = 0.005, window_size: int = 100, stat_size: int = 30,
                 seed: int = 0) -> None:
        check_open_unit("alpha", alpha)
        check_positive_int("stat_size", stat_size, 1)
        check_positive_int("window_size", window_size, 2 * stat_size)
        check_positive_int("seed", seed)
        if stat_size > MAX_EXACT:
            raise DetectorError(f"stat_size must be at most {MAX_EXACT}, got {stat_size}")
        self.alpha = alpha
        self.window_size = window_size
        self.stat_size = stat_size
        self.seed = seed
        super().__init__()

    def _reset(self) -> None:
        self._window: deque[float] = deque(maxlen=self.window_size)
        self._rng = random.Random(self.seed)
        self._p_value = 0.0

    def _step(self, x: float) -> None:
        window, size, r = self._window, self.window_size, self.stat_size
        window.append(x)
        if len(window) < size:
            return
        older = sorted([window[i] for i in self._rng.sample(range(size - r), r)])
        newest = sorted(islice(window, size - r, size))
        statistic, self._p_value = ks_for_gap(r, largest_gap(older, newest))
        self._drift = self._p_value <= self.alpha and statistic > MIN_STATISTIC

    @property
    def p_value(self) -> float:
        """The p-value of the last test (0 before the window first fills)."""
        return self._p_value

    def _stats(self) -> dict[str, Any]:
        version, internal, gauss = self._rng.getstate()
        return {"window": list(self._window), "p_value": self._p_value,
                "rng": [version, list(internal), gauss]}

    def _load(self, stats: dict[str, Any]) -> None:
        self._window.extend(float(v) for v in stats["window"])
        self._p_value = float(stats["p_value"])
        version, internal, gauss = stats["rng"]
        try:
            self._rng.setstate((int(version), tuple(int(v) for v in internal), gauss))
        except ValueError as exc:
            raise DetectorError(f"malformed kswin generator state: {exc}") from exc
