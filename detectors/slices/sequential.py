"""Evidence that accumulates across windows: a one-sided mixture SPRT per slice.

A slice too small to stand out in one window (20 rows) can still be shown to be worse over
several. For each slice this keeps the cumulative rows and bad rows of the slice and of the rest
of the windows it appeared in (the *concurrent* rest, so a drift of the base rate over time does
not pass for a slice effect), and after every window computes the mixture likelihood ratio of
Johari, Pekelis and Walsh (2017, "Always valid inference", the mSPRT) for ``theta``, the slice's
bad rate minus the rest's, against ``H0: theta <= delta``.

With ``D`` the cumulative difference of rates (slice minus rest, ``n`` and ``m`` rows) and
``I = 1 / V`` its information, ``V = r1 (1 - r1) / n + r0 (1 - r0) / m`` taken at the null's
boundary (rest rate ``r0 = (bad rows of both - n delta) / (n + m)``, slice rate ``r1 = r0 +
delta``; with ``delta = 0`` this is the pooled variance of Johari et al.), the score ``S = D I``
is approximately Brownian in ``I`` with drift ``theta``, and the likelihood ratio of ``theta``
to ``delta`` is ``exp(u x - u^2 I / 2)``, ``u = theta - delta``, ``x = (D - delta) I``. Mixed
over ``u`` by a half-normal of scale ``tau`` (alternatives above ``delta`` only):

    Lambda = 2 / sqrt(1 + I tau^2) * exp(x^2 / (2 a)) * Phi(x / sqrt(a)),   a = I + 1 / tau^2.

**Guarantee.** For every ``theta' <= delta`` and ``theta > delta`` each increment has
``E_theta'[exp(u dx - u^2 dI / 2)] = exp(u dI (theta' - delta)) <= 1``, so ``Lambda`` is a
nonnegative supermartingale starting at 1 under the whole null, and by Ville's inequality

    P(Lambda ever reaches 1 / alpha | theta <= delta) <= alpha

for each slice, however many windows are looked at: ``alpha`` bounds the chance that a slice
with no excess beyond ``delta`` *ever* alarms. The bound is exact for Gaussian increments of
known variance and, as in Johari et al., holds approximately for Bernoulli counts with the
variance plugged in. A slice is tested only once the smaller group has ``min_n`` rows and
expects ``min_expected`` bad and good rows at the pooled rate ``p`` (``min(n, m) min(p, 1 -
p)``), which keeps the normal approximation honest for rare events (looking at ``Lambda`` at
fewer times never raises the chance of crossing). The bound is per slice: among ``k`` slices
with no effect the expected number that ever alarm is at most ``k alpha``; pass ``alpha / k``
for a family-wise bound. An alarm is kept (the test stopped); ``p_value = min(1, 1 / max
Lambda)`` is always valid.

State is bounded: at most ``max_tracked`` slices, the least recently seen evicted first (the
fewest rows among those seen equally recently); a slice seen again after eviction starts afresh.

Slice ``s=hot`` (2% of rows) fails 25% of the time against 10% elsewhere; 1000 rows a window:

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> test = MixtureSPRT(delta=0.02, alpha=0.01)
>>> for w in range(20):
...     hot = rng.random(1000) < 0.02
...     bad = rng.random(1000) < np.where(hot, 0.25, 0.10)
...     test.update({"s=hot": (int(hot.sum()), int(bad[hot].sum()))}, (1000, int(bad.sum())))
...     if test.alarms():
...         break
>>> test.windows_, test.alarms(), test.evidence("s=hot").alarmed_at
(7, ['s=hot'], 7)
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from scipy import special

from detectors._base import STATE_VERSION, DetectorError, check_version

Counts = tuple[int, int]


@dataclass(frozen=True)
class SliceEvidence:
    """A slice's cumulative counts, its evidence now, and the window of its alarm (if any)."""

    slice: str
    n: int
    bad: int
    rest_n: int
    rest_bad: int
    effect: float
    log_lr: float
    p_value: float
    alarmed_at: int | None
    last_seen: int


def log_mixture_lr(n: int, bad: int, rest_n: int, rest_bad: int, *, delta: float,
                   tau: float) -> float:
    """``log Lambda`` of the half-normal mixture SPRT (module docstring); 0 without variance.

    Checked against numerical integration of the mixture in the tests.

    >>> round(log_mixture_lr(200, 50, 9800, 980, delta=0.02, tau=0.1), 4)
    13.8537
    """
    base = min(max((bad + rest_bad - n * delta) / (n + rest_n), 0.0), 1.0 - delta)
    top = base + delta
    var = top * (1.0 - top) / n + base * (1.0 - base) / rest_n
    if var <= 0.0:
        return 0.0
    info = 1.0 / var
    x = (bad / n - rest_bad / rest_n - delta) * info
    a = info + 1.0 / (tau * tau)
    return float(math.log(2.0) - 0.5 * math.log1p(info * tau * tau) + x * x / (2.0 * a)
                 + special.log_ndtr(x / math.sqrt(a)))


