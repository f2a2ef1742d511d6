"""RELIABILITY promise 10: every route needs a key of the right scope; keys are stored hashed."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from monitor.alert_store import AuditEntry
from monitor.api.app import create_app
from monitor.config import parse_config
from monitor.db import alerting_sql, repository
from monitor.db.alerting_queries import (
    ChannelInfo,
    SilenceInfo,
    get_channel,
    insert_channel,
    insert_silence,
)
from monitor.db.schema import ApiKeyRow
from monitor.db.sql_store import SqlStore
from monitor.events import EventLimits
from monitor.keys import create_key, list_keys, revoke_key, verify_key
from monitor.processing import Processor
from monitor.registry import DbRegistry
from monitor.settings import Settings
from tests.factories import message
from tests.monitor.api.alerting_helpers import alert, trigger
from tests.monitor.api.conftest import bearer, model_body

OPEN = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
# No API key: authenticated by a Standard Webhooks signature (test_callbacks_api.py).
SIGNED = {("POST", "/api/v1/callbacks/training")}
_ids = itertools.count()


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route's path template, to check that every route is covered
    scope: str
    request: Callable[[Engine], dict[str, Any]]  # setup, then httpx.request keyword arguments


def _fresh_model(engine: Engine) -> str:
    model_id = f"tmp{next(_ids)}"
    with engine.begin() as conn:
        repository.upsert_model(conn, parse_config(model_body(model_id)))
    return model_id


def _get(url: str) -> Callable[[Engine], dict[str, Any]]:
    return lambda _engine: {"url": url}


WINDOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def _report(engine: Engine) -> dict[str, Any]:
    """The drift report of model m's window at WINDOW_MS, which one event reaches first."""
    with engine.connect() as conn:
        exists = repository.get_window_sample(conn, "m", WINDOW_MS) is not None
    if not exists:
        registry = DbRegistry(engine)
        registry.refresh(force=True)
        event = {"model_id": "m", "prediction_id": "p", "timestamp": WINDOW_MS,
                 "features": {"x": 2.0, "c": "b"}, "prediction": 1, "score": 0.9}
        with engine.begin() as conn:
            Processor(registry, EventLimits(now_ms=WINDOW_MS)).apply_batch(
                SqlStore(conn), [message(event, 0)])
    return {"url": "/api/v1/models/m/report", "params": {"window_start": str(WINDOW_MS)}}


def _seeded_alert(engine: Engine) -> str:
    with engine.begin() as conn:
        alerting_sql.save_alerts(conn, [alert("auth-alert")])
    return "auth-alert"


def _fresh_trigger(engine: Engine, status: str, model_id: str = "m") -> str:
    entry = trigger(model_id, status, trigger_id=f"trg_auth{next(_ids):020d}")
    with engine.begin() as conn:
        alerting_sql.add_trigger(conn, entry, None, AuditEntry("test", "trigger_created"))
    return entry.trigger_id


def _fresh_silence(engine: Engine) -> str:
    silence_id = f"sil_auth{next(_ids)}"
    with engine.begin() as conn:
        insert_silence(conn, SilenceInfo(silence_id, [{"name": "model_id", "op": "=",
                                                       "value": "m"}], 0, 2**40, "t", "", 0))
    return silence_id


def _fresh_channel(engine: Engine, channel_id: str | None = None) -> str:
    channel_id = channel_id or f"ch{next(_ids)}"
    with engine.begin() as conn:
        if get_channel(conn, channel_id) is None:
            insert_channel(conn, ChannelInfo(channel_id, "webhook", "https://hooks.example/x",
                                             [], None, [], "info", True, 0, 0))
    return channel_id


SILENCE = {"matchers": [{"name": "model_id", "op": "=", "value": "m"}], "duration": "1h",
           "comment": "auth matrix"}

