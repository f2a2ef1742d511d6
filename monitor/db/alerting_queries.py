"""What the alerting and trigger routes read and write: alerts, silences, channels, outbox rows
(deliveries), triggers, the audit trail and signed-callback receipts.

Plain functions over a SQLAlchemy :class:`~sqlalchemy.Connection` (SQLite and PostgreSQL); the
caller owns the transaction, so a route's change and its audit entry
(:func:`monitor.db.alerting_sql.add_audit`) commit together. State changes of triggers are
compare-and-set (``WHERE status IN (...)``): of two concurrent requests, one wins and the other
sees its transition refused.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from monitor.alert_store import AlertEntry, TriggerEntry
from monitor.db import alerting_sql
from monitor.db.schema import (
    ALERT_STATES,
    ALERTS,
    AUDIT,
    CALLBACK_RECEIPTS,
    CHANNELS,
    CONCEPT_STATES,
    FLAGS,
    OUTBOX,
    SILENCES,
    TRIGGERS,
)

KeysetAfter = tuple[int, str]
"""The (time, id) of the last item of the previous page, for newest-first keyset pages."""


def _newest_first(time_col: Any, id_col: Any, after: KeysetAfter | None) -> list[Any]:
    """The condition that keeps rows older than ``after`` in (time desc, id desc) order."""
    if after is None:
        return []
    return [or_(time_col < after[0], and_(time_col == after[0], id_col < after[1]))]


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


# ---------------------------------------------------------------- alerts
@dataclass(frozen=True)
class StoredAlert:
    """An alert with who acknowledged it (informational: it does not stop notifications)."""

    entry: AlertEntry
    acknowledged_by: str | None
    acknowledged_at_ms: int | None


def _stored_alert(r: Any) -> StoredAlert:
    return StoredAlert(alerting_sql.alert_from_row(r), r.acknowledged_by,
                       _opt_int(r.acknowledged_at_ms))


def list_alerts(conn: Connection, *, model_id: str | None = None, state: str | None = None,
                limit: int = 100, after: KeysetAfter | None = None) -> list[StoredAlert]:
    """Alerts, newest first (by ``starts_at``, then ``alert_id``)."""
    c = ALERTS.c
    conds: list[Any] = _newest_first(c.starts_at_ms, c.alert_id, after)
    if model_id is not None:
        conds.append(c.model_id == model_id)
    if state is not None:
        conds.append(c.state == state)
    rows = conn.execute(select(ALERTS).where(*conds)
                        .order_by(c.starts_at_ms.desc(), c.alert_id.desc()).limit(limit))
    return [_stored_alert(r) for r in rows]


def get_alert(conn: Connection, alert_id: str) -> StoredAlert | None:
    row = conn.execute(select(ALERTS).where(ALERTS.c.alert_id == alert_id)).first()
    return None if row is None else _stored_alert(row)


def acknowledge_alert(conn: Connection, alert_id: str, actor: str, at_ms: int) -> bool:
    """Record who acknowledged the alert and when; False when there is no such alert."""
    result = conn.execute(update(ALERTS).where(ALERTS.c.alert_id == alert_id).values(
        acknowledged_by=actor[:128], acknowledged_at_ms=at_ms))
    return bool(result.rowcount)


# ---------------------------------------------------------------- silences
@dataclass(frozen=True)
class SilenceInfo:
    """A stored silence; ``matchers`` as ``{"name", "op", "value"}`` mappings."""

    silence_id: str
    matchers: list[dict[str, str]]
    starts_at_ms: int
    ends_at_ms: int
    created_by: str
    comment: str
    created_at_ms: int

    def status(self, now_ms: int) -> Literal["pending", "active", "expired"]:
        """``pending`` (not started), ``active`` or ``expired`` at ``now_ms``."""
        if now_ms < self.starts_at_ms:
            return "pending"
        return "active" if now_ms < self.ends_at_ms else "expired"


def _silence(r: Any) -> SilenceInfo:
    return SilenceInfo(r.silence_id, list(orjson.loads(r.matchers)), int(r.starts_at_ms),
                       int(r.ends_at_ms), r.created_by, r.comment or "", int(r.created_at_ms))


def list_silences(conn: Connection, *, now_ms: int, active: bool | None = None,
                  limit: int = 100, after: KeysetAfter | None = None) -> list[SilenceInfo]:
    """Silences, newest created first; ``active`` True keeps those in force at ``now_ms``,
    False those that are not (pending or expired)."""
    c = SILENCES.c
    conds: list[Any] = _newest_first(c.created_at_ms, c.silence_id, after)
    in_force = and_(c.starts_at_ms <= now_ms, c.ends_at_ms > now_ms)
    if active is True:
        conds.append(in_force)
    elif active is False:
        conds.append(or_(c.starts_at_ms > now_ms, c.ends_at_ms <= now_ms))
    rows = conn.execute(select(SILENCES).where(*conds)
                        .order_by(c.created_at_ms.desc(), c.silence_id.desc()).limit(limit))
    return [_silence(r) for r in rows]


def get_silence(conn: Connection, silence_id: str) -> SilenceInfo | None:
    row = conn.execute(select(SILENCES).where(SILENCES.c.silence_id == silence_id)).first()
    return None if row is None else _silence(row)


def insert_silence(conn: Connection, info: SilenceInfo) -> None:
    conn.execute(insert(SILENCES).values(
        silence_id=info.silence_id, matchers=alerting_sql.dumps(info.matchers),
        starts_at_ms=info.starts_at_ms, ends_at_ms=info.ends_at_ms,
        created_by=info.created_by[:128], comment=info.comment,
        created_at_ms=info.created_at_ms))


def expire_silence(conn: Connection, silence_id: str, now_ms: int) -> SilenceInfo | None:
    """End the silence at ``now_ms`` (a pending one ends before it starts: both times become
    ``now_ms``; an expired one keeps its times). None when there is no such silence."""
    found = get_silence(conn, silence_id)
    if found is None:
        return None
    conn.execute(update(SILENCES).where(SILENCES.c.silence_id == silence_id).values(
        starts_at_ms=min(found.starts_at_ms, now_ms), ends_at_ms=min(found.ends_at_ms, now_ms)))
    return get_silence(conn, silence_id)


# ---------------------------------------------------------------- channels
@dataclass(frozen=True)
class ChannelSecret:
    """A webhook signing secret; ``expires_at_ms`` None for the current one."""

    secret: str
    expires_at_ms: int | None

    def live(self, now_ms: int) -> bool:
        return self.expires_at_ms is None or self.expires_at_ms > now_ms

    def to_json(self) -> dict[str, Any]:
        return {"secret": self.secret, "expires_at_ms": self.expires_at_ms}


@dataclass(frozen=True)
class ChannelInfo:
    channel_id: str
    type: str
    url: str
    secrets: list[ChannelSecret]
    routing_key: str | None
    model_ids: list[str]
    min_severity: str
    enabled: bool
    created_at_ms: int
    updated_at_ms: int


def _channel(r: Any) -> ChannelInfo:
    secrets = [ChannelSecret(s["secret"], _opt_int(s.get("expires_at_ms")))
               for s in orjson.loads(r.secrets or "[]")]
    return ChannelInfo(r.channel_id, r.type, r.url, secrets, r.routing_key,
                       list(orjson.loads(r.model_ids or "[]")), r.min_severity,
                       bool(r.enabled), int(r.created_at_ms), int(r.updated_at_ms))


def list_channels(conn: Connection) -> list[ChannelInfo]:
    return [_channel(r) for r in conn.execute(select(CHANNELS)
                                              .order_by(CHANNELS.c.channel_id))]


def get_channel(conn: Connection, channel_id: str) -> ChannelInfo | None:
    row = conn.execute(select(CHANNELS).where(CHANNELS.c.channel_id == channel_id)).first()
    return None if row is None else _channel(row)


def insert_channel(conn: Connection, info: ChannelInfo) -> None:
    conn.execute(insert(CHANNELS).values(
        channel_id=info.channel_id, type=info.type, url=info.url,
        secrets=alerting_sql.dumps([s.to_json() for s in info.secrets]),
        routing_key=info.routing_key,
        model_ids=alerting_sql.dumps(info.model_ids), min_severity=info.min_severity,
        enabled=info.enabled, created_at_ms=info.created_at_ms,
        updated_at_ms=info.updated_at_ms))


def delete_channel(conn: Connection, channel_id: str) -> bool:
    """Delete the channel; its queued deliveries fail permanently at their next attempt."""
    return bool(conn.execute(delete(CHANNELS).where(CHANNELS.c.channel_id == channel_id))
                .rowcount)


def set_channel_secrets(conn: Connection, channel_id: str, secrets: list[ChannelSecret],
                        at_ms: int) -> None:
    conn.execute(update(CHANNELS).where(CHANNELS.c.channel_id == channel_id).values(
        secrets=alerting_sql.dumps([s.to_json() for s in secrets]), updated_at_ms=at_ms))


# ---------------------------------------------------------------- deliveries
@dataclass(frozen=True)
class DeliveryInfo:
    """An outbox row without its payload."""

    id: int
    message_id: str
    kind: str
    channel_id: str | None
    trigger_id: str | None
    model_id: str | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at_ms: int
    created_at_ms: int
    sent_at_ms: int | None


def list_deliveries(conn: Connection, *, status: str | None = None,
                    channel_id: str | None = None, model_id: str | None = None,
                    limit: int = 100, before_id: int | None = None) -> list[DeliveryInfo]:
    """Outbox rows, newest first, without their payload."""
    c = OUTBOX.c
    conds: list[Any] = []
    for column, value in ((c.status, status), (c.channel_id, channel_id),
                          (c.model_id, model_id)):
        if value is not None:
            conds.append(column == value)
    if before_id is not None:
        conds.append(c.id < before_id)
    rows = conn.execute(select(c.id, c.message_id, c.kind, c.channel_id, c.trigger_id,
                               c.model_id, c.status, c.attempts, c.last_status_code,
                               c.last_error, c.next_attempt_at_ms, c.created_at_ms,
                               c.sent_at_ms)
                        .where(*conds).order_by(c.id.desc()).limit(limit))
    return [DeliveryInfo(int(r.id), r.message_id, r.kind, r.channel_id, r.trigger_id,
                         r.model_id, r.status, int(r.attempts), _opt_int(r.last_status_code),
                         r.last_error, int(r.next_attempt_at_ms), int(r.created_at_ms),
                         _opt_int(r.sent_at_ms)) for r in rows]


# ---------------------------------------------------------------- triggers
@dataclass(frozen=True)
class StoredTrigger:
    """A trigger with what the dispatch and the training stack reported back."""

    entry: TriggerEntry
    external_id: str | None
    model_version: str | None
    detail: str
    updated_at_ms: int


def _stored_trigger(r: Any) -> StoredTrigger:
    return StoredTrigger(alerting_sql.trigger_from_row(r), r.external_id, r.model_version,
                         r.detail or "", int(r.updated_at_ms))


def list_triggers(conn: Connection, *, model_id: str | None = None, status: str | None = None,
                  limit: int = 100, after: KeysetAfter | None = None) -> list[StoredTrigger]:
    """Triggers, newest first (by ``created_at``, then ``trigger_id``)."""
    c = TRIGGERS.c
    conds: list[Any] = _newest_first(c.created_at_ms, c.trigger_id, after)
    if model_id is not None:
        conds.append(c.model_id == model_id)
    if status is not None:
        conds.append(c.status == status)
    rows = conn.execute(select(TRIGGERS).where(*conds)
                        .order_by(c.created_at_ms.desc(), c.trigger_id.desc()).limit(limit))
    return [_stored_trigger(r) for r in rows]


def get_trigger(conn: Connection, trigger_id: str) -> StoredTrigger | None:
    row = conn.execute(select(TRIGGERS).where(TRIGGERS.c.trigger_id == trigger_id)).first()
    return None if row is None else _stored_trigger(row)


def transition_trigger(conn: Connection, trigger_id: str, from_states: Collection[str],
                       to_state: str, at_ms: int, *, model_version: str | None = None,
                       detail: str | None = None) -> bool:
    """Compare-and-set: move the trigger to ``to_state`` only while its status is one of
    ``from_states``. False when it is not (moved on concurrently, or unknown)."""
    return alerting_sql.set_trigger_status(conn, trigger_id, to_state, detail=detail,
                                           model_version=model_version,
                                           only_from=from_states, at_ms=at_ms)


lock_model = alerting_sql.lock_model


def kill_switch_source(conn: Connection,
                       setting_on: bool) -> Literal["setting", "database"] | None:
    """Why retraining is switched off: ``setting`` (the environment), ``database`` (the flag
    set over the API), or None when it is not."""
    if setting_on:
        return "setting"
    return "database" if alerting_sql.kill_switch(conn) else None


def kill_switch_updated_by(conn: Connection) -> tuple[str, int] | None:
    """Who last set the database flag, and when."""
    row = conn.execute(select(FLAGS.c.updated_by, FLAGS.c.updated_at_ms).where(
        FLAGS.c.name == alerting_sql.KILL_SWITCH)).first()
    return None if row is None else (row.updated_by, int(row.updated_at_ms))


# ---------------------------------------------------------------- audit
@dataclass(frozen=True)
class AuditInfo:
    id: int
    at_ms: int
    actor: str
    action: str
    model_id: str | None
    subject: str | None
    detail: dict[str, Any]


def list_audit(conn: Connection, *, model_id: str | None = None, limit: int = 100,
               before_id: int | None = None) -> list[AuditInfo]:
    """Audit entries, newest first."""
    c = AUDIT.c
    conds: list[Any] = []
    if model_id is not None:
        conds.append(c.model_id == model_id)
    if before_id is not None:
        conds.append(c.id < before_id)
    rows = conn.execute(select(AUDIT).where(*conds).order_by(c.id.desc()).limit(limit))
    return [AuditInfo(int(r.id), int(r.at_ms), r.actor, r.action, r.model_id, r.subject,
                      dict(orjson.loads(r.detail or "{}"))) for r in rows]


# ---------------------------------------------------------------- signed callbacks
def record_callback(conn: Connection, message_id: str, at_ms: int) -> bool:
    """Remember a callback's ``webhook-id``; False when it was seen before (a replay)."""
    stmt = (alerting_sql.dialect_insert(conn)(CALLBACK_RECEIPTS)
            .values(message_id=message_id, received_at_ms=at_ms)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(CALLBACK_RECEIPTS.c.message_id))
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT's rowcount here.
    return conn.execute(stmt).first() is not None


def prune_callback_receipts(conn: Connection, before_ms: int) -> int:
    """Forget receipts older than ``before_ms`` (their signatures are too old to verify)."""
    return int(conn.execute(delete(CALLBACK_RECEIPTS).where(
        CALLBACK_RECEIPTS.c.received_at_ms < before_ms)).rowcount or 0)


def reset_model_states(conn: Connection, model_id: str, at_ms: int) -> int:
    """Forget the model's concept-drift detectors and alert series, so that both restart
    against a new reference, and resolve its open alerts at ``at_ms`` (their series are gone:
    nothing would resolve them later; the notifier sends their resolved notifications).
    Returns the number of alerts resolved."""
    for table in (CONCEPT_STATES, ALERT_STATES):
        conn.execute(delete(table).where(table.c.model_id == model_id))
    c = ALERTS.c
    result = conn.execute(update(ALERTS).where(
        c.model_id == model_id, c.state.in_(("pending", "firing"))).values(
        state="resolved", ends_at_ms=at_ms, updated_at_ms=at_ms))
    return int(result.rowcount or 0)
