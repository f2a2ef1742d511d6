"""Business KPIs of one window, with confidence intervals, from per-prediction feedback events.

Each prediction of a window brings one dict of event totals, the sum of its feedback events
(``{"click": 1, "conversion": 0, "revenue": 12.5}``; ``{}`` for a prediction without feedback).
A KPI reads two numbers per prediction, ``x_i`` (the numerator event) and ``y_i`` (the
denominator event, or ``y_i = 1`` when the denominator is ``"predictions"``), and is the ratio
of their sums ``R = sum x / sum y``. Three kinds:

- ``"ratio_over_predictions"`` (CTR = clicks / predictions): ``R = sum x / n``;
- ``"ratio_over_event"`` (conversion = conversions / clicks): ``R = sum x / sum y``;
- ``"mean"`` (revenue per prediction): ``R = sum x / n``, as the first kind, but always with the
  CLT interval, never Wilson's.

Intervals (``z`` the two-sided normal quantile of ``confidence``):

- **Wilson** ``(p + z^2/2t +- z sqrt(p (1-p)/t + z^2/4t^2)) / (1 + z^2/t)`` with ``p = R`` and
  ``t = sum y`` trials, when the kind is not ``"mean"`` and every ``x_i`` and ``y_i`` is 0 or 1
  with ``x_i <= y_i`` (a click per prediction; a conversion only on a click);
- otherwise the **delta method** for a ratio of means: with ``d_i = x_i - R y_i``,
  ``Var(R) ~ n / (n - 1) * sum d_i^2 / (sum y)^2`` and ``R +- z sqrt(Var)``. With ``y_i = 1`` it
  is exactly the CLT interval of a mean, ``mean +- z s / sqrt(n)`` (``s`` with ``ddof=1``).
  ``sum d_i^2 = Sxx - 2 R Sxy + R^2 Syy``, so the state keeps only sums.

**Missing versus zero.** An event *arrived* for a prediction when its dict holds the key, with
any value, 0 included. A prediction without the key counts as ``x_i = 0`` (no click reported is
no click), but only once the key arrived for at least one prediction of the window: if no
prediction carries the numerator key (or, for ``"ratio_over_event"``, the denominator key) the
KPI is unknown, ``value=None`` and ``status="insufficient_data"``, never a silent zero. A real
zero is a window where the key arrived and every total is 0 (``{"click": 0}`` on one prediction
and ``{}`` on the others gives CTR 0.0). A ratio over an event whose total is 0 is ``0/0``, also
``None``. Producers that send a key only when it is non-zero (``{"click": 1}`` on clicks, nothing
otherwise) get ``None`` for a window without a single click; sending ``{"click": 0}`` with
each impression's feedback makes such a window a real zero. A defined value on fewer than
``min_support`` units (predictions, or predictions with ``y_i != 0`` for ``"ratio_over_event"``)
keeps its value and interval with ``support_ok=False`` and ``status="insufficient_data"``.

The state merges by addition (the empty state is the identity), so a window built by several
consumers equals the window one consumer would have built, up to float summation order.

>>> import numpy as np
>>> rng = np.random.default_rng(7)
>>> events = [{"click": int(c)} if c else {} for c in rng.random(2000) < 0.05]
>>> ctr = KpiState("ctr", "click")
>>> ctr.update(events)
>>> v = ctr.value()
>>> v.value, round(v.ci_low, 4), round(v.ci_high, 4), v.n, v.method, v.status
(0.0465, 0.0381, 0.0566, 2000, 'wilson', 'ok')
>>> KpiState("ctr", "click").value().status  # nothing arrived: unknown, not zero
'insufficient_data'
>>> zero = KpiState("ctr", "click")
>>> zero.update([{"click": 0}] + [{}] * 99)  # arrived, all zero: a real zero
>>> zero.value().value, zero.value().status
(0.0, 'ok')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np

from detectors._base import STATE_VERSION, DetectorError, IncompatibleState, check_version
from detectors.performance._common import wilson, z_value

__all__ = ["KINDS", "PREDICTIONS", "KpiState", "KpiValue"]

KIND = "kpi_window"
PREDICTIONS = "predictions"
KINDS = ("ratio_over_predictions", "ratio_over_event", "mean")
SUMS = ("sx", "sy", "sxx", "syy", "sxy")
FLAGS = ("x_binary", "y_binary", "nested")
Status = Literal["ok", "insufficient_data"]


@dataclass(frozen=True)
class KpiValue:
    """One KPI in one window.

    ``value`` is ``None`` when the KPI is unknown (its events never arrived, or ``0/0``); ``n``
    is its support (predictions; predictions with a non-zero denominator event for
    ``"ratio_over_event"``); ``se`` the standard error behind the interval and ``method``
    ``"wilson"`` or ``"delta"``; ``n_predictions`` all predictions of the window.
    """

    name: str
    kind: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    support_ok: bool
    status: Status = "ok"
    se: float | None = None
    method: str | None = None
    n_predictions: int = 0


def default_kind(denominator: str) -> str:
    """``"ratio_over_predictions"`` over ``"predictions"``, else ``"ratio_over_event"``."""
    return "ratio_over_predictions" if denominator == PREDICTIONS else "ratio_over_event"


def _total(v: object, key: str) -> float:
    if type(v) in (int, float, bool) or isinstance(v, numbers.Real):
        f = float(v)  # type: ignore[arg-type]  # a real number, checked above
        if math.isfinite(f):
            return f
    raise DetectorError(f"event {key!r} must be a finite number, got {v!r}")


def _column(events: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    """The totals of ``key``, NaN where a prediction's dict lacks it; non-numbers raise."""
    nan = math.nan
    return np.array([_total(e[key], key) if key in e else nan for e in events],
                    dtype=np.float64)


