"""The Page-Hinkley test (Page, 1954; Hinkley, 1971) for a change in the mean of a stream.

With ``mean_t`` the running mean of everything since the last reset (the new value included),
the test accumulates the deviations ``x_t - mean_t`` with a forgetting factor ``alpha`` and a
tolerance ``delta``:

    U_t = alpha U_{t-1} + (x_t - mean_t) - delta     (an increase makes U climb)
    L_t = alpha L_{t-1} + (x_t - mean_t) + delta     (a decrease makes L fall)

and, once ``min_instances`` values were seen, reports a change when ``U_t - min U`` (mode
``"up"``), ``max L - L_t`` (mode ``"down"``) or either of them (``"both"``) exceeds
``threshold``. ``alpha = 1`` is the classic, unweighted test.

Conventions are River's ``drift.PageHinkley`` (0.26): the extrema include the current update,
the minimum of ``U`` starts at +infinity and the maximum of ``L`` at -1 (so ``L`` only counts
from where it first exceeds -1), and the test is strict (``>``). Detection indices equal River's
(``tests/detectors/concept/test_page_hinkley.py``).

River's docstring example, reproduced: fair coin flips, then uniform integers 4..7.

>>> import random
>>> rng = random.Random(12345)
>>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
>>> ph = PageHinkley()
>>> for i, val in enumerate(stream):
...     ph.update(val)
...     if ph.drift_detected:
...         print(f"Change detected at index {i}, input value: {val}")
Change detected at index 1006, input value: 5
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from detectors._base import DetectorError
from detectors.concept._base import ConceptDriftDetector, check_positive_int, decode, encode

MODES = ("up", "down", "both")


class PageHinkley(ConceptDriftDetector):
    """Page-Hinkley test for an increase and/or a decrease of a stream's mean.

    Parameters
    ----------
    min_instances
        Values seen before a change can be reported.
    delta
        Tolerated drift of the mean per update (the test's magnitude of allowed change).
    threshold
        Change when the cumulative statistic exceeds it (the test's ``lambda``).
    alpha
        Forgetting factor on the cumulative sums, in (0, 1].
    mode
        ``"up"`` for increases only, ``"down"`` for decreases only, ``"both"``.
    """

    method: ClassVar[str] = "page_hinkley"

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both") -> None:
        check_positive_int("min_instances", min_instances)
        if mode not in MODES:
            raise DetectorError(f"mode must be one of {MODES}, got {mode!r}")
        if not 0.0 < alpha <= 1.0 or threshold <= 0.0 or delta < 0.0:
            raise DetectorError("need 0 < alpha <= 1, threshold > 0 and delta >= 0")
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self._up = mode in {"up", "both"}
        self._down = mode in {"down", "both"}
        super().__init__()

    def _reset(self) -> None:
        self._n = 0
        self._mean = 0.0
        self._sum_up = 0.0
        self._sum_down = 0.0
        self._min_up = math.inf
        self._max_down = -1.0

    def _step(self, x: float) -> None:
        n = self._n = self._n + 1
        mean = self._mean = self._mean + (1.0 / n) * (x - self._mean)
        dev = x - mean
        up = self._sum_up = self.alpha * self._sum_up + dev - self.delta
        down = self._sum_down = self.alpha * self._sum_down + dev + self.delta
        if up < self._min_up:  # noqa: PLR1730 twice as fast as min() on the hot path
            self._min_up = up
        if down > self._max_down:  # noqa: PLR1730 as above
            self._max_down = down
        if n >= self.min_instances:
            self._drift = ((self._up and up - self._min_up > self.threshold)
                           or (self._down and self._max_down - down > self.threshold))

    @property
    def statistics(self) -> tuple[float, float]:
        """``(U_t - min U, max L - L_t)``: the increase and decrease statistics now."""
        return self._sum_up - self._min_up, self._max_down - self._sum_down

    def _stats(self) -> dict[str, Any]:
        return {"n": self._n, "mean": self._mean, "sum_up": self._sum_up,
                "sum_down": self._sum_down, "min_up": encode(self._min_up),
                "max_down": self._max_down}

    def _load(self, stats: dict[str, Any]) -> None:
        self._n = int(stats["n"])
        self._mean = float(stats["mean"])
        self._sum_up = float(stats["sum_up"])
        self._sum_down = float(stats["sum_down"])
        self._min_up = decode(stats["min_up"], math.inf)
        self._max_down = float(stats["max_down"])
