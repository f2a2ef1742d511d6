"""One conformance suite over every concept-drift detector, found automatically (STYLE.md).

A new module in ``detectors/concept`` is picked up by :func:`detectors.concept.methods` and must
pass every check here without being listed.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
from typing import Any

import numpy as np
import pytest

from detectors._base import DetectorError, StateVersionError
from detectors.concept import methods
from detectors.concept._base import MAX_CHANGE_POINTS, ConceptDriftDetector
from tests.detectors.concept._streams import bernoulli, flags, gaussian

ALL = sorted(methods())


def _stream(method: str, seed: int = 0) -> list[float]:
    """A stream in the detector's domain with changes at 1000 and 2000 (and a calm start)."""
    if methods()[method].domain == "real":
        return gaussian([(1000, 0.0), (1000, 1.5), (1000, -0.5)], seed)
    return [float(v) for v in bernoulli([(1000, 0.1), (1000, 0.5), (1000, 0.15)], seed)]


def _json(det: ConceptDriftDetector) -> str:
    return json.dumps(det.to_state(), sort_keys=True, allow_nan=False)


def _restored(det: ConceptDriftDetector) -> ConceptDriftDetector:
    return type(det).from_state(json.loads(_json(det)))


def test_every_module_is_found_and_named_after_its_method() -> None:
    assert ALL == ["adwin", "cusum", "ddm", "eddm", "hddm_a", "hddm_w", "kswin", "page_hinkley"]
    for method, cls in methods().items():
        assert cls.__module__ == f"detectors.concept.{method}"
        assert importlib.import_module(cls.__module__).__doc__


@pytest.mark.parametrize("method", ALL)
def test_params_come_from_the_signature_and_clone_is_fresh(method: str) -> None:
    cls = methods()[method]
    names = list(inspect.signature(cls).parameters)
    det = cls()
    assert list(det.get_params()) == names
    assert all(p.default is not inspect.Parameter.empty
               for p in inspect.signature(cls).parameters.values())
    assert json.loads(json.dumps(det.get_params())) == det.get_params()
    for x in _stream(method)[:1500]:
        det.update(x)
    twin = det.clone()
    assert twin.get_params() == det.get_params()
    assert (twin.n_seen, twin.change_points, twin.drift_detected) == (0, [], False)
    assert _json(twin) == _json(cls(**det.get_params()))
    assert det.n_seen == 1500


@pytest.mark.parametrize("method", ALL)
def test_a_restored_detector_continues_exactly(method: str) -> None:
    stream = _stream(method)
    whole = methods()[method]()
    expected = flags(whole, stream)
    fired = [i for i, (drift, _) in enumerate(expected) if drift]
    assert fired, f"{method} must detect the changes of the test stream"
    assert whole.change_points == fired[-MAX_CHANGE_POINTS:]
    # split anywhere, and right on a detection (the reset is still pending in the state)
    for split in sorted({1, 37, 999, 1500, fired[0] + 1, fired[-1] + 1, len(stream) - 1}):
        head = methods()[method]()
        got = flags(head, stream[:split])
        tail = _restored(head)
        got += flags(tail, stream[split:])
        assert got == expected, f"{method} split at {split}"
        assert _json(tail) == _json(whole)


@pytest.mark.parametrize("method", ALL)
def test_state_is_versioned_strict_json(method: str) -> None:
    cls = methods()[method]
    det = cls()
    for x in _stream(method)[:1200]:
        det.update(x)
    state = json.loads(_json(det))
    assert (state["state_version"], state["kind"], state["method"]) == (
        1, "concept_detector", method)
    assert _json(cls.from_state(state)) == _json(det)
    assert _json(cls.from_state(cls().to_state())) == _json(cls())
    with pytest.raises(StateVersionError):
        cls.from_state({**state, "state_version": 999})
    with pytest.raises(StateVersionError):
        cls.from_state({**state, "kind": "drift_detector"})
    other = "ddm" if method != "ddm" else "eddm"
    with pytest.raises(DetectorError, match="state of"):
        cls.from_state({**state, "method": other})
    with pytest.raises(DetectorError, match="malformed"):
        cls.from_state({**state, "stats": {}})
    with pytest.raises(DetectorError, match="malformed"):
        cls.from_state({k: v for k, v in state.items() if k != "n_seen"})


