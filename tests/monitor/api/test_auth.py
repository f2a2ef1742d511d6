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

from monitor.config import parse_config
from monitor.db import repository
from monitor.db.schema import ApiKeyRow
from monitor.db.sql_store import SqlStore
from monitor.events import EventLimits
from monitor.keys import create_key, list_keys, revoke_key, verify_key
from monitor.processing import Processor
from monitor.registry import DbRegistry
from tests.factories import message
from tests.monitor.api.conftest import bearer, model_body

OPEN = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
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
]
GRANTS = {"read": {"read", "write", "trigger", "admin"}, "write": {"write", "admin"}}


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
    assert routes == {(c.method, c.route) for c in CASES} | OPEN


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
