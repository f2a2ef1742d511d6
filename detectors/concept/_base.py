"""What every concept-drift detector shares: parameters, input checks, resets and saved state.

A concept-drift detector watches one stream of numbers, usually a model's errors (1 for a wrong
prediction, 0 for a right one, or a real-valued loss), and says on which update the stream's
distribution changed. The contract follows River's ``river.drift``:

- hyperparameters are keyword arguments stored under the same names; :meth:`get_params` reads
  them from the signature and :meth:`clone` builds a fresh detector from them;
- :meth:`update` takes one value and returns nothing; the outcome is read from
  :attr:`drift_detected` (True only on the update where a change fires) and, for the detectors
  that have one, :attr:`warning_detected`;
- after a detection the *next* update first resets the statistics (River's ``_reset``), then
  learns the new value, so a detector never fires twice on the same evidence;
- :attr:`n_seen` counts every update since construction and :attr:`change_points` keeps the
  0-based update indices of the last :data:`MAX_CHANGE_POINTS` detections (bounded memory).

Each value is checked before it touches the statistics: ``None``, strings, NaN and infinities
raise :class:`~detectors._base.DetectorError`, and so do values outside the detector's
:attr:`~ConceptDriftDetector.domain` (``"binary"``: 0 or 1, bools included; ``"unit"``: a
number in [0, 1]; ``"real"``: any finite number). A rejected value leaves the detector as it was.

State is strict JSON (no NaN or Infinity): ``{"state_version", "kind": "concept_detector",
"method", "params", "n_seen", "n_detections", "change_points", "drift_detected",
"warning_detected", "stats"}``, where ``stats`` is the algorithm's own statistics. Floats are
written by ``repr``, so a restored detector continues exactly as the uninterrupted one.
"""

from __future__ import annotations

import inspect
import math
import numbers
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np

from detectors._base import STATE_VERSION, DetectorError, check_version

KIND = "concept_detector"
MAX_CHANGE_POINTS = 100


def as_real(x: object) -> float:
    """``x`` as a finite float; anything else raises :class:`DetectorError`."""
    kind = type(x)  # exact types first: isinstance against numbers.Real costs ~0.4 us
    if not (kind is float or kind is int or kind is bool
            or isinstance(x, numbers.Real | np.bool_)):
        raise DetectorError(f"expected a number, got {x!r} ({kind.__name__})")
    try:
        v = float(x)  # type: ignore[arg-type]  # checked above; mypy does not narrow on type()
    except (OverflowError, TypeError, ValueError) as exc:
        raise DetectorError(f"expected a finite number, got {x!r}") from exc
    if v - v != 0.0:  # NaN or an infinity
        raise DetectorError(f"expected a finite number, got {x!r}")
    return v


_BITS: dict[object, float] = {0: 0.0, 1: 1.0}


def as_binary(x: object) -> float:
    """``x`` as 0.0 or 1.0 (bools, 0/1 and 0.0/1.0 of any numeric type)."""
    kind = type(x)
    # fast path: one dict lookup; other numeric types (numpy scalars) go through float first
    v = _BITS.get(x if kind is int or kind is float or kind is bool else as_real(x))
    if v is None:
        raise DetectorError(f"expected 0 or 1 (an error indicator), got {x!r}")
    return v


def as_unit(x: object) -> float:
    """``x`` as a float in [0, 1]."""
    v = as_real(x)
    if not 0.0 <= v <= 1.0:
        raise DetectorError(f"expected a number in [0, 1], got {x!r}")
    return v


CHECKS: dict[str, Callable[[object], float]] = {"binary": as_binary, "unit": as_unit,
                                                "real": as_real}


def encode(v: float) -> float | None:
    """A float for strict JSON: infinities (an unset extremum) become ``None``."""
    return None if math.isinf(v) else v


def decode(v: float | None, default: float) -> float:
    return default if v is None else float(v)


class ConceptDriftDetector(ABC):
    """Base of every streaming concept-drift detector (update, flags, reset, state)."""

    method: ClassVar[str]
    domain: ClassVar[str] = "real"
    has_warning: ClassVar[bool] = False

    def __init__(self) -> None:
        self._n_seen = 0
        self._n_detections = 0
        self._change_points: deque[int] = deque(maxlen=MAX_CHANGE_POINTS)
        self._drift = False
        self._warning = False
        self._check = CHECKS[self.domain]
        self._reset()

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, read from the signature: plain JSON a database can store."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """A new detector with the same parameters and no history."""
        return type(self)(**self.get_params())

    # ------------------------------------------------------------------ the stream
    def update(self, x: float) -> None:
        """Learn one value; read the outcome from :attr:`drift_detected`."""
        v = self._check(x)
        if self._drift:
            self._drift = False
            self._warning = False
            self._reset()
        self._step(v)
        if self._drift:
            self._change_points.append(self._n_seen)
            self._n_detections += 1
        self._n_seen += 1

    @abstractmethod
    def _reset(self) -> None:
        """Forget the statistics (at construction and on the update after a detection)."""

    @abstractmethod
    def _step(self, x: float) -> None:
        """Learn ``x`` and set ``self._drift`` (and ``self._warning``)."""

    @property
    def drift_detected(self) -> bool:
        """Whether the last update detected a change."""
        return self._drift

    @property
    def n_seen(self) -> int:
        """Updates since construction (detections do not reset it)."""
        return self._n_seen

    @property
    def n_detections(self) -> int:
        """Changes detected since construction."""
        return self._n_detections

    @property
    def change_points(self) -> list[int]:
        """0-based indices of the updates that detected a change (the last 100)."""
        return list(self._change_points)

    # ------------------------------------------------------------------ state
    @abstractmethod
    def _stats(self) -> dict[str, Any]:
        """The algorithm's statistics as strict JSON."""

    @abstractmethod
    def _load(self, stats: dict[str, Any]) -> None:
        """Restore what :meth:`_stats` wrote."""

    def to_state(self) -> dict[str, Any]:
        """Versioned, strict-JSON state; :meth:`from_state` continues exactly from it."""
        return {"state_version": STATE_VERSION, "kind": KIND, "method": self.method,
                "params": self.get_params(), "n_seen": self._n_seen,
                "n_detections": self._n_detections, "change_points": list(self._change_points),
                "drift_detected": self._drift, "warning_detected": self._warning,
                "stats": self._stats()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        check_version(state, KIND)
        if state.get("method") != cls.method:
            raise DetectorError(f"state of {state.get('method')!r}, not {cls.method!r}")
        try:
            det = cls(**state["params"])
            det._n_seen = int(state["n_seen"])
            det._n_detections = int(state["n_detections"])
            det._change_points.extend(int(i) for i in state["change_points"])
            det._drift = bool(state["drift_detected"])
            det._warning = bool(state["warning_detected"])
            det._load(state["stats"])
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise DetectorError(f"malformed {cls.method} state: {exc!r}") from exc
        return det


class WarningDriftDetector(ConceptDriftDetector):
    """A detector that also flags a warning zone before a change."""

    has_warning: ClassVar[bool] = True

    @property
    def warning_detected(self) -> bool:
        """Whether the last update left the detector in its warning zone."""
        return self._warning


def check_positive_int(name: str, value: int, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DetectorError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_open_unit(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise DetectorError(f"{name} must lie in (0, 1), got {value!r}")
