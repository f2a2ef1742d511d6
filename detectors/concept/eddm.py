"""EDDM, the Early Drift Detection Method (Baena-Garcia et al., 2006).

Where DDM watches the error rate, EDDM watches the distance (in updates) between consecutive
errors: while a learner improves, errors grow further apart. On each error it updates the mean
``p'`` and standard deviation ``s'`` of those distances (Welford) and keeps the largest
``p' + 2 s'`` seen. Once more than ``warm_start`` updates *and* more than ``warm_start`` errors
were seen, a new error whose ``p' + 2 s'`` does not set a new maximum gives
``level = (p' + 2 s') / max``, and

- ``level < beta`` reports a change,
- otherwise ``level < alpha`` raises the warning and ``level >= alpha`` clears it.

Correct predictions (0) only advance the clock; the warning keeps its last value until the next
error. Conventions are River's ``drift.binary.EDDM`` (0.26): the first distance is counted from
update 0 (so a first error at update ``n`` has distance ``n``), the sample standard deviation
(ddof 1, 0 for a single distance), and the maximum starts at -1. Detection indices equal
River's (``tests/detectors/concept/test_eddm.py``).

River's docstring example, reproduced (with its ``alpha=0.8, beta=0.75``):

>>> import random
>>> rng = random.Random(42)
>>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
>>> eddm = EDDM(alpha=0.8, beta=0.75)
>>> print_warning = True
>>> for i, x in enumerate(stream):
...     eddm.update(x)
...     if eddm.warning_detected and print_warning:
...         print(f"Warning detected at index {i}")
...         print_warning = False
...     if eddm.drift_detected:
...         print(f"Change detected at index {i}")
...         print_warning = True
Warning detected at index 1059
Change detected at index 1278
"""

from __future__ import annotations

from typing import Any, ClassVar

from detectors._base import DetectorError
from detectors.concept._base import WarningDriftDetector, check_positive_int


class EDDM(WarningDriftDetector):
    """Early Drift Detection Method over a 0/1 error stream, with a warning zone.

    Parameters
    ----------
    warm_start
        Updates, and errors, seen before a warning or a change can be reported.
    alpha
        Warning when ``(p' + 2 s') / max`` falls below it; in (0, 1], at least ``beta``.
    beta
        Change when ``(p' + 2 s') / max`` falls below it; in (0, 1].
    """

    method: ClassVar[str] = "eddm"
    domain: ClassVar[str] = "binary"

    def __init__(self, warm_start: int = 30, alpha: float = 0.95, beta: float = 0.9) -> None:
        check_positive_int("warm_start", warm_start)
        if not 0.0 < beta <= alpha <= 1.0:
            raise DetectorError(f"need 0 < beta <= alpha <= 1, got beta={beta!r}, "
                                f"alpha={alpha!r}")
        self.warm_start = warm_start
        self.alpha = alpha
        self.beta = beta
        super().__init__()

    def _reset(self) -> None:
        self._n = 0
        self._last_error = 0
        self._n_errors = 0
        self._d_mean = 0.0  # Welford over the distances between errors
        self._d_m2 = 0.0
        self._p2s_max = -1.0

    def _step(self, x: float) -> None:
        self._n += 1
        if x != 1.0:
            return
        self._n_errors += 1
        distance = self._n - self._last_error
        self._last_error = self._n
        old = self._d_mean
        self._d_mean = old + (1.0 / self._n_errors) * (distance - old)
        self._d_m2 += (distance - old) * (distance - self._d_mean)
        if self._n <= self.warm_start:
            return
        var = self._d_m2 / (self._n_errors - 1) if self._n_errors > 1 else 0.0
        p2s = self._d_mean + 2 * var**0.5
        if p2s > self._p2s_max:
            self._p2s_max = p2s
        elif self._n_errors > self.warm_start:
            level = p2s / self._p2s_max
            if level < self.beta:
                self._drift = True
            else:
                self._warning = level < self.alpha

    @property
    def mean_distance(self) -> float:
        """Mean number of updates between errors since the last reset."""
        return self._d_mean

    def _stats(self) -> dict[str, Any]:
        return {"n": self._n, "last_error": self._last_error, "n_errors": self._n_errors,
                "d_mean": self._d_mean, "d_m2": self._d_m2, "p2s_max": self._p2s_max}

    def _load(self, stats: dict[str, Any]) -> None:
        self._n = int(stats["n"])
        self._last_error = int(stats["last_error"])
        self._n_errors = int(stats["n_errors"])
        self._d_mean = float(stats["d_mean"])
        self._d_m2 = float(stats["d_m2"])
        self._p2s_max = float(stats["p2s_max"])
