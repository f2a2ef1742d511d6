"""Retraining triggers over HTTP: manual triggers (idempotent, policy, kill switch), listing,
acknowledgement and the approval flow (RELIABILITY promise 9)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from monitor.api.app import create_app
from monitor.db.schema import OUTBOX, TRIGGERS
from monitor.settings import Settings
from monitor.timeutil import now_ms, parse_timestamp
from monitor.triggers.dispatch import TriggerRequest
from monitor.triggers.policy import trigger_id
from tests.monitor.api.alerting_helpers import (
    HOUR,
    T0,
    actor,
    audit,
    count,
    seed_trigger,
    trigger,
)
from tests.monitor.api.conftest import bearer, model_body

PUSH = {"dispatch": {"type": "http", "url": "https://ci.example/hook"}}


@pytest.fixture
def trig(keys: dict[str, str]) -> dict[str, str]:
    return bearer(keys["trigger"])


@pytest.fixture
def admin(keys: dict[str, str]) -> dict[str, str]:
    return bearer(keys["admin"])


def _model(client: TestClient, admin: dict[str, str], model_id: str = "m",
           **retraining: Any) -> None:
    body = model_body(model_id, retraining=retraining) if retraining else model_body(model_id)
    assert client.post("/api/v1/models", json=body, headers=admin).status_code == 201


def _outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(OUTBOX).order_by(OUTBOX.c.id)).all()
    return [{"message_id": r.message_id, "kind": r.kind, "trigger_id": r.trigger_id,
             "model_id": r.model_id, "payload": orjson.loads(r.payload)} for r in rows]


def test_manual_trigger_is_idempotent_on_request_id(
        client: TestClient, admin: dict[str, str], trig: dict[str, str], keys: dict[str, str],
        engine: Engine) -> None:
    _model(client, admin, **PUSH)
    before = now_ms()
    request = {"reason": "new labels arrived", "evidence": {"ticket": "ML-42"},
               "request_id": "req-1"}
    created = client.post("/api/v1/models/m/triggers", json=request, headers=trig)
    assert created.status_code == 201, created.text
    body = created.json()
    tid = trigger_id("m", "manual:req-1", 0)
    created_at = parse_timestamp(body.pop("created_at"))
    assert before <= created_at <= now_ms()
    assert parse_timestamp(body.pop("event_time")) == created_at
    assert parse_timestamp(body.pop("updated_at")) >= created_at
    assert body == {"trigger_id": tid, "model_id": "m", "status": "pending",
                    "reason": "new labels arrived", "evidence": {"ticket": "ML-42"},
                    "manual": True, "requested_by": actor(keys["trigger"]),
                    "external_id": None, "model_version": None, "detail": ""}
    assert _outbox(engine) == [{
        "message_id": tid, "kind": "trigger", "trigger_id": tid, "model_id": "m",
        "payload": TriggerRequest(tid, "m", "new labels arrived", {"ticket": "ML-42"},
                                  created_at).payload()}]
    assert audit(engine, "trigger_created") == [{
        "actor": actor(keys["trigger"]), "action": "trigger_created", "model_id": "m",
        "subject": tid, "detail": {"status": "pending", "reason": "allowed: manual trigger",
                                   "manual": True, "request_id": "req-1"}}]

    again = client.post("/api/v1/models/m/triggers", json=request, headers=trig)
    assert again.status_code == 200
    assert again.json() == created.json()
    assert count(engine, TRIGGERS) == 1
    assert len(_outbox(engine)) == 1
    assert len(audit(engine)) == 1

    # Another request while one is pending: max_running (1) suppresses it, and says so.
    other = client.post("/api/v1/models/m/triggers", json={"reason": "again"}, headers=trig)
    assert other.status_code == 409
    assert other.json() == {"detail": "max_running: 1 trigger(s) running, at most 1 at a time"}
    assert count(engine, TRIGGERS) == 1
    (suppressed,) = audit(engine, "trigger_suppressed")
    assert suppressed["actor"] == actor(keys["trigger"])
    assert suppressed["detail"]["reason"].startswith("max_running")


def test_pull_policy_queues_nothing_and_budget_applies(
        client: TestClient, admin: dict[str, str], trig: dict[str, str],
        engine: Engine) -> None:
    _model(client, admin, max_running=5, daily_budget=2)
    ids = []
    for i in range(2):
        response = client.post("/api/v1/models/m/triggers", json={"reason": f"r{i}"},
                               headers=trig)
        assert response.status_code == 201, response.text
        ids.append(response.json()["trigger_id"])
    assert len(set(ids)) == 2
    assert _outbox(engine) == []
    third = client.post("/api/v1/models/m/triggers", json={"reason": "r3"}, headers=trig)
    assert third.status_code == 409
    assert third.json()["detail"] == ("daily_budget: 2 trigger(s) in the last 24h, "
                                      "budget is 2")


def test_kill_switch_from_the_database(client: TestClient, admin: dict[str, str],
                                       trig: dict[str, str], keys: dict[str, str],
                                       reader: dict[str, str], engine: Engine) -> None:
    _model(client, admin)
    off = client.get("/api/v1/triggers/kill-switch", headers=reader)
    assert off.json() == {"on": False, "source": None, "updated_by": None, "updated_at": None}
    assert client.put("/api/v1/triggers/kill-switch", json={"on": True},
                      headers=trig).status_code == 403
    on = client.put("/api/v1/triggers/kill-switch", json={"on": True}, headers=admin)
    assert on.status_code == 200
    assert on.json()["on"] is True
    assert on.json()["source"] == "database"
    assert on.json()["updated_by"] == actor(keys["admin"])
    assert client.get("/api/v1/triggers/kill-switch", headers=reader).json() == on.json()
    refused = client.post("/api/v1/models/m/triggers", json={"reason": "r"}, headers=trig)
    assert refused.status_code == 409
    assert refused.json() == {"detail": "kill switch: retraining triggers are switched off"}
    assert count(engine, TRIGGERS) == 0
    back = client.put("/api/v1/triggers/kill-switch", json={"on": False}, headers=admin)
    assert (back.json()["on"], back.json()["source"]) == (False, None)
    assert client.post("/api/v1/models/m/triggers", json={"reason": "r"},
                       headers=trig).status_code == 201
    assert [a["action"] for a in audit(engine)] == [
        "kill_switch_on", "trigger_suppressed", "kill_switch_off", "trigger_created"]
    bad = client.put("/api/v1/triggers/kill-switch", json={"on": "maybe"}, headers=admin)
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["body", "on"]]


def test_kill_switch_from_the_setting(api_settings: Settings, engine: Engine,
                                      keys: dict[str, str]) -> None:
    settings = api_settings.replace(retraining_kill_switch=True)
    with TestClient(create_app(settings)) as client:
        _model(client, bearer(keys["admin"]))
        state = client.get("/api/v1/triggers/kill-switch", headers=bearer(keys["read"]))
        assert (state.json()["on"], state.json()["source"]) == (True, "setting")
        # The API cannot turn the environment's switch off.
        put = client.put("/api/v1/triggers/kill-switch", json={"on": False},
                         headers=bearer(keys["admin"]))
        assert (put.json()["on"], put.json()["source"]) == (True, "setting")
        refused = client.post("/api/v1/models/m/triggers", json={"reason": "r"},
                              headers=bearer(keys["trigger"]))
        assert refused.status_code == 409
    assert count(engine, TRIGGERS) == 0


def test_manual_trigger_errors(client: TestClient, admin: dict[str, str],
                               trig: dict[str, str], engine: Engine) -> None:
    _model(client, admin)
    missing = client.post("/api/v1/models/nope/triggers", json={"reason": "r"}, headers=trig)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "model 'nope' not found"}
    for body, loc in (({"reason": ""}, ["body", "reason"]),
                      ({"reason": "x" * 513}, ["body", "reason"]),
                      ({}, ["body", "reason"]),
                      ({"reason": "r", "evidence": [1]}, ["body", "evidence"]),
                      ({"reason": "r", "evidence": {"n": 2**70}}, ["body", "evidence"]),
                      ({"reason": "r", "request_id": "has space"}, ["body", "request_id"]),
                      ({"reason": "r", "manual": False}, ["body", "manual"])):
        response = client.post("/api/v1/models/m/triggers", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [loc], body
    disabled = model_body("off", retraining={"enabled": False})
    assert client.post("/api/v1/models", json=disabled, headers=admin).status_code == 201
    refused = client.post("/api/v1/models/off/triggers", json={"reason": "r"}, headers=trig)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "disabled: the trigger policy is disabled for this model"}
    assert count(engine, TRIGGERS) == 0


def test_evidence_size_is_bounded(api_settings: Settings, keys: dict[str, str],
                                  engine: Engine) -> None:
    settings = api_settings.replace(api_max_body_bytes=65_536)
    with TestClient(create_app(settings)) as client:
        _model(client, bearer(keys["admin"]))
        response = client.post("/api/v1/models/m/triggers", headers=bearer(keys["trigger"]),
                               json={"reason": "r", "evidence": {"big": "x" * 20_000}})
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "evidence"]
        assert error["msg"] == ("Value error, evidence is 20010 bytes as JSON; "
                                "at most 16384")
    assert count(engine, TRIGGERS) == 0


def test_list_and_get_triggers(client: TestClient, reader: dict[str, str],
                               engine: Engine) -> None:
    t1 = seed_trigger(engine, trigger("m", "succeeded", created_at_ms=T0))
    t2 = seed_trigger(engine, trigger("other", "pending", created_at_ms=T0 + HOUR))
    t3 = seed_trigger(engine, trigger("m", "pending", created_at_ms=T0 + 2 * HOUR))

    def ids(**params: Any) -> list[str]:
        response = client.get("/api/v1/triggers", params=params, headers=reader)
        assert response.status_code == 200, response.text
        return [t["trigger_id"] for t in response.json()["items"]]

    assert ids() == [t3, t2, t1]
    assert ids(model_id="m") == [t3, t1]
    assert ids(status="pending") == [t3, t2]
    assert ids(model_id="m", status="succeeded") == [t1]
    first = client.get("/api/v1/triggers", params={"limit": 2}, headers=reader).json()
    rest = client.get("/api/v1/triggers", params={"limit": 2, "cursor": first["next_cursor"]},
                      headers=reader).json()
    assert [t["trigger_id"] for t in first["items"] + rest["items"]] == [t3, t2, t1]
    got = client.get(f"/api/v1/triggers/{t1}", headers=reader)
    assert got.status_code == 200
    assert got.json()["status"] == "succeeded"
    assert got.json()["created_at"] == "2026-01-01T00:00:00Z"
    assert got.json()["evidence"] == {"alert": {"alert_id": "a1"}}
    assert got.json()["manual"] is False
    assert client.get("/api/v1/triggers/trg_nope", headers=reader).status_code == 404
    bad = client.get("/api/v1/triggers", params={"status": "done"}, headers=reader)
    assert bad.status_code == 422


def test_ack_moves_pending_to_acknowledged(client: TestClient, trig: dict[str, str],
                                           keys: dict[str, str], engine: Engine) -> None:
    tid = seed_trigger(engine, trigger("m", "pending"))
    acked = client.post(f"/api/v1/triggers/{tid}/ack", headers=trig)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    again = client.post(f"/api/v1/triggers/{tid}/ack", json={"comment": "x"}, headers=trig)
    assert again.status_code == 409
    assert again.json() == {"detail": f"trigger {tid!r} is acknowledged, not pending"}
    assert client.post("/api/v1/triggers/trg_nope/ack", headers=trig).status_code == 404
    assert audit(engine, "trigger_acknowledged") == [{
        "actor": actor(keys["trigger"]), "action": "trigger_acknowledged", "model_id": "m",
        "subject": tid, "detail": {"from": "pending", "to": "acknowledged", "comment": None}}]


def test_approval_flow(client: TestClient, admin: dict[str, str], trig: dict[str, str],
                       keys: dict[str, str], engine: Engine) -> None:
    _model(client, admin, approval="manual", **PUSH)
    waiting = seed_trigger(engine, trigger("m", "awaiting_approval"))
    other = seed_trigger(engine, trigger("m", "awaiting_approval"))
    assert _outbox(engine) == []

    approved = client.post(f"/api/v1/triggers/{waiting}/approve", json={"comment": "go"},
                           headers=trig)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "pending"
    (queued,) = _outbox(engine)
    assert (queued["message_id"], queued["kind"], queued["trigger_id"]) == (
        waiting, "trigger", waiting)
    assert queued["payload"]["trigger_id"] == waiting
    assert queued["payload"]["reason"] == "performance_drop: allowed"

    twice = client.post(f"/api/v1/triggers/{waiting}/approve", headers=trig)
    assert twice.status_code == 409
    # One pending already: approving the other would exceed max_running (1).
    busy = client.post(f"/api/v1/triggers/{other}/approve", headers=trig)
    assert busy.status_code == 409
    assert busy.json() == {"detail": "max_running: 1 trigger(s) running, at most 1 at a time"}

    rejected = client.post(f"/api/v1/triggers/{other}/reject", json={"comment": "no"},
                           headers=trig)
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert client.post(f"/api/v1/triggers/{other}/approve", headers=trig).status_code == 409
    assert client.post(f"/api/v1/triggers/{other}/reject", headers=trig).status_code == 409
    assert client.post("/api/v1/triggers/trg_nope/reject", headers=trig).status_code == 404
    assert len(_outbox(engine)) == 1
    assert [(a["action"], a["subject"], a["detail"]["comment"]) for a in audit(engine)
            if a["actor"] == actor(keys["trigger"])] == [
        ("trigger_approved", waiting, "go"), ("trigger_rejected", other, "no")]


def test_approval_refused_by_the_kill_switch(client: TestClient, admin: dict[str, str],
                                             trig: dict[str, str], engine: Engine) -> None:
    _model(client, admin, approval="manual")
    waiting = seed_trigger(engine, trigger("m", "awaiting_approval"))
    assert client.put("/api/v1/triggers/kill-switch", json={"on": True},
                      headers=admin).status_code == 200
    refused = client.post(f"/api/v1/triggers/{waiting}/approve", headers=trig)
    assert refused.status_code == 409
    assert refused.json() == {"detail": "kill switch: retraining triggers are switched off"}
    assert client.put("/api/v1/triggers/kill-switch", json={"on": False},
                      headers=admin).status_code == 200
    approved = client.post(f"/api/v1/triggers/{waiting}/approve", headers=trig)
    assert approved.json()["status"] == "pending"
    assert _outbox(engine) == []  # a pull policy: the stack polls GET /triggers?status=pending
