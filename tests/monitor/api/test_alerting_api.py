"""Alerts, acknowledgements, silences, rules and the audit trail over HTTP."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from monitor.db.schema import ALERTS, MODELS, SILENCES
from monitor.notifier import active_silences
from monitor.timeutil import format_ms, now_ms, parse_timestamp
from tests.monitor.api.alerting_helpers import (
    HOUR,
    T0,
    actor,
    alert,
    audit,
    count,
    seed_alerts,
)
from tests.monitor.api.conftest import bearer, model_body


def _detail_locs(response: Any) -> list[list[Any]]:
    return [e["loc"] for e in response.json()["detail"]]


# ---------------------------------------------------------------- alerts
def test_alerts_newest_first_filtered_and_paged(client: TestClient, reader: dict[str, str],
                                                engine: Engine) -> None:
    seed_alerts(engine, alert("a1", starts_at_ms=T0),
                alert("a2", starts_at_ms=T0 + HOUR, state="resolved"),
                alert("a3", "other", starts_at_ms=T0 + 2 * HOUR),
                alert("a4", starts_at_ms=T0 + HOUR))
    listed = client.get("/api/v1/alerts", headers=reader).json()
    assert [a["alert_id"] for a in listed["items"]] == ["a3", "a4", "a2", "a1"]
    assert listed["next_cursor"] is None
    assert listed["items"][3] == {
        "alert_id": "a1", "model_id": "m", "fingerprint": "fpa1", "rule": "performance_drop",
        "severity": "critical", "state": "firing", "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": None, "value": 0.61,
        "labels": {"model_id": "m", "rule": "performance_drop", "family": "performance",
                   "metric": "auc", "feature": "", "slice": "", "severity": "critical"},
        "annotations": {"summary": "m: auc is 0.61"},
        "acknowledged_by": None, "acknowledged_at": None}
    assert listed["items"][2]["ends_at"] == "2026-01-01T02:00:00Z"

    def ids(**params: Any) -> list[str]:
        response = client.get("/api/v1/alerts", params=params, headers=reader)
        assert response.status_code == 200, response.text
        return [a["alert_id"] for a in response.json()["items"]]

    assert ids(model_id="m") == ["a4", "a2", "a1"]
    assert ids(state="firing") == ["a3", "a4", "a1"]
    assert ids(model_id="m", state="resolved") == ["a2"]
    assert ids(model_id="nope") == []

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/alerts", params=params, headers=reader).json()
        seen += [a["alert_id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["a3", "a4", "a2", "a1"]

    for params, loc in (({"state": "pending"}, ["query", "state"]),
                        ({"cursor": "bm90IGEgY3Vyc29y"}, ["query", "cursor"]),
                        ({"limit": 0}, ["query", "limit"]),
                        ({"limit": 51}, ["query", "limit"])):
        response = client.get("/api/v1/alerts", params=params, headers=reader)
        assert response.status_code == 422, params
        assert _detail_locs(response) == [loc]


def test_get_one_alert(client: TestClient, reader: dict[str, str], engine: Engine) -> None:
    seed_alerts(engine, alert("b8e413b3711f86c1-10"))
    got = client.get("/api/v1/alerts/b8e413b3711f86c1-10", headers=reader)
    assert got.status_code == 200
    assert got.json()["alert_id"] == "b8e413b3711f86c1-10"
    missing = client.get("/api/v1/alerts/nope", headers=reader)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "alert 'nope' not found"}
    bad = client.get("/api/v1/alerts/a%20b", headers=reader)
    assert bad.status_code == 422
    assert _detail_locs(bad) == [["path", "alert_id"]]


def test_ack_records_who_and_when_and_is_audited(client: TestClient, keys: dict[str, str],
                                                 writer: dict[str, str],
                                                 engine: Engine) -> None:
    seed_alerts(engine, alert("a1"), alert("a2"))
    before = now_ms()
    acked = client.post("/api/v1/alerts/a1/ack", json={"comment": "looking into it"},
                        headers=writer)
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["acknowledged_by"] == actor(keys["write"])
    assert before - 1000 <= parse_timestamp(body["acknowledged_at"]) <= now_ms()
    assert body["state"] == "firing"  # informational: the alert goes on firing
    assert client.get("/api/v1/alerts/a1", headers=writer).json() == body
    assert client.post("/api/v1/alerts/a2/ack", headers=writer).status_code == 200

    assert audit(engine, "alert_acknowledged") == [
        {"actor": actor(keys["write"]), "action": "alert_acknowledged", "model_id": "m",
         "subject": "a1", "detail": {"comment": "looking into it"}},
        {"actor": actor(keys["write"]), "action": "alert_acknowledged", "model_id": "m",
         "subject": "a2", "detail": {"comment": None}}]

    missing = client.post("/api/v1/alerts/nope/ack", json={}, headers=writer)
    assert missing.status_code == 404
    extra = client.post("/api/v1/alerts/a1/ack", json={"note": "x"}, headers=writer)
    assert extra.status_code == 422
    assert _detail_locs(extra) == [["body", "note"]]
    with engine.connect() as conn:
        assert conn.execute(select(ALERTS.c.acknowledged_by).where(
            ALERTS.c.alert_id == "a1")).scalar_one() == actor(keys["write"])


def test_audit_is_admin_only_newest_first_and_paged(
        client: TestClient, keys: dict[str, str], engine: Engine) -> None:
    admin = bearer(keys["admin"])
    seed_alerts(engine, alert("a1"), alert("o1", "other"))
    for alert_id in ("a1", "o1", "a1"):
        assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=admin).status_code == 200
    assert client.get("/api/v1/audit", headers=bearer(keys["write"])).status_code == 403
    page = client.get("/api/v1/audit", headers=admin).json()
    assert [(a["subject"], a["model_id"]) for a in page["items"]] == [
        ("a1", "m"), ("o1", "other"), ("a1", "m")]
    ids = [a["id"] for a in page["items"]]
    assert ids == sorted(ids, reverse=True)
    assert page["items"][0]["actor"] == actor(keys["admin"])
    assert page["items"][0]["action"] == "alert_acknowledged"
    assert page["next_cursor"] is None
    only_m = client.get("/api/v1/audit", params={"model_id": "m"}, headers=admin).json()
    assert [a["subject"] for a in only_m["items"]] == ["a1", "a1"]
    first = client.get("/api/v1/audit", params={"limit": 2}, headers=admin).json()
    assert [a["id"] for a in first["items"]] == ids[:2]
    rest = client.get("/api/v1/audit", params={"limit": 2, "cursor": first["next_cursor"]},
                      headers=admin).json()
    assert [a["id"] for a in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None


# ---------------------------------------------------------------- silences
MATCHERS = [{"name": "model_id", "op": "=", "value": "m"},
            {"name": "family", "op": "=~", "value": "data_drift|prediction_drift"}]


def test_silence_with_duration_is_active_and_read_by_the_notifier(
        client: TestClient, keys: dict[str, str], writer: dict[str, str],
        engine: Engine) -> None:
    before = now_ms()
    created = client.post("/api/v1/silences", headers=writer, json={
        "matchers": MATCHERS, "duration": "2h", "comment": "deploy"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["silence_id"].startswith("sil_")
    assert len(body["silence_id"]) == 20
    int(body["silence_id"][4:], 16)
    start = parse_timestamp(body["starts_at"])
    assert before - 1000 <= start <= now_ms()
    assert parse_timestamp(body["ends_at"]) - start == 2 * HOUR
    assert body["status"] == "active"
    assert body["matchers"] == MATCHERS
    assert body["created_by"] == actor(keys["write"])
    assert body["comment"] == "deploy"

    with engine.connect() as conn:
        (silence,) = active_silences(conn, now_ms())
        stored = conn.execute(select(SILENCES.c.matchers)).scalar_one()
    assert silence.id == body["silence_id"]
    assert [m.model_dump() for m in silence.matchers] == MATCHERS
    assert orjson.loads(stored) == MATCHERS
    assert audit(engine, "silence_created")[0]["subject"] == body["silence_id"]
    assert audit(engine, "silence_created")[0]["actor"] == actor(keys["write"])


def test_silence_window_and_active_filter(client: TestClient, writer: dict[str, str],
                                          reader: dict[str, str]) -> None:
    now = now_ms()
    later = {"matchers": MATCHERS, "starts_at": format_ms(now + 10 * HOUR),
             "ends_at": format_ms(now + 12 * HOUR), "comment": "maintenance"}
    pending = client.post("/api/v1/silences", json=later, headers=writer).json()
    assert pending["status"] == "pending"
    assert pending["starts_at"] == format_ms(now + 10 * HOUR)
    active = client.post("/api/v1/silences", headers=writer, json={
        "matchers": MATCHERS, "ends_at": format_ms(now + HOUR), "comment": "now"}).json()

    def ids(**params: Any) -> list[str]:
        page = client.get("/api/v1/silences", params=params, headers=reader).json()
        return [s["silence_id"] for s in page["items"]]

    assert ids() == [active["silence_id"], pending["silence_id"]]
    assert ids(active="true") == [active["silence_id"]]
    assert ids(active="false") == [pending["silence_id"]]
    page = client.get("/api/v1/silences", params={"limit": 1}, headers=reader).json()
    assert [s["silence_id"] for s in page["items"]] == [active["silence_id"]]
    rest = client.get("/api/v1/silences", params={"limit": 1, "cursor": page["next_cursor"]},
                      headers=reader).json()
    assert [s["silence_id"] for s in rest["items"]] == [pending["silence_id"]]
    assert rest["next_cursor"] is None


def test_invalid_silences_name_the_field(client: TestClient, writer: dict[str, str],
                                         engine: Engine) -> None:
    now = now_ms()
    base: dict[str, Any] = {"matchers": MATCHERS, "duration": "1h", "comment": "c"}
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({**base, "ends_at": format_ms(now + HOUR)}, ["body", "ends_at"]),
        ({"matchers": MATCHERS, "comment": "c"}, ["body", "ends_at"]),
        ({**base, "duration": "soon"}, ["body", "duration"]),
        ({**base, "duration": "0s"}, ["body", "duration"]),
        ({**base, "duration": "400d"}, ["body", "duration"]),
        ({**base, "starts_at": "2026-01-01T00:00:00"}, ["body", "starts_at"]),
        ({"matchers": MATCHERS, "starts_at": format_ms(now + 2 * HOUR),
          "ends_at": format_ms(now + HOUR), "comment": "c"}, ["body", "ends_at"]),
        ({"matchers": MATCHERS, "ends_at": format_ms(now - HOUR), "comment": "c"},
         ["body", "ends_at"]),
        ({**base, "matchers": [{"name": "model_id", "op": "==", "value": "m"}]},
         ["body", "matchers", 0, "op"]),
        ({**base, "matchers": [{"name": "model_id", "op": "=~", "value": "("}]},
         ["body", "matchers", 0, "value"]),
        ({**base, "matchers": [{"name": "family", "op": "=~", "value": ".*"}]},
         ["body", "matchers"]),
        ({**base, "matchers": []}, ["body", "matchers"]),
        ({"matchers": MATCHERS, "duration": "1h"}, ["body", "comment"]),
        ({**base, "colour": "red"}, ["body", "colour"]),
    ]
    for body, loc in cases:
        response = client.post("/api/v1/silences", json=body, headers=writer)
        assert response.status_code == 422, (body, response.text)
        assert _detail_locs(response) == [loc], body
    assert count(engine, SILENCES) == 0
    assert audit(engine) == []


def test_delete_expires_the_silence_now(client: TestClient, keys: dict[str, str],
                                        writer: dict[str, str], engine: Engine) -> None:
    now = now_ms()
    active = client.post("/api/v1/silences", json={
        "matchers": MATCHERS, "duration": "2h", "comment": "c"}, headers=writer).json()
    pending = client.post("/api/v1/silences", json={
        "matchers": MATCHERS, "starts_at": format_ms(now + HOUR), "duration": "2h",
        "comment": "c"}, headers=writer).json()
    for silence in (active, pending):
        deleted = client.delete(f"/api/v1/silences/{silence['silence_id']}", headers=writer)
        assert deleted.status_code == 204
    listed = {s["silence_id"]: s for s in client.get(
        "/api/v1/silences", headers=writer).json()["items"]}
    assert {s["status"] for s in listed.values()} == {"expired"}
    ended = parse_timestamp(listed[active["silence_id"]]["ends_at"])
    assert now - 1000 <= ended <= now_ms()
    assert listed[active["silence_id"]]["starts_at"] == active["starts_at"]
    gone = listed[pending["silence_id"]]
    assert gone["starts_at"] == gone["ends_at"]
    with engine.connect() as conn:
        assert active_silences(conn, now_ms()) == []
    assert [(a["action"], a["subject"], a["actor"]) for a in audit(engine, "silence_expired")
            ] == [("silence_expired", s["silence_id"], actor(keys["write"]))
                  for s in (active, pending)]
    missing = client.delete("/api/v1/silences/sil_0000000000000000", headers=writer)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "silence 'sil_0000000000000000' not found"}


# ---------------------------------------------------------------- rules
RULE = {"name": "psi_high", "match": {"family": "data_drift", "metric": "psi", "feature": "*"},
        "condition": {"value": {"op": ">", "threshold": 0.3}}, "severity": "warning"}


def test_get_rules_defaults(client: TestClient, writer: dict[str, str],
                            reader: dict[str, str]) -> None:
    assert client.post("/api/v1/models", json=model_body(), headers=writer).status_code == 201
    got = client.get("/api/v1/models/m/rules", headers=reader)
    assert got.status_code == 200
    body = got.json()
    assert body["model_id"] == "m"
    assert body["config_version"] == 1
    assert body["alerting"]["rules"] is None
    assert body["alerting"]["repeat_interval"] == "4h"
    assert [r["name"] for r in body["effective_rules"]] == [
        "data_drift_sustained", "performance_drop", "kpi_drop", "ingestion_stall"]
    assert body["effective_rules"][0]["for_windows"] == 2
    assert body["retraining"]["on"] == ["data_drift_sustained", "performance_drop", "kpi_drop"]
    assert body["retraining"]["dispatch"] == {"type": "pull"}
    assert client.get("/api/v1/models/nope/rules", headers=reader).status_code == 404


def test_put_rules_replaces_sections_and_is_audited(
        client: TestClient, keys: dict[str, str], writer: dict[str, str],
        engine: Engine) -> None:
    assert client.post("/api/v1/models", json=model_body(), headers=writer).status_code == 201
    put = client.put("/api/v1/models/m/rules", headers=writer, json={
        "alerting": {"rules": [RULE], "repeat_interval": "1h"}})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["config_version"] == 2
    assert [r["name"] for r in body["effective_rules"]][-1] == "psi_high"
    assert len(body["effective_rules"]) == 5
    assert body["alerting"]["repeat_interval"] == "1h"
    assert body["retraining"]["cooldown"] == "24h"
    model = client.get("/api/v1/models/m", headers=writer).json()
    assert model["config"]["alerting"]["rules"][0]["name"] == "psi_high"
    assert model["config"]["features"] == model_body()["features"]

    retrain = client.put("/api/v1/models/m/rules", headers=writer, json={
        "retraining": {"cooldown": "12h", "approval": "manual"}})
    assert retrain.json()["config_version"] == 3
    assert retrain.json()["retraining"]["approval"] == "manual"
    assert retrain.json()["alerting"]["repeat_interval"] == "1h"
    same = client.put("/api/v1/models/m/rules", headers=writer, json={
        "retraining": {"cooldown": "12h", "approval": "manual"}})
    assert same.json()["config_version"] == 3
    assert [(a["action"], a["actor"], a["detail"]) for a in audit(engine, "rules_updated")] == [
        ("rules_updated", actor(keys["write"]),
         {"sections": ["alerting"], "changed": True, "config_version": 2}),
        ("rules_updated", actor(keys["write"]),
         {"sections": ["retraining"], "changed": True, "config_version": 3}),
        ("rules_updated", actor(keys["write"]),
         {"sections": ["retraining"], "changed": False, "config_version": 3})]


def test_put_rules_validation_names_the_field(client: TestClient, writer: dict[str, str],
                                              engine: Engine) -> None:
    assert client.post("/api/v1/models", json=model_body(), headers=writer).status_code == 201
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({"alerting": {"rules": [{**RULE, "name": "Bad Name"}]}},
         ["body", "alerting", "rules", 0, "name"]),
        ({"alerting": {"rules": [{**RULE, "name": "kpi_drop"}]}}, ["body", "alerting", "rules"]),
        ({"retraining": {"cooldown": "soon"}}, ["body", "retraining", "cooldown"]),
        ({"retraining": {"dispatch": {"type": "http", "url": "file:///etc/passwd"}}},
         ["body", "retraining", "dispatch", "http", "url"]),
        ({}, ["body", "alerting"]),
        ({"drift": {}}, ["body", "drift"]),
    ]
    for body, loc in cases:
        response = client.put("/api/v1/models/m/rules", json=body, headers=writer)
        assert response.status_code == 422, (body, response.text)
        assert _detail_locs(response) == [loc], body
    with engine.connect() as conn:
        assert conn.execute(select(MODELS.c.config_version)).scalar_one() == 1
    assert client.put("/api/v1/models/nope/rules", json={"alerting": {}},
                      headers=writer).status_code == 404
