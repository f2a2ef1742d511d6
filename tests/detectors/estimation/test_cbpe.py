"""CBPE: accuracy under covariate shift, the concept-drift blind spot, state, errors."""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pytest

from detectors._base import DetectorError, IncompatibleState, NotFittedError
from detectors.estimation import CBPE, EstimatedMetric, realized_metrics
from tests.detectors.estimation._stream import (
    REFERENCE_ROWS,
    WINDOW_ROWS,
    WINDOWS,
    covariate_shift_means,
    draw,
)


@pytest.fixture(scope="module")
def fitted() -> CBPE:
    return CBPE().fit(*draw(np.random.default_rng(11), 0.0, REFERENCE_ROWS))


def _by_metric(results: list[EstimatedMetric]) -> dict[str, EstimatedMetric]:
    return {r.metric: r for r in results}


def test_covariate_shift_is_estimated_within_its_bands(fitted: CBPE) -> None:
    """Inputs drift (mu from -1 to 1) while P(y | score) holds: 50 windows of 1000 rows.

    Measured with these seeds: MAE accuracy 0.0107, precision 0.0196, recall 0.0110, F1 0.0133,
    ROC AUC 0.0103; 95% band coverage 98%, 92%, 100%, 94%, 94%.
    """
    rng = np.random.default_rng(12)
    errors: dict[str, list[float]] = {m: [] for m in fitted.metrics}
    inside: dict[str, list[bool]] = {m: [] for m in fitted.metrics}
    for mu in covariate_shift_means():
        scores, labels = draw(rng, float(mu), WINDOW_ROWS)
        realized = realized_metrics(scores, labels, scores >= 0.5)
        for r in fitted.estimate(scores):
            assert r.n == WINDOW_ROWS
            errors[r.metric].append(abs(r.value - realized[r.metric]))
            inside[r.metric].append(r.lower <= realized[r.metric] <= r.upper)
    mae = {m: float(np.mean(e)) for m, e in errors.items()}
    coverage = {m: float(np.mean(i)) for m, i in inside.items()}
    assert mae["accuracy"] < 0.02
    assert mae["f1"] < 0.02
    assert mae["roc_auc"] < 0.02
    assert max(mae.values()) < 0.03
    assert min(coverage.values()) >= 0.85, coverage


def test_pure_concept_drift_is_invisible_to_cbpe(fitted: CBPE) -> None:
    """The blind spot: same inputs, flipped P(y | x) in windows 25-49. The estimate stays at the
    reference level; realized accuracy collapses (measured: reference 0.775; mean estimate 0.779
    before the flip and 0.780 after; realized 0.776 before and 0.224 after, outside every band)."""
    rng = np.random.default_rng(13)
    estimated, realized = [], []
    for w in range(WINDOWS):
        flip = w >= WINDOWS // 2
        scores, labels = draw(rng, 0.0, WINDOW_ROWS, flip=flip)
        estimate = _by_metric(fitted.estimate(scores))["accuracy"]
        actual = realized_metrics(scores, labels, scores >= 0.5)["accuracy"]
        if flip:
            assert not estimate.lower <= actual <= estimate.upper
        estimated.append(estimate.value)
        realized.append(actual)
    half = WINDOWS // 2
    reference = fitted.reference_metrics_["accuracy"]
    est_before, est_after = np.mean(estimated[:half]), np.mean(estimated[half:])
    real_before, real_after = np.mean(realized[:half]), np.mean(realized[half:])
    assert abs(est_after - est_before) < 0.01
    assert max(abs(e - reference) for e in estimated[half:]) < 0.03
    assert abs(real_before - reference) < 0.02
    assert real_after < reference - 0.3


def test_window_merge_of_parts_equals_whole_and_matches_batch(fitted: CBPE) -> None:
    scores, _ = draw(np.random.default_rng(14), 0.5, 3000)
    base = fitted.to_state()
    whole = CBPE.from_state(base)
    whole.update(scores)
    parts = [CBPE.from_state(base) for _ in range(3)]
    for part, chunk in zip(parts, np.array_split(scores, 3), strict=True):
        part.update(chunk)
    merged = parts[0].merge(parts[1]).merge(parts[2])
    for a, b, batch in zip(merged.estimate(), whole.estimate(), fitted.estimate(scores),
                           strict=True):
        assert a.n == b.n == batch.n == 3000
        assert a.value == pytest.approx(b.value, abs=1e-12)
        assert a.upper == pytest.approx(b.upper, abs=1e-12)
        # exact for the confusion metrics; the window's AUC comes from the 100-bin histogram
        assert a.value == pytest.approx(batch.value, abs=1e-12 if a.metric != "roc_auc" else 1e-3)


