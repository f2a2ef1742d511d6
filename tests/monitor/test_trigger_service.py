"""Retraining triggers in the service: one per alert episode, cooldown, kill switch, a replay
that finds its triggers already there, and an Airflow-like orchestrator behind the relay."""

from __future__ import annotations

import random
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, delete, select

from monitor.alert_eval import alerting_step
from monitor.config import ModelConfig, parse_config
from monitor.db import alerting_sql, repository
from monitor.db.schema import ALERT_STATES, AUDIT, OUTBOX, TRIGGERS
from monitor.db.sql_store import SqlStore
from monitor.metric_record import MetricRecord
from monitor.relay import relay_once
from monitor.settings import Settings
from monitor.timeutil import now_ms
from tests.monitor.triggers.receiver import Answer, Receiver

HOUR = 3_600_000
T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR
SETTINGS = Settings(url_allowlist="127.0.0.1/32")


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    found: Engine = request.getfixturevalue(
        "sqlite_engine" if request.param == "sqlite" else "pg_engine")
    return found


def _config(**retraining: Any) -> ModelConfig:
    config = parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
                           "features": [{"name": "x", "type": "numeric"}],
                           "retraining": retraining})
    return config


def _window(engine: Engine, config: ModelConfig, w: int, status: str) -> None:
    start = T0 + w * HOUR
    records = [MetricRecord("m", start, start + HOUR, "data_drift", "drift_share", None, None,
                            0.6 if status == "alert" else 0.0, 0.5, None, None, None, 1000,
                            status),
               MetricRecord("m", start, start + HOUR, "data_drift", "wasserstein", "x", None,
                            0.4, 0.075, 0.001, None, None, 1000, status)]
    with engine.begin() as conn:
        alerting_step(SqlStore(conn, "driftline", "driftline.predictions"), config, records)


def _rows(engine: Engine, table: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(table)))


def _run(engine: Engine, config: ModelConfig, statuses: str) -> None:
    for w, s in enumerate(statuses):
        _window(engine, config, w, "alert" if s == "A" else "ok")


def test_one_trigger_per_episode_with_evidence_and_a_replay_adds_none(engine: Engine) -> None:
    config = _config()
    with engine.begin() as conn:
        repository.upsert_model(conn, config)
    _run(engine, config, "AAAA")
    (t,) = _rows(engine, TRIGGERS)
    assert (t.status, t.event_time_ms, t.manual) == ("pending", T0 + 2 * HOUR, False)
    evidence = orjson.loads(t.evidence)
    assert evidence["drifted_features"] == ["x"]
    assert evidence["windows"] == [T0, T0 + HOUR]
    assert evidence["alert"]["labels"]["rule"] == "data_drift_sustained"
    assert _rows(engine, OUTBOX) == []  # pull dispatch: the stack polls the API
    # a full replay from scratch (engine state lost) finds the same trigger id
    with engine.begin() as conn:
        conn.execute(delete(ALERT_STATES))
    _run(engine, config, "AAAA")
    assert [r.trigger_id for r in _rows(engine, TRIGGERS)] == [t.trigger_id]
    actions = [a.action for a in _rows(engine, AUDIT)]
    assert actions.count("trigger_created") == 1


def test_cooldown_and_the_kill_switch_suppress_with_reasons(engine: Engine) -> None:
    config = _config(cooldown="6h")
    with engine.begin() as conn:
        repository.upsert_model(conn, config)
    _run(engine, config, "AAooAA")  # two episodes 4 windows apart: the second is in cooldown
    (first,) = _rows(engine, TRIGGERS)
    with engine.begin() as conn:
        alerting_sql.set_trigger_status(conn, first.trigger_id, "succeeded")
    audit = [(a.action, orjson.loads(a.detail).get("reason", "")) for a in _rows(engine, AUDIT)]
    assert audit[-1][0] == "trigger_suppressed"
    assert audit[-1][1].startswith("cooldown: last trigger 4h ago, cooldown is 6h")
    for w in range(6, 9):
        _window(engine, config, w, "ok")
    for w in range(9, 11):  # a third episode, after the cooldown
        _window(engine, config, w, "alert")
    assert len(_rows(engine, TRIGGERS)) == 2
    with engine.begin() as conn:
        alerting_sql.set_kill_switch(conn, True, "ops")
    for w in range(11, 14):
        _window(engine, config, w, "ok")
    for w in range(14, 30):
        _window(engine, config, w, "ok" if w % 3 == 0 else "alert")
    assert len(_rows(engine, TRIGGERS)) == 2
    reasons = [orjson.loads(a.detail).get("reason", "") for a in _rows(engine, AUDIT)
               if a.action == "trigger_suppressed"]
    assert reasons[-1] == "kill switch: retraining triggers are switched off"


def test_an_airflow_like_orchestrator_answering_409_counts_as_dispatched(
        engine: Engine) -> None:
    runs: list[str] = []

    def airflow(r: Any) -> Answer:
        run_id = orjson.loads(r.body)["dag_run_id"]
        if len(runs) == 0:
            runs.append(run_id)
            return Answer(503)  # created, but the answer was lost
        return Answer(409, {"detail": f"DAGRun {run_id} already exists"})

    receiver = Receiver(airflow)
    try:
        config = _config(dispatch={"type": "airflow", "url": receiver.url, "dag_id": "retrain"})
        with engine.begin() as conn:
            repository.upsert_model(conn, config)
        _run(engine, config, "AA")
        (t,) = _rows(engine, TRIGGERS)
        (row,) = _rows(engine, OUTBOX)
        assert (row.kind, row.message_id, row.trigger_id) == ("trigger", t.trigger_id,
                                                               t.trigger_id)
        client = httpx.Client(trust_env=False)
        rng = random.Random(0)
        now = now_ms()
        relay_once(engine, SETTINGS, client, now=now, rng=rng)
        relay_once(engine, SETTINGS, client, now=now + HOUR, rng=rng)
        client.close()
        paths = [(r.path, orjson.loads(r.body)["dag_run_id"]) for r in receiver.requests]
        assert paths == [("/api/v1/dags/retrain/dagRuns", t.trigger_id)] * 2
        (t,) = _rows(engine, TRIGGERS)
        (row,) = _rows(engine, OUTBOX)
        assert (t.status, row.status, row.attempts) == ("dispatched", "sent", 2)
    finally:
        receiver.close()
