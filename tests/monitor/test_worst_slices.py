"""Worst slices per window and per-slice evidence across windows, through the processing core."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine

from detectors.slices import parse_key
from monitor.config import parse_config
from monitor.reference import build_profile, columns_from_events
from monitor.store import Outcome
from monitor.worst_slices import sequential_update, targets, worst_records
from tests.factories import FEEDBACK, HOUR, event, feedback, message
from tests.monitor.harness import Harness

T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR
COUNTRIES = ["US", "DE", "BR", "IN", "FR"]


def _config(**slicing: object) -> object:
    return parse_config({
        "model_id": "m", "task": "binary_classification", "window": "1h",
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}],
        "slices": ["country", "device"],
        "kpis": [{"name": "ctr", "numerator": "click"}],
        "lateness": {"out_of_orderness": "1m", "allowed_lateness": "1m"},
        "drift": {"multivariate": {"enabled": False}}, "concept": {"enabled": False},
        "slicing": slicing,
    })


def _in_korea(key: str) -> bool:
    return ("country", "KR") in parse_key(key)


def test_a_small_slice_that_degrades_is_found_within_six_windows(
        engine_for: Engine | None) -> None:
    """Korea is 1% of rows (20 a window, below the 30-row support of one window); from window 4
    its error rate goes from 10% to 40%, the overall one from 10% to 10.3%."""
    c = _config()
    prof = build_profile(c, columns_from_events(c, [{"features": {"x": 0.0, "c": "a"}}] * 50), 1)
    h = Harness(c, prof, engine_for, now_ms=T0 + 40 * HOUR)
    rng = np.random.default_rng(3)
    offset = 0
    windows = 12
    for w in range(windows):
        evs, fbs = [], []
        for i in range(2000):
            country = "KR" if i % 100 == 0 else COUNTRIES[i % 5]
            device = ["ios", "android", "web"][int(rng.integers(3))]
            bad_rate = 0.4 if country == "KR" and w >= 4 else 0.1
            wrong = rng.random() < bad_rate
            ts = T0 + w * HOUR + i * 1000
            ev = event(offset, ts, x=1.0) | {"tags": {"country": country, "device": device}}
            evs.append(message(ev, offset))
            fbs.append(message(feedback(f"p{offset}", ts + 500, label=0 if wrong else 1,
                                        click=float(rng.random() < 0.1)), offset,
                               stream=FEEDBACK))
            offset += 1
        h.apply(evs)
        h.apply(fbs)
        h.maintain()
    h.apply([message(event(offset, T0 + (windows + 2) * HOUR), offset)])
    h.maintain()
    recs = [r for r in h.records() if r.family == "slice_performance"]
    seq = [r for r in recs if r.metric == "sequential.error_rate"]
    alarms = [r for r in seq if r.status == "alert"]
    first = min(r.window_start for r in alarms)
    assert first in {T0 + w * HOUR for w in range(4, 10)}  # within 6 windows of the change
    assert all(_in_korea(r.slice or "") for r in alarms), [r.slice for r in alarms]
    assert {r.slice for r in alarms if r.window_start == first} >= {"country=KR"}
    # per window, Korea is too small to test; no other slice is a discovery in any window
    worst = [r for r in recs if r.metric.startswith("worst.")]
    assert {r.window_start for r in worst} == {T0 + w * HOUR for w in range(windows)}
    assert [r.slice for r in worst if r.status == "alert"] == []
    assert not any(_in_korea(r.slice or "") for r in worst)
    # the CTR never changed: no KPI slice alarms either
    assert [r for r in recs if r.metric == "sequential.ctr" and r.status == "alert"] == []
    # the record carries the evidence: cumulative rows and an always-valid p-value
    kr = next(r for r in alarms if r.slice == "country=KR" and r.window_start == first)
    assert kr.p_value is not None
    assert kr.p_value <= 0.05 / 500
    assert kr.threshold == 0.02
    assert kr.value is not None
    assert kr.value > 0.1  # 0.3 since window 4, diluted by the four windows before


def _outcomes(rng: np.random.Generator, n: int, ts: int, *, hot: float = 0.1,
              ctr_hot: float = 0.1) -> list[Outcome]:
    out = []
    country = rng.choice(["KR", "US", "DE", "BR"], n, p=[0.1, 0.4, 0.3, 0.2])
    device = rng.choice(["ios", "android", "web"], n)
    for i in range(n):
        is_hot = country[i] == "KR" and device[i] == "ios"
        wrong = rng.random() < (hot if is_hot else 0.1)
        click = rng.random() < (ctr_hot if is_hot else 0.1)
        out.append(Outcome(ts + i, 1, 0.8, 0 if wrong else 1, ts + i + 1,
                           {"country": str(country[i]), "device": str(device[i])},
                           {"click": float(click)}))
    return out


def test_a_window_s_worst_slices_name_the_failing_pair_and_the_kpi_drop() -> None:
    c = _config()
    rng = np.random.default_rng(11)
    outs = _outcomes(rng, 6000, T0, hot=0.35, ctr_hot=0.02)
    recs = worst_records(c, T0, outs)
    by = {(r.metric, r.slice): r for r in recs}
    err = by[("worst.error_rate", "country=KR&device=ios")]
    ctr = by[("worst.ctr", "country=KR&device=ios")]
    assert (err.status, ctr.status) == ("alert", "alert")
    hot = [o for o in outs if o.slices == {"country": "KR", "device": "ios"}]
    wrong = sum(1 for o in hot if o.label == 0)
    assert (err.n, err.value) == (len(hot), round(wrong / len(hot), 12))
    clicks = sum(1 for o in hot if o.events["click"] > 0)
    assert ctr.value == round(clicks / len(hot), 12)
    assert ctr.threshold is not None
    assert ctr.value < ctr.threshold  # a lower hit rate than the rest
    assert ctr.ci_low is not None
    assert ctr.ci_high is not None
    assert ctr.ci_low <= ctr.value <= ctr.ci_high
    # the top_k cap (10) per target, alerts first
    for metric in ("worst.error_rate", "worst.ctr"):
        ranked = [r for r in recs if r.metric == metric]
        assert len(ranked) == 10
        assert [r.status for r in ranked] == sorted((r.status for r in ranked),
                                                    key=lambda s: s != "alert")


def test_a_drift_free_stream_stays_within_the_stated_rates() -> None:
    """200 windows of 1000 rows where no slice differs: the share of windows with any
    discovery stays near ``fdr`` (5%) per target, and no slice ever alarms sequentially."""
    c = _config()
    rng = np.random.default_rng(5)
    saved = None
    windows_with_discovery = {"error_rate": 0, "ctr": 0}
    sequential_alarms = 0
    n_windows = 200
    for w in range(n_windows):
        outs = _outcomes(rng, 1000, T0 + w * HOUR)
        for target in windows_with_discovery:
            if any(r.status == "alert" for r in worst_records(c, T0, outs)
                   if r.metric == f"worst.{target}"):
                windows_with_discovery[target] += 1
        saved, seq = sequential_update(c, saved, T0 + w * HOUR, outs)
        sequential_alarms += sum(r.status == "alert" for r in seq)
    bound = 0.05 + 3 * (0.05 * 0.95 / n_windows) ** 0.5
    for target, hits in windows_with_discovery.items():
        assert hits / n_windows <= bound, (target, hits)
    assert sequential_alarms == 0


def test_targets_skip_a_kpi_whose_events_never_arrive_and_rank_regression_errors() -> None:
    c = parse_config({"model_id": "m", "task": "regression", "window": "1h",
                      "features": [{"name": "x", "type": "numeric"}], "slices": ["d"],
                      "kpis": [{"name": "rev", "numerator": "revenue"}]})
    outs = [Outcome(T0, float(i), None, float(i) + (3.0 if i % 4 == 0 else 1.0), T0 + 1,
                    {"d": "a" if i % 4 == 0 else "b"}) for i in range(40)]
    found = targets(c, outs)
    assert set(found) == {"error_rate"}  # no revenue event ever arrived
    rows, bad = found["error_rate"]
    assert len(rows) == 40
    assert bad.tolist() == [int(i % 4 == 0) for i in range(40)]  # above the median error