def _alternating(n: int, every: int, seed: int) -> list[float]:
    return [float(v) for v in bernoulli([(every, (0.05, 0.6)[i % 2]) for i in range(n // every)],
                                        seed)]


@pytest.mark.parametrize("method", ALL)
def test_memory_is_bounded(method: str) -> None:
    """100k updates: the state stays small, on a calm stream and on one that keeps changing."""
    calm = [float(v) for v in bernoulli([(100_000, 0.2)], seed=5)]
    busy = _alternating(100_000, 400, seed=6)
    for stream in (calm, busy):
        det = methods()[method]()
        sizes = {}
        for i, x in enumerate(stream, 1):
            det.update(x)
            if i in {10_000, 100_000}:
                sizes[i] = len(_json(det))
        assert sizes[100_000] <= 16_000
        assert sizes[100_000] <= 1.5 * sizes[10_000] + 1_000
        assert len(det.change_points) <= MAX_CHANGE_POINTS
    assert det.n_detections > MAX_CHANGE_POINTS  # the busy stream overflowed the list
    assert det.change_points[-1] < 100_000


def _edge_inputs(domain: str) -> list[Any]:
    values: list[Any] = [0, 1, True, False, 0.0, 1.0, np.int64(1), np.float64(0.0),
                         np.bool_(True), np.int8(0)]
    if domain != "binary":
        values += [0.25, np.float32(0.5), 1e-300]
    if domain == "real":
        values += [-3.5, 1e6, 7, np.float32(-2.5), 10**20]
    return values


@pytest.mark.parametrize("method", ALL)
def test_update_takes_every_kind_of_number_in_its_domain(method: str) -> None:
    cls = methods()[method]
    values = _edge_inputs(cls.domain) * 60
    det, plain = cls(), cls()
    for v in values:
        det.update(v)
        plain.update(float(v))
    assert _json(det) == _json(plain)
    assert det.n_seen == len(values)


@pytest.mark.parametrize("method", ALL)
def test_update_rejects_bad_input_and_stays_as_it_was(method: str) -> None:
    cls = methods()[method]
    det = cls()
    for x in _stream(method)[:300]:
        det.update(x)
    before = _json(det)
    bad: list[Any] = [None, math.nan, math.inf, -math.inf, np.nan, "1", b"1", [1], 1j,
                      10**400]
    if cls.domain == "binary":
        bad += [0.5, 2, -1, np.float64(0.3)]
    if cls.domain == "unit":
        bad += [1.5, -0.1, 2]
    for x in bad:
        with pytest.raises(DetectorError):
            det.update(x)
    assert _json(det) == before


@pytest.mark.parametrize("method", ALL)
def test_drift_is_flagged_only_on_the_update_that_fires(method: str) -> None:
    det = methods()[method]()
    stream = _stream(method)
    seen = flags(det, stream)
    fired = [i for i, (drift, _) in enumerate(seen) if drift]
    assert fired == det.change_points
    assert det.n_detections == len(fired)
    assert any(1000 <= i < 1600 for i in fired), "the change at 1000 is found"
    for i in fired:  # the update after a detection starts afresh: it cannot fire again
        assert i + 1 not in fired
    if not methods()[method].has_warning:
        assert not hasattr(det, "warning_detected")


@pytest.mark.parametrize("method", ALL)
def test_invalid_parameters_are_refused(method: str) -> None:
    cls = methods()[method]
    params = inspect.signature(cls).parameters
    for name, param in params.items():
        if isinstance(param.default, bool) or name == "mode":
            continue
        bad = -1 if isinstance(param.default, int) else -0.5
        with pytest.raises(DetectorError):
            cls(**{name: bad})
