"""Alerts: ``GET /api/v1/alerts``, ``GET /api/v1/alerts/{alert_id}``,
``POST /api/v1/alerts/{alert_id}/ack``; and the audit trail, ``GET /api/v1/audit``.

Acknowledging an alert records who looked at it and when. It is informational: it does not
silence the alert or stop its notifications (a silence does that).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query

from monitor.alert_store import AuditEntry
from monitor.api.deps import AdminKey, DbConn, ReadKey, SettingsDep, WriteKey
from monitor.api.errors import NotFoundError
from monitor.api.params import NO_CONTROL, decode_cursor, encode_cursor, page_limit
from monitor.api.routes._paging import decode_keyset, encode_keyset
from monitor.api.schemas import (
    AlertPublic,
    AlertsPage,
    AuditPage,
    AuditPublic,
    CommentBody,
)
from monitor.db import alerting_queries as q
from monitor.db import alerting_sql
from monitor.timeutil import now_ms

router = APIRouter(tags=["alerts"])

AlertIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
                                  description="the alert's id")]
ModelFilter = Annotated[str | None, Query(max_length=128, pattern=NO_CONTROL)]
Limit = Annotated[int | None, Query(description="1..api_max_page_size; default 100")]
Cursor = Annotated[str | None, Query(max_length=256)]


@router.get("/alerts", response_model=AlertsPage)
def list_alerts(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: ModelFilter = None,
    state: Literal["firing", "resolved"] | None = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> AlertsPage:
    """Alerts, newest first; filter by model and state; page with ``next_cursor``."""
    size = page_limit(settings, limit)
    after = decode_keyset(cursor)
    rows = q.list_alerts(conn, model_id=model_id, state=state, limit=size + 1, after=after)
    page = rows[:size]
    return AlertsPage(items=[AlertPublic.of(a) for a in page],
                      next_cursor=(encode_keyset(page[-1].entry.starts_at_ms,
                                                 page[-1].entry.alert_id)
                                   if len(rows) > size else None))


@router.get("/alerts/{alert_id}", response_model=AlertPublic,
            responses={404: {"description": "unknown alert"}})
def get_alert(_: ReadKey, conn: DbConn, alert_id: AlertIdPath) -> AlertPublic:
    found = q.get_alert(conn, alert_id)
    if found is None:
        raise NotFoundError(f"alert {alert_id!r} not found")
    return AlertPublic.of(found)


@router.post("/alerts/{alert_id}/ack", response_model=AlertPublic,
             responses={404: {"description": "unknown alert"}})
def ack_alert(principal: WriteKey, conn: DbConn, alert_id: AlertIdPath,
              body: Annotated[CommentBody | None, Body()] = None) -> AlertPublic:
    """Record that the caller acknowledged the alert (informational: notifications go on)."""
    at = now_ms()
    found = q.get_alert(conn, alert_id)
    if found is None or not q.acknowledge_alert(conn, alert_id, principal.actor, at):
        raise NotFoundError(f"alert {alert_id!r} not found")
    comment = body.comment if body is not None else None
    alerting_sql.add_audit(conn, [AuditEntry(principal.actor, "alert_acknowledged",
                                             found.entry.model_id, alert_id,
                                             {"comment": comment})])
    acked = q.get_alert(conn, alert_id)
    assert acked is not None  # updated just above, in this transaction
    return AlertPublic.of(acked)


@router.get("/audit", response_model=AuditPage, tags=["audit"])
def list_audit(
    *,
    _: AdminKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: ModelFilter = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> AuditPage:
    """The append-only audit trail, newest first (admin only)."""
    size = page_limit(settings, limit)
    before = decode_cursor(cursor, 1)
    rows = q.list_audit(conn, model_id=model_id, limit=size + 1,
                        before_id=None if before is None else before[0])
    page = rows[:size]
    return AuditPage(items=[AuditPublic.of(a) for a in page],
                     next_cursor=encode_cursor(page[-1].id) if len(rows) > size else None)
