"""CUSUM, the two-sided tabular cumulative-sum chart (Page, 1954).

River 0.26 has no CUSUM (``river.drift`` offers ADWIN, KSWIN and PageHinkley), so this module
follows the textbook tabular form (Page 1954; Montgomery, *Introduction to Statistical Quality
Control*, section 9.1). Two one-sided sums accumulate the deviations from the in-control mean
``mu`` beyond an allowance ``delta``, clipped at zero so that evidence *for* the in-control mean
is not banked against a later change:

    S+_t = max(0, S+_{t-1} + (x_t - mu_{t-1}) - delta)     (an increase)
    S-_t = max(0, S-_{t-1} - (x_t - mu_{t-1}) - delta)     (a decrease)

and a change is reported when either exceeds ``threshold`` (the decision interval ``h``), once
``min_instances`` values have been seen since the last reset. The in-control mean is not known
in advance in a monitoring stream, so ``mu_{t-1}`` is the running mean of the values *before*
``x_t`` since the last reset (0 for the first value, whose deviation is therefore taken as 0);
``delta`` and ``threshold`` are in the units of the stream, like River's PageHinkley, whose
defaults they share. After a detection the next update starts again from empty sums and mean.

Compared with :class:`~detectors.concept.page_hinkley.PageHinkley`: no forgetting factor, the
sums restart from zero (the tabular form) instead of being measured from their running extremum,
and the reference mean excludes the value being tested.

A 0/1 error stream whose error rate moves from 0.1 to 0.5 at update 1000:

>>> import random
>>> rng = random.Random(7)
>>> stream = ([int(rng.random() < 0.1) for _ in range(1000)]
...           + [int(rng.random() < 0.5) for _ in range(1000)])
>>> cusum = CUSUM(threshold=25.0)
>>> for i, x in enumerate(stream):
...     cusum.update(x)
...     if cusum.drift_detected:
...         print(f"Change detected at index {i}")
Change detected at index 1069
"""

from __future__ import annotations

from typing import Any, ClassVar

from detectors._base import DetectorError
from detectors.concept._base import ConceptDriftDetector, check_positive_int


class CUSUM(ConceptDriftDetector):
    """Two-sided tabular CUSUM on the mean of a real-valued stream.

    Parameters
    ----------
    delta
        Allowance ``k``: deviations from the running mean up to it add nothing (stream units).
    threshold
        Decision interval ``h``: a change when either cumulative sum exceeds it.
    min_instances
        Values seen since the last reset before a change can be reported.
    """

    method: ClassVar[str] = "cusum"

    def __init__(self, delta: float = 0.005, threshold: float = 50.0,
                 min_instances: int = 30) -> None:
        check_positive_int("min_instances", min_instances)
        if delta < 0.0 or threshold <= 0.0:
            raise DetectorError(f"need delta >= 0 and threshold > 0, got {delta!r}, "
                                f"{threshold!r}")
        self.delta = delta
        self.threshold = threshold
        self.min_instances = min_instances
        super().__init__()

    def _reset(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._up = 0.0
        self._down = 0.0

    def _step(self, x: float) -> None:
        dev = x - self._mean if self._n else 0.0
        up = self._up + dev - self.delta
        down = self._down - dev - self.delta
        self._up = up if up > 0.0 else 0.0
        self._down = down if down > 0.0 else 0.0
        self._n += 1
        self._mean += (x - self._mean) / self._n
        if self._n >= self.min_instances:
            self._drift = self._up > self.threshold or self._down > self.threshold

    @property
    def statistics(self) -> tuple[float, float]:
        """``(S+, S-)``: the increase and decrease sums now."""
        return self._up, self._down

    def _stats(self) -> dict[str, Any]:
        return {"n": self._n, "mean": self._mean, "up": self._up, "down": self._down}

    def _load(self, stats: dict[str, Any]) -> None:
        self._n = int(stats["n"])
        self._mean = float(stats["mean"])
        self._up = float(stats["up"])
        self._down = float(stats["down"])
