"""Rows for the alerting API tests, written through the same functions the service uses."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from sqlalchemy import Engine, func, select
from sqlalchemy.sql.schema import Table

from monitor.alert_store import AlertEntry, AuditEntry, OutboxEntry, TriggerEntry
from monitor.db import alerting_sql
from monitor.db.schema import AUDIT

HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
_ids = itertools.count()


def actor(key: str) -> str:
    """How the audit trail names the holder of a plaintext key."""
    return f"key:{key.split('_')[1]}"


def alert(alert_id: str, model_id: str = "m", *, state: str = "firing", starts_at_ms: int = T0,
          rule: str = "performance_drop", severity: str = "critical") -> AlertEntry:
    labels = {"model_id": model_id, "rule": rule, "family": "performance", "metric": "auc",
              "feature": "", "slice": "", "severity": severity}
    return AlertEntry(alert_id, model_id, f"fp{alert_id}"[:16], rule, severity, state,
                      starts_at_ms, None if state == "firing" else starts_at_ms + HOUR, 0.61,
                      labels, {"summary": f"{model_id}: auc is 0.61"})


def seed_alerts(engine: Engine, *alerts: AlertEntry) -> None:
    with engine.begin() as conn:
        alerting_sql.save_alerts(conn, list(alerts))


def trigger(model_id: str = "m", status: str = "pending", *, trigger_id: str | None = None,
            created_at_ms: int = T0) -> TriggerEntry:
    tid = trigger_id or f"trg_seed{next(_ids):020d}"
    return TriggerEntry(tid, model_id, created_at_ms, status, "performance_drop: allowed",
                        {"alert": {"alert_id": "a1"}}, created_at_ms, False, None)


def seed_trigger(engine: Engine, entry: TriggerEntry,
                 outbox: OutboxEntry | None = None) -> str:
    with engine.begin() as conn:
        assert alerting_sql.add_trigger(conn, entry, outbox, AuditEntry(
            "driftline", "trigger_created", entry.model_id, entry.trigger_id))
    return entry.trigger_id


def count(engine: Engine, table: Table, **where: Any) -> int:
    stmt = select(func.count()).select_from(table).where(
        *(table.c[k] == v for k, v in where.items()))
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def audit(engine: Engine, action: str | None = None) -> list[dict[str, Any]]:
    """Audit entries in insertion order (optionally of one action), ``detail`` decoded."""
    stmt = select(AUDIT).order_by(AUDIT.c.id)
    if action is not None:
        stmt = stmt.where(AUDIT.c.action == action)
    with engine.connect() as conn:
        return [{"actor": r.actor, "action": r.action, "model_id": r.model_id,
                 "subject": r.subject, "detail": orjson.loads(r.detail)}
                for r in conn.execute(stmt)]
