"""HDDM_W, drift detection from McDiarmid's bound on weighted averages (Frias-Blanco et al., 2015).

Like :mod:`~detectors.concept.hddm_a` but with exponentially weighted moving averages (EWMA,
weight ``lambda_val`` on the newest value), so old values fade. Each EWMA carries its
*independent bound condition* ``ibc = sum of squared weights`` (``ibc <- l^2 + (1 - l)^2 ibc``,
starting at 1), and McDiarmid's inequality bounds its deviation by
``sqrt(ibc * ln(1 / confidence) / 2)``.

The EWMA of the whole stream moves a cut point whenever its upper bound reaches a new low; the
cut keeps a copy of that EWMA and starts a fresh EWMA of what follows. An increase is
significant when ``after.ewma - cut.ewma > sqrt((cut.ibc + after.ibc) ln(1 / confidence) / 2)``:
a change at ``drift_confidence`` and a warning at ``warning_confidence``. With
``two_sided_test`` a mirror cut at the highest lower bound watches for a decrease too.

Conventions are MOA's and River's ``drift.binary.HDDMW`` (0.26): an EWMA starts at its first
value, the cut points start at +/-infinity, the cut bound always uses ``drift_confidence``.
Detection indices equal River's (``tests/detectors/concept/test_hddm_w.py``).

River's docstring example, reproduced:

>>> import random
>>> rng = random.Random(42)
>>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
>>> hddm_w = HDDM_W()
>>> print_warning = True
>>> for i, x in enumerate(stream):
...     hddm_w.update(x)
...     if hddm_w.warning_detected and print_warning:
...         print(f"Warning detected at index {i}")
...         print_warning = False
...     if hddm_w.drift_detected:
...         print(f"Change detected at index {i}")
...         print_warning = True
Warning detected at index 451
Change detected at index 1077
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from detectors.concept._base import WarningDriftDetector, check_open_unit, decode, encode

Ewma = list[float]  # [initialised (0.0 or 1.0), ewma, ibc]; a list so a copy is one slice


class HDDM_W(WarningDriftDetector):  # noqa: N801 the paper's (and MOA's) name for it
    """McDiarmid-bound drift detector on exponentially weighted averages of values in [0, 1].

    Parameters
    ----------
    drift_confidence
        Significance of a change (also sets the bound that moves the cut points).
    warning_confidence
        Significance of a warning; larger than ``drift_confidence``.
    lambda_val
        Weight of the newest value in each EWMA, in (0, 1).
    two_sided_test
        Watch for a decrease of the mean as well as for an increase.
    """

    method: ClassVar[str] = "hddm_w"
    domain: ClassVar[str] = "unit"

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 lambda_val: float = 0.05, two_sided_test: bool = False) -> None:
        check_open_unit("drift_confidence", drift_confidence)
        check_open_unit("warning_confidence", warning_confidence)
        check_open_unit("lambda_val", lambda_val)
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.lambda_val = lambda_val
        self.two_sided_test = two_sided_test
        self._keep = 1.0 - lambda_val
        self._l2 = lambda_val * lambda_val
        self._keep2 = (1 - lambda_val) ** 2
        self._log_drift = math.log(1 / drift_confidence)
        self._log_warning = math.log(1 / warning_confidence)
        super().__init__()

    @staticmethod
    def _fresh() -> Ewma:
        return [0.0, 0.0, 1.0]

    def _reset(self) -> None:
        self._total = self._fresh()
        self._cut_up, self._after_up = self._fresh(), self._fresh()
        self._cut_down, self._after_down = self._fresh(), self._fresh()
        self._up_bound = math.inf
        self._down_bound = -math.inf

    def _learn(self, s: Ewma, x: float) -> None:
        s[1] = self.lambda_val * x + self._keep * s[1] if s[0] else x
        s[0] = 1.0
        s[2] = self._l2 + self._keep2 * s[2]

    def _higher(self, low: Ewma, high: Ewma, log_term: float) -> bool:
        """Whether ``high``'s EWMA exceeds ``low``'s by more than McDiarmid's bound."""
        if not (low[0] and high[0]):
            return False
        return high[1] - low[1] > math.sqrt((low[2] + high[2]) * log_term / 2)

    def _step(self, x: float) -> None:
        total = self._total
        self._learn(total, x)
        eps = math.sqrt(total[2] * self._log_drift / 2)
        if total[1] + eps < self._up_bound:
            self._up_bound = total[1] + eps
            self._cut_up, self._after_up = total[:], self._fresh()
        else:
            self._learn(self._after_up, x)
        if self._higher(self._cut_up, self._after_up, self._log_drift):
            self._drift, self._warning = True, False
        else:
            self._drift = False
            self._warning = self._higher(self._cut_up, self._after_up, self._log_warning)
        if total[1] - eps > self._down_bound:
            self._down_bound = total[1] - eps
            self._cut_down, self._after_down = total[:], self._fresh()
        else:
            self._learn(self._after_down, x)
        if self.two_sided_test:
            if self._higher(self._after_down, self._cut_down, self._log_drift):
                self._drift = True
            elif self._higher(self._after_down, self._cut_down, self._log_warning):
                self._warning = True

    @property
    def ewma(self) -> float:
        """The EWMA of the stream since the last reset."""
        return self._total[1]

    def _stats(self) -> dict[str, Any]:
        return {"total": self._total[:], "cut_up": self._cut_up[:],
                "after_up": self._after_up[:], "cut_down": self._cut_down[:],
                "after_down": self._after_down[:],
                "up_bound": encode(self._up_bound), "down_bound": encode(self._down_bound)}

    def _load(self, stats: dict[str, Any]) -> None:
        for name in ("total", "cut_up", "after_up", "cut_down", "after_down"):
            setattr(self, f"_{name}", [float(v) for v in stats[name]])
        self._up_bound = decode(stats["up_bound"], math.inf)
        self._down_bound = decode(stats["down_bound"], -math.inf)
