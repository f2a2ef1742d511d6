"""Small builders for tests: a model configuration, references and event bytes."""

from __future__ import annotations

import random
from typing import Any

import orjson

from monitor.config import ModelConfig, parse_config
from monitor.processing import FEEDBACK, PREDICTIONS, Message
from monitor.reference import ReferenceProfile, build_profile, columns_from_events
from monitor.timeutil import format_ms

HOUR = 3_600_000


def config(window: str = "1h", ooo: str = "5m", lateness: str = "1h",
           model_id: str = "m") -> ModelConfig:
    return parse_config({
        "model_id": model_id, "task": "binary_classification", "window": window,
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}],
        "lateness": {"out_of_orderness": ooo, "allowed_lateness": lateness},
        "drift": {"min_samples": 10},
    })


def event(i: int, ts_ms: int, x: float = 0.0, c: str = "a", model_id: str = "m",
          event_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"model_id": model_id, "prediction_id": f"p{i}",
                           "timestamp": format_ms(ts_ms), "features": {"x": x, "c": c},
                           "prediction": int(x > 0), "score": 0.5}
    if event_id is not None:
        out["event_id"] = event_id
    return out


def reference(cfg: ModelConfig, n: int = 2000, seed: int = 7) -> ReferenceProfile:
    rng = random.Random(seed)
    rows = [event(-i, 0, rng.gauss(0, 1), rng.choice("abc")) for i in range(n)]
    for r in rows:
        r["score"] = rng.random()
    return build_profile(cfg, columns_from_events(cfg, rows), version=1)


def message(ev: dict[str, Any] | bytes, offset: int, partition: int = 0,
            stream: str = PREDICTIONS) -> Message:
    raw = ev if isinstance(ev, bytes) else orjson.dumps(ev)
    topic = "driftline.predictions" if stream == PREDICTIONS else "driftline.feedback"
    return Message(stream, topic, partition, offset, raw)


def feedback(pid: str, ts_ms: int, label: Any = 1, click: float = 1.0,
             model_id: str = "m") -> dict[str, Any]:
    return {"model_id": model_id, "prediction_id": pid, "timestamp": format_ms(ts_ms),
            "label": label, "events": {"click": click}}


__all__ = ["FEEDBACK", "HOUR", "PREDICTIONS", "config", "event", "feedback", "message",
           "reference"]