CASES = [
    Case("GET", "/api/v1/models", "read", _get("/api/v1/models")),
    Case("GET", "/api/v1/models/{model_id}", "read", _get("/api/v1/models/m")),
    Case("GET", "/api/v1/models/{model_id}/reference", "read", _get("/api/v1/models/m/reference")),
    Case("GET", "/api/v1/models/{model_id}/metrics", "read", _get("/api/v1/models/m/metrics")),
    Case("GET", "/api/v1/models/{model_id}/windows", "read", _get("/api/v1/models/m/windows")),
    Case("GET", "/api/v1/models/{model_id}/slices", "read", _get("/api/v1/models/m/slices")),
    Case("GET", "/api/v1/models/{model_id}/kpis", "read", _get("/api/v1/models/m/kpis")),
    Case("GET", "/api/v1/models/{model_id}/report", "read", _report),
    Case("GET", "/api/v1/dead-letters", "read", _get("/api/v1/dead-letters")),
    Case("POST", "/api/v1/models", "write",
         lambda _e: {"url": "/api/v1/models", "json": model_body(f"new{next(_ids)}")}),
    Case("PUT", "/api/v1/models/{model_id}", "write",
         lambda _e: {"url": "/api/v1/models/m", "json": model_body(window=f"{next(_ids) + 1}h")}),
    Case("DELETE", "/api/v1/models/{model_id}", "write",
         lambda e: {"url": f"/api/v1/models/{_fresh_model(e)}"}),
    Case("PUT", "/api/v1/models/{model_id}/reference", "write",
         lambda _e: {"url": "/api/v1/models/m/reference",
                     "content": orjson.dumps({"features": {"x": 1.0, "c": "a"}}),
                     "headers": {"Content-Type": "application/x-ndjson"}}),
    # alerts, audit, rules
    Case("GET", "/api/v1/alerts", "read", _get("/api/v1/alerts")),
    Case("GET", "/api/v1/alerts/{alert_id}", "read",
         lambda e: {"url": f"/api/v1/alerts/{_seeded_alert(e)}"}),
    Case("POST", "/api/v1/alerts/{alert_id}/ack", "write",
         lambda e: {"url": f"/api/v1/alerts/{_seeded_alert(e)}/ack", "json": {"comment": "x"}}),
    Case("GET", "/api/v1/audit", "admin", _get("/api/v1/audit")),
    Case("GET", "/api/v1/models/{model_id}/rules", "read", _get("/api/v1/models/m/rules")),
    Case("PUT", "/api/v1/models/{model_id}/rules", "write",
         lambda _e: {"url": "/api/v1/models/m/rules",
                     "json": {"retraining": {"cooldown": f"{next(_ids) + 1}h"}}}),
    # silences
    Case("GET", "/api/v1/silences", "read", _get("/api/v1/silences")),
    Case("POST", "/api/v1/silences", "write",
         lambda _e: {"url": "/api/v1/silences", "json": SILENCE}),
    Case("DELETE", "/api/v1/silences/{silence_id}", "write",
         lambda e: {"url": f"/api/v1/silences/{_fresh_silence(e)}"}),
    # channels and deliveries
    Case("GET", "/api/v1/channels", "read", _get("/api/v1/channels")),
    Case("POST", "/api/v1/channels", "admin",
         lambda _e: {"url": "/api/v1/channels",
                     "json": {"channel_id": f"new{next(_ids)}", "type": "webhook",
                              "url": "https://hooks.example.com/driftline"}}),
    Case("DELETE", "/api/v1/channels/{channel_id}", "admin",
         lambda e: {"url": f"/api/v1/channels/{_fresh_channel(e)}"}),
    Case("POST", "/api/v1/channels/{channel_id}/rotate-secret", "admin",
         lambda e: {"url": f"/api/v1/channels/{_fresh_channel(e, 'hook')}/rotate-secret"}),
    Case("GET", "/api/v1/deliveries", "read", _get("/api/v1/deliveries")),
    # triggers
    Case("GET", "/api/v1/triggers", "read", _get("/api/v1/triggers")),
    Case("GET", "/api/v1/triggers/{trigger_id}", "read",
         lambda e: {"url": f"/api/v1/triggers/{_fresh_trigger(e, 'succeeded')}"}),
    Case("GET", "/api/v1/triggers/kill-switch", "read", _get("/api/v1/triggers/kill-switch")),
    Case("PUT", "/api/v1/triggers/kill-switch", "admin",
         lambda _e: {"url": "/api/v1/triggers/kill-switch", "json": {"on": False}}),
    # One request_id: the first allowed call creates the trigger (201), the others answer it
    # (200), so the policy's max_running never refuses them.
    Case("POST", "/api/v1/models/{model_id}/triggers", "trigger",
         lambda _e: {"url": "/api/v1/models/m/triggers",
                     "json": {"reason": "auth matrix", "request_id": "auth-matrix"}}),
    Case("POST", "/api/v1/triggers/{trigger_id}/ack", "trigger",
         lambda e: {"url": f"/api/v1/triggers/{_fresh_trigger(e, 'pending')}/ack"}),
    # A fresh model each time: approving checks the model's max_running.
    Case("POST", "/api/v1/triggers/{trigger_id}/approve", "trigger",
         lambda e: {"url": f"/api/v1/triggers/"
                           f"{_fresh_trigger(e, 'awaiting_approval', _fresh_model(e))}/approve"}),
    Case("POST", "/api/v1/triggers/{trigger_id}/reject", "trigger",
         lambda e: {"url": f"/api/v1/triggers/{_fresh_trigger(e, 'awaiting_approval')}/reject",
                    "json": {"comment": "no"}}),
]
GRANTS = {"read": {"read", "write", "trigger", "admin"}, "write": {"write", "admin"},
          "trigger": {"trigger", "admin"}, "admin": {"admin"}}


