"""Notification channels and their deliveries: ``GET|POST /api/v1/channels``,
``DELETE /api/v1/channels/{channel_id}``, ``POST /api/v1/channels/{channel_id}/rotate-secret``,
``GET /api/v1/deliveries``.

A channel's URL is checked when it is registered (RELIABILITY promise 8: http(s) only, no
credentials, no internal address however spelled; ``DRIFTLINE_URL_ALLOWLIST`` admits private
hosts) and again by the relay after DNS resolution. A webhook channel gets a Standard Webhooks
signing secret, shown once, in the 201 answer; a rotation puts a new secret first and keeps the
previous ones signing for ``DRIFTLINE_SECRET_OVERLAP_S`` (promise 7). Secrets and routing keys
are never returned by a read.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from monitor.alert_store import AuditEntry
from monitor.api.deps import AdminKey, DbConn, ReadKey, SettingsDep
from monitor.api.errors import ConflictError, NotFoundError, invalid
from monitor.api.params import NO_CONTROL, decode_cursor, encode_cursor, page_limit
from monitor.api.schemas import (
    ChannelCreate,
    ChannelCreated,
    ChannelPublic,
    ChannelsList,
    DeliveriesPage,
    DeliveryPublic,
    SecretRotated,
    shown_url,
)
from monitor.db import alerting_queries as q
from monitor.db import alerting_sql
from monitor.db.alerting_queries import ChannelInfo, ChannelSecret
from monitor.delivery import signing, ssrf
from monitor.delivery.errors import UnsafeURLError
from monitor.timeutil import format_ms, now_ms

router = APIRouter(tags=["channels"])

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ChannelIdPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,63}$",
                                    description="the channel's id")]


@router.get("/channels", response_model=ChannelsList)
def list_channels(_: ReadKey, conn: DbConn) -> ChannelsList:
    """Every channel, by id, without secrets (``secret_count`` says how many are live)."""
    now = now_ms()
    items = [ChannelPublic.of(c, now) for c in q.list_channels(conn)]
    return ChannelsList(items=items, count=len(items))


def _checked_body(body: ChannelCreate, allow: tuple[str, ...]) -> str:
    """The URL to store, after the routing-key rule and the SSRF check (422 naming the field)."""
    if body.type == "pagerduty" and body.routing_key is None:
        raise invalid("body", "routing_key", "a pagerduty channel needs a routing_key")
    if body.type != "pagerduty" and body.routing_key is not None:
        raise invalid("body", "routing_key", f"a {body.type} channel takes no routing_key")
    url = body.url if body.url is not None else (
        PAGERDUTY_EVENTS_URL if body.type == "pagerduty" else None)
    if url is None:
        raise invalid("body", "url", f"a {body.type} channel needs a url")
    try:
        return ssrf.check_url(url, allow=allow)
    except UnsafeURLError as exc:
        raise invalid("body", "url", f"URL refused: {exc.reason}") from None


@router.post("/channels", status_code=status.HTTP_201_CREATED, response_model=ChannelCreated,
             responses={409: {"description": "the channel already exists"}})
def create_channel(principal: AdminKey, conn: DbConn, settings: SettingsDep,
                   body: ChannelCreate) -> ChannelCreated:
    """Register a channel; a webhook channel's signing secret is in this answer only."""
    url = _checked_body(body, settings.url_allow)
    if q.get_channel(conn, body.channel_id) is not None:
        raise ConflictError(f"channel {body.channel_id!r} already exists")
    now = now_ms()
    secret = signing.new_secret() if body.type == "webhook" else None
    info = ChannelInfo(body.channel_id, body.type, url,
                       [] if secret is None else [ChannelSecret(secret, None)],
                       body.routing_key, sorted(set(body.model_ids)), body.min_severity,
                       body.enabled, now, now)
    q.insert_channel(conn, info)
    alerting_sql.add_audit(conn, [AuditEntry(
        principal.actor, "channel_created", None, body.channel_id,
        {"type": body.type, "url": shown_url(body.type, url), "model_ids": info.model_ids,
         "min_severity": body.min_severity, "enabled": body.enabled})])
    return ChannelCreated(**ChannelPublic.of(info, now).model_dump(), secret=secret)


@router.delete("/channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "unknown channel"}})
def delete_channel(principal: AdminKey, conn: DbConn, channel_id: ChannelIdPath) -> Response:
    """Remove the channel; deliveries still queued for it fail at their next attempt."""
    if not q.delete_channel(conn, channel_id):
        raise NotFoundError(f"channel {channel_id!r} not found")
    alerting_sql.add_audit(conn, [AuditEntry(principal.actor, "channel_deleted", None,
                                             channel_id)])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/channels/{channel_id}/rotate-secret", response_model=SecretRotated,
             responses={404: {"description": "unknown channel"},
                        409: {"description": "the channel is not a webhook"}})
def rotate_secret(principal: AdminKey, conn: DbConn, settings: SettingsDep,
                  channel_id: ChannelIdPath) -> SecretRotated:
    """A new signing secret, first in the list; the live previous ones keep signing until
    ``secret_overlap_s`` from now (or their own earlier expiry); expired ones are dropped."""
    channel = q.get_channel(conn, channel_id)
    if channel is None:
        raise NotFoundError(f"channel {channel_id!r} not found")
    if channel.type != "webhook":
        raise ConflictError(f"channel {channel_id!r} is a {channel.type} channel; only "
                            "webhook channels sign their deliveries")
    now = now_ms()
    overlap_until = now + settings.secret_overlap_s * 1000
    previous = [ChannelSecret(s.secret, overlap_until if s.expires_at_ms is None
                              else min(s.expires_at_ms, overlap_until))
                for s in channel.secrets if s.live(now)]
    secret = signing.new_secret()
    q.set_channel_secrets(conn, channel_id, [ChannelSecret(secret, None), *previous], now)
    alerting_sql.add_audit(conn, [AuditEntry(
        principal.actor, "channel_secret_rotated", None, channel_id,
        {"previous_live": len(previous), "previous_expire_at_ms": overlap_until
         if previous else None})])
    return SecretRotated(channel_id=channel_id, secret=secret, secret_count=1 + len(previous),
                         previous_expire_at=(format_ms(max(s.expires_at_ms or 0
                                                           for s in previous))
                                             if previous else None))


@router.get("/deliveries", response_model=DeliveriesPage, tags=["deliveries"])
def list_deliveries(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    status: Literal["pending", "sent", "failed"] | None = None,
    channel_id: Annotated[str | None, Query(max_length=64, pattern=NO_CONTROL)] = None,
    model_id: Annotated[str | None, Query(max_length=128, pattern=NO_CONTROL)] = None,
    limit: Annotated[int | None, Query(description="1..api_max_page_size; default 100")] = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> DeliveriesPage:
    """Outbox rows (notifications and trigger dispatches), newest first, without payloads."""
    size = page_limit(settings, limit)
    before = decode_cursor(cursor, 1)
    rows = q.list_deliveries(conn, status=status, channel_id=channel_id, model_id=model_id,
                             limit=size + 1, before_id=None if before is None else before[0])
    page = rows[:size]
    return DeliveriesPage(items=[DeliveryPublic.of(d) for d in page],
                          next_cursor=encode_cursor(page[-1].id) if len(rows) > size else None)
