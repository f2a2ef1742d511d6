"""Notification channels (SSRF checks, secrets shown once, rotation with overlap) and the
deliveries list over HTTP."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from monitor.alert_store import OutboxEntry
from monitor.api.app import create_app
from monitor.db import alerting_sql
from monitor.db.schema import AUDIT, CHANNELS, OUTBOX
from monitor.delivery import signing
from monitor.settings import Settings
from monitor.timeutil import now_ms, parse_timestamp
from tests.monitor.api.alerting_helpers import T0, actor, audit, count
from tests.monitor.api.conftest import bearer

HOOK = "https://hooks.example.com/driftline"


@pytest.fixture
def admin(keys: dict[str, str]) -> dict[str, str]:
    return bearer(keys["admin"])


def _webhook(channel_id: str = "ops", **changes: Any) -> dict[str, Any]:
    return {"channel_id": channel_id, "type": "webhook", "url": HOOK, **changes}


def _stored_secrets(engine: Engine, channel_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        raw = conn.execute(select(CHANNELS.c.secrets).where(
            CHANNELS.c.channel_id == channel_id)).scalar_one()
    return list(orjson.loads(raw))


def test_webhook_secret_is_shown_once(client: TestClient, admin: dict[str, str],
                                      reader: dict[str, str], keys: dict[str, str],
                                      engine: Engine) -> None:
    created = client.post("/api/v1/channels", headers=admin, json=_webhook(
        model_ids=["m", "b", "m"], min_severity="warning"))
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body.pop("secret")
    assert secret.startswith("whsec_")
    assert len(signing.decode_secret(secret)) == 32
    assert body.pop("created_at") == body.pop("updated_at")
    assert body == {"channel_id": "ops", "type": "webhook", "url": HOOK,
                    "model_ids": ["b", "m"], "min_severity": "warning", "enabled": True,
                    "secret_count": 1, "has_routing_key": False}
    assert _stored_secrets(engine, "ops") == [{"secret": secret, "expires_at_ms": None}]

    listed = client.get("/api/v1/channels", headers=reader)
    assert listed.status_code == 200
    assert secret not in listed.text
    assert "whsec_" not in listed.text
    (item,) = listed.json()["items"]
    assert item["secret_count"] == 1
    assert "secret" not in item
    assert listed.json()["count"] == 1

    (entry,) = audit(engine, "channel_created")
    assert entry == {"actor": actor(keys["admin"]), "action": "channel_created",
                     "model_id": None, "subject": "ops",
                     "detail": {"type": "webhook", "url": HOOK, "model_ids": ["b", "m"],
                                "min_severity": "warning", "enabled": True}}
    again = client.post("/api/v1/channels", headers=admin, json=_webhook(url=HOOK + "/2"))
    assert again.status_code == 409
    assert again.json() == {"detail": "channel 'ops' already exists"}
    assert _stored_secrets(engine, "ops") == [{"secret": secret, "expires_at_ms": None}]


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1/x", "host 127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/", "host 169.254.169.254 is a cloud metadata address"),
    ("http://user:pw@example.com/", "credentials in the URL are not allowed"),
    ("file:///etc/passwd", "scheme 'file' is not allowed (http or https only)"),
    ("http://[::1]/", "host [::1] is a loopback address"),
    ("http://0x7f000001/", "host 0x7f000001 is 127.0.0.1, a loopback address"),
    ("http://10.1.2.3/hook", "host 10.1.2.3 is a private address"),
    ("http://localhost:8080/", "host localhost is a local name"),
])
def test_internal_urls_are_refused_at_registration(
        client: TestClient, admin: dict[str, str], engine: Engine, url: str,
        reason: str) -> None:
    response = client.post("/api/v1/channels", json=_webhook(url=url), headers=admin)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "url"]
    assert error["msg"].startswith(f"URL refused: {reason}")
    assert count(engine, CHANNELS) == 0
    assert audit(engine) == []


def test_the_allowlist_admits_private_hosts(api_settings: Settings, engine: Engine,
                                            keys: dict[str, str]) -> None:
    settings = api_settings.replace(url_allowlist="127.0.0.0/8, 10.1.0.0/16")
    with TestClient(create_app(settings)) as client:
        for i, url in enumerate(("http://127.0.0.1/x", "http://10.1.2.3/hook")):
            response = client.post("/api/v1/channels", json=_webhook(f"c{i}", url=url),
                                   headers=bearer(keys["admin"]))
            assert response.status_code == 201, response.text
        # The allow-list never admits credentials or another scheme.
        for url in ("http://user:pw@127.0.0.1/", "file:///etc/passwd"):
            response = client.post("/api/v1/channels", json=_webhook("c9", url=url),
                                   headers=bearer(keys["admin"]))
            assert response.status_code == 422
    assert count(engine, CHANNELS) == 2


def test_slack_and_pagerduty_channels(client: TestClient, admin: dict[str, str],
                                      reader: dict[str, str], engine: Engine) -> None:
    slack_url = "https://hooks.slack.com/services/T000/B000/token123"
    slack = client.post("/api/v1/channels", headers=admin, json={
        "channel_id": "team-slack", "type": "slack", "url": slack_url})
    assert slack.status_code == 201, slack.text
    assert slack.json()["secret"] is None
    assert slack.json()["url"] == "https://hooks.slack.com/***"
    assert slack.json()["secret_count"] == 0
    pager = client.post("/api/v1/channels", headers=admin, json={
        "channel_id": "pager", "type": "pagerduty", "routing_key": "R0UT1NGKEY",
        "min_severity": "critical"})
    assert pager.status_code == 201, pager.text
    assert pager.json()["url"] == "https://events.pagerduty.com/v2/enqueue"
    assert pager.json()["has_routing_key"] is True
    listed = client.get("/api/v1/channels", headers=reader)
    assert [c["channel_id"] for c in listed.json()["items"]] == ["pager", "team-slack"]
    assert "R0UT1NGKEY" not in listed.text
    assert "token123" not in listed.text
    with engine.connect() as conn:
        stored = dict(conn.execute(select(CHANNELS.c.channel_id, CHANNELS.c.url)).all())
        routing = conn.execute(select(CHANNELS.c.routing_key).where(
            CHANNELS.c.channel_id == "pager")).scalar_one()
    assert stored == {"pager": "https://events.pagerduty.com/v2/enqueue",
                      "team-slack": slack_url}
    assert routing == "R0UT1NGKEY"
    assert "token123" not in str(audit(engine))

    for body, loc in (
            ({"channel_id": "p2", "type": "pagerduty"}, ["body", "routing_key"]),
            ({**_webhook("w2"), "routing_key": "x"}, ["body", "routing_key"]),
            ({"channel_id": "s2", "type": "slack"}, ["body", "url"]),
            ({**_webhook("Bad")}, ["body", "channel_id"]),
            ({**_webhook("w3"), "type": "email"}, ["body", "type"]),
            ({**_webhook("w4"), "min_severity": "page"}, ["body", "min_severity"]),
            ({**_webhook("w5"), "model_ids": ["-x"]}, ["body", "model_ids", 0]),
            ({**_webhook("w6"), "secret": "whsec_x"}, ["body", "secret"])):
        response = client.post("/api/v1/channels", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [loc], body
    assert count(engine, CHANNELS) == 2


def test_rotation_keeps_the_previous_secret_until_the_overlap_ends(
        client: TestClient, admin: dict[str, str], reader: dict[str, str], keys: dict[str, str],
        api_settings: Settings, engine: Engine) -> None:
    first = client.post("/api/v1/channels", json=_webhook(), headers=admin).json()["secret"]
    before = now_ms()
    rotated = client.post("/api/v1/channels/ops/rotate-secret", headers=admin)
    after = now_ms()
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    second = body["secret"]
    assert second.startswith("whsec_")
    assert second != first
    assert body["secret_count"] == 2
    overlap = api_settings.secret_overlap_s * 1000
    expiry = parse_timestamp(body["previous_expire_at"])
    assert before + overlap - 1000 <= expiry <= after + overlap

    stored = _stored_secrets(engine, "ops")
    assert [s["secret"] for s in stored] == [second, first]
    assert stored[0]["expires_at_ms"] is None
    assert before + overlap <= stored[1]["expires_at_ms"] <= after + overlap
    assert client.get("/api/v1/channels", headers=reader).json()["items"][0][
        "secret_count"] == 2
    assert second not in client.get("/api/v1/channels", headers=reader).text

    # A third secret: the second one gets the overlap, the first keeps its earlier expiry.
    third = client.post("/api/v1/channels/ops/rotate-secret", headers=admin).json()["secret"]
    stored = _stored_secrets(engine, "ops")
    assert [s["secret"] for s in stored] == [third, second, first]
    assert stored[2]["expires_at_ms"] <= stored[1]["expires_at_ms"]

    # Once expired, old secrets are dropped at the next rotation and no longer counted.
    expired = [{"secret": s["secret"], "expires_at_ms": s["expires_at_ms"]
                if s["expires_at_ms"] is None else T0} for s in stored]
    with engine.begin() as conn:
        conn.execute(update(CHANNELS).where(CHANNELS.c.channel_id == "ops").values(
            secrets=orjson.dumps(expired).decode()))
    assert client.get("/api/v1/channels", headers=reader).json()["items"][0][
        "secret_count"] == 1
    fourth = client.post("/api/v1/channels/ops/rotate-secret", headers=admin).json()
    assert fourth["secret_count"] == 2
    assert [s["secret"] for s in _stored_secrets(engine, "ops")] == [fourth["secret"], third]

    rotations = audit(engine, "channel_secret_rotated")
    assert [(a["actor"], a["subject"], a["detail"]["previous_live"]) for a in rotations] == [
        (actor(keys["admin"]), "ops", 1), (actor(keys["admin"]), "ops", 2),
        (actor(keys["admin"]), "ops", 1)]
    with engine.connect() as conn:
        trail = " ".join(str(r) for r in conn.execute(select(AUDIT)))
    for secret in (first, second, third, fourth["secret"]):
        assert secret not in trail


def test_rotate_and_delete_errors(client: TestClient, admin: dict[str, str],
                                  engine: Engine) -> None:
    assert client.post("/api/v1/channels", headers=admin, json={
        "channel_id": "team-slack", "type": "slack",
        "url": "https://hooks.slack.com/services/x"}).status_code == 201
    slack = client.post("/api/v1/channels/team-slack/rotate-secret", headers=admin)
    assert slack.status_code == 409
    assert client.post("/api/v1/channels/nope/rotate-secret", headers=admin).status_code == 404
    assert client.delete("/api/v1/channels/team-slack", headers=admin).status_code == 204
    missing = client.delete("/api/v1/channels/team-slack", headers=admin)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "channel 'team-slack' not found"}
    assert count(engine, CHANNELS) == 0
    assert [a["action"] for a in audit(engine)] == ["channel_created", "channel_deleted"]


def test_deliveries_without_payloads(client: TestClient, reader: dict[str, str],
                                     engine: Engine) -> None:
    with engine.begin() as conn:
        alerting_sql.add_outbox(conn, [
            OutboxEntry("msg_1", "notification", {"secret-ish": "payload"}, channel_id="ops",
                        model_id="m"),
            OutboxEntry("trg_1", "trigger", {"trigger_id": "trg_1"}, trigger_id="trg_1",
                        model_id="m"),
            OutboxEntry("msg_2", "notification", {}, channel_id="pager", model_id="other")],
            at_ms=T0)
        conn.execute(update(OUTBOX).where(OUTBOX.c.message_id == "msg_1").values(
            status="sent", attempts=2, last_status_code=200, sent_at_ms=T0 + 5000))
        conn.execute(update(OUTBOX).where(OUTBOX.c.message_id == "msg_2").values(
            status="failed", attempts=1, last_status_code=410, last_error="permanent: HTTP 410"))
    page = client.get("/api/v1/deliveries", headers=reader)
    assert page.status_code == 200
    assert "payload" not in page.text
    items = page.json()["items"]
    assert [d["message_id"] for d in items] == ["msg_2", "trg_1", "msg_1"]
    assert items[2] == {"message_id": "msg_1", "kind": "notification", "channel_id": "ops",
                        "trigger_id": None, "model_id": "m", "status": "sent", "attempts": 2,
                        "last_status_code": 200, "last_error": None,
                        "next_attempt_at": "2026-01-01T00:00:00Z",
                        "created_at": "2026-01-01T00:00:00Z",
                        "sent_at": "2026-01-01T00:00:05Z"}
    assert items[0]["last_error"] == "permanent: HTTP 410"

    def ids(**params: Any) -> list[str]:
        response = client.get("/api/v1/deliveries", params=params, headers=reader)
        assert response.status_code == 200, response.text
        return [d["message_id"] for d in response.json()["items"]]

    assert ids(status="pending") == ["trg_1"]
    assert ids(channel_id="ops") == ["msg_1"]
    assert ids(model_id="m") == ["trg_1", "msg_1"]
    assert ids(model_id="m", status="sent") == ["msg_1"]
    first = client.get("/api/v1/deliveries", params={"limit": 2}, headers=reader).json()
    rest = client.get("/api/v1/deliveries", params={"limit": 2, "cursor": first["next_cursor"]},
                      headers=reader).json()
    assert [d["message_id"] for d in first["items"] + rest["items"]] == [
        "msg_2", "trg_1", "msg_1"]
    assert rest["next_cursor"] is None
    bad = client.get("/api/v1/deliveries", params={"status": "lost"}, headers=reader)
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["query", "status"]]
