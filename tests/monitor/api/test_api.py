"""Model configurations over HTTP: create, list, get, replace, delete; validation; body limits."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select

from monitor.db.schema import (
    MetricRecordRow,
    ModelRow,
    ReferenceRow,
    WindowPartitionStateRow,
    WindowRow,
)
from tests.monitor.api.conftest import BODY_LIMIT, bearer, model_body


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_create_list_get(client: TestClient, writer: dict[str, str],
                         reader: dict[str, str]) -> None:
    created = client.post("/api/v1/models", json=model_body(), headers=writer)
    assert created.status_code == 201
    body = created.json()
    assert body["model_id"] == "m"
    assert body["config_version"] == 1
    assert body["reference"] is None
    assert body["config"]["features"] == model_body()["features"]
    assert body["config"]["lateness"]["allowed_lateness"] == "1h"
    assert body["created_at"] == body["updated_at"]
    assert body["drift_policy"].startswith(
        "calibrated: about one false data-drift alert per 100 windows per model")
    assert body["config"]["drift"]["mode"] == "calibrated"
    assert client.post("/api/v1/models", json=model_body("b"), headers=writer).status_code == 201

    listed = client.get("/api/v1/models", headers=reader).json()
    assert listed["count"] == 2
    assert [m["model_id"] for m in listed["items"]] == ["b", "m"]
    got = client.get("/api/v1/models/m", headers=reader)
    assert got.status_code == 200
    assert got.json() == body


def test_create_twice_is_a_conflict(client: TestClient, writer: dict[str, str],
                                    engine: Engine) -> None:
    assert client.post("/api/v1/models", json=model_body(), headers=writer).status_code == 201
    again = client.post("/api/v1/models", json=model_body(window="1d"), headers=writer)
    assert again.status_code == 409
    with engine.connect() as conn:
        row = conn.execute(select(ModelRow.config, ModelRow.config_version)).one()
    assert orjson.loads(row[0])["window"] == "1h"
    assert row[1] == 1


def test_put_creates_then_replaces(client: TestClient, writer: dict[str, str],
                                   reader: dict[str, str]) -> None:
    first = client.put("/api/v1/models/m", json=model_body(), headers=writer)
    assert first.status_code == 201
    assert first.json()["config_version"] == 1
    same = client.put("/api/v1/models/m", json=model_body(), headers=writer)
    assert same.status_code == 200
    assert same.json()["config_version"] == 1
    changed = client.put("/api/v1/models/m", json=model_body(window="1d"), headers=writer)
    assert changed.status_code == 200
    assert changed.json()["config_version"] == 2
    assert changed.json()["config"]["window"] == "1d"
    assert client.get("/api/v1/models/m", headers=reader).json()["config"]["window"] == "1d"


def test_put_with_other_model_id_is_refused(client: TestClient, writer: dict[str, str],
                                            engine: Engine) -> None:
    response = client.put("/api/v1/models/m", json=model_body("other"), headers=writer)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "model_id"]]
    assert _count(engine, ModelRow) == 0


def test_bad_config_names_the_field_and_stores_nothing(
        client: TestClient, writer: dict[str, str], engine: Engine) -> None:
    bad = model_body(features=[{"name": "x", "type": "numerc"}])
    response = client.post("/api/v1/models", json=bad, headers=writer)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "features", 0, "type"]]

    several = model_body(task="binary", window="soon", colour="red")
    response = client.put("/api/v1/models/m", json=several, headers=writer)
    assert response.status_code == 422
    locs = sorted(".".join(map(str, e["loc"])) for e in response.json()["detail"])
    assert locs == ["body.colour", "body.task", "body.window"]

    not_a_mapping = client.post("/api/v1/models", json=["m"], headers=writer)
    assert not_a_mapping.status_code == 422
    duplicate = model_body(features=[{"name": "x", "type": "numeric"}] * 2)
    response = client.post("/api/v1/models", json=duplicate, headers=writer)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "features"]]
    assert _count(engine, ModelRow) == 0


def test_values_json_cannot_carry_are_refused(client: TestClient, writer: dict[str, str],
                                              engine: Engine) -> None:
    headers = {**writer, "Content-Type": "application/json"}
    model = orjson.dumps(model_body())[:-1]
    for extra, loc in ((b',"drift":{"alert":NaN}', ["body", "drift", "alert"]),
                       (b',"drift":{"alert":Infinity}', ["body", "drift", "alert"]),
                       (b',"lateness":{"allowed_lateness":100000000000000000000}',
                        ["body", "lateness", "allowed_lateness"])):
        response = client.post("/api/v1/models", content=model + extra + b"}", headers=headers)
        assert response.status_code == 422, response.text
        assert [e["loc"] for e in response.json()["detail"]] == [loc]
    assert _count(engine, ModelRow) == 0


def test_bad_model_id_in_path(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get("/api/v1/models/-bad!", headers=reader)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "model_id"]


def test_delete_removes_the_model_and_what_it_owns(
        client: TestClient, writer: dict[str, str], reader: dict[str, str],
        engine: Engine) -> None:
    for model_id in ("m", "keep"):
        assert client.post("/api/v1/models", json=model_body(model_id),
                           headers=writer).status_code == 201
        with engine.begin() as conn:
            conn.execute(insert(ReferenceRow).values(model_id=model_id, version=1,
                                                     created_at_ms=0, n_rows=1, source="",
                                                     profile="{}"))
            conn.execute(insert(WindowRow).values(model_id=model_id, window_start=0,
                                                  window_end=3_600_000, status="closed",
                                                  needs_revision=False, revision=0, touches=1))
            conn.execute(insert(WindowPartitionStateRow).values(
                model_id=model_id, window_start=0, kafka_partition=0, state="{}",
                updated_at_ms=0))
            conn.execute(insert(MetricRecordRow).values(
                model_id=model_id, window_start=0, window_end=3_600_000, family="ingestion",
                metric="events", n=1, status="ok", revision=0, computed_at_ms=0))

    assert client.delete("/api/v1/models/m", headers=writer).status_code == 204
    assert client.get("/api/v1/models/m", headers=reader).status_code == 404
    assert client.delete("/api/v1/models/m", headers=writer).status_code == 404
    for table in (ModelRow, ReferenceRow, WindowRow, WindowPartitionStateRow, MetricRecordRow):
        assert _count(engine, table) == 1
    assert client.get("/api/v1/models/keep", headers=reader).status_code == 200


def test_unknown_model_is_404(client: TestClient, reader: dict[str, str]) -> None:
    response = client.get("/api/v1/models/nope", headers=reader)
    assert response.status_code == 404
    assert response.json() == {"detail": "model 'nope' not found"}


def test_body_too_large(client: TestClient, keys: dict[str, str],
                        engine: Engine) -> None:
    padded = model_body(description="")
    raw = orjson.dumps(padded)
    big = raw[:-1] + b" " * (BODY_LIMIT + 1 - len(raw)) + b"}"
    assert len(big) == BODY_LIMIT + 1
    headers = {**bearer(keys["write"]), "Content-Type": "application/json"}
    response = client.post("/api/v1/models", content=big, headers=headers)
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body larger than {BODY_LIMIT} bytes"}

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 1000):
            yield big[i:i + 1000]

    streamed = client.post("/api/v1/models", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    exact = raw[:-1] + b" " * (BODY_LIMIT - len(raw)) + b"}"
    assert client.post("/api/v1/models", content=exact, headers=headers).status_code == 201
    assert _count(engine, ModelRow) == 1


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/models", "/api/v1/models/{model_id}",
            "/api/v1/models/{model_id}/reference", "/api/v1/models/{model_id}/metrics",
            "/api/v1/models/{model_id}/windows", "/api/v1/dead-letters", "/healthz",
            "/readyz", "/metrics"} <= set(paths)
