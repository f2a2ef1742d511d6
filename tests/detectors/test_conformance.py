"""One conformance suite over every drift detector, found automatically (STYLE.md).

A new module in ``detectors/drift`` is picked up by :func:`detectors.drift.methods` and must
pass every check here without being listed.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import numpy as np
import pytest

from detectors._base import NotFittedError, StateVersionError
from detectors.drift import methods
from detectors.drift._base import DriftDetector
from detectors.sample import priorities_from_keys

BINARY = {"z", "fisher_exact"}
ALL = sorted(methods())


def _data(method: str, n: int, seed: int, shift: float = 0.0) -> list[Any]:
    rng = np.random.default_rng(seed)
    if method in BINARY:
        return ["yes" if x else "no" for x in rng.random(n) < 0.3 + shift / 10]
    return [float(x) for x in rng.normal(shift, 1.0, n)]


def _fitted(method: str, **params: Any) -> DriftDetector:
    cls = methods()[method]
    small = {"sample_size": 200} if "sample_size" in inspect.signature(cls).parameters else {}
    return cls(**{**small, **params}).fit(_data(method, 2000, seed=1))


def _keys(prefix: str, n: int) -> np.ndarray:
    return priorities_from_keys([f"{prefix}-{i}" for i in range(n)])


def _state(det: DriftDetector) -> str:
    return json.dumps(det.to_state(), sort_keys=True)


def _close(a: Any, b: Any) -> bool:
    """Equal states, floats within 1e-12 relative (sums merge in a different order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return bool(a == pytest.approx(b, rel=1e-12, abs=1e-12))
    return bool(a == b)


def _same(x: DriftDetector, y: DriftDetector) -> bool:
    return _close(x.to_state(), y.to_state())


def test_every_method_module_is_found() -> None:
    assert set(ALL) >= {"ks", "chisquare", "z", "psi", "jensenshannon", "wasserstein",
                        "hellinger", "kl_div", "tvd", "linf", "anderson", "cramer_von_mises",
                        "ed", "fisher_exact"}


@pytest.mark.parametrize("method", ALL)
def test_params_come_from_the_signature_and_clone_is_unfitted(method: str) -> None:
    cls = methods()[method]
    names = list(inspect.signature(cls).parameters)
    det = _fitted(method)
    assert list(det.get_params()) == names
    assert "threshold" in names
    twin = det.clone()
    assert twin.get_params() == det.get_params()
    assert not twin.fitted
    with pytest.raises(NotFittedError):
        twin.score()
    with pytest.raises(NotFittedError):
        twin.update([1.0])


@pytest.mark.parametrize("method", ALL)
def test_state_round_trip_is_versioned(method: str) -> None:
    det = _fitted(method)
    det.update(_data(method, 300, seed=2), _keys("a", 300))
    state = det.to_state()
    again = type(det).from_state(json.loads(json.dumps(state)))
    assert _state(again) == _state(det)
    assert again.score() == det.score()
    with pytest.raises(StateVersionError):
        type(det).from_state({**state, "state_version": 999})


@pytest.mark.parametrize("method", ALL)
def test_merge_is_associative_with_identity_and_parts_equal_the_whole(method: str) -> None:
    values = _data(method, 900, seed=3, shift=0.4)
    keys = _keys("w", 900)
    parts = []
    for lo, hi in ((0, 200), (200, 650), (650, 900)):
        part = _fitted(method)
        part.update(values[lo:hi], keys[lo:hi])
        parts.append(part)
    whole = _fitted(method)
    whole.update(values, keys)
    left = type(whole).from_state(parts[0].to_state()).merge(
        type(whole).from_state(parts[1].to_state())).merge(parts[2])
    right_tail = type(whole).from_state(parts[1].to_state()).merge(parts[2])
    right = type(whole).from_state(parts[0].to_state()).merge(right_tail)
    assert _same(left, right)
    assert _same(left, whole)
    assert left.score().statistic == pytest.approx(whole.score().statistic, rel=1e-9)
    identity = _fitted(method)
    assert _same(type(whole).from_state(whole.to_state()).merge(identity), whole)


@pytest.mark.parametrize("method", ALL)
def test_score_does_not_mutate(method: str) -> None:
    det = _fitted(method)
    det.update(_data(method, 500, seed=4), _keys("s", 500))
    before = _state(det)
    first = det.score()
    assert _state(det) == before
    assert det.score() == first


@pytest.mark.parametrize("method", ALL)
def test_memory_is_bounded(method: str) -> None:
    det = _fitted(method)
    det.update(_data(method, 2_000, seed=5), _keys("m", 2_000))
    small = len(_state(det))
    for i in range(10):
        det.update(_data(method, 5_000, seed=6 + i), _keys(f"m{i}", 5_000))
    assert len(_state(det)) <= small * 1.05 + 200


@pytest.mark.parametrize("method", ALL)
def test_detects_a_shift_and_not_its_absence(method: str) -> None:
    cls = methods()[method]
    calm = cls().fit(_data(method, 5000, seed=1))
    moved = cls().fit(_data(method, 5000, seed=1))
    calm.update(_data(method, 1000, seed=10))
    moved.update(_data(method, 1000, seed=8, shift=1.0))
    assert (calm.score().drifted, moved.score().drifted) == (False, True)
