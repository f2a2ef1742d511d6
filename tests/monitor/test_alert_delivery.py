"""Alerts to on-call through the outbox, against real local HTTP receivers and a real database:
receiver down then up, Retry-After, permanent 4xx, redirects, signatures, flapping, silences,
inhibition, a crash between the receiver's 2xx and the outbox mark."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, insert, select

from monitor.alert_eval import alerting_step
from monitor.config import ModelConfig, parse_config
from monitor.db import repository
from monitor.db.schema import ALERTS, CHANNELS, OUTBOX, SILENCES
from monitor.db.sql_store import SqlStore
from monitor.delivery.signing import new_secret
from monitor.metric_record import MetricRecord
from monitor.relay import relay_once, tick
from monitor.settings import Settings
from tests.monitor.triggers.receiver import Answer, Receiver

HOUR = 3_600_000
T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR
NOW = 1_795_100_000_000
SETTINGS = Settings(url_allowlist="127.0.0.1/32")


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    fixture = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as c:
        yield c


def _config(model_id: str = "m", **alerting: Any) -> ModelConfig:
    return parse_config({"model_id": model_id, "task": "binary_classification", "window": "1h",
                         "features": [{"name": "x", "type": "numeric"}], "alerting": alerting})


def _register(engine: Engine, config: ModelConfig) -> None:
    with engine.begin() as conn:
        repository.upsert_model(conn, config)


def _channel(engine: Engine, url: str, channel_id: str = "oncall", kind: str = "webhook",
             secrets: list[str] | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(CHANNELS).values(
            channel_id=channel_id, type=kind, url=url,
            secrets=orjson.dumps([{"secret": s, "expires_at_ms": None}
                                  for s in secrets or []]).decode(),
            routing_key="R" if kind == "pagerduty" else None, model_ids="[]",
            min_severity="info", enabled=True, created_at_ms=0, updated_at_ms=0))


def _drift(config: ModelConfig, w: int, status: str, value: float = 0.6,
           family: str = "data_drift", metric: str = "drift_share") -> MetricRecord:
    start = T0 + w * HOUR
    return MetricRecord(config.model_id, start, start + HOUR, family, metric, None, None, value,
                        0.5, None, None, None, 1000, status)


def _window(engine: Engine, config: ModelConfig, *records: MetricRecord) -> None:
    with engine.begin() as conn:
        alerting_step(SqlStore(conn, "driftline", "driftline.predictions"), config,
                      list(records))


def _alerts(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(ALERTS).order_by(ALERTS.c.starts_at_ms)))


def _outbox(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(OUTBOX).order_by(OUTBOX.c.id)))


def _ref_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks, written from the specification, independently of monitor.delivery."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run_until_quiet(engine: Engine, client: httpx.Client, start: int, step: int,
                     rounds: int) -> int:
    rng = random.Random(0)
    now = start
    for _ in range(rounds):
        tick(engine, SETTINGS, client, now=now, rng=rng)
        now += step
    return now


def test_receiver_down_then_up_gets_one_firing_and_one_resolved(engine: Engine,
                                                                 client: httpx.Client) -> None:
    config = _config()
    _register(engine, config)
    port = _free_port()
    secret = new_secret()
    _channel(engine, f"http://127.0.0.1:{port}/hook", secrets=[secret])
    _window(engine, config, _drift(config, 0, "alert"))
    _window(engine, config, _drift(config, 1, "alert"))  # for 2 windows: firing
    (alert,) = _alerts(engine)
    assert (alert.state, alert.rule, alert.starts_at_ms) == ("firing", "data_drift_sustained",
                                                             T0 + HOUR)
    # nothing listens: three attempts fail with connection errors
    now = _run_until_quiet(engine, client, NOW, 30_000, 1)  # group wait starts
    rng = random.Random(1)
    tick(engine, SETTINGS, client, now=now, rng=rng)  # the notification is queued and tried
    for i in range(2):
        relay_once(engine, SETTINGS, client, now=now + (i + 1) * 7_200_000, rng=rng)
    (row,) = _outbox(engine)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 3, None)
    # the receiver comes up on that port
    receiver = Receiver(lambda r: Answer(200), port=port)
    try:
        relay_once(engine, SETTINGS, client, now=now + 3 * 7_200_000, rng=rng)
        (row,) = _outbox(engine)
        assert (row.status, row.attempts, row.last_status_code) == ("sent", 4, 200)
        _window(engine, config, _drift(config, 2, "ok", 0.1))
        (alert,) = _alerts(engine)
        assert (alert.state, alert.ends_at_ms) == ("resolved", T0 + 2 * HOUR)
        later = now + 3 * 7_200_000 + 300_000
        _run_until_quiet(engine, client, later, 300_000, 3)
        got = receiver.requests
        assert [orjson.loads(r.body)["status"] for r in got] == ["firing", "resolved"]
        ids = [r.headers["webhook-id"] for r in got]
        assert ids[0] == row.message_id
        assert len(set(ids)) == 2
        assert all(_ref_verify(secret, r.headers, r.body) for r in got)
        body = orjson.loads(got[0].body)
        assert body["version"] == "4"
        assert body["alerts"][0]["labels"]["alertname"] == "data_drift_sustained"
        assert body["alerts"][0]["fingerprint"] == alert.fingerprint
        assert [r.status for r in _outbox(engine)] == ["sent", "sent"]
    finally:
        receiver.close()


def _fire(engine: Engine, config: ModelConfig) -> None:
    _window(engine, config, _drift(config, 0, "alert"))
    _window(engine, config, _drift(config, 1, "alert"))


def test_retry_after_is_honoured(engine: Engine, client: httpx.Client) -> None:
    config = _config()
    _register(engine, config)
    answers = iter([Answer(429, headers={"Retry-After": "600"}), Answer(204)])
    receiver = Receiver(lambda r: next(answers))
    try:
        _channel(engine, f"{receiver.url}/slack", kind="slack")
        _fire(engine, config)
        rng = random.Random(0)
        tick(engine, SETTINGS, client, now=NOW, rng=rng)
        tick(engine, SETTINGS, client, now=NOW + 30_000, rng=rng)
        (row,) = _outbox(engine)
        assert (row.status, row.last_status_code) == ("pending", 429)
        assert row.next_attempt_at_ms >= NOW + 30_000 + 600_000
        relay_once(engine, SETTINGS, client, now=NOW + 30_000 + 599_000, rng=rng)
        assert len(receiver.requests) == 1  # not before Retry-After
        relay_once(engine, SETTINGS, client, now=row.next_attempt_at_ms, rng=rng)
        assert [r.status for r in _outbox(engine)] == ["sent"]
        assert len(receiver.requests) == 2
        assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers[
            "webhook-id"]
        assert orjson.loads(receiver.requests[0].body)["text"].startswith("[FIRING:1]")
    finally:
        receiver.close()


@pytest.mark.parametrize("status", [400, 404, 410])
def test_permanent_4xx_is_not_retried_and_raises_an_operator_alert(
        engine: Engine, client: httpx.Client, status: int) -> None:
    config = _config()
    _register(engine, config)
    receiver = Receiver(lambda r: Answer(status))
    try:
        _channel(engine, f"{receiver.url}/pd", kind="pagerduty")
        _fire(engine, config)
        _run_until_quiet(engine, client, NOW, 30_000, 2)
        _run_until_quiet(engine, client, NOW + HOUR, HOUR, 3)  # within the 4h repeat interval
        (row,) = _outbox(engine)
        assert (row.status, row.attempts, row.last_status_code) == ("failed", 1, status)
        assert len(receiver.requests) == 1
        event = orjson.loads(receiver.requests[0].body)
        assert event["event_action"] == "trigger"
        assert event["dedup_key"] == _alerts(engine)[0].fingerprint
        operator = [a for a in _alerts(engine) if a.rule == "delivery_failing"]
        assert [(a.model_id, a.state) for a in operator] == [("_driftline", "firing")]
    finally:
        receiver.close()


def test_a_redirect_is_not_followed(engine: Engine, client: httpx.Client) -> None:
    config = _config()
    _register(engine, config)
    target = Receiver(lambda r: Answer(200))
    redirect = Receiver(lambda r: Answer(307, headers={"Location": f"{target.url}/x"}))
    try:
        _channel(engine, f"{redirect.url}/hook")
        _fire(engine, config)
        _run_until_quiet(engine, client, NOW, 30_000, 2)
        (row,) = _outbox(engine)
        assert (row.status, row.last_status_code) == ("failed", 307)
        assert "redirects are not followed" in row.last_error
        assert (len(redirect.requests), len(target.requests)) == (1, 0)
    finally:
        redirect.close()
        target.close()


def test_an_internal_address_is_refused_at_send_time(engine: Engine,
                                                     client: httpx.Client) -> None:
    config = _config()
    _register(engine, config)
    receiver = Receiver(lambda r: Answer(200))
    try:
        _channel(engine, f"{receiver.url}/hook")
        _fire(engine, config)
        strict = Settings()  # no allow-list: 127.0.0.1 is loopback
        tick(engine, strict, client, now=NOW)
        tick(engine, strict, client, now=NOW + 30_000)
        (row,) = _outbox(engine)
        assert row.status == "failed"
        assert "loopback" in row.last_error
        assert receiver.requests == []
    finally:
        receiver.close()


def test_a_crash_after_the_2xx_resends_with_the_same_id(engine: Engine, client: httpx.Client,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config()
    _register(engine, config)
    receiver = Receiver(lambda r: Answer(200))
    try:
        _channel(engine, f"{receiver.url}/hook")
        _fire(engine, config)
        tick(engine, SETTINGS, client, now=NOW)
        from monitor import relay

        real = relay._finish

        def crash(*args: Any, **kwargs: Any) -> str:
            raise RuntimeError("killed between the receiver's 2xx and the outbox mark")

        monkeypatch.setattr(relay, "_finish", crash)
        with pytest.raises(RuntimeError, match="killed"):
            tick(engine, SETTINGS, client, now=NOW + 30_000)
        (row,) = _outbox(engine)
        assert (row.status, row.attempts) == ("pending", 0)  # the mark was rolled back
        monkeypatch.setattr(relay, "_finish", real)
        tick(engine, SETTINGS, client, now=NOW + 31_000)
        (row,) = _outbox(engine)
        assert row.status == "sent"
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert ids == [row.message_id, row.message_id]
        assert receiver.requests[0].body == receiver.requests[1].body
    finally:
        receiver.close()


def test_a_flapping_metric_pages_once(engine: Engine, client: httpx.Client) -> None:
    config = _config(include_defaults=False, rules=[{
        "name": "psi_high", "match": {"family": "data_drift", "metric": "psi"},
        "condition": {"value": {"op": ">", "threshold": 0.3}},
        "clear": {"value": {"op": "<", "threshold": 0.2}}}])
    _register(engine, config)
    receiver = Receiver(lambda r: Answer(200))
    try:
        _channel(engine, f"{receiver.url}/hook")
        values = [0.35, 0.25, 0.31, 0.22, 0.34, 0.21, 0.33, 0.28]  # between the thresholds
        now = NOW
        for w, v in enumerate(values):
            _window(engine, config, _drift(config, w, "ok", v, metric="psi"))
            now = _run_until_quiet(engine, client, now, 300_000, 2)
        assert [(a.state, a.rule) for a in _alerts(engine)] == [("firing", "psi_high")]
        assert [orjson.loads(r.body)["status"] for r in receiver.requests] == ["firing"]
    finally:
        receiver.close()


def test_a_silence_and_an_inhibition_mute_notifications(engine: Engine,
                                                        client: httpx.Client) -> None:
    silenced, stalled = _config("silenced"), _config("stalled")
    for c in (silenced, stalled):
        _register(engine, c)
    receiver = Receiver(lambda r: Answer(200))
    try:
        _channel(engine, f"{receiver.url}/hook")
        with engine.begin() as conn:
            conn.execute(insert(SILENCES).values(
                silence_id="s1", matchers=orjson.dumps([{"name": "model_id", "op": "=",
                                                         "value": "silenced"}]).decode(),
                starts_at_ms=NOW - 1, ends_at_ms=NOW + 3_600_000, created_by="test",
                comment="maintenance", created_at_ms=NOW))
        _fire(engine, silenced)
        _fire(engine, stalled)
        for w in (0, 1):
            _window(engine, stalled, _drift(stalled, w, "alert", 0.0, "ingestion", "stall"))
        states = {(a.model_id, a.rule): a.state for a in _alerts(engine)}
        assert states == {("silenced", "data_drift_sustained"): "firing",
                          ("stalled", "data_drift_sustained"): "firing",
                          ("stalled", "ingestion_stall"): "firing"}
        _run_until_quiet(engine, client, NOW, 30_000, 3)
        sent = [orjson.loads(r.body) for r in receiver.requests]
        # the silenced model sends nothing; the stalled one only its stall alert
        assert [(b["groupLabels"]["model_id"], [a["labels"]["alertname"] for a in b["alerts"]])
                for b in sent] == [("stalled", ["ingestion_stall"])]
        # once the silence expires the drift alert goes out
        _run_until_quiet(engine, client, NOW + 3_600_000, 300_000, 2)
        assert [orjson.loads(r.body)["groupLabels"]["model_id"]
                for r in receiver.requests[1:]] == ["silenced"]
    finally:
        receiver.close()
