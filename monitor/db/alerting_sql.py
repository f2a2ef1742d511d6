"""Alerts, triggers, outbox rows and the audit trail in the database (SQLite or PostgreSQL).

Used by :class:`monitor.db.sql_store.SqlStore` inside a window's transaction, and by the API
routes and the relay with their own connections. Every function takes a connection inside a
transaction that the caller owns.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitor.alert_store import (
    ACTIVE_TRIGGER_STATES,
    COUNTED_TRIGGER_STATES,
    AlertEntry,
    AuditEntry,
    OutboxEntry,
    TriggerCounts,
    TriggerEntry,
)
from monitor.db.schema import ALERT_STATES, ALERTS, AUDIT, FLAGS, MODELS, OUTBOX, TRIGGERS
from monitor.timeutil import now_ms

KILL_SWITCH = "retraining_kill_switch"


def dialect_insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def dumps(value: Any) -> str:
    """JSON text with sorted keys, as every alerting column stores it."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def load_alert_state(conn: Connection, model_id: str) -> dict[str, Any] | None:
    raw = conn.execute(select(ALERT_STATES.c.state)
                       .where(ALERT_STATES.c.model_id == model_id)).scalar_one_or_none()
    return None if raw is None else dict(orjson.loads(raw))


def save_alert_state(conn: Connection, model_id: str, state: dict[str, Any]) -> None:
    values = {"state": dumps(state), "updated_at_ms": now_ms()}
    stmt = dialect_insert(conn)(ALERT_STATES).values(model_id=model_id, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["model_id"], set_=values))


def save_alerts(conn: Connection, alerts: list[AlertEntry]) -> None:
    now = now_ms()
    for a in alerts:
        values = {"model_id": a.model_id, "fingerprint": a.fingerprint, "rule": a.rule,
                  "severity": a.severity, "state": a.state, "starts_at_ms": a.starts_at_ms,
                  "ends_at_ms": a.ends_at_ms, "value": a.value, "labels": dumps(a.labels),
                  "annotations": dumps(a.annotations), "updated_at_ms": now}
        stmt = dialect_insert(conn)(ALERTS).values(alert_id=a.alert_id, created_at_ms=now, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["alert_id"], set_=values))


def alert_from_row(r: Any) -> AlertEntry:
    return AlertEntry(r.alert_id, r.model_id, r.fingerprint, r.rule, r.severity, r.state,
                      int(r.starts_at_ms), None if r.ends_at_ms is None else int(r.ends_at_ms),
                      r.value, dict(orjson.loads(r.labels)), dict(orjson.loads(r.annotations)))


def lock_model(conn: Connection, model_id: str) -> bool:
    """Lock the model's row until the transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` already serialises writers), so that concurrent triggers of one model
    count each other. False when the model does not exist."""
    stmt = select(MODELS.c.model_id).where(MODELS.c.model_id == model_id).with_for_update()
    return conn.execute(stmt).first() is not None


def trigger_counts(conn: Connection, model_id: str, since_ms: int) -> TriggerCounts:
    """Counts for the trigger policy; the model's row is locked first (:func:`lock_model`), so
    two transactions (the worker's and a manual trigger's) cannot both pass ``max_running``."""
    lock_model(conn, model_id)
    c = TRIGGERS.c
    at = func.coalesce(c.event_time_ms, c.created_at_ms)
    running = conn.execute(select(func.count()).where(
        c.model_id == model_id, c.status.in_(ACTIVE_TRIGGER_STATES))).scalar_one()
    since, last = conn.execute(select(
        func.count().filter(at >= since_ms), func.max(at)).where(
        c.model_id == model_id, c.status.in_(COUNTED_TRIGGER_STATES))).one()
    return TriggerCounts(int(running), int(since or 0), None if last is None else int(last))


def add_outbox(conn: Connection, entries: list[OutboxEntry], *, at_ms: int | None = None
               ) -> int:
    """Queue messages; a ``message_id`` already queued is left alone. Returns rows added."""
    if not entries:
        return 0
    now = now_ms() if at_ms is None else at_ms
    added = 0
    for e in entries:  # RETURNING: rowcount of ON CONFLICT DO NOTHING is not reliable
        added += conn.execute(dialect_insert(conn)(OUTBOX).values(
            message_id=e.message_id, kind=e.kind, channel_id=e.channel_id,
            trigger_id=e.trigger_id, model_id=e.model_id, payload=dumps(e.payload),
            status="pending", attempts=0, next_attempt_at_ms=now, created_at_ms=now)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(OUTBOX.c.id)).first() is not None
    return added


def add_audit(conn: Connection, entries: list[AuditEntry]) -> None:
    if entries:
        now = now_ms()
        conn.execute(AUDIT.insert(), [
            {"at_ms": now, "actor": e.actor, "action": e.action, "model_id": e.model_id,
             "subject": e.subject, "detail": dumps(e.detail)} for e in entries])


def add_trigger(conn: Connection, trigger: TriggerEntry, outbox: OutboxEntry | None,
                audit: AuditEntry) -> bool:
    t = trigger
    result = conn.execute(dialect_insert(conn)(TRIGGERS).values(
        trigger_id=t.trigger_id, model_id=t.model_id, created_at_ms=t.created_at_ms,
        event_time_ms=t.event_time_ms, status=t.status, reason=t.reason[:1024],
        evidence=dumps(t.evidence), manual=t.manual, requested_by=t.requested_by,
        updated_at_ms=now_ms()).on_conflict_do_nothing(index_elements=["trigger_id"])
        .returning(TRIGGERS.c.trigger_id))
    if result.first() is None:
        return False
    if outbox is not None:
        add_outbox(conn, [outbox])
    add_audit(conn, [audit])
    return True


def trigger_from_row(r: Any) -> TriggerEntry:
    return TriggerEntry(r.trigger_id, r.model_id, int(r.created_at_ms), r.status, r.reason,
                        dict(orjson.loads(r.evidence)),
                        None if r.event_time_ms is None else int(r.event_time_ms),
                        bool(r.manual), r.requested_by)


def set_trigger_status(conn: Connection, trigger_id: str, status: str, *,
                       external_id: str | None = None, detail: str | None = None,
                       model_version: str | None = None,
                       only_from: Collection[str] | None = None,
                       at_ms: int | None = None) -> bool:
    """Set a trigger's status (compare-and-set: only from one of ``only_from`` when given);
    False when no row changed."""
    values: dict[str, Any] = {"status": status,
                              "updated_at_ms": now_ms() if at_ms is None else at_ms}
    if external_id is not None:
        values["external_id"] = external_id
    if detail is not None:
        values["detail"] = detail[:1024]
    if model_version is not None:
        values["model_version"] = model_version[:128]
    stmt = update(TRIGGERS).where(TRIGGERS.c.trigger_id == trigger_id)
    if only_from is not None:
        stmt = stmt.where(TRIGGERS.c.status.in_(sorted(only_from)))
    return bool(conn.execute(stmt.values(**values)).rowcount)


def kill_switch(conn: Connection) -> bool:
    raw = conn.execute(select(FLAGS.c.value).where(FLAGS.c.name == KILL_SWITCH)
                       ).scalar_one_or_none()
    return raw == "on"


def set_kill_switch(conn: Connection, on: bool, actor: str) -> None:
    values = {"value": "on" if on else "off", "updated_at_ms": now_ms(), "updated_by": actor}
    stmt = dialect_insert(conn)(FLAGS).values(name=KILL_SWITCH, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
    add_audit(conn, [AuditEntry(actor, "kill_switch_on" if on else "kill_switch_off")])
