"""Signed training callbacks (RELIABILITY promise 7, incoming): verification, replays, status
transitions and re-baselining on success."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from monitor.api.app import create_app
from monitor.db import alerting_sql, repository
from monitor.db.schema import (
    ALERT_STATES,
    ALERTS,
    CALLBACK_RECEIPTS,
    CONCEPT_STATES,
    REFERENCES,
    TRIGGERS,
)
from monitor.delivery import signing
from monitor.settings import Settings
from tests.monitor.api.alerting_helpers import (
    alert,
    audit,
    count,
    seed_alerts,
    seed_trigger,
    trigger,
)
from tests.monitor.api.conftest import bearer, model_body

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_" + "A" * 32
URL = "/api/v1/callbacks/training"
_ids = iter(range(10**6))


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    return api_settings.replace(callback_secrets=f"{SECRET}, {OLD_SECRET}")


@pytest.fixture
def seeded(client: TestClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["admin"])
    assert client.post("/api/v1/models", json=model_body(), headers=admin).status_code == 201
    rows = b"\n".join(orjson.dumps({"features": {"x": float(i), "c": "a"}}) for i in range(20))
    assert client.put("/api/v1/models/m/reference", content=rows, headers={
        **admin, "Content-Type": "application/x-ndjson"}).status_code == 201


def signed(body: Any, *, msg_id: str | None = None, timestamp: int | None = None,
           secret: str = SECRET) -> dict[str, Any]:
    """Keyword arguments of a signed POST: the exact body bytes and their signature."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = signing.sign([secret], msg_id or f"msg_{next(_ids)}",
                           int(time.time()) if timestamp is None else timestamp, raw)
    return {"content": raw, "headers": {**headers, "Content-Type": "application/json"}}


def _trigger_row(engine: Engine, tid: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(TRIGGERS).where(TRIGGERS.c.trigger_id == tid)).one()


