"""Decoding and validation of prediction and feedback events (CONTRACT section 1).

A message either becomes a :class:`Prediction` or :class:`Feedback`, or raises
:class:`InvalidEvent` whose ``reason`` is a short, stable code (the dead-letter reason).

>>> limits = EventLimits(now_ms=1_795_255_300_000)
>>> raw = b'{"model_id": "m", "prediction_id": "p1", "timestamp": "2026-11-21T10:00:00Z",'
>>> raw += b' "features": {"age": 31}, "prediction": 1, "score": 0.8}'
>>> p = decode_prediction(raw, limits)
>>> (p.event_id, p.ts_ms, p.score)
('p1', 1795255200000, 0.8)
>>> try:
...     decode_prediction(b'{"model_id": "m"}', limits)
... except InvalidEvent as exc:
...     print(exc.reason, exc.detail)
missing_field prediction_id
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.timeutil import TimestampError, now_ms, parse_timestamp

MAX_ID_LENGTH = 256
_loads = orjson.loads
_SCALAR = (str, int, float, bool)


class InvalidEvent(ValueError):
    """An event that cannot be processed; it goes to the dead-letter store with ``reason``."""

    def __init__(self, reason: str, detail: str = "", model_id: str | None = None,
                 ts_ms: int | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.model_id = model_id
        self.ts_ms = ts_ms
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class EventLimits:
    """Bounds that make an event poison. ``now_ms`` of ``None`` means the wall clock."""

    max_bytes: int = 262_144
    max_clock_skew_ms: int = 3_600_000
    max_age_ms: int = 90 * 86_400_000
    now_ms: int | None = None

    def check_time(self, ts_ms: int, model_id: str) -> None:
        now = now_ms() if self.now_ms is None else self.now_ms
        if ts_ms > now + self.max_clock_skew_ms:
            raise InvalidEvent("timestamp_in_future", f"{ts_ms} ms is ahead of the clock",
                               model_id)
        if self.max_age_ms and ts_ms < now - self.max_age_ms:
            raise InvalidEvent("timestamp_too_old", f"{ts_ms} ms is older than the limit",
                               model_id)


@dataclass(slots=True)
class Prediction:
    model_id: str
    prediction_id: str
    event_id: str
    ts_ms: int
    features: dict[str, Any]
    prediction: Any
    score: float | dict[str, float] | None
    tags: dict[str, Any]
    model_version: str | None


@dataclass(slots=True)
class Feedback:
    model_id: str
    prediction_id: str
    event_id: str
    ts_ms: int
    label: Any
    has_label: bool
    events: dict[str, float]


def _load(raw: bytes, limits: EventLimits) -> dict[str, Any]:
    if len(raw) > limits.max_bytes:
        raise InvalidEvent("oversize", f"{len(raw)} bytes > {limits.max_bytes}")
    try:
        data = _loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(_json_reason(raw), str(exc)[:200]) from None
    if not isinstance(data, dict):
        raise InvalidEvent("not_an_object", type(data).__name__)
    return data


def _json_reason(raw: bytes) -> str:
    """orjson rejects NaN/Infinity literals; tell them apart from plain broken JSON."""
    def _refuse(_: str) -> None:
        raise ValueError
    try:
        json.loads(raw, parse_constant=_refuse)
    except ValueError:
        try:
            json.loads(raw)
        except ValueError:
            return "bad_json"
        return "not_finite"
    return "bad_json"


def _id(data: dict[str, Any], key: str, model_id: str | None = None) -> str:
    value = data.get(key)
    if value is None:
        raise InvalidEvent("missing_field", key, model_id)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise InvalidEvent("wrong_type", f"{key} must be a non-empty string", model_id)
    return value


def _timestamp(data: dict[str, Any], model_id: str, limits: EventLimits) -> int:
    if "timestamp" not in data:
        raise InvalidEvent("missing_field", "timestamp", model_id)
    try:
        ts = parse_timestamp(data["timestamp"])
    except TimestampError as exc:
        raise InvalidEvent("bad_timestamp", str(exc), model_id) from None
    now = limits.now_ms
    if (now is None or ts > now + limits.max_clock_skew_ms
            or (limits.max_age_ms and ts < now - limits.max_age_ms)):
        limits.check_time(ts, model_id)  # raises, or reads the wall clock when now is None
    return ts


def _finite(value: object, what: str, model_id: str) -> float:
    kind = type(value)
    if kind is float:
        if value - value == 0:  # type: ignore[operator]  # false for NaN and infinities
            return value  # type: ignore[return-value]
        raise InvalidEvent("not_finite", what, model_id)
    if kind is int:
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent("wrong_type", f"{what} must be a number", model_id)
    if not math.isfinite(value):
        raise InvalidEvent("not_finite", what, model_id)
    return float(value)


def _score(value: object, model_id: str) -> float | dict[str, float] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v, f"score.{k}", model_id) for k, v in value.items()}
    return _finite(value, "score", model_id)


def _prediction_ids(data: dict[str, Any]) -> tuple[str, str, str]:
    """``model_id``, ``prediction_id`` and ``event_id``; plain strings skip the helpers."""
    get = data.get
    model_id = get("model_id")
    if type(model_id) is not str or not model_id or len(model_id) > MAX_ID_LENGTH:
        model_id = _id(data, "model_id")
    prediction_id = get("prediction_id")
    if (type(prediction_id) is not str or not prediction_id
            or len(prediction_id) > MAX_ID_LENGTH):
        prediction_id = _id(data, "prediction_id", model_id)
    event_id = get("event_id")
    if event_id is None:
        event_id = prediction_id
    elif not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH:
        raise InvalidEvent("wrong_type", "event_id must be a non-empty string", model_id)
    return model_id, prediction_id, event_id


def decode_prediction(raw: bytes, limits: EventLimits) -> Prediction:
    # The hot path of the worker and backtest: the common case (exact types, valid values) is
    # checked inline; anything else goes to the helpers, which raise the reason. Checks run in
    # the same order either way, so the first problem of an event is the one reported.
    data = _load(raw, limits)
    model_id, prediction_id, event_id = _prediction_ids(data)
    ts = _timestamp(data, model_id, limits)
    get = data.get
    features = get("features")
    if not isinstance(features, dict):
        reason = "missing_field" if features is None else "wrong_type"
        raise InvalidEvent(reason, "features must be an object", model_id, ts)
    prediction = get("prediction")
    if prediction is None:
        raise InvalidEvent("missing_field", "prediction", model_id, ts)
    kind = type(prediction)
    if kind is not int and kind is not str:
        if not isinstance(prediction, _SCALAR):
            raise InvalidEvent("wrong_type", "prediction must be a label or a number",
                               model_id, ts)
        if isinstance(prediction, float) and not math.isfinite(prediction):
            raise InvalidEvent("not_finite", "prediction", model_id, ts)
    tags = get("tags") or {}
    if not isinstance(tags, dict):
        raise InvalidEvent("wrong_type", "tags must be an object", model_id, ts)
    version = get("model_version")
    if version is not None and not isinstance(version, str):
        raise InvalidEvent("wrong_type", "model_version must be a string", model_id, ts)
    score = get("score")
    if type(score) is not float or score - score != 0:  # finite floats pass as they are
        score = _score(score, model_id)
    return Prediction(model_id, prediction_id, event_id, ts, features, prediction, score, tags,
                      version)


def decode_feedback(raw: bytes, limits: EventLimits) -> Feedback:
    data = _load(raw, limits)
    model_id = _id(data, "model_id")
    prediction_id = _id(data, "prediction_id", model_id)
    ts = _timestamp(data, model_id, limits)
    event_id = data.get("event_id")
    if event_id is None:
        event_id = f"{prediction_id}@{ts}"
    elif not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH:
        raise InvalidEvent("wrong_type", "event_id must be a non-empty string", model_id, ts)
    label = data.get("label")
    if label is not None and not isinstance(label, _SCALAR):
        raise InvalidEvent("wrong_type", "label must be a class label or a number", model_id, ts)
    if isinstance(label, float) and not math.isfinite(label):
        raise InvalidEvent("not_finite", "label", model_id, ts)
    raw_events = data.get("events") or {}
    if not isinstance(raw_events, dict):
        raise InvalidEvent("wrong_type", "events must be an object", model_id, ts)
    events = {str(k): _finite(v, f"events.{k}", model_id) for k, v in raw_events.items()}
    if label is None and not events:
        raise InvalidEvent("missing_field", "label or events", model_id, ts)
    return Feedback(model_id, prediction_id, event_id, ts, label, label is not None, events)
