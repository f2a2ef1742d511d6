"""Multiclass metrics: values equal scikit-learn's within 1e-12 (absolute) on seeded data, from
dict rows or an (n, k) array; undefined metrics are ``None``."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pytest
from sklearn import metrics as skm

from detectors._base import DetectorError
from detectors.performance import MetricValue, multiclass_metrics

TOL = 1e-12


def by_name(values: list[MetricValue]) -> dict[str, MetricValue]:
    return {v.metric: v for v in values}


def window(seed: int, n: int, classes: list[Hashable], shares: list[float]
           ) -> tuple[list[Hashable], np.ndarray]:
    """True labels and Dirichlet probabilities tilted towards the true class."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(classes), n, p=shares)
    alpha = np.ones((n, len(classes)))
    alpha[np.arange(n), idx] += 2.0
    probs = np.array([rng.dirichlet(a) for a in alpha])
    return [classes[i] for i in idx], probs


def check_against_sklearn(m: dict[str, MetricValue], y: list[Hashable], probs: np.ndarray,
                          classes: list[Hashable], pred: list[Hashable]) -> None:
    assert m["accuracy"].value == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)
    assert m["balanced_accuracy"].value == pytest.approx(
        skm.balanced_accuracy_score(y, pred), abs=TOL)
    assert m["macro_f1"].value == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=TOL)
    assert m["weighted_f1"].value == pytest.approx(
        skm.f1_score(y, pred, average="weighted"), abs=TOL)
    order = sorted(range(len(classes)), key=lambda i: str(classes[i]))  # sklearn's column order
    expected_loss = skm.log_loss(y, probs[:, order], labels=[classes[i] for i in order])
    assert m["log_loss"].value == pytest.approx(expected_loss, abs=TOL)
    recalls = skm.recall_score(y, pred, labels=classes, average=None, zero_division=np.nan)
    for c, expected in zip(classes, recalls, strict=True):
        v = m[f"recall_class_{c}"]
        assert v.label == str(c)
        assert (v.value is None) if np.isnan(expected) else v.value == pytest.approx(expected,
                                                                                     abs=TOL)


@pytest.mark.parametrize(
    ("seed", "classes", "shares"),
    [(0, ["a", "b", "c"], [0.5, 0.3, 0.2]), (1, [3, 1, 2, 0], [0.7, 0.1, 0.15, 0.05])],
)
def test_array_scores_equal_scikit_learn(seed: int, classes: list[Hashable],
                                         shares: list[float]) -> None:
    y, probs = window(seed, 600, classes, shares)
    m = by_name(multiclass_metrics(y, probs, classes=classes, n_bootstrap=20))
    pred = [classes[i] for i in probs.argmax(axis=1)]
    check_against_sklearn(m, y, probs, classes, pred)
    assert [v.metric for v in m.values()][:5] == [
        "accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "log_loss"]


def test_dict_rows_equal_array_rows_and_sort_their_classes() -> None:
    classes: list[Hashable] = ["x", "y", "z"]
    y, probs = window(2, 400, classes, [0.2, 0.5, 0.3])
    rows = [dict(zip(classes, map(float, p), strict=True)) for p in probs]
    rows_shuffled = [dict(reversed(list(r.items()))) for r in rows]
    assert multiclass_metrics(y, rows_shuffled) == multiclass_metrics(y, probs, classes=classes)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_given_predictions_and_a_class_missing_from_the_window() -> None:
    classes: list[Hashable] = ["a", "b", "c", "d"]
    y, probs = window(3, 300, classes, [0.5, 0.3, 0.2, 0.0])
    pred = [classes[i] for i in np.random.default_rng(4).choice(4, 300)]  # "d" predicted
    m = by_name(multiclass_metrics(y, probs, pred, classes=classes))
    check_against_sklearn(m, y, probs, classes, pred)
    assert m["recall_class_d"].value is None
    assert m["recall_class_d"].n == 0
    assert not m["recall_class_d"].support_ok


def test_support_unlabelled_rows_and_argmax_ties() -> None:
    probs = np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]] * 20)
    y: list[Hashable] = ["n", "p", None] * 20
    m = by_name(multiclass_metrics(y, probs, classes=["n", "p"]))
    assert m["accuracy"].n == 40
    assert m["accuracy"].value == 1.0
    assert (m["recall_class_n"].n, m["recall_class_p"].n) == (20, 20)
    assert not m["recall_class_n"].support_ok
    assert m["accuracy"].support_ok
    y_nan: list[Hashable] = ["n", "p", float("nan")] * 20
    assert multiclass_metrics(y_nan, probs, classes=["n", "p"]) == list(m.values())


def test_one_class_window_has_no_balanced_accuracy() -> None:
    probs = np.tile([0.7, 0.2, 0.1], (50, 1))
    m = by_name(multiclass_metrics(["a"] * 50, probs, classes=["a", "b", "c"]))
    assert m["balanced_accuracy"].value is None
    assert not m["balanced_accuracy"].support_ok
    assert m["accuracy"].value == 1.0
    assert m["macro_f1"].value == 1.0


def test_empty_window() -> None:
    values = multiclass_metrics([None, None], np.full((2, 2), 0.5), classes=[0, 1])
    assert all(v.value is None and v.n == 0 and not v.support_ok for v in values)


@pytest.mark.parametrize(
    ("y", "scores", "kwargs"),
    [
        (["a", "q"], np.full((2, 2), 0.5), {"classes": ["a", "b"]}),
        (["a", "b"], np.full((2, 2), 0.5), {}),
        (["a", "b"], np.full((2, 3), 0.5), {"classes": ["a", "b"]}),
        (["a", "b"], np.full((2, 2), 1.5), {"classes": ["a", "b"]}),
        (["a", "b"], [{"a": 1.0}, {"q": 1.0}], {"classes": ["a", "b"]}),
        (["a", "b"], np.full((2, 2), 0.5), {"classes": ["a", "b"], "y_pred": ["a", "q"]}),
        (["a"], np.full((2, 2), 0.5), {"classes": ["a", "b"]}),
    ],
)
def test_invalid_input_is_a_detector_error(y: list[Hashable], scores: object,
                                           kwargs: dict[str, object]) -> None:
    with pytest.raises(DetectorError):
        multiclass_metrics(y, scores, **kwargs)  # type: ignore[arg-type]
