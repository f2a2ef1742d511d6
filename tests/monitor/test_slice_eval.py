"""Slice records of a window: counts, accuracy with Wilson intervals, CBPE per slice."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.performance._common import wilson
from monitor.config import parse_config
from monitor.performance_eval import compute_label_records
from monitor.reference import build_profile, columns_from_events
from monitor.slice_eval import Z95
from monitor.slicing import slice_values
from monitor.store import Outcome

T0 = 1_795_000_000_000


def test_slice_values_bin_numbers_and_keep_known_categories() -> None:
    c = parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
                      "features": [{"name": "x", "type": "numeric"},
                                   {"name": "country", "type": "categorical"}],
                      "slices": ["x", "country", "device"]})
    rows = [{"features": {"x": float(i % 10), "country": "KR" if i % 2 else "US"}}
            for i in range(100)]
    prof = build_profile(c, columns_from_events(c, rows), version=1)
    edges = prof.features["x"].coarse_edges_
    assert edges == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]  # one bucket per value 0..9
    assert slice_values(c, prof, {"x": 4.2, "country": "KR"}, {"device": "ios"}) == {
        "x": "[4,5)", "country": "KR", "device": "ios"}
    assert slice_values(c, prof, {"country": "JP"}, {}) == {
        "x": "(missing)", "country": "(other)", "device": "(missing)"}


def test_slice_accuracy_and_counts() -> None:
    c = parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
                      "features": [{"name": "x", "type": "numeric"}],
                      "slices": ["device"], "drift": {"multivariate": {"enabled": False}}})
    prof = build_profile(c, columns_from_events(c, [{"features": {"x": 0.0}}] * 50), version=1)
    rng = np.random.default_rng(1)
    outs = []
    for i in range(400):
        device = "ios" if i < 100 else "android"
        wrong = rng.random() < (0.4 if device == "ios" else 0.1)
        outs.append(Outcome(T0 + i, 1, 0.7, 0 if wrong else 1, T0 + i + 5, {"device": device}))
    recs = {(r.metric, r.slice): r for r in compute_label_records(c, prof, T0, outs)
            if r.family == "slice_performance"}
    ios_right = sum(1 for o in outs[:100] if o.label == 1)
    ios = recs[("accuracy", "device=ios")]
    assert (ios.value, ios.n) == (pytest.approx(ios_right / 100), 100)
    assert (ios.ci_low, ios.ci_high) == tuple(pytest.approx(x) for x in wilson(ios_right, 100, Z95))
    assert recs[("count", "device=android")].value == 300.0
    assert ("estimated_accuracy", "device=ios") not in recs  # no labelled reference: no CBPE
