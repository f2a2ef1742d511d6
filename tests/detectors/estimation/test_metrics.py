"""Expected confusion matrix and expected ROC AUC: identities, enumeration, realized = sklearn."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from detectors.estimation._metrics import confusion, expected_auc, realized_metrics


def test_expected_confusion_identities() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(1000)
    pred = rng.random(1000) < 0.4
    c = confusion(p, pred)
    assert c.tp == pytest.approx(p[pred].sum(), rel=1e-12)
    assert c.tp + c.fp == pytest.approx(pred.sum(), rel=1e-12)  # predicted positives are known
    assert c.fn + c.tn == pytest.approx((~pred).sum(), rel=1e-12)
    assert c.tp + c.fn == pytest.approx(p.sum(), rel=1e-12)  # expected positives
    assert c.n == pytest.approx(1000, rel=1e-12)
    assert c.value("accuracy") == pytest.approx((c.tp + c.tn) / 1000, rel=1e-12)
    assert c.value("precision") == pytest.approx(c.tp / pred.sum(), rel=1e-12)
    assert c.value("recall") == pytest.approx(c.tp / p.sum(), rel=1e-12)
    prec, rec = c.value("precision"), c.value("recall")
    assert c.value("f1") == pytest.approx(2 * prec * rec / (prec + rec), rel=1e-12)


def test_expectations_by_enumerating_every_labelling() -> None:
    """Over all 2^8 labellings weighted by their probability: E[accuracy] equals the estimate,
    and the expected AUC is E[correctly ordered pos-neg pairs] / E[pos-neg pairs] (ties 1/2)."""
    rng = np.random.default_rng(1)
    scores = np.round(rng.random(8), 1)  # some ties
    p = rng.random(8)
    pred = scores >= 0.5
    acc = num = den = 0.0
    for labels in itertools.product([0, 1], repeat=8):
        y = np.array(labels)
        prob = float(np.prod(np.where(y == 1, p, 1 - p)))
        acc += prob * float(np.mean(pred == y))
        pos, neg = scores[y == 1], scores[y == 0]
        diff = pos[:, None] - neg[None, :]
        num += prob * float((diff > 0).sum() + 0.5 * (diff == 0).sum())
        den += prob * len(pos) * len(neg)
    assert confusion(p, pred).value("accuracy") == pytest.approx(acc, abs=1e-12)
    assert expected_auc(scores, p) == pytest.approx(num / den, abs=1e-12)


def test_realized_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(2)
    scores = np.round(rng.random(2000), 2)
    y = (rng.random(2000) < scores).astype(int)
    pred = scores >= 0.4
    got = realized_metrics(scores, y, pred)
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    assert got["precision"] == pytest.approx(precision_score(y, pred), abs=1e-12)
    assert got["recall"] == pytest.approx(recall_score(y, pred), abs=1e-12)
    assert got["f1"] == pytest.approx(f1_score(y, pred), abs=1e-12)
    assert got["roc_auc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


def test_undefined_metrics_are_nan() -> None:
    c = confusion([0.2, 0.3], [0, 0])
    assert math.isnan(c.value("precision"))
    assert math.isnan(expected_auc([0.1, 0.2], [1.0, 1.0]))
    assert c.value("recall") == 0.0
