"""KPIs per window and slice, and the always-valid change test, through the processing core."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine

from monitor.config import parse_config
from monitor.reference import build_profile, columns_from_events
from tests.factories import FEEDBACK, HOUR, event, feedback, message
from tests.monitor.harness import Harness

T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR


def test_a_ctr_drop_in_one_segment(engine_for: Engine | None) -> None:
    c = parse_config({
        "model_id": "m", "task": "binary_classification", "window": "1h",
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}],
        "slices": ["device"],
        "kpis": [{"name": "ctr", "numerator": "click"},
                 {"name": "conv_rate", "numerator": "conversion", "denominator": "click"}],
        "lateness": {"out_of_orderness": "1m", "allowed_lateness": "1m"},
        "drift": {"multivariate": {"enabled": False}}, "concept": {"enabled": False},
    })
    rng = np.random.default_rng(7)
    ref_rows = [{"features": {"x": 0.0, "c": "a"}, "label": 1,
                 "events": {"click": int(rng.random() < 0.1)}} for _ in range(20_000)]
    prof = build_profile(c, columns_from_events(c, ref_rows), version=1)
    assert "ctr" in prof.labels["kpis"]
    assert "conv_rate" not in prof.labels["kpis"]
    h = Harness(c, prof, engine_for, now_ms=T0 + 30 * HOUR)
    clicks: dict[tuple[int, str], list[int]] = {}
    offset = 0
    for w in range(8):
        evs, fbs = [], []
        for i in range(2000):
            device = "ios" if i % 10 < 3 else "android"
            rate = 0.02 if device == "ios" and w >= 3 else 0.1
            click = int(rng.random() < rate)
            clicks.setdefault((w, device), []).append(click)
            ts = T0 + w * HOUR + i * 1000
            ev = event(offset, ts) | {"tags": {"device": device}}
            evs.append(message(ev, offset))
            fbs.append(message(feedback(f"p{offset}", ts + 500, label=1, click=click), offset,
                               stream=FEEDBACK))
            offset += 1
        h.apply(evs)
        h.apply(fbs)
        h.maintain()
    h.apply([message(event(offset, T0 + 10 * HOUR), offset)])
    h.maintain()
    recs = {(r.window_start, r.metric, r.slice): r for r in h.records() if r.family == "kpi"}
    ios = recs[(T0 + 4 * HOUR, "ctr", "device=ios")]
    assert ios.value == round(sum(clicks[(4, "ios")]) / 600, 12)
    assert ios.threshold is not None
    assert abs(ios.threshold - 0.1) < 0.01
    overall = recs[(T0 + 4 * HOUR, "ctr", None)]
    total = sum(clicks[(4, "ios")]) + sum(clicks[(4, "android")])
    assert overall.value == round(total / 2000, 12)
    assert overall.ci_low is not None
    assert overall.ci_low < overall.value < overall.ci_high
    # no conversion event ever arrived: insufficient, never a zero
    conv = recs[(T0 + 4 * HOUR, "conv_rate", None)]
    assert (conv.value, conv.status) == (None, "insufficient_data")
    # the worst-slice search names the segment whose CTR fell, and only after the fall
    worst = {(r.window_start, r.slice): r.status for r in h.records()
             if r.metric == "worst.ctr"}
    assert {k for k, v in worst.items() if v == "alert"} == {
        (T0 + w * HOUR, "device=ios") for w in range(3, 8)}
    assert worst[(T0 + 4 * HOUR, "device=android")] == "ok"
    changes = [recs[(T0 + w * HOUR, "ctr.change", None)].status for w in range(8)]
    assert changes[:3] == ["ok", "ok", "ok"]
    assert "alert" in changes[3:]
