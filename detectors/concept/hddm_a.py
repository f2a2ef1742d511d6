"""HDDM_A, drift detection from Hoeffding's bound on moving averages (Frias-Blanco et al., 2015).

The stream is a bounded variable in [0, 1] (usually a 0/1 error indicator). HDDM_A keeps the
running mean ``Z`` of everything since the last reset and a *cut point*: a copy ``X`` of ``Z``
(count and mean) taken when ``Z``'s Hoeffding upper bound ``mean + sqrt(ln(1/d) / (2 n))`` (with
``d = drift_confidence``) was lowest. The mean of what came after the cut has increased when

    Z.mean - X.mean >= sqrt((n_Z - n_X) / (n_X n_Z) / 2 * ln(2 / confidence))

which reports a change at ``drift_confidence`` and a warning at ``warning_confidence``. With
``two_sided_test`` a second cut point at the highest lower bound watches for a decrease too
(a warning there never clears a change found on the increase side).

Conventions are MOA's and River's ``drift.binary.HDDMA`` (0.26): both cut points start at the
first value, a tie moves the cut (``>=`` / ``<=``), the flags are recomputed on every update.
Detection indices equal River's (``tests/detectors/concept/test_hddm_a.py``).

River's docstring example, reproduced:

>>> import random
>>> rng = random.Random(42)
>>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
>>> hddm_a = HDDM_A()
>>> print_warning = True
>>> for i, x in enumerate(stream):
...     hddm_a.update(x)
...     if hddm_a.warning_detected and print_warning:
...         print(f"Warning detected at index {i}")
...         print_warning = False
...     if hddm_a.drift_detected:
...         print(f"Change detected at index {i}")
...         print_warning = True
Warning detected at index 451
Change detected at index 1206
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from detectors.concept._base import WarningDriftDetector, check_open_unit


class HDDM_A(WarningDriftDetector):  # noqa: N801 the paper's (and MOA's) name for it
    """Hoeffding-bound drift detector on the running average of values in [0, 1].

    Parameters
    ----------
    drift_confidence
        Significance of a change (also sets the bound that moves the cut points).
    warning_confidence
        Significance of a warning; larger than ``drift_confidence``.
    two_sided_test
        Watch for a decrease of the mean as well as for an increase.
    """

    method: ClassVar[str] = "hddm_a"
    domain: ClassVar[str] = "unit"

    def __init__(self, drift_confidence: float = 0.001, warning_confidence: float = 0.005,
                 two_sided_test: bool = False) -> None:
        check_open_unit("drift_confidence", drift_confidence)
        check_open_unit("warning_confidence", warning_confidence)
        self.drift_confidence = drift_confidence
        self.warning_confidence = warning_confidence
        self.two_sided_test = two_sided_test
        self._log_cut = math.log(1.0 / drift_confidence)
        self._log_drift = math.log(2.0 / drift_confidence)
        self._log_warning = math.log(2.0 / warning_confidence)
        super().__init__()

    def _reset(self) -> None:
        self._z_n, self._z_mean = 0, 0.0  # everything since the reset
        self._lo_n, self._lo_mean = 0, 0.0  # cut point for an increase
        self._hi_n, self._hi_mean = 0, 0.0  # cut point for a decrease

    def _bound(self, n: int) -> float:
        return math.sqrt(1.0 / (2 * n) * self._log_cut)

    def _step(self, x: float) -> None:
        z_n = self._z_n = self._z_n + 1
        z = self._z_mean = self._z_mean + (1.0 / z_n) * (x - self._z_mean)
        if self._lo_n == 0:
            self._lo_n, self._lo_mean = z_n, z
        if self._hi_n == 0:
            self._hi_n, self._hi_mean = z_n, z
        eps_z = self._bound(z_n)
        if self._lo_mean + self._bound(self._lo_n) >= z + eps_z:
            self._lo_n, self._lo_mean = z_n, z
        if self._hi_mean - self._bound(self._hi_n) <= z - eps_z:
            self._hi_n, self._hi_mean = z_n, z
        if self._moved(self._lo_n, z - self._lo_mean, self._log_drift):
            self._drift, self._warning = True, False
        else:
            self._drift = False
            self._warning = self._moved(self._lo_n, z - self._lo_mean, self._log_warning)
        if self.two_sided_test:
            if self._moved(self._hi_n, self._hi_mean - z, self._log_drift):
                self._drift = True
            elif self._moved(self._hi_n, self._hi_mean - z, self._log_warning):
                self._warning = True

    def _moved(self, cut_n: int, gap: float, log_term: float) -> bool:
        """Whether the mean after a cut of ``cut_n`` values moved by ``gap`` significantly."""
        if cut_n == self._z_n:
            return False
        m = (self._z_n - cut_n) / cut_n * (1.0 / self._z_n)
        return gap >= math.sqrt(m / 2 * log_term)

    @property
    def mean(self) -> float:
        """The running mean since the last reset."""
        return self._z_mean

    def _stats(self) -> dict[str, Any]:
        return {"z": [self._z_n, self._z_mean], "lo": [self._lo_n, self._lo_mean],
                "hi": [self._hi_n, self._hi_mean]}

    def _load(self, stats: dict[str, Any]) -> None:
        self._z_n, self._z_mean = int(stats["z"][0]), float(stats["z"][1])
        self._lo_n, self._lo_mean = int(stats["lo"][0]), float(stats["lo"][1])
        self._hi_n, self._hi_mean = int(stats["hi"][0]), float(stats["hi"][1])