class MixtureSPRT:
    """Per-slice always-valid test of "bad rate exceeds the rest's by more than ``delta``".

    Parameters
    ----------
    delta
        Excess bad rate (slice minus rest) that is tolerated.
    alpha
        Per-slice bound on the chance of ever alarming when the excess is at most ``delta``.
    tau
        Scale of the half-normal mixture over excesses beyond ``delta`` (rate units).
    min_n
        Cumulative rows a slice (and its rest) needs before it is tested.
    min_expected
        Expected bad and good rows (pooled rate) the smaller group needs before it is tested.
    max_tracked
        Most slices kept; the least recently seen are evicted first.
    """

    kind: ClassVar[str] = "slice_msprt"

    def __init__(self, delta: float = 0.02, alpha: float = 0.05, tau: float = 0.1,
                 min_n: int = 30, min_expected: float = 5.0,
                 max_tracked: int = 10_000) -> None:
        if not 0.0 <= delta < 1.0 or not 0.0 < alpha < 1.0 or tau <= 0.0:
            raise DetectorError(f"need 0 <= delta < 1, 0 < alpha < 1, tau > 0, got {delta}, "
                                f"{alpha}, {tau}")
        if min_n < 1 or max_tracked < 1 or min_expected < 0.0:
            raise DetectorError(f"need min_n, max_tracked >= 1 and min_expected >= 0, got "
                                f"{min_n}, {max_tracked}, {min_expected}")
        self.delta = delta
        self.alpha = alpha
        self.tau = tau
        self.min_n = min_n
        self.min_expected = min_expected
        self.max_tracked = max_tracked
        self.windows_ = 0
        # key -> [n, bad, rest_n, rest_bad, last_seen, max_log_lr, alarmed_at or None]
        self._slices: dict[str, list[Any]] = {}

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def update(self, window_counts: Mapping[str, Counts],
               rest: Counts | Mapping[str, Counts]) -> None:
        """Add one window: ``{slice: (rows, bad rows)}`` and the window's ``(rows, bad rows)``
        totals (the rest of a slice is the totals less the slice), or the rest of each slice."""
        self.windows_ += 1
        threshold = math.log(1.0 / self.alpha)
        for key, (n, bad) in window_counts.items():
            if isinstance(rest, Mapping):
                rest_n, rest_bad = rest[key]
            else:
                rest_n, rest_bad = rest[0] - n, rest[1] - bad
            if not (0 <= bad <= n and 0 <= rest_bad <= rest_n):
                raise DetectorError(f"counts of {key!r} ({n}, {bad}) / rest ({rest_n}, "
                                    f"{rest_bad}) are not rows and bad rows")
            if n == 0:
                continue
            s = self._slices.setdefault(key, [0, 0, 0, 0, 0, 0.0, None])
            s[0] += n
            s[1] += bad
            s[2] += rest_n
            s[3] += rest_bad
            s[4] = self.windows_
            llr = self._log_lr(s)
            s[5] = max(s[5], llr)
            if s[6] is None and llr >= threshold:
                s[6] = self.windows_
        self._evict()

    def _log_lr(self, s: list[Any]) -> float:
        pooled = (s[1] + s[3]) / (s[0] + s[2])
        small = min(s[0], s[2])
        if small < self.min_n or small * min(pooled, 1.0 - pooled) < self.min_expected:
            return 0.0
        return log_mixture_lr(s[0], s[1], s[2], s[3], delta=self.delta, tau=self.tau)

    def _evict(self) -> None:
        excess = len(self._slices) - self.max_tracked
        if excess > 0:
            order = sorted(self._slices, key=lambda k: (self._slices[k][4], self._slices[k][0], k))
            for key in order[:excess]:
                del self._slices[key]

    def alarms(self) -> list[str]:
        """Slices that have alarmed, in order of their alarm window, then key."""
        hit = [(s[6], key) for key, s in self._slices.items() if s[6] is not None]
        return [key for _, key in sorted(hit)]

    def evidence(self, key: str) -> SliceEvidence:
        """The tracked slice ``key`` (``KeyError`` when not tracked)."""
        n, bad, rest_n, rest_bad, last_seen, max_llr, alarmed_at = self._slices[key]
        effect = bad / n - rest_bad / rest_n if rest_n else math.nan
        return SliceEvidence(key, n, bad, rest_n, rest_bad, effect,
                             self._log_lr(self._slices[key]), min(1.0, math.exp(-max_llr)),
                             alarmed_at, last_seen)

    def statistics(self) -> list[SliceEvidence]:
        """Every tracked slice, strongest evidence first."""
        return sorted((self.evidence(k) for k in self._slices),
                      key=lambda e: (e.p_value, -e.log_lr, e.slice))

    def to_state(self) -> dict[str, Any]:
        return {"state_version": STATE_VERSION, "kind": self.kind, "params": self.get_params(),
                "windows": self.windows_,
                "slices": {k: list(self._slices[k]) for k in sorted(self._slices)}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MixtureSPRT:
        check_version(state, cls.kind)
        obj = cls(**state["params"])
        obj.windows_ = int(state["windows"])
        for key, (n, bad, rn, rb, seen, llr, at) in state["slices"].items():
            obj._slices[str(key)] = [int(n), int(bad), int(rn), int(rb), int(seen), float(llr),
                                     None if at is None else int(at)]
        return obj
