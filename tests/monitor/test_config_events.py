from __future__ import annotations

import pytest

from monitor.config import ConfigError, parse_config
from monitor.events import EventLimits, InvalidEvent, decode_feedback, decode_prediction
from monitor.settings import Settings, SettingsError

BASE = {"model_id": "m", "task": "regression", "window": "15m",
        "features": [{"name": "a", "type": "numeric"}]}


@pytest.mark.parametrize(("change", "field"), [
    ({"window": "fortnight"}, "window"),
    ({"features": [{"name": "a", "type": "text"}]}, "features.0.type"),
    ({"features": [{"name": "a", "type": "numeric"}] * 2}, "features"),
    ({"model_id": "bad id!"}, "model_id"),
    ({"drift": {"warning": 0.5, "alert": 0.2}}, "drift"),
    ({"kpis": [{"name": "ctr"}]}, "kpis.0.numerator"),
    ({"kpis": [{"name": "ctr", "numerator": "click"}, {"name": "ctr", "numerator": "buy"}]},
     "kpis.1.name"),
    ({"kpis": [{"name": "ctr", "numerator": "predictions"}]}, "kpis.0.numerator"),
    ({"kpis": [{"name": "ctr", "numerator": "click", "denominator": "click"}]},
     "kpis.0.denominator"),
    ({"kpis": [{"name": "Bad Name", "numerator": "click"}]}, "kpis.0.name"),
    ({"slices": ["country", "country"]}, "slices"),
    ({"slices": ["emb"], "features": [{"name": "emb", "type": "embedding"}]}, "slices.0"),
    ({"slicing": {"min_support": 0}}, "slicing.min_support"),
    ({"slicing": {"sequential_alpha": 1.5}}, "slicing.sequential_alpha"),
    ({"lateness": {"allowed_lateness": "soon"}}, "lateness.allowed_lateness"),
    ({"unknown_setting": 1}, "unknown_setting"),
])
def test_bad_config_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({**BASE, **change})
    assert field in [loc for loc, _ in info.value.errors]


def test_settings_from_environment() -> None:
    s = Settings.from_env({"DRIFTLINE_DATABASE_URL": "postgresql://x/y",
                           "DRIFTLINE_MAX_EVENT_BYTES": "1000"})
    assert (s.database_url, s.max_event_bytes) == ("postgresql://x/y", 1000)
    assert Settings.from_env({}).database_url == "sqlite:///./.driftline/driftline.db"
    with pytest.raises(SettingsError, match="DRIFTLINE_API_PORT"):
        Settings.from_env({"DRIFTLINE_API_PORT": "eighty"})


LIMITS = EventLimits(now_ms=1_795_300_000_000)


def test_epoch_millis_and_zone_offsets_agree() -> None:
    a = decode_prediction(b'{"model_id":"m","prediction_id":"p","timestamp":"2026-11-21T19:00:00'
                          b'+09:00","features":{},"prediction":0}', LIMITS)
    b = decode_prediction(b'{"model_id":"m","prediction_id":"p","timestamp":1795255200000,'
                          b'"features":{},"prediction":0}', LIMITS)
    assert a.ts_ms == b.ts_ms == 1_795_255_200_000


def test_feedback_defaults_and_errors() -> None:
    fb = decode_feedback(b'{"model_id":"m","prediction_id":"p","timestamp":1795255200000,'
                         b'"events":{"click":1}}', LIMITS)
    assert (fb.event_id, fb.has_label, fb.events) == ("p@1795255200000", False, {"click": 1.0})
    with pytest.raises(InvalidEvent) as info:
        decode_feedback(b'{"model_id":"m","prediction_id":"p","timestamp":1795255200000}',
                        LIMITS)
    assert info.value.reason == "missing_field"
    with pytest.raises(InvalidEvent) as info:
        decode_prediction(b'{"model_id":"m","prediction_id":"p","timestamp":"2026-11-21T10:00:00",'
                          b'"features":{},"prediction":0}', LIMITS)
    assert info.value.reason == "bad_timestamp"


def test_null_prediction_is_a_missing_field() -> None:
    with pytest.raises(InvalidEvent) as info:
        decode_prediction(b'{"model_id":"m","prediction_id":"p","timestamp":1795255200000,'
                          b'"features":{},"prediction":null}', LIMITS)
    assert (info.value.reason, info.value.detail) == ("missing_field", "prediction")
