"""Prediction drift per slice: each slice against itself in the reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitor.config import parse_config
from monitor.performance_eval import compute_label_records
from monitor.reference import build_profile, columns_from_events, read_reference
from monitor.store import Outcome

T0 = 1_795_000_000_000


def _binary() -> object:
    return parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
                         "features": [{"name": "x", "type": "numeric"}],
                         "slices": ["device"], "drift": {"multivariate": {"enabled": False}}})


def test_a_slice_that_predicts_differently_than_it_did_alerts_and_only_that_one() -> None:
    c = _binary()
    rng = np.random.default_rng(2)
    rows = []
    for i in range(4000):
        device = "ios" if i % 2 else "android"
        rate = 0.3 if device == "ios" else 0.1  # iOS always predicted more positives
        rows.append({"features": {"x": 0.0}, "prediction": int(rng.random() < rate),
                     "tags": {"device": device}})
    prof = build_profile(c, columns_from_events(c, rows), version=1)
    ref = prof.labels["slice_predictions"]
    assert set(ref) == {"device=android", "device=ios"}
    outs = []
    for i in range(1000):
        device = "ios" if i % 2 else "android"
        rate = 0.3 if device == "ios" else 0.25  # Android now predicts far more positives
        outs.append(Outcome(T0 + i, int(rng.random() < rate), None, None, None,
                            {"device": device}))
    recs = {r.slice: r for r in compute_label_records(c, prof, T0, outs)
            if r.metric == "prediction_drift"}
    assert (recs["device=android"].status, recs["device=ios"].status) == ("alert", "ok")
    android = [o.prediction for o in outs if o.slices["device"] == "android"]
    table = [[ref["device=android"]["counts"].get(k, 0) for k in ("0", "1")],
             [android.count(0), android.count(1)]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert recs["device=android"].p_value == pytest.approx(expected, rel=1e-6)
    n0 = sum(table[0])
    tvd = abs(table[0][1] / n0 - table[1][1] / 500)
    assert recs["device=android"].value == pytest.approx(tvd, abs=1e-12)
    assert recs["device=android"].n == 500


def test_regression_mean_shift_per_slice_and_tags_from_csv() -> None:
    c = parse_config({"model_id": "m", "task": "regression", "window": "1h",
                      "features": [{"name": "x", "type": "numeric"}], "slices": ["region"],
                      "drift": {"multivariate": {"enabled": False}}})
    rng = np.random.default_rng(4)
    lines = ["x,prediction,tag.region"]
    for i in range(2000):
        region = "north" if i % 2 else "south"
        lines.append(f"0.5,{rng.normal(10 if region == 'north' else 20, 2):.6f},{region}")
    cols = read_reference(c, "\n".join(lines).encode(), "csv")
    prof = build_profile(c, cols, version=1)
    ref = prof.labels["slice_predictions"]
    assert set(ref) == {"region=north", "region=south"}
    north = np.array([float(v.split(",")[1]) for v in lines[1:] if v.endswith("north")])
    assert ref["region=north"]["mean"] == pytest.approx(north.mean(), rel=1e-12)
    outs = [Outcome(T0 + i, float(rng.normal(11 if i % 2 else 20, 2)), None, None, None,
                    {"region": "north" if i % 2 else "south"}) for i in range(600)]
    recs = {r.slice: r for r in compute_label_records(c, prof, T0, outs)
            if r.metric == "prediction_drift"}
    assert (recs["region=north"].status, recs["region=south"].status) == ("alert", "ok")
    cur = np.array([o.prediction for o in outs if o.slices["region"] == "north"])
    se = np.sqrt(north.var(ddof=1) / north.size + cur.var(ddof=1) / cur.size)
    p = 2 * stats.norm.sf(abs(cur.mean() - north.mean()) / se)
    assert recs["region=north"].p_value == pytest.approx(p, rel=1e-6)
    assert recs["region=north"].value == pytest.approx(
        abs(cur.mean() - north.mean()) / north.std(ddof=1), rel=1e-9)
