"""DDM, the Drift Detection Method (Gama, Medas, Castillo and Rodrigues, 2004).

The error stream (1 for a wrong prediction, 0 for a right one) is a Bernoulli sequence; while the
concept is stable a learner's error rate ``p_i`` should not grow. With ``s_i = sqrt(p_i (1 -
p_i) / i)`` the standard deviation of that estimate, DDM remembers ``p_min`` and ``s_min`` at
the update where ``p_i + s_i`` was lowest and, once more than ``warm_start`` values were seen,
reports

- a warning while ``p_i + s_i > p_min + warning_threshold * s_min`` (95% by default),
- a change when ``p_i + s_i > p_min + drift_threshold * s_min`` (99% by default); the warning
  is then cleared and the next update starts from scratch.

Conventions are River's ``drift.binary.DDM`` (0.26): strict ``>`` comparisons, the minimum
taken with ``<=`` (the latest of equal minima wins), the running mean updated as
``p += (x - p) / n``; detection indices equal River's on every stream we tried (see
``tests/detectors/concept/test_ddm.py``).

River's docstring example, reproduced: a fair coin for 1000 updates, then errors at rate 0.7.

>>> import random
>>> rng = random.Random(42)
>>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
>>> ddm = DDM()
>>> print_warning = True
>>> for i, x in enumerate(stream):
...     ddm.update(x)
...     if ddm.warning_detected and print_warning:
...         print(f"Warning detected at index {i}")
...         print_warning = False
...     if ddm.drift_detected:
...         print(f"Change detected at index {i}")
...         print_warning = True
Warning detected at index 1084
Change detected at index 1334
Warning detected at index 1492
>>> ddm.change_points, ddm.n_seen
([1334], 2000)
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from detectors._base import DetectorError
from detectors.concept._base import WarningDriftDetector, check_positive_int, decode, encode


class DDM(WarningDriftDetector):
    """Drift Detection Method over a 0/1 error stream, with a warning zone.

    Parameters
    ----------
    warm_start
        Updates seen before a warning or a change can be reported.
    warning_threshold
        Standard deviations above the best ``p + s`` that put the detector in its warning zone.
    drift_threshold
        Standard deviations above the best ``p + s`` that report a change.
    """

    method: ClassVar[str] = "ddm"
    domain: ClassVar[str] = "binary"

    def __init__(self, warm_start: int = 30, warning_threshold: float = 2.0,
                 drift_threshold: float = 3.0) -> None:
        check_positive_int("warm_start", warm_start)
        if not 0.0 < warning_threshold <= drift_threshold:
            raise DetectorError("need 0 < warning_threshold <= drift_threshold, got "
                                f"{warning_threshold!r} and {drift_threshold!r}")
        self.warm_start = warm_start
        self.warning_threshold = warning_threshold
        self.drift_threshold = drift_threshold
        super().__init__()

    def _reset(self) -> None:
        self._n = 0
        self._p = 0.0
        self._p_min = 0.0
        self._s_min = 0.0
        self._ps_min = math.inf

    def _step(self, x: float) -> None:
        n = self._n = self._n + 1
        p = self._p = self._p + (1.0 / n) * (x - self._p)
        if n <= self.warm_start:
            return
        s = math.sqrt(p * (1.0 - p) / n)
        ps = p + s
        if ps <= self._ps_min:
            self._p_min, self._s_min = p, s
            self._ps_min = p + s
        self._warning = ps > self._p_min + self.warning_threshold * self._s_min
        if ps > self._p_min + self.drift_threshold * self._s_min:
            self._drift = True
            self._warning = False

    @property
    def error_rate(self) -> float:
        """The error rate since the last reset."""
        return self._p

    def _stats(self) -> dict[str, Any]:
        return {"n": self._n, "p": self._p, "p_min": self._p_min, "s_min": self._s_min,
                "ps_min": encode(self._ps_min)}

    def _load(self, stats: dict[str, Any]) -> None:
        self._n = int(stats["n"])
        self._p = float(stats["p"])
        self._p_min = float(stats["p_min"])
        self._s_min = float(stats["s_min"])
        self._ps_min = decode(stats["ps_min"], math.inf)
