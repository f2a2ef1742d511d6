"""KPI values per window: intervals against closed forms, coverage, missing versus zero, merges."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from detectors._base import DetectorError, IncompatibleState, StateVersionError
from detectors.kpi import KpiState

Z = float(stats.norm.ppf(0.975))


def _events(clicks: np.ndarray, conversions: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Dicts as the monitor sums them: no feedback (``{}``) where nothing happened."""
    out: list[dict[str, Any]] = []
    for i, c in enumerate(clicks):
        if not c:
            out.append({})
        elif conversions is None:
            out.append({"click": int(c)})
        else:
            out.append({"click": int(c), "conversion": int(conversions[i])})
    return out


def _wilson_roots(k: float, n: float) -> tuple[float, float]:
    """Wilson's interval as the roots of ``(p_hat - p)^2 = z^2 p (1 - p) / n``."""
    p_hat = k / n
    a, b, c = 1 + Z * Z / n, -(2 * p_hat + Z * Z / n), p_hat * p_hat
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


def test_ctr_gets_wilson_interval_of_clicks_over_predictions() -> None:
    clicks = np.zeros(500, dtype=int)
    clicks[:37] = 1
    s = KpiState("ctr", "click")
    s.update(_events(clicks))
    v = s.value()
    assert (v.kind, v.method, v.n, v.n_predictions) == ("ratio_over_predictions", "wilson", 500,
                                                       500)
    assert v.value == 37 / 500
    assert (v.ci_low, v.ci_high) == pytest.approx(_wilson_roots(37, 500), rel=1e-12)
    assert v.se == pytest.approx(math.sqrt(0.074 * 0.926 / 500))


def test_binary_conversion_gets_wilson_over_clicks() -> None:
    rng = np.random.default_rng(1)
    clicks = (rng.random(3000) < 0.1).astype(int)
    conv = clicks * (rng.random(3000) < 0.2)
    s = KpiState("conversion", "conversion", "click")
    s.update(_events(clicks, conv))
    v = s.value()
    k, t = int(conv.sum()), int(clicks.sum())
    assert (v.kind, v.method, v.n, v.n_predictions) == ("ratio_over_event", "wilson", t, 3000)
    assert v.value == k / t
    assert (v.ci_low, v.ci_high) == pytest.approx(_wilson_roots(k, t), rel=1e-12)