@pytest.mark.usefixtures("seeded")
def test_running_then_succeeded_with_a_new_reference(client: TestClient,
                                                     engine: Engine) -> None:
    tid = seed_trigger(engine, trigger("m", "dispatched"))
    seed_alerts(engine, alert("a1"), alert("a2", state="resolved"))
    with engine.begin() as conn:
        alerting_sql.save_alert_state(conn, "m", {"state_version": 1, "series": {}})
        conn.execute(insert(CONCEPT_STATES).values(model_id="m", last_window_start=0,
                                                   state="{}"))
        alerting_sql.save_alert_state(conn, "keep", {"state_version": 1, "series": {}})

    running = client.post(URL, **signed({"trigger_id": tid, "status": "running",
                                         "detail": "run 17 started"}, msg_id="msg_run"))
    assert running.status_code == 200, running.text
    assert running.json()["replayed"] is False
    assert running.json()["trigger"]["status"] == "running"
    assert running.json()["trigger"]["detail"] == "run 17 started"
    assert running.json()["reference"] is None

    rows = [{"features": {"x": float(i) + 0.5, "c": "b"}, "score": 0.5, "prediction": 1}
            for i in range(30)]
    done = client.post(URL, **signed({"trigger_id": tid, "status": "succeeded",
                                      "model_version": "v7", "reference": rows},
                                     msg_id="msg_done"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["trigger"]["status"] == "succeeded"
    assert body["trigger"]["model_version"] == "v7"
    assert (body["reference"]["version"], body["reference"]["n_rows"]) == (2, 30)
    assert body["reference"]["source"] == f"callback:{tid}:v7"
    with engine.connect() as conn:
        info = repository.get_reference_info(conn, "m")
        states = conn.execute(select(ALERT_STATES.c.model_id)).scalars().all()
        alerts = dict(conn.execute(select(ALERTS.c.alert_id, ALERTS.c.state)).all())
    assert info is not None
    assert (info.version, info.n_rows) == (2, 30)
    assert count(engine, REFERENCES, model_id="m") == 2
    assert count(engine, CONCEPT_STATES, model_id="m") == 0
    assert states == ["keep"]
    assert alerts == {"a1": "resolved", "a2": "resolved"}
    row = _trigger_row(engine, tid)
    assert (row.status, row.model_version) == ("succeeded", "v7")
    trail = [(a["actor"], a["action"], a["detail"]) for a in audit(engine)
             if a["actor"] == "training-callback"]
    assert trail == [
        ("training-callback", "trigger_callback",
         {"webhook_id": "msg_run", "from": "dispatched", "to": "running",
          "model_version": None, "detail": "run 17 started"}),
        ("training-callback", "trigger_callback",
         {"webhook_id": "msg_done", "from": "running", "to": "succeeded",
          "model_version": "v7", "detail": None}),
        ("training-callback", "reference_rebaselined",
         {"version": 2, "n_rows": 30, "alerts_resolved": 1, "model_version": "v7"})]


@pytest.mark.usefixtures("seeded")
def test_a_replayed_callback_changes_nothing(client: TestClient, engine: Engine) -> None:
    tid = seed_trigger(engine, trigger("m", "dispatched"))
    request = signed({"trigger_id": tid, "status": "failed", "detail": "OOM"}, msg_id="msg_1")
    first = client.post(URL, **request)
    assert first.status_code == 200
    assert first.json()["trigger"]["status"] == "failed"
    n_audit = len(audit(engine))
    replay = client.post(URL, **request)
    assert replay.status_code == 200
    assert replay.json() == {"replayed": True, "trigger": None, "reference": None}
    # The same id with another body and a fresh signature is still the same message.
    other = client.post(URL, **signed({"trigger_id": tid, "status": "succeeded"},
                                      msg_id="msg_1"))
    assert other.json() == {"replayed": True, "trigger": None, "reference": None}
    assert _trigger_row(engine, tid).status == "failed"
    assert len(audit(engine)) == n_audit
    assert count(engine, CALLBACK_RECEIPTS) == 1


@pytest.mark.usefixtures("seeded")
def test_bad_signatures_are_401(client: TestClient, keys: dict[str, str],
                                engine: Engine) -> None:
    tid = seed_trigger(engine, trigger("m", "dispatched"))
    body = {"trigger_id": tid, "status": "running"}
    tampered = signed(body)
    tampered["content"] = orjson.dumps({**body, "status": "succeeded"})
    stale = signed(body, timestamp=int(time.time()) - 360)  # margins: the clock moves
    future = signed(body, timestamp=int(time.time()) + 360)
    wrong_key = signed(body, secret="whsec_" + "B" * 32)
    unsigned = {"json": body}
    key_only = {"json": body, "headers": bearer(keys["admin"])}
    no_signature = signed(body)
    del no_signature["headers"]["webhook-signature"]
    for request, reason in ((tampered, "no matching signature"),
                            (stale, "timestamp too old"), (future, "timestamp too new"),
                            (wrong_key, "no matching signature"),
                            (unsigned, "missing header webhook-id"),
                            (key_only, "missing header webhook-id"),
                            (no_signature, "missing header webhook-signature")):
        response = client.post(URL, **request)
        assert response.status_code == 401, reason
        assert response.json()["detail"].startswith(f"invalid callback signature: {reason}")
    assert _trigger_row(engine, tid).status == "dispatched"
    assert count(engine, CALLBACK_RECEIPTS) == 0
    # Signed with the older of the two configured secrets (rotation): accepted.
    assert client.post(URL, **signed(body, secret=OLD_SECRET)).status_code == 200


def test_no_callback_secret_is_503(api_settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(api_settings.replace(callback_secrets=""))) as client:
        response = client.post(URL, **signed({"trigger_id": "t", "status": "running"}))
    assert response.status_code == 503
    assert response.json() == {
        "detail": "training callbacks are off: set DRIFTLINE_CALLBACK_SECRETS"}
    assert count(engine, CALLBACK_RECEIPTS) == 0


@pytest.mark.usefixtures("seeded")
def test_transitions(client: TestClient, engine: Engine) -> None:
    unknown = client.post(URL, **signed({"trigger_id": "trg_nope", "status": "running"}))
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "trigger 'trg_nope' not found"}
    done = seed_trigger(engine, trigger("m", "succeeded"))
    out_of_final = client.post(URL, **signed({"trigger_id": done, "status": "running"}))
    assert out_of_final.status_code == 409
    assert out_of_final.json() == {"detail": f"trigger {done!r} is succeeded; it cannot "
                                             "become running"}
    same = client.post(URL, **signed({"trigger_id": done, "status": "succeeded"}))
    assert same.status_code == 200
    assert same.json()["trigger"]["status"] == "succeeded"
    assert [a["action"] for a in audit(engine) if a["actor"] == "training-callback"] == [
        "trigger_callback_unchanged"]
    rejected = seed_trigger(engine, trigger("m", "rejected"))
    assert client.post(URL, **signed({"trigger_id": rejected, "status": "succeeded"})
                       ).status_code == 409
    waiting = seed_trigger(engine, trigger("m", "awaiting_approval"))
    assert client.post(URL, **signed({"trigger_id": waiting, "status": "running"})
                       ).status_code == 409
    polled = seed_trigger(engine, trigger("m", "acknowledged"))
    assert client.post(URL, **signed({"trigger_id": polled, "status": "running"})
                       ).json()["trigger"]["status"] == "running"
    # Refused requests leave no receipt: the sender may retry them once fixed.
    assert count(engine, CALLBACK_RECEIPTS) == 2


@pytest.mark.usefixtures("seeded")
def test_invalid_bodies_name_the_field(client: TestClient, engine: Engine) -> None:
    tid = seed_trigger(engine, trigger("m", "dispatched"))
    rows = [{"features": {"x": 1.0, "c": "a"}}]
    for body, loc in (
            ({"trigger_id": tid, "status": "done"}, ["body", "status"]),
            ({"status": "running"}, ["body", "trigger_id"]),
            ({"trigger_id": tid, "status": "running", "extra": 1}, ["body", "extra"]),
            ({"trigger_id": tid, "status": "running", "reference": rows}, ["body", "reference"]),
            ({"trigger_id": tid, "status": "succeeded", "reference": []}, ["body", "reference"]),
            ({"trigger_id": tid, "status": "succeeded", "reference": [{"features": {"y": 1}}]},
             ["body", "reference"]),
            ({"trigger_id": tid, "status": "succeeded", "reference": [1]},
             ["body", "reference", 0]),
            (b"not json", ["body"]),
            ([tid], ["body"])):
        response = client.post(URL, **signed(body))
        assert response.status_code == 422, (body, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [loc], body
    assert _trigger_row(engine, tid).status == "dispatched"
    assert count(engine, CALLBACK_RECEIPTS) == 0
    assert count(engine, REFERENCES) == 1
