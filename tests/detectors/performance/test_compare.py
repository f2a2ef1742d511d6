"""Comparison with the reference: status rules, the "no_action lesson", minimum support, and the
seeded false-alarm rate of windows drawn from the reference's distribution."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors._base import DetectorError
from detectors.performance import (
    LOWER_IS_BETTER,
    MetricValue,
    binary_metrics,
    compare_to_reference,
    default_verdict_metrics,
    kind_of,
)
from tests.detectors.performance._streams import stream


def by_name(values: list[MetricValue]) -> dict[str, MetricValue]:
    return {v.metric: v for v in values}


def proportion(value: float, n: int, metric: str = "accuracy") -> MetricValue:
    return MetricValue(metric, value, None, None, n, True, None,
                       math.sqrt(value * (1 - value) / n), "wilson")


def boot(value: float, se: float | None, n: int = 1000, metric: str = "roc_auc") -> MetricValue:
    return MetricValue(metric, value, None, None, n, True, None, se, "bootstrap")


def test_majority_class_predictor_on_an_imbalanced_stream_is_flagged() -> None:
    y = np.random.default_rng(1).permutation(np.r_[np.zeros(1900), np.ones(100)])
    m = by_name(binary_metrics(y, np.zeros(2000)))
    verdict = default_verdict_metrics("binary", {0: 0.95, 1: 0.05})
    assert verdict == ("balanced_accuracy", "recall_class_0", "recall_class_1")
    assert "accuracy" not in verdict
    assert m["accuracy"].value == pytest.approx(0.95)
    assert compare_to_reference(m["accuracy"], 0.95, 20000, kind="proportion").status == "ok"
    assert (m["balanced_accuracy"].value, m["recall_class_1"].value) == (0.5, 0.0)
    bal = compare_to_reference(m["balanced_accuracy"], 0.8, 20000, kind="bootstrap")
    assert (bal.status, bal.p_value) == ("alert", 0.0)
    assert bal.drop == pytest.approx(0.3)
    rec = compare_to_reference(m["recall_class_1"], 0.6, 1000, kind="proportion")
    assert rec.status == "alert"
    assert rec.p_value is not None
    assert rec.p_value < 1e-12


def test_verdict_metrics() -> None:
    assert default_verdict_metrics("binary", {"no": 700, "yes": 300}) == (
        "accuracy", "balanced_accuracy", "recall_class_0", "recall_class_1")
    assert default_verdict_metrics("binary", {0: 0.81, 1: 0.19})[0] == "balanced_accuracy"
    assert default_verdict_metrics("multiclass", {"a": 5, "b": 3, "c": 1}) == (
        "balanced_accuracy", "recall_class_a", "recall_class_b", "recall_class_c")
    assert default_verdict_metrics("multiclass", {1: 1, 2: 1, 3: 1})[0] == "accuracy"
    assert "accuracy" not in default_verdict_metrics("multiclass", dict.fromkeys(range(6), 1))
    assert default_verdict_metrics("regression") == ("mae", "rmse")
    for task, balance in [("binary", None), ("binary", {0: 1.0}), ("binary", {0: 1, 1: 1, 2: 1}),
                          ("binary", {0: -1, 1: 2}), ("multiclass", {0: 0, 1: 0}),
                          ("ranking", {0: 1, 1: 1})]:
        with pytest.raises(DetectorError):
            default_verdict_metrics(task, balance)  # type: ignore[arg-type]


def test_status_rules() -> None:
    alert = compare_to_reference(proportion(0.80, 2000), 0.85, 20000, kind="proportion")
    assert alert.status == "alert"
    assert alert.p_value is not None
    assert alert.p_value < 0.01
    assert alert.threshold == 0.01
    assert alert.metric == "accuracy"
    assert alert.drop == pytest.approx(0.05)
    assert alert.statistic is not None
    # significant but smaller than min_effect
    small = compare_to_reference(proportion(0.84, 50000), 0.85, 50000, kind="proportion")
    assert small.status == "warning"
    assert small.p_value is not None
    assert small.p_value < 0.01
    # large but not significant (a small window)
    noisy = compare_to_reference(proportion(0.80, 40), 0.85, 20000, kind="proportion")
    assert noisy.status == "warning"
    assert noisy.p_value is not None
    assert noisy.p_value > 0.05
    # p between alpha and 5 alpha, drop below min_effect
    edge = compare_to_reference(boot(0.815, 0.007), 0.83, 10**9, kind="bootstrap")
    assert edge.p_value is not None
    assert 0.01 < edge.p_value < 0.05
    assert edge.status == "warning"
    assert compare_to_reference(proportion(0.86, 2000), 0.85, 20000,
                                kind="proportion").status == "ok"
    exact = compare_to_reference(boot(0.78, 0.0), 0.80, 5000, kind="bootstrap")
    assert exact.status == "alert"  # a drop of exactly min_effect counts
    flat = compare_to_reference(boot(0.80, 0.0), 0.80, 5000, kind="bootstrap")
    assert (flat.status, flat.p_value) == ("ok", 1.0)


def test_lower_is_better_metrics_fail_upwards() -> None:
    assert {"log_loss", "brier", "ece", "mae", "rmse", "mape"} == LOWER_IS_BETTER
    worse = compare_to_reference(boot(0.45, 0.02, metric="log_loss"), 0.35, 50000,
                                 kind="bootstrap", higher_is_better=False)
    assert worse.status == "alert"
    assert worse.drop == pytest.approx(0.10)
    better = compare_to_reference(boot(0.25, 0.02, metric="log_loss"), 0.35, 50000,
                                  kind="bootstrap", higher_is_better=False)
    assert better.status == "ok"
    assert better.drop == pytest.approx(-0.10)


def test_bootstrap_test_counts_the_reference_uncertainty() -> None:
    window = boot(0.80, 0.01, n=1000)
    big = compare_to_reference(window, 0.83, 10**9, kind="bootstrap")
    same_size = compare_to_reference(window, 0.83, 1000, kind="bootstrap")
    assert big.statistic == pytest.approx(3.0)
    assert same_size.statistic == pytest.approx(3.0 / math.sqrt(2.0))


def test_continuity_correction() -> None:
    window = proportion(0.80, 100)
    plain = compare_to_reference(window, 0.9, 100, kind="proportion", continuity=False)
    corrected = compare_to_reference(window, 0.9, 100, kind="proportion")
    assert plain.statistic == pytest.approx(0.10 / math.sqrt(0.85 * 0.15 * 0.02))
    assert corrected.statistic == pytest.approx(0.09 / math.sqrt(0.85 * 0.15 * 0.02))


def test_insufficient_data() -> None:
    y = np.r_[np.zeros(15), np.ones(10)]
    few = by_name(binary_metrics(y, np.where(y == 1, 0.9, 0.2)))  # 25 rows < min_support 30
    for name, value in few.items():
        kind = kind_of(value)
        result = compare_to_reference(value, 0.5, 1000, kind=kind,
                                      higher_is_better=name not in LOWER_IS_BETTER)
        assert (result.status, result.p_value, result.drop) == ("insufficient_data", None, None)
    ok = proportion(0.8, 500)
    assert compare_to_reference(ok, 0.8, 0, kind="proportion").status == "insufficient_data"
    assert compare_to_reference(ok, math.nan, 10, kind="proportion").status == (
        "insufficient_data")
    assert compare_to_reference(boot(0.8, None), 0.9, 100, kind="bootstrap").status == (
        "insufficient_data")
    undefined = MetricValue("precision", None, None, None, 0, False)
    assert compare_to_reference(undefined, 0.9, 100, kind="proportion").status == (
        "insufficient_data")
    with pytest.raises(DetectorError):
        compare_to_reference(ok, 0.8, 10, kind="exact")  # type: ignore[arg-type]
    with pytest.raises(DetectorError):
        compare_to_reference(ok, 0.8, 10, kind="proportion", alpha=0.0)


def test_false_alarm_rate_of_windows_from_the_reference_distribution() -> None:
    """1000 seeded trials, each a reference of 3000 rows and a window of 300 rows from the same
    stream (accuracy 0.855, balanced accuracy 0.825): the alert rate of accuracy (proportion
    test) and balanced accuracy (bootstrap test) stays within ``alpha + 3 SE`` = 0.0194.
    Measured here: 10 and 10 alerts in 1000 (1.0 %, 1.0 %); warnings 16 % and 20 %."""
    rng = np.random.default_rng(0)
    alpha, trials = 0.01, 1000
    alerts = {"accuracy": 0, "balanced_accuracy": 0}
    for i in range(trials):
        reference = by_name(binary_metrics(*stream(rng, 3000), n_bootstrap=0))
        window = by_name(binary_metrics(*stream(rng, 300), seed=i))
        for name in alerts:
            result = compare_to_reference(window[name], reference[name].value or 0.0,
                                          reference[name].n, kind=kind_of(window[name]),
                                          alpha=alpha)
            alerts[name] += result.status == "alert"
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)
    assert all(count / trials <= bound for count in alerts.values()), alerts


def test_power_against_a_real_drop() -> None:
    """The same windows from a model whose class-1 recall fell from 0.75 to 0.55 alert."""
    rng = np.random.default_rng(1)
    reference = by_name(binary_metrics(*stream(rng, 5000), n_bootstrap=0))["balanced_accuracy"]
    alerts = 0
    for i in range(50):
        window = by_name(binary_metrics(*stream(rng, 1000, r1=0.55), seed=i))
        alerts += compare_to_reference(window["balanced_accuracy"], reference.value or 0.0,
                                       reference.n, kind="bootstrap").status == "alert"
    assert alerts >= 45
