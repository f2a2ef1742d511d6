"""Always-valid change detection of a KPI against its baseline: the mixture SPRT.

Looking at a fixed-sample test after every window inflates its false alarms: a 5% z-test
repeated over 50 windows alarms on most streams that never changed. The mixture sequential
probability ratio test (mSPRT; Robbins, 1970; Johari, Pekelis and Walsh, "Always valid
inference", 2017, the form used here) can be read after every window instead.

With per-unit values ``x_i`` of variance ``sigma^2``, ``N`` units so far, ``S = sum (x_i - c)``
around a centre ``c`` and ``u = S tau / (sigma sqrt(sigma^2 + N tau^2))``, the likelihood ratio
of a shift ``delta`` mixed over ``delta ~ N(0, tau^2)`` is

    Lambda_N = sqrt(sigma^2 / (sigma^2 + N tau^2)) exp(u^2 / 2)                 ("both")

and mixed over the half of that normal on one side

    Lambda_N = 2 sqrt(sigma^2 / (sigma^2 + N tau^2)) exp(u^2 / 2) Phi(-u)       ("down")
    Lambda_N = 2 sqrt(sigma^2 / (sigma^2 + N tau^2)) exp(u^2 / 2) Phi(u)        ("up")

(the two halves average to the two-sided one). The centre is ``c = baseline - margin`` for
``"down"``, ``baseline + margin`` for ``"up"``; ``"both"`` averages the two one-sided ratios.
The always-valid p-value is ``p_N = min(p_{N-1}, 1 / Lambda_N)``, ``p_0 = 1``, and the test
alarms when ``p_N < alpha``.

**Guarantee.** If the ``x_i`` are independent ``N(theta, sigma^2)`` with ``sigma^2`` known and
``theta`` in the null (``theta >= baseline - margin`` for ``"down"``, ``<= baseline + margin``
for ``"up"``, within ``margin`` of the baseline for ``"both"``), every ``Lambda_N`` is a
non-negative supermartingale starting at 1 (a martingale at the centre), so by Ville's
inequality ``P(ever p_N < alpha) = P(sup_N Lambda_N > 1 / alpha) <= alpha``: over an unbounded
horizon, whatever the number of looks, the window sizes or when one stops. Feeding whole
windows evaluates ``Lambda`` at window ends only, a subsequence, so the bound holds as well. It
is approximate where the data are not normal (a window of 0/1 clicks is normal by the CLT), and
where ``sigma^2`` is the plug-in pooled sample variance (``baseline_var=None``; asymptotically
valid, JPW 2017). The baseline is taken as exact: a baseline estimated from a finite reference
is itself off by about its standard error, which a long enough stream would detect, so
:meth:`MixtureSPRT.from_reference` sets ``margin`` to ``reference_z`` reference standard errors.

``tau`` is the size of change the test is tuned for (default 10% of the baseline); smaller
changes are still found, later. **Alarms persist:** ``p_N`` never increases, so once the test
rejects it keeps alarming until :meth:`MixtureSPRT.reset` (after the change has been handled
or the baseline renewed); :attr:`MixtureSPRT.first_alarm_window` keeps the 0-based index of the
window of the first rejection.

A CTR of 0.05 falling to 0.04 at window 10, 5000 predictions per window:

>>> import numpy as np
>>> rng = np.random.default_rng(3)
>>> test = MixtureSPRT(baseline=0.05)
>>> for w in range(20):
...     clicks = rng.binomial(5000, 0.05 if w < 10 else 0.04)
...     mean = clicks / 5000
...     test.update_window(5000, mean, mean * (1 - mean) * 5000 / 4999)
...     if test.first_alarm_window == w:
...         print(f"alarm at window {w}, p = {test.p_value:.4f}")
alarm at window 12, p = 0.0040
>>> test.alarm, test.first_alarm_window, f"{test.p_value:.1e}"  # alarms persist until reset()
(True, 12, '2.4e-14')
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Self

import numpy as np
from scipy.special import log_ndtr

from detectors._base import STATE_VERSION, DetectorError, check_version
from detectors.kpi.estimate import KpiState

__all__ = ["DIRECTIONS", "MixtureSPRT", "always_valid_p_values", "log_mixture_lr"]

KIND = "kpi_msprt"
DIRECTIONS = ("down", "up", "both")
LOG2 = math.log(2.0)


def log_mixture_lr(n: Any, s: Any, ss: Any, *, tau: float, direction: str, margin: float = 0.0,
                   baseline_var: float | None = None) -> np.ndarray:
    """``log Lambda`` from ``N``, ``S = sum (x - baseline)`` and ``SS = sum (x - baseline)^2``.

    Works elementwise on arrays. ``sigma^2`` is ``baseline_var`` or the pooled sample variance
    ``(SS - S^2 / N) / (N - 1)``; where it cannot be had (``N < 2`` or no spread) the result is
    ``-inf``: no evidence, the p-value stays where it was.
    """
    if direction not in DIRECTIONS:
        raise DetectorError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    n, s, ss = (np.asarray(a, dtype=np.float64) for a in (n, s, ss))
    with np.errstate(divide="ignore", invalid="ignore"):
        if baseline_var is None:
            sigma2 = (ss - s * s / n) / (n - 1.0)
        else:
            sigma2 = np.full(np.broadcast(n, s).shape, float(baseline_var))
        ok = (n >= 2) & (sigma2 > 0)
        sigma2 = np.where(ok, sigma2, 1.0)
        var = sigma2 + n * tau * tau
        shrink = -0.5 * np.log(var / sigma2)
        scale = tau / np.sqrt(sigma2 * var)

        def one_sided(sign: float) -> np.ndarray:  # sign -1: "down", +1: "up"
            u = (s - sign * n * margin) * scale
            out: np.ndarray = LOG2 + shrink + 0.5 * u * u + log_ndtr(sign * u)
            return out

        if direction == "down":
            log_lr = one_sided(-1.0)
        elif direction == "up":
            log_lr = one_sided(1.0)
        else:
            log_lr = np.logaddexp(one_sided(-1.0), one_sided(1.0)) - LOG2
    return np.where(ok, log_lr, -np.inf)


def always_valid_p_values(n: Any, mean: Any, var: Any, *, baseline: float,
                          tau: float | None = None, direction: str = "down",
                          margin: float = 0.0, baseline_var: float | None = None,
                          min_n: int = 30) -> np.ndarray:
    """The p-value after each window, for windows along the last axis (vectorised streams).

    ``n``, ``mean`` and ``var`` (``ddof=1``) describe each window; the result equals what
    :class:`MixtureSPRT` reports window by window with the same settings.
    """
    tau = _tau(tau, baseline)
    n, mean, var = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (n, mean, var)))
    d = mean - baseline
    big_n = np.cumsum(n, axis=-1)
    s = np.cumsum(n * d, axis=-1)
    ss = np.cumsum((n - 1.0) * var + n * d * d, axis=-1)
    log_lr = log_mixture_lr(big_n, s, ss, tau=tau, direction=direction, margin=margin,
                            baseline_var=baseline_var)
    log_lr = np.where(big_n >= min_n, log_lr, -np.inf)
    return np.minimum.accumulate(np.minimum(1.0, np.exp(-log_lr)), axis=-1)


def _tau(tau: float | None, baseline: float) -> float:
    if tau is None:
        if baseline == 0.0:
            raise DetectorError("tau is needed when the baseline is 0")
        return 0.1 * abs(baseline)
    if not tau > 0.0:
        raise DetectorError(f"tau must be > 0, got {tau}")
    return float(tau)


class MixtureSPRT:
    """Always-valid test of a KPI's mean against ``baseline``, fed window by window.

    Parameters
    ----------
    baseline
        The KPI's value under no change (from the reference).
    alpha
        Bound on the probability of ever alarming when nothing changed.
    tau
        Standard deviation of the mixing normal, in KPI units; ``None``: ``0.1 * |baseline|``.
    direction
        ``"down"`` (a drop; CTR-like KPIs), ``"up"`` or ``"both"``.
    margin
        Changes up to ``margin`` are not a change (indifference zone around the baseline).
    baseline_var
        Per-unit variance under no change; ``None`` uses the pooled variance of the stream.
    min_n
        Units seen before the p-value is first evaluated.
    """

    def __init__(self, baseline: float, *, alpha: float = 0.05, tau: float | None = None,
                 direction: str = "down", margin: float = 0.0,
                 baseline_var: float | None = None, min_n: int = 30) -> None:
        if direction not in DIRECTIONS:
            raise DetectorError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        if not (0.0 < alpha < 1.0 and margin >= 0.0 and min_n >= 0 and math.isfinite(baseline)):
            raise DetectorError("need 0 < alpha < 1, margin >= 0, min_n >= 0, a finite baseline")
        if baseline_var is not None and not baseline_var > 0.0:
            raise DetectorError(f"baseline_var must be > 0, got {baseline_var}")
        self.baseline, self.alpha, self.tau, self.direction = baseline, alpha, tau, direction
        self.margin, self.baseline_var, self.min_n = margin, baseline_var, min_n
        self.tau_ = _tau(tau, baseline)
        self.reset()

    @classmethod
    def from_reference(cls, reference: KpiState, *, reference_z: float = 3.0,
                       **params: Any) -> Self:
        """Baseline, ``baseline_var`` and ``margin`` (``reference_z`` SEs) from a reference."""
        moments = reference.moments()
        if moments is None or moments[0] < 2 or moments[2] <= 0.0:
            raise DetectorError(f"reference of KPI {reference.name!r} has no usable value")
        n, mean, var = moments
        params.setdefault("margin", reference_z * math.sqrt(var / n))
        return cls(mean, baseline_var=var, **params)

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def reset(self) -> None:
        """Start afresh (after an alarm was handled); parameters are kept."""
        self.n = 0
        self.s = 0.0  # sum (x - baseline)
        self.ss = 0.0  # sum (x - baseline)^2
        self.n_windows = 0
        self.log_lr: float | None = None
        self.p_value = 1.0
        self.first_alarm_window: int | None = None

    @property
    def alarm(self) -> bool:
        """``p_value < alpha``; stays true until :meth:`reset`."""
        return self.p_value < self.alpha

    @property
    def shift(self) -> float | None:
        """Mean of the stream so far minus the baseline (``None`` before any unit)."""
        return self.s / self.n if self.n else None

    def update_window(self, n: int, mean: float, var: float) -> None:
        """Add one window: ``n`` units, their mean and sample variance (``ddof=1``)."""
        if n < 0 or (n > 0 and not (math.isfinite(mean) and math.isfinite(var) and var >= 0)):
            raise DetectorError(f"bad window: n={n}, mean={mean}, var={var}")
        if n > 0:
            d = mean - self.baseline
            self.n += n
            self.s += n * d
            self.ss += (n - 1.0) * var + n * d * d
        self.n_windows += 1
        if n == 0 or self.n < self.min_n:
            return
        log_lr = float(log_mixture_lr(self.n, self.s, self.ss, tau=self.tau_,
                                      direction=self.direction, margin=self.margin,
                                      baseline_var=self.baseline_var))
        self.log_lr = log_lr if math.isfinite(log_lr) else None
        self.p_value = float(min(self.p_value, 1.0, np.exp(-log_lr)))
        if self.alarm and self.first_alarm_window is None:
            self.first_alarm_window = self.n_windows - 1

    def update_state(self, window: KpiState) -> None:
        """Add one window's KPI state (an unknown KPI counts as an empty window)."""
        moments = window.moments()
        self.update_window(*(moments or (0, 0.0, 0.0)))

    def to_state(self) -> dict[str, Any]:
        return {"state_version": STATE_VERSION, "kind": KIND, "params": self.get_params(),
                "n": self.n, "s": self.s, "ss": self.ss, "n_windows": self.n_windows,
                "log_lr": self.log_lr, "p_value": self.p_value,
                "first_alarm_window": self.first_alarm_window}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        check_version(state, KIND)
        out = cls(**state["params"])
        out.n, out.n_windows = int(state["n"]), int(state["n_windows"])
        out.s, out.ss, out.p_value = float(state["s"]), float(state["ss"]), float(state["p_value"])
        out.log_lr = None if state["log_lr"] is None else float(state["log_lr"])
        first = state["first_alarm_window"]
        out.first_alarm_window = None if first is None else int(first)
        return out
