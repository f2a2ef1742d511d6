"""Binary metrics: values equal scikit-learn's within 1e-12 (absolute) on seeded data, Wilson
intervals cover at the nominal rate, undefined metrics are ``None``, never a crash or a warning."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from detectors._base import DetectorError
from detectors.performance import MetricValue, binary_metrics
from detectors.performance._common import wilson, z_value
from tests.detectors.performance._streams import (
    ACCURACY,
    BALANCED_ACCURACY,
    logistic_scores,
    stream,
)

TOL = 1e-12
Reference = Callable[[np.ndarray, np.ndarray, np.ndarray], float]
SKLEARN: dict[str, Reference] = {
    "accuracy": lambda y, s, p: skm.accuracy_score(y, p),
    "balanced_accuracy": lambda y, s, p: skm.balanced_accuracy_score(y, p),
    "precision": lambda y, s, p: skm.precision_score(y, p),
    "recall": lambda y, s, p: skm.recall_score(y, p),
    "f1": lambda y, s, p: skm.f1_score(y, p),
    "roc_auc": lambda y, s, p: skm.roc_auc_score(y, s),
    "pr_auc": lambda y, s, p: skm.average_precision_score(y, s),
    "log_loss": lambda y, s, p: skm.log_loss(y, s),
    "brier": lambda y, s, p: skm.brier_score_loss(y, s),
    "recall_class_0": lambda y, s, p: skm.recall_score(y, p, pos_label=0),
    "recall_class_1": lambda y, s, p: skm.recall_score(y, p, pos_label=1),
}


def by_name(values: list[MetricValue]) -> dict[str, MetricValue]:
    return {v.metric: v for v in values}


def sklearn_ece(y: np.ndarray, score: np.ndarray) -> float:
    """ECE from scikit-learn's uniform calibration bins, weighted by each bin's rows."""
    prob_true, prob_pred = calibration_curve(y, score, n_bins=10, strategy="uniform")
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], score), minlength=10)
    counts = counts[counts > 0]
    return float(np.sum(counts / y.size * np.abs(prob_true - prob_pred)))


@pytest.mark.parametrize(
    ("seed", "n", "prevalence", "decimals"),
    [(0, 500, 0.3, None), (1, 2000, 0.05, None), (2, 300, 0.5, 1), (3, 1000, 0.2, 2)],
)
def test_values_equal_scikit_learn(seed: int, n: int, prevalence: float,
                                   decimals: int | None) -> None:
    y, score = logistic_scores(seed, n, prevalence, decimals)
    m = by_name(binary_metrics(y, score, n_bootstrap=20))
    pred = (score >= 0.5).astype(int)
    for name, reference in SKLEARN.items():
        assert m[name].value == pytest.approx(reference(y, score, pred), abs=TOL), name
    assert m["ece"].value == pytest.approx(sklearn_ece(y, score), abs=TOL)
    assert [v.metric for v in binary_metrics(y, score, n_bootstrap=0)] == [
        "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
        "log_loss", "brier", "ece", "recall_class_0", "recall_class_1"]


def test_given_predictions_and_threshold_are_used() -> None:
    y, score = logistic_scores(4, 800, 0.3)
    pred = (np.random.default_rng(5).random(800) < 0.4).astype(int)
    given = by_name(binary_metrics(y, score, pred, n_bootstrap=0))
    assert given["f1"].value == pytest.approx(skm.f1_score(y, pred), abs=TOL)
    assert given["roc_auc"].value == pytest.approx(skm.roc_auc_score(y, score), abs=TOL)
    low = by_name(binary_metrics(y, score, threshold=0.3, n_bootstrap=0))
    assert low["recall"].value == pytest.approx(skm.recall_score(y, score >= 0.3), abs=TOL)


def test_supports_and_methods() -> None:
    y, score = logistic_scores(6, 600, 0.25)
    m = by_name(binary_metrics(y, score))
    pred = score >= 0.5
    assert m["accuracy"].n == 600
    assert m["precision"].n == int(pred.sum())
    assert m["recall_class_1"].n == m["recall"].n == int(y.sum())
    assert m["recall_class_0"].n == int((y == 0).sum())
    assert (m["recall_class_0"].label, m["recall_class_1"].label, m["recall"].label) == (
        "0", "1", None)
    wilson_metrics = {"accuracy", "precision", "recall", "recall_class_0", "recall_class_1"}
    for v in m.values():
        assert v.method == ("wilson" if v.metric in wilson_metrics else "bootstrap")
        assert v.support_ok
        assert v.ci_low is not None
        assert v.ci_high is not None
        assert v.value is not None
        assert v.ci_low < v.ci_high
        if v.metric != "ece":  # biased upward on resamples (binary.py docstring)
            assert v.ci_low <= v.value <= v.ci_high, v.metric


def test_wilson_interval_is_scipys() -> None:
    for successes, n in [(170, 200), (0, 40), (40, 40), (3, 7)]:
        ci = binomtest(successes, n).proportion_ci(0.95, method="wilson")
        assert wilson(successes, n, z_value(0.95)) == pytest.approx((ci.low, ci.high), abs=TOL)
    acc = binary_metrics([1, 1, 0, 0] * 50, [0.9, 0.2, 0.1, 0.1] * 50, n_bootstrap=0)[0]
    assert (acc.ci_low, acc.ci_high) == pytest.approx(wilson(150, 200, z_value(0.95)), abs=TOL)


def test_accuracy_interval_covers_at_the_nominal_rate() -> None:
    """200 seeded windows of 200 rows: the 95 % Wilson interval covers the true accuracy
    (0.855) 187 times (0.935); over 2000 windows it is 0.94."""
    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(200):
        acc = binary_metrics(*stream(rng, 200), n_bootstrap=0)[0]
        assert acc.ci_low is not None
        assert acc.ci_high is not None
        covered += acc.ci_low <= ACCURACY <= acc.ci_high
    assert 0.90 <= covered / 200 <= 0.99


def test_balanced_accuracy_bootstrap_covers_near_the_nominal_rate() -> None:
    """100 seeded windows of 200 rows: the 95 % percentile bootstrap covers 0.825 94 times."""
    rng = np.random.default_rng(7)
    covered = 0
    for i in range(100):
        ba = by_name(binary_metrics(*stream(rng, 200), seed=i))["balanced_accuracy"]
        assert ba.ci_low is not None
        assert ba.ci_high is not None
        covered += ba.ci_low <= BALANCED_ACCURACY <= ba.ci_high
    assert 0.88 <= covered / 100 <= 0.99


def test_majority_class_predictor_looks_accurate_but_its_recall_says_otherwise() -> None:
    y = np.random.default_rng(8).permutation(np.r_[np.zeros(1900), np.ones(100)])
    m = by_name(binary_metrics(y, np.full(2000, 0.03)))
    assert m["accuracy"].value == pytest.approx(0.95)
    assert m["balanced_accuracy"].value == 0.5
    assert (m["balanced_accuracy"].ci_low, m["balanced_accuracy"].se) == (0.5, 0.0)
    assert (m["recall_class_1"].value, m["recall_class_0"].value) == (0.0, 1.0)
    assert m["precision"].value is None
    assert not m["precision"].support_ok
    assert m["f1"].value == 0.0
    assert m["roc_auc"].value == 0.5


def test_one_class_window_leaves_class_metrics_undefined_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = by_name(binary_metrics(np.zeros(100), np.linspace(0, 0.9, 100)))
    assert m["accuracy"].value == pytest.approx(0.55)  # 55 scores below 0.5
    for name in ("balanced_accuracy", "recall", "recall_class_1", "roc_auc", "pr_auc"):
        assert m[name].value is None, name
        assert m[name].ci_low is None
        assert not m[name].support_ok
    assert m["recall_class_1"].n == 0
    assert m["f1"].value == 0.0  # false positives, no positive: F1 is defined and 0


def test_min_support_flags_but_keeps_the_values() -> None:
    y, score = logistic_scores(9, 20, 0.5)
    small = by_name(binary_metrics(y, score))
    assert not any(v.support_ok for v in small.values())
    assert small["accuracy"].value == pytest.approx(skm.accuracy_score(y, score >= 0.5))
    assert all(v.support_ok for v in binary_metrics(y, score, min_support=0)
               if v.value is not None)


def test_unlabelled_rows_are_dropped() -> None:
    y, score = logistic_scores(10, 400, 0.3)
    masked = y.astype(float)
    masked[::4] = np.nan
    keep = ~np.isnan(masked)
    assert binary_metrics(masked, score) == binary_metrics(y[keep], score[keep])


def test_empty_window_is_all_undefined() -> None:
    for v in binary_metrics(np.full(5, np.nan), np.full(5, 0.5)) + binary_metrics([], []):
        assert (v.value, v.ci_low, v.n, v.support_ok) == (None, None, 0, False)


def test_seeded_bootstrap() -> None:
    y, score = logistic_scores(11, 300, 0.3)
    assert binary_metrics(y, score, seed=3) == binary_metrics(y, score, seed=3)
    one, other = (by_name(binary_metrics(y, score, seed=s))["roc_auc"] for s in (3, 4))
    assert one.value == other.value
    assert one.ci_low != other.ci_low
    bare = by_name(binary_metrics(y, score, n_bootstrap=0))
    assert bare["roc_auc"].ci_low is None
    assert bare["roc_auc"].value == one.value
    assert bare["accuracy"].ci_low is not None


@pytest.mark.parametrize(
    ("y", "score", "kwargs"),
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], {}),
        ([0, 1, 1], [0.1, 1.2, 0.3], {}),
        ([0, 1, 1], [0.1, np.nan, 0.3], {}),
        ([0, 1], [0.1, 0.2, 0.3], {}),
        ([0, 1], [0.1, 0.2], {"y_pred": [0, 3]}),
        ([0, 1], [0.1, 0.2], {"confidence": 1.0}),
        ([0, 1], [0.1, 0.2], {"n_bootstrap": -1}),
    ],
)
def test_invalid_input_is_a_detector_error(y: list[float], score: list[float],
                                           kwargs: dict[str, object]) -> None:
    with pytest.raises(DetectorError):
        binary_metrics(y, score, **kwargs)  # type: ignore[arg-type]
