"""ADWIN, adaptive windowing (Bifet and Gavalda, 2007), in its bucketed ADWIN2 form.

ADWIN keeps the window of values since the last change and reports a change when some split of
it into an older part ``W0`` (``n0`` values) and a newer part ``W1`` (``n1`` values) has means
further apart than

    eps = sqrt(2 m var ln(D)) + 2/3 m ln(D),   m = 1/(n0 - L + 1) + 1/(n1 - L + 1),
    D = 2 ln(width) / delta,  var = the window's variance,  L = min_window_length,

dropping its oldest values until no split does. Memory stays logarithmic in the window: values
are summarised in an exponential histogram, level ``i`` holding up to ``max_buckets`` buckets of
``2**i`` values each (total and sum of squared deviations); a level that fills up to
``max_buckets + 1`` merges its two oldest buckets into one of the next level. Splits are only
checked at bucket boundaries, every ``clock`` updates, and only once the window holds more than
``grace_period`` values; both parts need at least ``min_window_length`` values.

Conventions are River's ``drift.ADWIN`` (0.26, its Rust ``AdaptiveWindowing``): the clock counts
updates since the last reset, the split scan runs from the oldest bucket to the newest and never
makes ``W1`` empty, and, as everywhere in River, the update after a detection starts from an
empty window (the paper would keep ``W1``). The arithmetic is done in the same order, so
detection indices equal River's (``tests/detectors/concept/test_adwin.py``).

River's docstring example, reproduced: fair coin flips, then uniform integers 4..7.

>>> import random
>>> rng = random.Random(12345)
>>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
>>> adwin = ADWIN()
>>> for i, val in enumerate(stream):
...     adwin.update(val)
...     if adwin.drift_detected:
...         print(f"Change detected at index {i}, input value: {val}")
Change detected at index 1023, input value: 4
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from detectors.concept._base import ConceptDriftDetector, check_open_unit, check_positive_int


class ADWIN(ConceptDriftDetector):
    """Adaptive-window change detector for the mean of a real-valued stream.

    Parameters
    ----------
    delta
        Significance of a change, in (0, 1).
    clock
        Check for a change every ``clock`` updates (1: on every update).
    max_buckets
        Buckets kept per level of the exponential histogram before two are merged.
    min_window_length
        Fewest values on each side of a split for it to be tested.
    grace_period
        Values the window must hold (strictly more) before any check.
    """

    method: ClassVar[str] = "adwin"

    def __init__(self, delta: float = 0.002, clock: int = 32, max_buckets: int = 5,
                 min_window_length: int = 5, grace_period: int = 10) -> None:
        check_open_unit("delta", delta)
        check_positive_int("clock", clock, 1)
        check_positive_int("max_buckets", max_buckets, 1)
        check_positive_int("min_window_length", min_window_length, 1)
        check_positive_int("grace_period", grace_period)
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        super().__init__()

    def _reset(self) -> None:
        self._tick = 0
        self._width = 0.0
        self._total = 0.0
        self._variance = 0.0  # sum of squared deviations from the window's mean
        # level i: totals and variances of buckets of 2**i values, oldest first
        self._totals: list[list[float]] = [[]]
        self._variances: list[list[float]] = [[]]

    def _step(self, x: float) -> None:
        self._insert(x)
        self._tick += 1
        if self._tick % self.clock == 0 and self._width > self.grace_period:
            while self._cut():
                self._drift = True
                self._drop_oldest()

    def _insert(self, x: float) -> None:
        width = self._width = self._width + 1.0
        if width > 1.0:
            d = x - self._total / (width - 1.0)
            self._variance += (width - 1.0) * d * d / width
        self._total += x
        row = self._totals[0]
        row.append(x)
        self._variances[0].append(0.0)
        if len(row) > self.max_buckets:
            self._compress()

    def _compress(self) -> None:
        """Merge the two oldest buckets of every full level into one of the next level."""
        totals, variances, level = self._totals, self._variances, 0
        while len(totals[level]) > self.max_buckets:
            if level + 1 == len(totals):
                totals.append([])
                variances.append([])
            row, var, size = totals[level], variances[level], float(1 << level)
            gap = row[0] / size - row[1] / size
            totals[level + 1].append(row[0] + row[1])
            variances[level + 1].append(var[0] + var[1] + size * 0.5 * gap * gap)
            del row[:2], var[:2]
            level += 1

    def _drop_oldest(self) -> None:
        top = len(self._totals) - 1
        size = float(1 << top)
        u, v = self._totals[top].pop(0), self._variances[top].pop(0)
        self._width -= size
        self._total -= u
        gap = u / size - self._total / self._width
        self._variance -= v + size * self._width * gap * gap / (size + self._width)
        if not self._totals[top] and top > 0:
            self._totals.pop()
            self._variances.pop()

    def _cut(self) -> bool:
        """Whether some split of the window (oldest to newest) separates different means."""
        width, lmin = self._width, float(self.min_window_length)
        if width < 2.0:  # no split leaves both sides non-empty
            return False
        log_d = math.log(2.0 * math.log(width) / self.delta)
        var = self._variance / width
        n0, n1, u0, u1 = 0.0, width, 0.0, self._total
        for level in range(len(self._totals) - 1, -1, -1):
            size = float(1 << level)
            row = self._totals[level]
            last = len(row) - 1
            for k, t in enumerate(row):
                n0 += size
                n1 -= size
                u0 += t
                u1 -= t
                if level == 0 and k == last:
                    return False
                if n1 >= lmin and n0 >= lmin:
                    m = 1.0 / (n0 - lmin + 1.0) + 1.0 / (n1 - lmin + 1.0)
                    eps = math.sqrt(2.0 * m * var * log_d) + 2.0 / 3.0 * log_d * m
                    if abs(u0 / n0 - u1 / n1) > eps:
                        return True
        return False

    @property
    def width(self) -> int:
        """Values in the current window."""
        return int(self._width)

    @property
    def estimation(self) -> float:
        """Mean of the current window (0 when empty)."""
        return self._total / self._width if self._width else 0.0

    @property
    def n_buckets(self) -> int:
        """Buckets held: the detector's memory, logarithmic in :attr:`width`."""
        return sum(len(row) for row in self._totals)

    def _stats(self) -> dict[str, Any]:
        return {"tick": self._tick, "width": self._width, "total": self._total,
                "variance": self._variance, "totals": [r[:] for r in self._totals],
                "variances": [r[:] for r in self._variances]}

    def _load(self, stats: dict[str, Any]) -> None:
        self._tick = int(stats["tick"])
        self._width = float(stats["width"])
        self._total = float(stats["total"])
        self._variance = float(stats["variance"])
        self._totals = [[float(t) for t in row] for row in stats["totals"]]
        self._variances = [[float(v) for v in row] for row in stats["variances"]]
        if len(self._totals) != len(self._variances) or not self._totals:
            raise KeyError("totals and variances must be non-empty rows of equal count")
