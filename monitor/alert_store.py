"""What the alerting step writes in the window's transaction: alerts, triggers, outbox rows and
audit entries (stored by :class:`monitor.db.sql_store.SqlStore` and
:class:`monitor.memory_store.MemoryStore`), as frozen rows.

Every side effect (a notification, a trigger dispatch) is an :class:`OutboxEntry` written in the
same transaction as the state change that caused it; the relay (:mod:`monitor.relay`) delivers
it later, at least once, always under the same ``message_id``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.timeutil import format_ms


@dataclass(frozen=True)
class AlertEntry:
    """One alert episode as stored and served (CONTRACT section 3, plus ``value``)."""

    alert_id: str
    model_id: str
    fingerprint: str
    rule: str
    severity: str
    state: str  # pending | firing | resolved
    starts_at_ms: int
    ends_at_ms: int | None
    value: float | None
    labels: dict[str, str]
    annotations: dict[str, str]

    def to_public(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "model_id": self.model_id,
                "fingerprint": self.fingerprint, "rule": self.rule, "severity": self.severity,
                "state": self.state, "starts_at": format_ms(self.starts_at_ms),
                "ends_at": None if self.ends_at_ms is None else format_ms(self.ends_at_ms),
                "value": self.value, "labels": dict(self.labels),
                "annotations": dict(self.annotations)}


@dataclass(frozen=True)
class TriggerEntry:
    """A retraining trigger (CONTRACT section 3); ``event_time_ms`` is the window end that
    caused it (None for a manual trigger)."""

    trigger_id: str
    model_id: str
    created_at_ms: int
    status: str
    reason: str
    evidence: dict[str, Any]
    event_time_ms: int | None = None
    manual: bool = False
    requested_by: str | None = None

    def to_public(self) -> dict[str, Any]:
        return {"trigger_id": self.trigger_id, "model_id": self.model_id,
                "created_at": format_ms(self.created_at_ms), "status": self.status,
                "reason": self.reason, "evidence": self.evidence,
                "event_time": (None if self.event_time_ms is None
                               else format_ms(self.event_time_ms)),
                "manual": self.manual}


@dataclass(frozen=True)
class OutboxEntry:
    """A message to deliver: ``kind`` ``notification`` (to ``channel_id``) or ``trigger``."""

    message_id: str
    kind: str
    payload: dict[str, Any]
    channel_id: str | None = None
    trigger_id: str | None = None
    model_id: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit trail."""

    actor: str
    action: str
    model_id: str | None = None
    subject: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TriggerCounts:
    """What the trigger policy needs to know about a model's earlier triggers."""

    running: int
    created_since: int
    last_created_ms: int | None


ACTIVE_TRIGGER_STATES = ("pending", "dispatched", "acknowledged", "running")
COUNTED_TRIGGER_STATES = ("pending", "awaiting_approval", "dispatched", "acknowledged", "running",
                          "succeeded", "failed")
