"""What both multivariate detectors promise: fitting, bounded mergeable state, pure scoring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detectors._base import DetectorError, IncompatibleState, NotFittedError, StateVersionError
from detectors.multivariate._base import MultivariateDriftDetector
from detectors.multivariate.domain_classifier import DomainClassifierDrift
from detectors.multivariate.mmd import MMDDrift
from detectors.sample import priorities_from_keys

ROOT = Path(__file__).resolve().parents[3]


def small_detectors() -> list[MultivariateDriftDetector]:
    return [MMDDrift(n_permutations=50, sample_size=150, device="cpu"),
            DomainClassifierDrift(epochs=20, sample_size=150, device="cpu")]


@pytest.fixture(params=small_detectors(), ids=lambda d: d.method)
def det(request: pytest.FixtureRequest) -> MultivariateDriftDetector:
    detector: MultivariateDriftDetector = request.param
    return detector.clone()


def rows(seed: int, n: int = 400, dim: int = 4, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)) + shift


def test_importing_the_detectors_does_not_import_torch() -> None:
    code = ("import monitor, detectors.multivariate.mmd, detectors.multivariate.domain_classifier;"
            " import sys; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_not_fitted(det: MultivariateDriftDetector) -> None:
    with pytest.raises(NotFittedError):
        det.score()
    with pytest.raises(NotFittedError):
        det.update(rows(0))
    with pytest.raises(NotFittedError):
        det.merge(det.clone())
    assert "reference" not in det.to_state()
    assert type(det).from_state(json.loads(json.dumps(det.to_state()))).fitted is False


def test_too_few_permutations_to_ever_alert_is_refused() -> None:
    with pytest.raises(DetectorError, match="n_permutations"):
        MMDDrift(n_permutations=19)
    with pytest.raises(DetectorError, match="n_permutations"):
        DomainClassifierDrift(n_permutations=20, threshold=0.01)


def test_params_come_from_the_signature(det: MultivariateDriftDetector) -> None:
    params = det.get_params()
    assert json.loads(json.dumps(params)) == params
    assert params["device"] == "cpu"
    assert params["sample_size"] == 150
    twin = det.fit(rows(1)).clone()
    assert twin.get_params() == params
    assert twin.fitted is False


def test_fit_keeps_a_bounded_seeded_reference(det: MultivariateDriftDetector) -> None:
    a = det.clone().fit(rows(1, n=1000))
    b = det.clone().fit(rows(1, n=1000))
    assert a.reference_.shape == (150, 4)
    np.testing.assert_array_equal(a.reference_, b.reference_)
    assert a.n_features_in_ == 4
    with pytest.raises(DetectorError, match="shape"):
        a.update(rows(2, dim=3))


def test_state_round_trip(det: MultivariateDriftDetector) -> None:
    det.fit(rows(1))
    det.update(rows(2, n=100, shift=0.5))
    copy = type(det).from_state(json.loads(json.dumps(det.to_state())))
    assert copy.score() == det.score()
    det.update(rows(3, n=100))
    copy.update(rows(3, n=100))
    assert copy.score() == det.score()
    with pytest.raises(StateVersionError):
        type(det).from_state({**det.to_state(), "state_version": 99})


def test_merge_of_parts_equals_the_whole(det: MultivariateDriftDetector) -> None:
    data = rows(4, shift=0.3)
    keys = [f"event-{i}" for i in range(len(data))]
    whole = det.clone().fit(rows(1))
    whole.update(data, priorities_from_keys(keys))
    parts = [det.clone().fit(rows(1)) for _ in range(3)]
    for i, part in enumerate(parts):
        part.update(data[i::3], priorities_from_keys(keys[i::3]))
    merged = parts[0].merge(parts[1]).merge(parts[2])
    assert merged.to_state() == {**whole.to_state()}
    assert merged.score() == whole.score()
    empty = det.clone().fit(rows(1))
    assert whole.merge(empty).score() == merged.score()


def test_merge_refuses_strangers(det: MultivariateDriftDetector) -> None:
    a, b = det.clone().fit(rows(1)), det.clone().fit(rows(2))
    with pytest.raises(IncompatibleState):
        a.merge(b)
    other = type(det)(**{**det.get_params(), "seed": 9}).fit(rows(1))
    with pytest.raises(DetectorError, match="same class"):
        a.merge(other)


def test_score_does_not_change_the_state(det: MultivariateDriftDetector) -> None:
    det.fit(rows(1))
    det.update(rows(5, n=120, shift=0.2))
    before = det.to_state()
    first = det.score()
    assert det.to_state() == before
    assert det.score() == first
    assert first.device == "cpu"
    assert first.n_reference == 150
    assert first.n_current == 120


def test_rows_with_missing_values_are_dropped(det: MultivariateDriftDetector) -> None:
    data = rows(6, n=10)
    data[3, 1] = np.nan
    data[7, 0] = np.inf
    det.fit(rows(1))
    det.update(data)
    assert det.score().n_current == 8


def test_auto_device_is_the_cpu_without_a_gpu() -> None:
    import torch

    det = MMDDrift(n_permutations=20).fit(rows(1, n=50))
    det.update(rows(2, n=50))
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert det.score().device == expected


def embeddings(seed: int, n: int, moved: bool) -> np.ndarray:
    """Unit vectors in 64 dimensions around four topics; ``moved`` rotates the last topic."""
    rng = np.random.default_rng(100)
    topics = rng.normal(size=(4, 64))
    if moved:  # rotate topic 3 by 60 degrees towards a direction orthogonal to it
        turn = rng.normal(size=64)
        turn -= turn @ topics[3] / (topics[3] @ topics[3]) * topics[3]
        turn *= np.linalg.norm(topics[3]) / np.linalg.norm(turn)
        topics[3] = np.cos(np.pi / 3) * topics[3] + np.sin(np.pi / 3) * turn
    draw = np.random.default_rng(seed)
    vectors = topics[draw.integers(0, 4, n)] + draw.normal(scale=1.5, size=(n, 64))
    return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


@pytest.mark.parametrize("detector", small_detectors(), ids=lambda d: d.method)
def test_embedding_topic_shift_is_detected(detector: MultivariateDriftDetector) -> None:
    det = type(detector)(**{**detector.get_params(), "sample_size": 400}).fit(
        embeddings(1, 400, moved=False))
    same = det.clone().fit(det.reference_)
    det.update(embeddings(2, 400, moved=True))
    same.update(embeddings(3, 400, moved=False))
    assert (det.score().drifted, same.score().drifted) == (True, False)