def test_ratio_of_counts_gets_the_delta_method() -> None:
    rng = np.random.default_rng(2)
    y = rng.poisson(0.3, 4000).astype(float)  # clicks, sometimes several
    x = rng.binomial(y.astype(int), 0.25).astype(float)  # conversions among them
    s = KpiState("conversion", "conversion", "click")
    s.update_totals(x, y)
    v = s.value()
    r = x.sum() / y.sum()
    cov = np.cov(x, y, ddof=1)  # Var(R) ~ (s_x^2 - 2 R s_xy + R^2 s_y^2) / (n mean(y)^2)
    se = math.sqrt((cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (x.size * y.mean() ** 2))
    assert v.method == "delta"
    assert v.value == pytest.approx(r, rel=1e-12)
    assert v.se == pytest.approx(se, rel=1e-9)
    assert (v.ci_low, v.ci_high) == pytest.approx((r - Z * se, r + Z * se), rel=1e-9)
    assert v.n == int(np.count_nonzero(y))


@pytest.mark.parametrize("kind", ["mean", "ratio_over_predictions"])
def test_amount_per_prediction_gets_the_clt_interval(kind: str) -> None:
    rng = np.random.default_rng(3)
    revenue = np.where(rng.random(2500) < 0.1, rng.lognormal(2.0, 0.8, 2500), np.nan)
    s = KpiState("rpp", "revenue", kind=kind)
    s.update([{} if np.isnan(r) else {"revenue": float(r)} for r in revenue])
    v = s.value()
    x = np.nan_to_num(revenue)
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert (v.method, v.n) == ("delta", 2500)
    assert v.value == pytest.approx(x.mean(), rel=1e-12)
    assert (v.ci_low, v.ci_high) == pytest.approx((x.mean() - Z * se, x.mean() + Z * se),
                                                  rel=1e-9)


def test_mean_of_a_binary_event_stays_clt() -> None:
    s = KpiState("ctr_mean", "click", kind="mean")
    s.update([{"click": 1}] * 10 + [{}] * 90)
    v = s.value()
    se = math.sqrt(0.1 * 0.9 / 99)  # s^2 = p (1 - p) n / (n - 1), se = s / sqrt(n)
    assert v.method == "delta"
    assert v.se == pytest.approx(se)


def _coverage(values: list[tuple[float | None, float | None]], truth: float) -> float:
    return float(np.mean([lo is not None and hi is not None and lo <= truth <= hi
                          for lo, hi in values]))


def test_ctr_and_conversion_intervals_cover_about_95_percent() -> None:
    rng = np.random.default_rng(20)
    ctr, conv = [], []
    for _ in range(300):
        clicks = (rng.random(2000) < 0.05).astype(int)
        conversions = clicks * (rng.random(2000) < 0.3)
        events = _events(clicks, conversions)
        a, b = KpiState("ctr", "click"), KpiState("conversion", "conversion", "click")
        a.update(events)
        b.update(events)
        ctr.append(a.value())
        conv.append(b.value())
    assert {v.method for v in ctr + conv} == {"wilson"}
    cover_ctr = _coverage([(v.ci_low, v.ci_high) for v in ctr], 0.05)
    cover_conv = _coverage([(v.ci_low, v.ci_high) for v in conv], 0.3)
    print(f"coverage of 95% Wilson intervals: ctr {cover_ctr:.3f}, conversion {cover_conv:.3f}")
    assert 0.90 <= cover_ctr <= 0.99
    assert 0.90 <= cover_conv <= 0.99


def test_delta_and_clt_intervals_cover_about_95_percent() -> None:
    rng = np.random.default_rng(21)
    ratio, mean = [], []
    for _ in range(300):
        y = rng.poisson(0.2, 3000).astype(float)
        x = rng.binomial(y.astype(int), 0.3).astype(float)
        revenue = np.where(rng.random(3000) < 0.1, rng.lognormal(2.0, 0.8, 3000), np.nan)
        a = KpiState("conversion", "conversion", "click")
        a.update_totals(x, y)
        b = KpiState("rpp", "revenue", kind="mean")
        b.update_totals(revenue)
        ratio.append(a.value())
        mean.append(b.value())
    assert {v.method for v in ratio + mean} == {"delta"}
    cover_ratio = _coverage([(v.ci_low, v.ci_high) for v in ratio], 0.3)
    cover_mean = _coverage([(v.ci_low, v.ci_high) for v in mean], 0.1 * math.exp(2.0 + 0.32))
    print(f"coverage of 95% intervals: delta ratio {cover_ratio:.3f}, clt mean {cover_mean:.3f}")
    assert 0.90 <= cover_ratio <= 0.99
    assert 0.90 <= cover_mean <= 0.99


def test_events_that_never_arrive_are_unknown_not_zero() -> None:
    ctr = KpiState("ctr", "click")
    ctr.update([{}] * 200 + [{"revenue": 3.0}] * 5)  # feedback came, but never a click key
    v = ctr.value()
    assert (v.value, v.ci_low, v.ci_high, v.status, v.support_ok) == (
        None, None, None, "insufficient_data", False)
    assert v.n_predictions == 205
    conv = KpiState("conversion", "conversion", "click")
    conv.update([{"click": 1}] * 50 + [{}] * 150)  # clicks arrived, conversions never did
    assert conv.value().value is None
    assert conv.value().status == "insufficient_data"


def test_arrived_zeros_are_a_real_zero() -> None:
    ctr = KpiState("ctr", "click")
    ctr.update([{"click": 0}] + [{}] * 199)
    v = ctr.value()
    assert (v.value, v.ci_low, v.status, v.support_ok) == (0.0, 0.0, "ok", True)
    assert v.ci_high == pytest.approx(_wilson_roots(0, 200)[1])
    conv = KpiState("conversion", "conversion", "click")
    conv.update([{"click": 1, "conversion": 0}] * 40 + [{"click": 1}] * 10 + [{}] * 150)
    assert (conv.value().value, conv.value().n, conv.value().status) == (0.0, 50, "ok")


def test_zero_denominator_is_undefined() -> None:
    conv = KpiState("conversion", "conversion", "click")
    conv.update([{"click": 0, "conversion": 0}] * 100)
    assert conv.value().value is None
    assert conv.value().status == "insufficient_data"


def test_low_support_keeps_the_value_and_flags_it() -> None:
    s = KpiState("ctr", "click", min_support=30)
    s.update([{"click": 1}] * 3 + [{}] * 7)
    v = s.value()
    assert (v.value, v.n, v.support_ok, v.status) == (0.3, 10, False, "insufficient_data")
    assert v.ci_low is not None


def _mixed(seed: int, n: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for c, r in zip(rng.poisson(0.2, n), rng.random(n), strict=True):
        out.append({} if not c else {"click": int(c), "conversion": int(r < 0.3),
                                     "revenue": round(float(r) * 40, 2)})
    return out


def _close(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for k, value in a.items():
        if isinstance(value, float):
            assert value == pytest.approx(b[k], rel=1e-12), k
        else:
            assert value == b[k], k


@pytest.mark.parametrize(("numerator", "denominator"),
                         [("click", "predictions"), ("conversion", "click"),
                          ("revenue", "predictions")])
def test_merge_of_parts_equals_the_whole(numerator: str, denominator: str) -> None:
    events = _mixed(5, 3000)
    whole = KpiState("k", numerator, denominator)
    whole.update(events)
    parts = [KpiState("k", numerator, denominator) for _ in range(3)]
    parts[0].update(events[:100])
    parts[1].update(events[100:1700])
    parts[2].update(events[1700:])
    merged = KpiState("k", numerator, denominator).merge(parts[0]).merge(parts[1]).merge(parts[2])
    _close(merged.to_state(), whole.to_state())
    a, b = merged.value(), whole.value()
    assert (a.method, a.n, a.status) == (b.method, b.n, b.status)
    assert (a.value, a.ci_low, a.ci_high) == pytest.approx((b.value, b.ci_low, b.ci_high),
                                                           rel=1e-12)
    right = KpiState("k", numerator, denominator).merge(parts[1]).merge(parts[2])
    left = KpiState.from_state(parts[0].to_state()).merge(right)
    _close(left.to_state(), whole.to_state())  # associative
    empty = KpiState("k", numerator, denominator)
    _close(KpiState.from_state(whole.to_state()).merge(empty).to_state(), whole.to_state())


def test_update_totals_equals_update_from_dicts() -> None:
    events = _mixed(6, 1000)
    a = KpiState("conversion", "conversion", "click")
    a.update(events)
    b = KpiState("conversion", "conversion", "click")
    b.update_totals([e.get("conversion", np.nan) for e in events],
                    [e.get("click", np.nan) for e in events])
    assert a.to_state() == b.to_state()


def test_state_round_trips_through_json() -> None:
    s = KpiState("rpp", "revenue", kind="mean", min_support=10, confidence=0.9)
    s.update(_mixed(7, 500))
    back = KpiState.from_state(json.loads(json.dumps(s.to_state())))
    assert back.to_state() == s.to_state()
    assert back.value() == s.value()
    with pytest.raises(StateVersionError):
        KpiState.from_state({**s.to_state(), "state_version": 99})


@pytest.mark.parametrize("bad", ["1", None, math.nan, math.inf, [1]])
def test_non_numeric_totals_raise(bad: object) -> None:
    s = KpiState("ctr", "click")
    with pytest.raises(DetectorError):
        s.update([{"click": 1}, {"click": bad}])
    assert s.n == 0  # nothing was added


def test_settings_are_checked() -> None:
    with pytest.raises(DetectorError):
        KpiState("k", "click", kind="median")
    with pytest.raises(DetectorError):
        KpiState("k", "conversion", "click", kind="mean")
    with pytest.raises(DetectorError):
        KpiState("k", "click", kind="ratio_over_event")
    with pytest.raises(DetectorError):
        KpiState("k", "click", confidence=1.0)
    with pytest.raises(DetectorError):
        KpiState("k", "conversion", "click").update_totals([1.0])
    with pytest.raises(IncompatibleState):
        KpiState("k", "click").merge(KpiState("k", "click", min_support=5))
