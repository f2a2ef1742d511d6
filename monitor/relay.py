"""The outbox relay: deliver queued notifications and retraining triggers, at least once.

One due row at a time, each in its own transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several relays share the work): send, then mark. A crash after the receiver answered but
before the mark leaves the row pending, and the next attempt sends the same bytes under the same
``webhook-id`` (receivers dedupe on it). Rules (:mod:`monitor.delivery.retry`): 2xx delivered;
408, 429, 5xx and network errors retried with exponential backoff and full jitter, ``Retry-After``
honoured; other 4xx and every 3xx permanent (redirects are never followed). URLs are checked
again at send time after DNS resolution (:mod:`monitor.delivery.ssrf`) and webhooks connect to
the address that was checked. Webhook bodies are signed per Standard Webhooks with every live
secret of the channel (rotation with overlap).

When a channel's deliveries keep failing (``delivery_alert_after`` attempts, or a permanent
failure) an operator alert ``delivery_failing`` fires for it (model ``_driftline``, visible in
``GET /api/v1/alerts``); the next delivery that succeeds resolves it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from sqlalchemy import Connection, Engine, select, update

from monitor.alert_store import AlertEntry, AuditEntry
from monitor.db import alerting_sql, repository
from monitor.db.schema import ALERTS, CHANNELS, OUTBOX, TRIGGERS
from monitor.delivery import retry, signing, ssrf
from monitor.delivery.errors import HostResolutionError, UnsafeURLError
from monitor.notifier import notify_once
from monitor.settings import Settings
from monitor.timeutil import now_ms
from monitor.triggers.dispatch import TriggerRequest, dispatch
from monitor.triggers.targets import PullDispatch

log = logging.getLogger(__name__)

OPERATOR_MODEL = "_driftline"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass
class RelayStats:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    outcomes: list[tuple[str, str]] = field(default_factory=list)


def _live_secrets(raw: str, now: int) -> list[str]:
    return [s["secret"] for s in orjson.loads(raw or "[]")
            if s.get("expires_at_ms") is None or int(s["expires_at_ms"]) > now]


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``url`` with its host replaced by the checked address, the Host header and TLS name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    ip = f"[{address}]" if ":" in address else address
    netloc = ip if parts.port is None else f"{ip}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


def _post_webhook(client: httpx.Client, settings: Settings, channel: Any, row: Any,
                  now: int) -> tuple[int | None, str | None, str]:
    """One attempt: ``(status or None for a network error, Retry-After, detail)``."""
    addresses = ssrf.resolve_and_check(channel.url, allow=settings.url_allow)
    url, headers, extensions = _pinned(channel.url, addresses[0])
    body = row.payload.encode()
    headers["Content-Type"] = "application/json"
    headers["User-Agent"] = "driftline"
    secrets = _live_secrets(channel.secrets, now)
    if secrets:
        headers.update(signing.sign(secrets, row.message_id, now // 1000, body))
    else:
        headers["webhook-id"] = row.message_id
    try:
        response = client.post(url, content=body, headers=headers, extensions=extensions,
                               follow_redirects=False, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return None, None, f"network error: {type(exc).__name__}"
    return response.status_code, response.headers.get("Retry-After"), f"HTTP {response.status_code}"


def _operator_alert(conn: Connection, channel_id: str, firing: bool, detail: str,
                    now: int) -> None:
    alert_id = f"delivery_failing-{channel_id}"
    current = conn.execute(select(ALERTS.c.state).where(ALERTS.c.alert_id == alert_id)
                           ).scalar_one_or_none()
    if (current == "firing") == firing:
        return
    alerting_sql.save_alerts(conn, [AlertEntry(
        alert_id, OPERATOR_MODEL, alert_id, "delivery_failing", "critical",
        "firing" if firing else "resolved", now, None if firing else now, None,
        {"model_id": OPERATOR_MODEL, "rule": "delivery_failing", "channel_id": channel_id,
         "family": "delivery", "severity": "critical"},
        {"summary": f"deliveries to channel {channel_id} keep failing: {detail}"
         if firing else f"deliveries to channel {channel_id} succeed again"})])


def _finish(conn: Connection, row: Any, decision: retry.Decision, status_code: int | None,
            detail: str, now: int) -> str:
    values: dict[str, Any] = {"attempts": row.attempts + 1, "last_status_code": status_code,
                              "last_error": None if decision.outcome == "delivered"
                              else detail[:1024]}
    if decision.outcome == "delivered":
        values.update(status="sent", sent_at_ms=now)
    elif decision.outcome == "retry":
        assert decision.delay_s is not None
        values["next_attempt_at_ms"] = now + int(decision.delay_s * 1000)
    else:
        values["status"] = "failed"
        values["last_error"] = f"{decision.reason}: {detail}"[:1024]
    conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(**values))
    return decision.outcome


def _deliver_notification(conn: Connection, client: httpx.Client, settings: Settings,
                          row: Any, now: int, rng: random.Random) -> str:
    channel = conn.execute(select(CHANNELS).where(CHANNELS.c.channel_id == row.channel_id)
                           ).first()
    if channel is None or not channel.enabled:
        return _finish(conn, row, retry.Decision("permanent", None, "channel removed"), None,
                       f"channel {row.channel_id!r} is gone or disabled", now)
    try:
        status, retry_after, detail = _post_webhook(client, settings, channel, row, now)
    except UnsafeURLError as exc:
        status, retry_after, detail = 0, None, f"refused: {exc}"
        decision = retry.Decision("permanent", None, "unsafe URL")
    except HostResolutionError as exc:
        status, retry_after, detail = None, None, str(exc)
        decision = _decide(settings, None, None, row, now, rng)
    else:
        decision = _decide(settings, status, retry_after, row, now, rng)
    outcome = _finish(conn, row, decision, status or None, detail, now)
    failing = outcome in ("permanent", "give_up") or (
        outcome == "retry" and row.attempts + 1 >= settings.delivery_alert_after)
    if failing or outcome == "delivered":
        _operator_alert(conn, row.channel_id, failing, detail, now)
    return outcome


def _decide(settings: Settings, status: int | None, retry_after: str | None, row: Any,
            now: int, rng: random.Random) -> retry.Decision:
    policy = retry.RetryPolicy(max_attempts=settings.delivery_max_attempts,
                               max_age_s=float(settings.delivery_max_age_s))
    return retry.decide(status, retry_after, attempts=row.attempts + 1,
                        first_attempt_at=row.created_at_ms / 1000, now=now / 1000, rng=rng,
                        policy=policy)


def _deliver_trigger(conn: Connection, client: httpx.Client, settings: Settings, row: Any,
                     now: int, rng: random.Random) -> str:
    trigger = conn.execute(select(TRIGGERS).where(TRIGGERS.c.trigger_id == row.trigger_id)
                           ).first()
    config = repository.get_model(conn, row.model_id) if row.model_id else None
    if trigger is None or config is None or isinstance(config.retraining.dispatch,
                                                       PullDispatch):
        return _finish(conn, row, retry.Decision("permanent", None, "nothing to dispatch"),
                       None, "trigger, model or dispatch target is gone", now)
    payload = orjson.loads(row.payload)
    request = TriggerRequest(payload["trigger_id"], payload["model_id"], payload["reason"],
                             payload["evidence"], int(trigger.created_at_ms))

    def check(url: str) -> None:
        ssrf.resolve_and_check(url, allow=settings.url_allow)

    try:
        result = dispatch(config.retraining.dispatch, request, client, check_url=check)
    except (UnsafeURLError, HostResolutionError) as exc:
        transient = isinstance(exc, HostResolutionError)
        decision = (_decide(settings, None, None, row, now, rng) if transient
                    else retry.Decision("permanent", None, "unsafe URL"))
        outcome = _finish(conn, row, decision, None, str(exc), now)
        if outcome != "retry":
            alerting_sql.set_trigger_status(conn, row.trigger_id, "failed", detail=str(exc),
                                            only_from=("pending",))
        return outcome
    if result.outcome in ("dispatched", "already_exists"):
        decision = retry.Decision("delivered", None, result.outcome)
        alerting_sql.set_trigger_status(conn, row.trigger_id, "dispatched",
                                        external_id=result.external_id, detail=result.detail,
                                        only_from=("pending",))
    elif result.outcome == "retry":
        decision = _decide(settings, result.status_code or None, result.retry_after, row, now,
                           rng)
    else:
        decision = retry.Decision("permanent", None, result.detail)
    outcome = _finish(conn, row, decision, result.status_code, result.detail, now)
    if outcome in ("permanent", "give_up"):
        alerting_sql.set_trigger_status(conn, row.trigger_id, "failed", detail=result.detail,
                                        only_from=("pending",))
    alerting_sql.add_audit(conn, [AuditEntry(
        "relay", f"trigger_{outcome}", row.model_id, row.trigger_id,
        {"status_code": result.status_code, "detail": result.detail})])
    return outcome


def relay_once(engine: Engine, settings: Settings, client: httpx.Client, *,
               now: int | None = None, rng: random.Random | None = None,
               limit: int = 100) -> RelayStats:
    """Deliver up to ``limit`` due outbox rows, each in its own transaction."""
    rng = rng or random.Random()
    stats = RelayStats()
    for _ in range(limit):
        at = now_ms() if now is None else now
        with engine.begin() as conn:
            stmt = (select(OUTBOX).where(OUTBOX.c.status == "pending",
                                         OUTBOX.c.next_attempt_at_ms <= at)
                    .order_by(OUTBOX.c.next_attempt_at_ms, OUTBOX.c.id).limit(1))
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = conn.execute(stmt).first()
            if row is None:
                break
            if row.kind == "trigger":
                outcome = _deliver_trigger(conn, client, settings, row, at, rng)
            else:
                outcome = _deliver_notification(conn, client, settings, row, at, rng)
        stats.outcomes.append((row.message_id, outcome))
        if outcome == "delivered":
            stats.delivered += 1
        elif outcome == "retry":
            stats.retried += 1
        else:
            stats.failed += 1
    return stats


def tick(engine: Engine, settings: Settings, client: httpx.Client, *,
         now: int | None = None, rng: random.Random | None = None) -> RelayStats:
    """Plan notifications, then deliver what is due."""
    at = now_ms() if now is None else now
    with engine.begin() as conn:
        notify_once(conn, at, settings.external_url)
    return relay_once(engine, settings, client, now=now, rng=rng)


def make_client() -> httpx.Client:
    """No proxies from the environment, no redirects."""
    return httpx.Client(trust_env=False, follow_redirects=False, timeout=TIMEOUT)


class RelayThread(threading.Thread):
    """Runs :func:`tick` every ``relay_interval_s`` until stopped (inside ``driftline worker``,
    or alone as ``driftline relay``)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(name="driftline-relay", daemon=True)
        self.engine, self.settings = engine, settings
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        with make_client() as client:
            while not self._stop_event.is_set():
                started = time.monotonic()
                try:
                    stats = tick(self.engine, self.settings, client)
                    if stats.failed or stats.retried:
                        log.warning("relay: %d delivered, %d retrying, %d failed",
                                    stats.delivered, stats.retried, stats.failed)
                except Exception:  # the relay must outlive a bad row or a database blip
                    log.exception("relay tick failed")
                wait = self.settings.relay_interval_s - (time.monotonic() - started)
                self._stop_event.wait(max(0.05, wait))
