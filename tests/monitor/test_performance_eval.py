"""Label records of a window: realized metrics, CBPE estimates, concept-drift detectors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from detectors.concept.ddm import DDM
from detectors.estimation import CBPE
from detectors.performance import binary_metrics
from monitor.config import ModelConfig, parse_config
from monitor.performance_eval import compute_label_records
from monitor.reference import build_profile, columns_from_events
from monitor.store import Outcome
from tests.factories import FEEDBACK, HOUR, event, feedback, message
from tests.monitor.harness import Harness

T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR


def cfg(**extra: Any) -> ModelConfig:
    return parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
                         "features": [{"name": "x", "type": "numeric"}],
                         "drift": {"multivariate": {"enabled": False}, "min_samples": 5},
                         **extra})


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1 / (1 + np.exp(-z))
    return out


def labelled(n: int, seed: int, mu: float = 0.0, flip: bool = False,
             minority: float = 0.0) -> list[dict[str, Any]]:
    """Rows with x, a calibrated-ish score, the prediction at 0.5 and a label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(mu, 1, n)
    score = sigmoid(1.6 * x + 0.2 + minority)
    truth = sigmoid(-2 * x if flip else 2 * x + minority)
    y = (rng.random(n) < truth).astype(int)
    return [{"features": {"x": float(x[i])}, "score": float(score[i]),
             "prediction": int(score[i] >= 0.5), "label": int(y[i])} for i in range(n)]


def outcomes(rows: list[dict[str, Any]], labelled_share: float = 1.0) -> list[Outcome]:
    k = int(len(rows) * labelled_share)
    return [Outcome(T0 + i, r["prediction"], r["score"], r["label"] if i < k else None,
                    T0 + i + 1000 if i < k else None) for i, r in enumerate(rows)]


def test_realized_metrics_equal_the_detectors_and_compare_with_the_reference() -> None:
    c = cfg()
    ref = labelled(5000, 1)
    prof = build_profile(c, columns_from_events(c, ref), version=1)
    assert prof.labels["performance"]["class_balance"] == {
        "0": sum(r["label"] == 0 for r in ref), "1": sum(r["label"] == 1 for r in ref)}
    window = labelled(1000, 2)
    recs = {r.metric: r for r in compute_label_records(c, prof, T0, outcomes(window))
            if r.family == "performance"}
    direct = {m.metric: m for m in binary_metrics(
        [r["label"] for r in window], [r["score"] for r in window],
        [r["prediction"] for r in window], seed=0)}
    for name in ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss", "brier", "ece",
                 "recall_class_0", "recall_class_1"):
        assert recs[name].value == pytest.approx(direct[name].value, rel=1e-12), name
        assert recs[name].ci_low == pytest.approx(direct[name].ci_low, rel=1e-12), name
    assert recs["label_coverage"].value == 1.0
    verdicts = {m: recs[m].status for m in ("balanced_accuracy", "recall_class_0",
                                            "recall_class_1")}
    assert "alert" not in verdicts.values(), verdicts  # a healthy window never alerts
    assert all(recs[m].p_value is not None and recs[m].p_value > 0.01 for m in verdicts)


def test_a_majority_class_model_does_not_look_healthy() -> None:
    c = cfg()
    prof = build_profile(c, columns_from_events(c, labelled(5000, 1)), version=1)
    window = labelled(2000, 3)
    for r in window:  # the model now always says 0
        r["prediction"], r["score"] = 0, 0.1
    recs = {r.metric: r for r in compute_label_records(c, prof, T0, outcomes(window))
            if r.family == "performance"}
    assert recs["recall_class_1"].value == 0.0
    assert recs["balanced_accuracy"].value == 0.5
    assert recs["balanced_accuracy"].status == "alert"
    assert recs["recall_class_1"].status == "alert"


def test_estimated_performance_is_cbpe_on_every_score() -> None:
    c = cfg()
    ref = labelled(5000, 1)
    prof = build_profile(c, columns_from_events(c, ref), version=1)
    window = labelled(1000, 4, mu=0.7)  # covariate shift, no labels yet
    recs = {r.metric: r for r in compute_label_records(c, prof, T0, outcomes(window, 0.0))
            if r.family == "estimated_performance"}
    cbpe = CBPE(seed=0).fit([r["score"] for r in ref], [r["label"] for r in ref],
                            [r["prediction"] for r in ref])
    expected = {e.metric: e for e in cbpe.estimate([r["score"] for r in window],
                                                   [r["prediction"] for r in window])}
    assert set(recs) == set(expected) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    for name, e in expected.items():
        assert recs[name].value == pytest.approx(e.value, rel=1e-12)
        assert (recs[name].ci_low, recs[name].ci_high) == (
            pytest.approx(e.lower, rel=1e-12), pytest.approx(e.upper, rel=1e-12))
        assert recs[name].threshold == pytest.approx(cbpe.reference_metrics_[name])
    realized = binary_metrics([r["label"] for r in window], [r["score"] for r in window],
                              [r["prediction"] for r in window])
    acc = next(m.value for m in realized if m.metric == "accuracy")
    assert abs(recs["accuracy"].value - acc) < 0.03  # covariate shift: the estimate holds


def test_concept_drift_detectors_fire_in_the_window_of_the_change(
        engine_for: Engine | None) -> None:
    c = cfg(concept={"detectors": ["ddm", "adwin"]},
            lateness={"out_of_orderness": "1m", "allowed_lateness": "1m"})
    prof = build_profile(c, columns_from_events(c, labelled(3000, 1)), version=1)
    h = Harness(c, prof, engine_for, now_ms=T0 + 30 * HOUR)
    rng = np.random.default_rng(5)
    errors: list[int] = []
    offset = 0
    for w in range(4):  # 4 windows of 300 predictions; errors jump from 10% to 50% in window 2
        rate = 0.1 if w < 2 else 0.5
        evs, fbs = [], []
        for i in range(300):
            wrong = int(rng.random() < rate)
            errors.append(wrong)
            ts = T0 + w * HOUR + i * 10_000
            evs.append(message(event(offset, ts, x=1.0), offset))  # prediction 1
            fbs.append(message(feedback(f"p{offset}", ts + 1000, label=1 - wrong), offset,
                               stream=FEEDBACK))
            offset += 1
        h.apply(evs)
        h.apply(fbs)
        h.maintain()
    h.apply([message(event(offset, T0 + 6 * HOUR), offset)])
    h.maintain()
    ddm = DDM()
    fired = []
    for i, e in enumerate(errors):
        ddm.update(e)
        if ddm.drift_detected:
            fired.append(i)
    assert fired
    assert 600 <= fired[0] < 900
    got = {(r.window_start, r.metric): r for r in h.records() if r.family == "concept_drift"}
    statuses = [got[(T0 + w * HOUR, "ddm")].status for w in range(4)]
    assert statuses[:2] == ["ok", "ok"]
    assert statuses[2] == "alert"
    first = fired[0]
    change = got[(T0 + 2 * HOUR, "ddm")]
    assert change.value == (T0 + 2 * HOUR + (first - 600) * 10_000) / 1000
    assert change.n == 300
    assert got[(T0 + 2 * HOUR, "adwin")].status in ("alert", "ok")
