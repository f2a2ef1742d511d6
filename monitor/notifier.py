"""Turn alerts into notifications: grouping, silences, inhibition, one outbox row per channel.

Run on wall-clock time by the relay loop (:mod:`monitor.relay`): for each model (an alert
group), its firing alerts and the resolved ones last sent as firing go through
:func:`monitor.alerting.grouping.plan` (group wait, group interval, repeat interval); silenced
alerts and alerts inhibited by a firing alert of an inhibit rule (an ingestion stall mutes the
model's drift alerts) are left out first. A notification becomes one outbox row per matching
channel, in the transaction that saves the group's new state, with a ``message_id`` derived from
the notification id and the channel, so a crash before the commit plans the same notification
again and a retry sends the same ``webhook-id``.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, or_, select

from monitor.alert_store import AlertEntry, OutboxEntry
from monitor.alerting import ActiveAlert
from monitor.alerting.grouping import GroupState, Notification, plan
from monitor.alerting.silences import Matcher, Silence, inhibited
from monitor.config import ModelConfig
from monitor.db import alerting_sql, repository
from monitor.db.schema import ALERTS, CHANNELS, NOTIFY_GROUPS, SILENCES
from monitor.delivery import payloads

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def message_id(notification_id: str, channel_id: str, part: int = 0) -> str:
    """A delivery's ``webhook-id``: stable for one notification and channel (no dots)."""
    digest = hashlib.sha256(f"{notification_id}\n{channel_id}\n{part}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def _view(a: AlertEntry) -> ActiveAlert:
    return ActiveAlert(a.alert_id, a.fingerprint, a.model_id, a.rule, a.severity,
                       "firing" if a.state == "firing" else "resolved", a.starts_at_ms,
                       a.ends_at_ms, dict(a.labels), dict(a.annotations))


def active_silences(conn: Connection, now_ms: int) -> list[Silence]:
    c = SILENCES.c
    rows = conn.execute(select(SILENCES).where(c.starts_at_ms <= now_ms, c.ends_at_ms > now_ms))
    return [Silence(id=r.silence_id, matchers=[Matcher(**m) for m in orjson.loads(r.matchers)],
                    starts_at_ms=int(r.starts_at_ms), ends_at_ms=int(r.ends_at_ms),
                    created_by=r.created_by, comment=r.comment) for r in rows]


def _load_group(conn: Connection, key: str) -> GroupState:
    raw = conn.execute(select(NOTIFY_GROUPS.c.state).where(NOTIFY_GROUPS.c.group_key == key)
                       ).scalar_one_or_none()
    return GroupState(key) if raw is None else GroupState.from_json(orjson.loads(raw))


def _save_group(conn: Connection, group: GroupState, now_ms: int) -> None:
    values = {"state": orjson.dumps(group.to_json()).decode(), "updated_at_ms": now_ms}
    insert = alerting_sql.dialect_insert(conn)
    conn.execute(insert(NOTIFY_GROUPS).values(group_key=group.key, **values)
                 .on_conflict_do_update(index_elements=["group_key"], set_=values))


def _candidates(conn: Connection, model_id: str, group: GroupState) -> list[AlertEntry]:
    """Firing alerts, and resolved alerts the group last sent as firing."""
    c = ALERTS.c
    sent_ids = [s[2] for s in group.last_sent.values() if s[0] == "firing" and s[2]]
    cond = c.state == "firing"
    if sent_ids:
        cond = or_(cond, c.alert_id.in_(sent_ids))
    rows = conn.execute(select(ALERTS).where(c.model_id == model_id, cond)
                        .order_by(c.fingerprint))
    return [alerting_sql.alert_from_row(r) for r in rows]


def _muted(config: ModelConfig, alerts: list[AlertEntry], silences: list[Silence],
           now_ms: int) -> set[str]:
    firing = [dict(a.labels) for a in alerts if a.state == "firing"]
    muted = set()
    for a in alerts:
        if a.state != "firing":
            continue
        if any(s.mutes(a.labels, now_ms) for s in silences) or inhibited(
                a.labels, firing, config.alerting.inhibit):
            muted.add(a.alert_id)
    return muted


def _channel_rows(conn: Connection) -> list[Any]:
    return list(conn.execute(select(CHANNELS).where(CHANNELS.c.enabled.is_(True))
                             .order_by(CHANNELS.c.channel_id)))


def outbox_for(n: Notification, channels: list[Any], external_url: str) -> list[OutboxEntry]:
    """One outbox row per channel that wants this model and severity (PagerDuty: per alert)."""
    out = []
    for ch in channels:
        models = orjson.loads(ch.model_ids or "[]")
        if models and n.group_key not in models:
            continue
        floor = SEVERITY_RANK.get(ch.min_severity, 0)
        alerts = tuple(payloads.AlertView(
            a.alert_id or "", a.fingerprint, a.model_id, a.rule, a.severity, a.state
            if a.state != "pending" else "firing", a.starts_at_ms, a.ends_at_ms,
            dict(a.labels), dict(a.annotations)) for a in n.alerts
            if SEVERITY_RANK.get(a.severity, 0) >= floor)
        if not alerts:
            continue
        status: Literal["firing", "resolved"] = (
            "firing" if any(a.state == "firing" for a in alerts) else "resolved")
        note = payloads.Notification(n.group_key, ch.channel_id, status, alerts,
                                     n.notification_id, external_url,
                                     {"model_id": n.group_key})
        if ch.type == "pagerduty":
            bodies: list[Any] = payloads.pagerduty_payload(note, ch.routing_key or "")
        elif ch.type == "slack":
            bodies = [payloads.slack_payload(note)]
        else:
            bodies = [payloads.alertmanager_payload(note)]
        for i, body in enumerate(bodies):
            out.append(OutboxEntry(message_id(n.notification_id, ch.channel_id, i),
                                   "notification", body, channel_id=ch.channel_id,
                                   model_id=n.group_key))
    return out


def notify_once(conn: Connection, now_ms: int, external_url: str = "") -> int:
    """Plan every model's group at ``now_ms``; queue what is due. Returns outbox rows added."""
    silences = active_silences(conn, now_ms)
    channels = _channel_rows(conn)
    added = 0
    for config in repository.list_models(conn):
        group = _load_group(conn, config.model_id)
        alerts = _candidates(conn, config.model_id, group)
        if not alerts and group.first_seen_ms is None:
            continue
        muted = _muted(config, alerts, silences, now_ms)
        views = [_view(a) for a in alerts if a.alert_id not in muted]
        a = config.alerting
        new_group, notification = plan(group, views, now_ms, group_wait_ms=a.group_wait_ms,
                                       group_interval_ms=a.group_interval_ms,
                                       repeat_interval_ms=a.repeat_interval_ms)
        if notification is not None:
            added += alerting_sql.add_outbox(conn, outbox_for(notification, channels,
                                                              external_url), at_ms=now_ms)
        if new_group != group:
            _save_group(conn, new_group, now_ms)
    return added