def test_state_round_trip(fitted: CBPE) -> None:
    det = CBPE.from_state(fitted.to_state())
    det.update(draw(np.random.default_rng(15), 0.3, 500)[0])
    back = CBPE.from_state(json.loads(json.dumps(det.to_state())))
    assert back.to_state() == det.to_state()
    assert back.estimate() == det.estimate()
    assert back.calibration_x_ == fitted.calibration_x_
    unfitted = CBPE.from_state(json.loads(json.dumps(CBPE(metrics=["f1"]).to_state())))
    assert not unfitted.fitted
    assert unfitted.get_params() == CBPE(metrics=("f1",)).get_params()


def test_merge_refuses_other_references(fitted: CBPE) -> None:
    other = CBPE().fit(*draw(np.random.default_rng(16), 0.0, 2000))
    with pytest.raises(IncompatibleState):
        CBPE.from_state(fitted.to_state()).merge(other)
    with pytest.raises(DetectorError, match="same parameters"):
        CBPE.from_state(fitted.to_state()).merge(CBPE(threshold=0.4))


def test_params_from_signature_and_fitted_attributes(fitted: CBPE) -> None:
    assert list(fitted.get_params()) == list(inspect.signature(CBPE).parameters)
    assert not fitted.clone().fitted
    assert fitted.n_reference_ == REFERENCE_ROWS
    assert isinstance(fitted.calibration_x_, list)
    assert all(np.diff(fitted.calibration_y_) >= 0)
    assert set(fitted.reference_metrics_) == set(fitted.sampling_sigma_) == set(fitted.metrics)
    se = fitted.standard_error("accuracy", 1000)
    assert fitted.standard_error("accuracy", 4000) == pytest.approx(se / 2, rel=1e-12)
    acc = fitted.reference_metrics_["accuracy"]
    assert se == pytest.approx(math.sqrt(acc * (1 - acc) / 1000), rel=0.15)  # binomial


def test_not_fitted() -> None:
    det = CBPE()
    for call in (lambda: det.estimate([0.5]), lambda: det.update([0.5]),
                 lambda: det.calibrate([0.5]), lambda: det.standard_error("f1", 10),
                 lambda: det.window, lambda: det.merge(CBPE())):
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize(("scores", "labels", "message"), [
    ([0.2, float("nan"), 0.7], [0, 1, 1], "NaN"),
    ([0.2, 1.3, 0.7], [0, 1, 1], r"\[0, 1\]"),
    ([-0.1, 0.5, 0.7], [0, 1, 1], r"\[0, 1\]"),
    ([0.2, 0.5, 0.7], [0, 1], "one value per score"),
    ([0.2, 0.5, 0.7], [0, 2, 1], "0/1"),
    ([0.2, 0.5, 0.7], [1, 1, 1], "both classes"),
])
def test_bad_reference_input(scores: list[float], labels: list[int], message: str) -> None:
    with pytest.raises(DetectorError, match=message):
        CBPE().fit(scores, labels)


def test_bad_window_input_and_params(fitted: CBPE) -> None:
    with pytest.raises(DetectorError, match="NaN"):
        fitted.estimate([0.5, float("nan")])
    with pytest.raises(DetectorError, match=r"\[0, 1\]"):
        fitted.estimate([0.5, 1.5])
    with pytest.raises(DetectorError, match="one value per score"):
        fitted.estimate([0.5, 0.6], y_pred=[1])
    with pytest.raises(DetectorError, match="metrics"):
        CBPE(metrics=("accuracy", "mcc"))
    with pytest.raises(DetectorError, match="confidence"):
        CBPE(confidence=1.0)
    with pytest.raises(DetectorError, match="undefined on the reference"):
        CBPE(threshold=0.99).fit([0.1, 0.2, 0.3], [0, 1, 0])
