"""Message bodies of a notification: Alertmanager webhook, Slack, PagerDuty Events v2.

Builders are pure: the same :class:`Notification` gives the same JSON, so a retried outbox row
sends the same bytes (sign them with :mod:`monitor.delivery.signing` after
:func:`encode_json`). Every alert carries the labels ``alertname`` (its rule), ``model_id`` and
``severity``, set from its fields, over any labels of the same names.

>>> alert = AlertView("a1", "3f2c1b0a9d8e7f60", "fraud-v3", "feature_drift", "critical",
...                   "firing", 1795255200000, None, {"feature": "amount"},
...                   {"summary": "PSI 0.31 on amount"})
>>> n = Notification("{}:{model_id=\\"fraud-v3\\"}", "oncall", "firing", (alert,), "n-1",
...                  "https://driftline.example.com")
>>> body = alertmanager_payload(n)
>>> body["version"], body["status"], body["alerts"][0]["endsAt"]
('4', 'firing', '0001-01-01T00:00:00Z')
>>> slack_payload(n)["text"]
'[FIRING:1] feature_drift on model fraud-v3'
>>> [e["payload"]["summary"] for e in pagerduty_payload(n, "R0UTINGKEY")]
['feature_drift on fraud-v3: PSI 0.31 on amount']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from monitor.timeutil import format_ms

__all__ = [
    "AlertView",
    "Notification",
    "alertmanager_payload",
    "encode_json",
    "pagerduty_payload",
    "pagerduty_severity",
    "slack_payload",
]

Status = Literal["firing", "resolved"]
Payload = dict[str, Any]

GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # what Alertmanager sends as endsAt while an alert fires
SLACK_MAX_BLOCKS = 50
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
PAGERDUTY_SUMMARY_MAX = 1024
PAGERDUTY_DEDUP_MAX = 255
_STATUSES = ("firing", "resolved")
_PD_SEVERITY = {
    "critical": "critical", "fatal": "critical", "page": "critical",
    "error": "error", "high": "error", "major": "error",
    "warning": "warning", "warn": "warning", "medium": "warning", "minor": "warning",
    "info": "info", "low": "info", "none": "info",
}


@dataclass(frozen=True)
class AlertView:
    """One alert as the notifiers see it. ``ends_at_ms`` is None while it fires."""

    alert_id: str
    fingerprint: str
    model_id: str
    rule: str
    severity: str
    state: Status
    starts_at_ms: int
    ends_at_ms: int | None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.state not in _STATUSES:
            raise ValueError(f"alert state must be 'firing' or 'resolved', not {self.state!r}")
        if not self.fingerprint:
            raise ValueError("alert fingerprint must not be empty")


@dataclass(frozen=True)
class Notification:
    """A group of alerts for one receiver; ``notification_id`` is the ``webhook-id``.

    ``status`` is ``firing`` when any alert fires, as in Alertmanager. ``group_labels`` are the
    labels the group was formed by (Alertmanager's ``groupLabels``).
    """

    group_key: str
    receiver: str
    status: Status
    alerts: tuple[AlertView, ...]
    notification_id: str
    external_url: str = ""
    group_labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.alerts:
            raise ValueError("a notification needs at least one alert")
        expected = "firing" if any(a.state == "firing" for a in self.alerts) else "resolved"
        if self.status != expected:
            raise ValueError(f"notification status is {self.status!r} but its alerts say "
                             f"{expected!r}")


def encode_json(payload: Payload | list[Payload]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes to sign and send.

    >>> encode_json({"b": 1, "a": "é"})
    b'{"b":1,"a":"\\xc3\\xa9"}'
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def alert_labels(alert: AlertView) -> dict[str, str]:
    """The alert's labels plus ``alertname``, ``model_id`` and ``severity``, sorted by name."""
    merged = {**alert.labels, "alertname": alert.rule, "model_id": alert.model_id,
              "severity": alert.severity}
    return dict(sorted(merged.items()))


def _common(maps: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The name-value pairs every map shares, sorted by name."""
    iterator = iter(maps)
    shared = set(next(iterator, {}).items())
    for mapping in iterator:
        shared &= set(mapping.items())
    return dict(sorted(shared))


def _generator_url(n: Notification, alert: AlertView) -> str:
    if not n.external_url:
        return ""
    return f"{n.external_url.rstrip('/')}/api/v1/models/{quote(alert.model_id, safe='')}"


def alertmanager_payload(n: Notification, *, max_alerts: int = 0) -> Payload:
    """Alertmanager's webhook_config body, version ``"4"``; ``max_alerts`` 0 keeps every alert.

    Common labels and annotations are computed over all alerts, before truncation, as
    Alertmanager does; ``truncatedAlerts`` counts the ones left out.
    """
    if max_alerts < 0:
        raise ValueError("max_alerts must be 0 (no limit) or positive")
    kept = n.alerts[:max_alerts] if max_alerts else n.alerts
    return {
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": len(n.alerts) - len(kept),
        "status": n.status,
        "receiver": n.receiver,
        "groupLabels": dict(sorted(n.group_labels.items())),
        "commonLabels": _common(alert_labels(a) for a in n.alerts),
        "commonAnnotations": _common(a.annotations for a in n.alerts),
        "externalURL": n.external_url,
        "alerts": [
            {
                "status": a.state,
                "labels": alert_labels(a),
                "annotations": dict(sorted(a.annotations.items())),
                "startsAt": format_ms(a.starts_at_ms),
                "endsAt": GO_ZERO_TIME if a.ends_at_ms is None else format_ms(a.ends_at_ms),
                "generatorURL": _generator_url(n, a),
                "fingerprint": a.fingerprint,
            }
            for a in kept
        ],
    }


def _one_or_count(values: Iterable[str], noun: str) -> str:
    distinct = sorted(set(values))
    return distinct[0] if len(distinct) == 1 else f"{len(distinct)} {noun}"


def _title(n: Notification) -> str:
    firing = sum(a.state == "firing" for a in n.alerts)
    tag = f"FIRING:{firing}" if n.status == "firing" else "RESOLVED"
    rules = _one_or_count((a.rule for a in n.alerts), "rules")
    models = sorted({a.model_id for a in n.alerts})
    where = f"model {models[0]}" if len(models) == 1 else f"{len(models)} models"
    return f"[{tag}] {rules} on {where}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    """Slack's three control characters; everything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_section(alert: AlertView) -> Payload:
    icon = ":red_circle:" if alert.state == "firing" else ":large_green_circle:"
    lines = [f"{icon} *{_slack_escape(alert.rule)}* on `{_slack_escape(alert.model_id)}` "
             f"({_slack_escape(alert.severity)}, {alert.state})"]
    about = alert.annotations.get("summary") or alert.annotations.get("description")
    if about:
        lines.append(_slack_escape(about))
    when = f"since {format_ms(alert.starts_at_ms)}"
    if alert.ends_at_ms is not None:
        when += f", ended {format_ms(alert.ends_at_ms)}"
    lines.append(when)
    if alert.labels:
        lines.append(", ".join(f"{_slack_escape(k)}={_slack_escape(v)}"
                               for k, v in sorted(alert.labels.items())))
    text = _clip("\n".join(lines), SLACK_TEXT_MAX)
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_payload(n: Notification) -> Payload:
    """A Slack incoming-webhook body: ``text`` (the notification's fallback) and ``blocks``.

    One header, then a section per alert. Past 49 alerts, 48 are shown and a final context
    block says how many were left out, so there are never more than 50 blocks.
    """
    title = _title(n)
    blocks: list[Payload] = [{"type": "header", "text": {
        "type": "plain_text", "text": _clip(title, SLACK_HEADER_MAX), "emoji": True}}]
    room = SLACK_MAX_BLOCKS - 1
    shown = n.alerts if len(n.alerts) <= room else n.alerts[: room - 1]
    blocks.extend(_slack_section(a) for a in shown)
    hidden = len(n.alerts) - len(shown)
    if hidden:
        note = f"…and {hidden} more alerts not shown"
        if n.external_url:
            note += f"; see <{_slack_escape(n.external_url)}|Driftline>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    return {"text": _clip(title, SLACK_TEXT_MAX), "blocks": blocks}


def pagerduty_severity(severity: str) -> str:
    """PagerDuty's severity for a Driftline one; unknown names page as ``warning``.

    >>> pagerduty_severity("CRITICAL"), pagerduty_severity("high"), pagerduty_severity("odd")
    ('critical', 'error', 'warning')
    """
    return _PD_SEVERITY.get(severity.strip().lower(), "warning")


def _pagerduty_event(n: Notification, alert: AlertView, routing_key: str) -> Payload:
    if len(alert.fingerprint) > PAGERDUTY_DEDUP_MAX:
        raise ValueError(f"fingerprint longer than {PAGERDUTY_DEDUP_MAX} characters cannot "
                         "be a PagerDuty dedup_key")
    if alert.state == "resolved":
        return {"routing_key": routing_key, "event_action": "resolve",
                "dedup_key": alert.fingerprint}
    summary = f"{alert.rule} on {alert.model_id}"
    about = alert.annotations.get("summary")
    if about:
        summary += f": {about}"
    event: Payload = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.fingerprint,
        "payload": {
            "summary": _clip(summary, PAGERDUTY_SUMMARY_MAX),
            "source": f"driftline/{alert.model_id}",
            "severity": pagerduty_severity(alert.severity),
            "timestamp": format_ms(alert.starts_at_ms),
            "custom_details": {**alert_labels(alert), **dict(sorted(alert.annotations.items()))},
        },
        "client": "Driftline",
    }
    if n.external_url:
        event["client_url"] = n.external_url
    return event


def pagerduty_payload(n: Notification, routing_key: str) -> list[Payload]:
    """PagerDuty Events API v2 bodies, one per alert, in order (each is its own POST).

    Firing alerts trigger, resolved ones resolve; the alert fingerprint is the ``dedup_key``, so
    a retried or repeated notification updates the same incident instead of opening another.
    """
    if not routing_key or routing_key != routing_key.strip():
        raise ValueError("routing_key must be a non-empty integration key without spaces")
    return [_pagerduty_event(n, a, routing_key) for a in n.alerts]