@pytest.fixture
def seeded(client: TestClient, keys: dict[str, str], engine: Engine) -> None:
    assert client.post("/api/v1/models", json=model_body(), headers=bearer(keys["admin"]),
                       ).status_code == 201
    assert client.put("/api/v1/models/m/reference", headers={
        **bearer(keys["admin"]), "Content-Type": "application/x-ndjson"},
        content=orjson.dumps({"features": {"x": 1.0, "c": "a"}})).status_code == 201


def _call(client: TestClient, engine: Engine, case: Case,
          auth: dict[str, str]) -> tuple[int, Any]:
    kwargs = case.request(engine)
    kwargs["headers"] = {**kwargs.get("headers", {}), **auth}
    response = client.request(case.method, **kwargs)
    return response.status_code, response


def test_every_route_is_in_the_matrix(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    assert routes == {(c.method, c.route) for c in CASES} | OPEN | SIGNED


@pytest.mark.usefixtures("seeded")
def test_auth_matrix(client: TestClient, keys: dict[str, str], engine: Engine) -> None:
    for case in CASES:
        label = f"{case.method} {case.route}"
        for auth in ({}, bearer("dl_0000000000000000_forged"), bearer("garbage"),
                     {"Authorization": f"Basic {keys['admin']}"}, bearer(keys["revoked"])):
            status, response = _call(client, engine, case, auth)
            assert status == 401, (label, auth, response.text)
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="driftline"'
        for scope in ("read", "write", "trigger", "admin"):
            status, response = _call(client, engine, case, bearer(keys[scope]))
            expected = "2xx" if scope in GRANTS[case.scope] else 403
            got = "2xx" if 200 <= status < 300 else status
            assert got == expected, (label, scope, response.text)
        status, _ = _call(client, engine, case, {"X-API-Key": keys[case.scope]})
        assert 200 <= status < 300, label
        status, _ = _call(client, engine, case, {"X-API-Key": keys["revoked"]})
        assert status == 401, label


def test_operations_routes_need_no_key(client: TestClient) -> None:
    for method, path in sorted(OPEN):
        assert client.request(method, path).status_code == 200, path


@pytest.mark.usefixtures("seeded")
def test_signed_routes_refuse_api_keys(api_settings: Settings, keys: dict[str, str],
                                       engine: Engine) -> None:
    """The callback takes no API key: any key, even admin, without a valid signature is 401."""
    settings = api_settings.replace(callback_secrets="whsec_" + "A" * 32)
    body = {"trigger_id": _fresh_trigger(engine, "dispatched"), "status": "running"}
    with TestClient(create_app(settings)) as signed_client:
        for method, path in sorted(SIGNED):
            for auth in ({}, bearer(keys["admin"]), {"X-API-Key": keys["admin"]}):
                response = signed_client.request(method, path, json=body, headers=auth)
                assert response.status_code == 401, (path, auth, response.text)
                assert response.json()["detail"].startswith("invalid callback signature")


def test_keys_are_stored_hashed(engine: Engine) -> None:
    with engine.begin() as conn:
        plaintext = create_key(conn, ["write", "read"], name="ci")
    prefix, key_id, secret = plaintext.split("_", 2)
    assert prefix == "dl"
    assert len(secret) >= 40
    with engine.connect() as conn:
        row = conn.execute(select(ApiKeyRow.__table__)).one()
    stored = " ".join(str(v) for v in row)
    assert row.key_id == key_id
    assert row.key_sha256 == hashlib.sha256(plaintext.encode()).hexdigest()
    assert row.scopes == "read,write"
    assert secret not in stored
    assert plaintext not in stored


def test_verify_revoke_and_list(engine: Engine) -> None:
    with engine.begin() as conn:
        admin = create_key(conn, ["admin"])
        trigger = create_key(conn, ["trigger"], name="airflow")
        assert verify_key(conn, admin) == {"read", "write", "trigger", "admin"}
        assert verify_key(conn, trigger) == {"read", "trigger"}
        assert verify_key(conn, trigger[:-1] + ("A" if trigger[-1] != "A" else "B")) is None
        assert verify_key(conn, "dl_" + trigger.split("_")[1] + "_x") is None
        assert verify_key(conn, "") is None
        key_id = trigger.split("_")[1]
        assert revoke_key(conn, key_id) is True
        assert revoke_key(conn, key_id) is False
        assert revoke_key(conn, "missing") is False
        assert verify_key(conn, trigger) is None
        listed = {k.key_id: k for k in list_keys(conn)}
    assert listed[key_id].scopes == ("trigger",)
    assert listed[key_id].name == "airflow"
    assert listed[key_id].revoked_at_ms is not None
    assert listed[admin.split("_")[1]].revoked_at_ms is None


def test_invalid_scope_is_named(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="'superuser'"):
            create_key(conn, ["read", "superuser"])
        with pytest.raises(ValueError, match="at least one scope"):
            create_key(conn, [])
    with engine.connect() as conn:
        assert list_keys(conn) == []
