"""When to notify: Alertmanager's group timing, as a pure function over a saved group state.

A group (one per ``model_id``) is evaluated on ticks: the first ``group_wait`` after its first
firing alert, then every ``group_interval`` after that. A tick sends a notification when a firing
alert is new since the last one sent (a new fingerprint or a new ``alert_id``), when an alert sent
as firing is now resolved (sent once, then dropped), or when ``repeat_interval`` has passed since
the last notification and something still fires. Otherwise it sends nothing. A group with nothing
firing and nothing left to resolve is forgotten, so the next alert waits ``group_wait`` again.
Pending alerts are ignored; silenced and inhibited alerts are left out by the caller (an alert that
disappears is dropped quietly, as in Alertmanager).

Tick times are derived from the saved state, never from the call time, so planning again with the
same state and alerts (a retry after a crash) gives the same notification and ``notification_id``.

>>> from monitor.alerting.engine import ActiveAlert
>>> a = ActiveAlert("f1-0", "f1", "m", "drift", "warning", "firing", 0, None, {}, {})
>>> g, n = plan(GroupState("m"), [a], 1_000, **TIMING)
>>> n is None, g.first_seen_ms
(True, 1000)
>>> g, n = plan(g, [a], 31_000, **TIMING)
>>> n.status, n.flush_ms, [x.alert_id for x in n.alerts], len(n.notification_id)
('firing', 31000, ['f1-0'], 32)
>>> plan(g, [a], 200_000, **TIMING)
(GroupState(key='m', first_seen_ms=1000, last_flush_ms=31000,
            last_sent={'f1': ('firing', 31000, 'f1-0')}), None)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from monitor.alerting.engine import ActiveAlert

__all__ = ["TIMING", "GroupState", "Notification", "Sent", "plan"]

TIMING = {"group_wait_ms": 30_000, "group_interval_ms": 300_000, "repeat_interval_ms": 14_400_000}
"""Alertmanager's defaults (30s, 5m, 4h), for examples and tests."""

Sent = tuple[Literal["firing", "resolved"], int, str | None]
"""What the group last sent for one fingerprint: ``(state, sent_at_ms, alert_id)``."""


@dataclass(frozen=True)
class GroupState:
    """One group's notification history. ``first_seen_ms`` is None for a group not started;
    ``last_flush_ms`` is the last tick (a notification sent or not)."""

    key: str
    first_seen_ms: int | None = None
    last_flush_ms: int | None = None
    last_sent: dict[str, Sent] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"state_version": 1, "key": self.key, "first_seen_ms": self.first_seen_ms,
                "last_flush_ms": self.last_flush_ms,
                "last_sent": {fp: list(s) for fp, s in sorted(self.last_sent.items())}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GroupState:
        if data.get("state_version") != 1:
            raise ValueError(f"unsupported group state version {data.get('state_version')!r}")
        sent: dict[str, Sent] = {}
        for fp, (state, at, alert_id) in data["last_sent"].items():
            if state not in ("firing", "resolved"):
                raise ValueError(f"unknown sent state {state!r}")
            sent[str(fp)] = (state, int(at), None if alert_id is None else str(alert_id))
        first, last = data["first_seen_ms"], data["last_flush_ms"]
        return cls(str(data["key"]), None if first is None else int(first),
                   None if last is None else int(last), sent)


@dataclass(frozen=True)
class Notification:
    """One message for a group: its firing alerts and the alerts resolved since the last one,
    sorted by fingerprint. Receivers dedupe on ``notification_id``."""

    group_key: str
    status: Literal["firing", "resolved"]
    alerts: tuple[ActiveAlert, ...]
    flush_ms: int
    notification_id: str


def notification_id(group_key: str, alerts: Sequence[ActiveAlert], flush_ms: int) -> str:
    """SHA-256 (32 hex digits) over the group key, the sorted ``fingerprint state alert_id``
    lines and the tick time."""
    lines = sorted(f"{a.fingerprint} {a.state} {a.alert_id}" for a in alerts)
    text = "\n".join([group_key, *lines, str(flush_ms)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _sent_firing(sent: Mapping[str, Sent], fp: str) -> str | None:
    """The alert id last sent as firing for ``fp``, or None."""
    entry = sent.get(fp)
    return entry[2] if entry is not None and entry[0] == "firing" else None


def _tick(group: GroupState, now_ms: int, group_wait_ms: int, group_interval_ms: int
          ) -> int | None:
    """The latest tick at or before ``now_ms`` not yet evaluated, or None."""
    assert group.first_seen_ms is not None
    if group.last_flush_ms is None:
        due = group.first_seen_ms + group_wait_ms
        return due if now_ms >= due else None
    due = group.last_flush_ms + group_interval_ms
    if now_ms < due:
        return None
    return due + (now_ms - due) // group_interval_ms * group_interval_ms


def plan(group: GroupState, alerts: Sequence[ActiveAlert], now_ms: int, *, group_wait_ms: int,
         group_interval_ms: int, repeat_interval_ms: int
         ) -> tuple[GroupState, Notification | None]:
    """The group's new state and the notification to send now, if any.

    ``alerts`` are the group's current alerts (``model_id == group.key``), already without the
    silenced and inhibited ones. Raises ``ValueError`` for an alert of another group.
    """
    if any(a.model_id != group.key for a in alerts):
        raise ValueError(f"every alert of group {group.key!r} must have that model_id")
    if group_interval_ms <= 0:
        raise ValueError("group_interval_ms must be positive")
    firing = {a.fingerprint: a for a in alerts if a.state == "firing"}
    sent = group.last_sent
    resolved = {a.fingerprint: a for a in alerts
                if a.state == "resolved" and a.fingerprint not in firing
                and _sent_firing(sent, a.fingerprint) is not None}
    if group.first_seen_ms is None:
        if not firing:
            return group, None
        group = replace(group, first_seen_ms=now_ms)
    tick = _tick(group, now_ms, group_wait_ms, group_interval_ms)
    if tick is None:
        return group, None
    last_sent_at = max((s[1] for s in sent.values() if s[0] == "firing"), default=None)
    new_firing = any(_sent_firing(sent, fp) != a.alert_id for fp, a in firing.items())
    repeat = bool(firing) and last_sent_at is not None and tick >= last_sent_at + repeat_interval_ms
    notification = None
    if new_firing or resolved or repeat:
        chosen = tuple(sorted([*firing.values(), *resolved.values()],
                              key=lambda a: a.fingerprint))
        notification = Notification(group.key, "firing" if firing else "resolved", chosen, tick,
                                    notification_id(group.key, chosen, tick))
        kept: dict[str, Sent] = {fp: ("firing", tick, a.alert_id) for fp, a in firing.items()}
    else:
        kept = {fp: s for fp, s in sent.items() if fp in firing}
    if not firing and not kept:
        return GroupState(group.key), notification
    return replace(group, last_flush_ms=tick, last_sent=kept), notification