class KpiState:
    """Mergeable sums of one KPI over one window: ``n``, ``sum x, y, x^2, y^2, xy`` and flags.

    Parameters
    ----------
    name
        The KPI's name (``"ctr"``).
    numerator
        The event summed in the numerator (``"click"``).
    denominator
        ``"predictions"`` or the event summed in the denominator (``"click"`` for conversion).
    kind
        One of :data:`KINDS`; ``None`` picks :func:`default_kind` of the denominator.
    min_support
        Units below which a value is flagged ``support_ok=False``.
    confidence
        Two-sided level of the interval.
    """

    def __init__(self, name: str, numerator: str, denominator: str = PREDICTIONS, *,
                 kind: str | None = None, min_support: int = 30,
                 confidence: float = 0.95) -> None:
        kind = default_kind(denominator) if kind is None else kind
        if kind not in KINDS:
            raise DetectorError(f"kind must be one of {KINDS}, got {kind!r}")
        if (kind == "ratio_over_event") == (denominator == PREDICTIONS):
            raise DetectorError(f"kind {kind!r} does not fit denominator {denominator!r}")
        if min_support < 0 or not 0.0 < confidence < 1.0:
            raise DetectorError("need min_support >= 0 and 0 < confidence < 1")
        self.name, self.numerator, self.denominator = name, numerator, denominator
        self.kind, self.min_support, self.confidence = kind, min_support, confidence
        self.n = 0  # predictions
        self.m = 0  # predictions with y != 0
        self.seen_x = 0  # predictions whose dict carried the numerator key
        self.seen_y = 0  # ... the denominator key (all of them over "predictions")
        self.sx = self.sy = self.sxx = self.syy = self.sxy = 0.0
        self.x_binary = self.y_binary = self.nested = True  # every x, y in {0, 1}; x <= y

    @property
    def per_prediction(self) -> bool:
        return self.denominator == PREDICTIONS

    def get_params(self) -> dict[str, Any]:
        return {"name": self.name, "numerator": self.numerator,
                "denominator": self.denominator, "kind": self.kind,
                "min_support": self.min_support, "confidence": self.confidence}

    def update(self, events_per_prediction: Sequence[Mapping[str, Any]]) -> None:
        """Add predictions, one dict of summed feedback events each (``{}`` without feedback)."""
        x = _column(events_per_prediction, self.numerator)
        y = None if self.per_prediction else _column(events_per_prediction, self.denominator)
        self.update_totals(x, y)

    def update_totals(self, numerator: Any, denominator: Any = None) -> None:
        """Add predictions as arrays of event totals, NaN where the event did not arrive.

        ``denominator`` is ``None`` over ``"predictions"`` and required otherwise.
        """
        x = np.asarray(numerator, dtype=np.float64).ravel()
        if self.per_prediction:
            if denominator is not None:
                raise DetectorError("a KPI over predictions takes no denominator totals")
            y = np.ones_like(x)
            seen_y = x.size
        else:
            if denominator is None:
                raise DetectorError(f"KPI {self.name!r} needs {self.denominator!r} totals")
            y = np.asarray(denominator, dtype=np.float64).ravel()
            if y.shape != x.shape:
                raise DetectorError(f"numerator and denominator differ in length"
                                    f" ({x.size} != {y.size})")
            seen_y = int((~np.isnan(y)).sum())
            y = np.where(np.isnan(y), 0.0, y)
        seen_x = int((~np.isnan(x)).sum())
        x = np.where(np.isnan(x), 0.0, x)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise DetectorError("event totals must be finite numbers")
        self.n += x.size
        self.m += int(np.count_nonzero(y))
        self.seen_x += seen_x
        self.seen_y += seen_y
        self.sx += float(x.sum())
        self.sy += float(y.sum())
        self.sxx += float(x @ x)
        self.syy += float(y @ y)
        self.sxy += float(x @ y)
        self.x_binary = self.x_binary and bool(((x == 0) | (x == 1)).all())
        self.y_binary = self.y_binary and bool(((y == 0) | (y == 1)).all())
        self.nested = self.nested and bool((x <= y).all())

    def merge(self, other: KpiState) -> Self:
        """Add another part of the window (associative; the empty state is neutral)."""
        if other.get_params() != self.get_params():
            raise IncompatibleState(f"KPI states {self.get_params()} and {other.get_params()}")
        for count in ("n", "m", "seen_x", "seen_y"):
            setattr(self, count, getattr(self, count) + getattr(other, count))
        for s in SUMS:
            setattr(self, s, getattr(self, s) + getattr(other, s))
        for f in FLAGS:
            setattr(self, f, getattr(self, f) and getattr(other, f))
        return self

    @property
    def arrived(self) -> bool:
        """True when the KPI's events reached at least one prediction of the window."""
        return self.seen_x > 0 and self.seen_y > 0

    @property
    def wilson_ok(self) -> bool:
        """Whether the KPI is a binomial proportion ``sum x`` successes in ``sum y`` trials."""
        return self.kind != "mean" and self.x_binary and self.y_binary and self.nested

    def _delta_se(self, r: float) -> float | None:
        if self.n < 2:
            return None
        d2 = max(self.sxx - 2.0 * r * self.sxy + r * r * self.syy, 0.0)
        return math.sqrt(self.n / (self.n - 1) * d2) / abs(self.sy)

    def value(self) -> KpiValue:
        """The KPI of the window with its interval (see the module docstring)."""
        if not self.arrived or self.sy == 0.0:
            return KpiValue(self.name, self.kind, None, None, None, self.m, False,
                            "insufficient_data", None, None, self.n)
        r = self.sx / self.sy
        low: float | None
        high: float | None
        if self.wilson_ok:
            trials = round(self.sy)
            low, high = wilson(self.sx, trials, z_value(self.confidence))
            se: float | None = math.sqrt(r * (1.0 - r) / trials)
            method = "wilson"
        else:
            se = self._delta_se(r)
            half = None if se is None else z_value(self.confidence) * se
            low, high = (None, None) if half is None else (r - half, r + half)
            method = "delta"
        ok = self.m >= self.min_support
        return KpiValue(self.name, self.kind, r, low, high, self.m, ok,
                        "ok" if ok else "insufficient_data", se, method, self.n)

    def moments(self) -> tuple[int, float, float] | None:
        """``(n, mean, var)`` of the window's linearised values, for the sequential test.

        The values are ``z_i = R + (x_i - R y_i) / mean(y)``: their mean is ``R`` and
        ``var / n`` the delta-method variance of ``R`` (``z_i = x_i`` over predictions), so a
        ratio enters :class:`~detectors.kpi.sequential.MixtureSPRT` like a mean. ``None`` when
        the value is unknown; ``var`` is 0 for a single prediction.
        """
        if not self.arrived or self.sy == 0.0:
            return None
        r = self.sx / self.sy
        se = self._delta_se(r)
        return self.n, r, 0.0 if se is None else self.n * se * se

    def to_state(self) -> dict[str, Any]:
        return {"state_version": STATE_VERSION, "kind": KIND, "params": self.get_params(),
                "n": self.n, "m": self.m, "seen_x": self.seen_x, "seen_y": self.seen_y,
                **{s: getattr(self, s) for s in SUMS}, **{f: getattr(self, f) for f in FLAGS}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        check_version(state, KIND)
        p = state["params"]
        out = cls(p["name"], p["numerator"], p["denominator"], kind=p["kind"],
                  min_support=int(p["min_support"]), confidence=float(p["confidence"]))
        for count in ("n", "m", "seen_x", "seen_y"):
            setattr(out, count, int(state[count]))
        for s in SUMS:
            setattr(out, s, float(state[s]))
        for f in FLAGS:
            setattr(out, f, bool(state[f]))
        return out
