"""Silences: ``GET /api/v1/silences``, ``POST /api/v1/silences``,
``DELETE /api/v1/silences/{silence_id}``.

A silence mutes the notifications of every alert whose labels satisfy all its matchers
(Alertmanager's semantics, :mod:`monitor.alerting.silences`) between ``starts_at`` and
``ends_at``; the alerts themselves are still computed and listed. Deleting a silence expires it
now; the row stays, for the record.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import ValidationError

from monitor.alert_store import AuditEntry
from monitor.alerting.silences import Silence
from monitor.api.deps import DbConn, ReadKey, SettingsDep, WriteKey
from monitor.api.errors import NotFoundError, invalid
from monitor.api.params import MAX_MS, page_limit
from monitor.api.routes._paging import decode_keyset, encode_keyset
from monitor.api.schemas import SilenceCreate, SilencePublic, SilencesPage
from monitor.db import alerting_queries as q
from monitor.db import alerting_sql
from monitor.db.alerting_queries import SilenceInfo
from monitor.timeutil import TimestampError, now_ms, parse_duration, parse_timestamp

router = APIRouter(tags=["silences"])

MAX_SILENCE_MS = 366 * 86_400_000
SilenceIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
                                    description="the silence's id")]


@router.get("/silences", response_model=SilencesPage)
def list_silences(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    active: Annotated[bool | None, Query(description="true: in force now; false: pending "
                                                     "or expired")] = None,
    limit: Annotated[int | None, Query(description="1..api_max_page_size; default 100")] = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
) -> SilencesPage:
    """Silences, newest created first."""
    size = page_limit(settings, limit)
    after = decode_keyset(cursor)
    now = now_ms()
    rows = q.list_silences(conn, now_ms=now, active=active, limit=size + 1, after=after)
    page = rows[:size]
    return SilencesPage(items=[SilencePublic.of(s, now) for s in page],
                        next_cursor=(encode_keyset(page[-1].created_at_ms, page[-1].silence_id)
                                     if len(rows) > size else None))


def _time(name: str, value: str) -> int:
    try:
        ms = parse_timestamp(value)
    except TimestampError as exc:
        raise invalid("body", name, f"{exc}; use RFC 3339 with a zone", value) from None
    if not 0 <= ms <= MAX_MS:
        raise invalid("body", name, "time must lie between 1970 and 9999", value)
    return ms


def _window(body: SilenceCreate, now: int) -> tuple[int, int, str]:
    """Start, end, and the field that set the end (for error messages)."""
    start = now if body.starts_at is None else _time("starts_at", body.starts_at)
    if (body.ends_at is None) == (body.duration is None):
        raise invalid("body", "ends_at", "give exactly one of ends_at or duration",
                      body.ends_at)
    if body.duration is not None:
        try:
            span = parse_duration(body.duration)
        except ValueError as exc:
            raise invalid("body", "duration", str(exc), body.duration) from None
        if not 0 < span <= MAX_SILENCE_MS:
            raise invalid("body", "duration", "duration must be positive and at most 366d",
                          body.duration)
        return start, start + span, "duration"
    assert body.ends_at is not None
    end = _time("ends_at", body.ends_at)
    if end - start > MAX_SILENCE_MS:
        raise invalid("body", "ends_at", "a silence lasts at most 366d", body.ends_at)
    return start, end, "ends_at"


@router.post("/silences", status_code=status.HTTP_201_CREATED, response_model=SilencePublic)
def create_silence(principal: WriteKey, conn: DbConn, body: SilenceCreate) -> SilencePublic:
    """Mute matching alerts from ``starts_at`` (default now) until ``ends_at`` or for
    ``duration``; 201 with the new ``silence_id``."""
    now = now_ms()
    start, end, end_field = _window(body, now)
    if end <= now:
        raise invalid("body", end_field, "the silence would end in the past",
                      body.ends_at if end_field == "ends_at" else body.duration)
    silence_id = "sil_" + secrets.token_hex(8)
    try:
        Silence(id=silence_id, matchers=body.matchers, starts_at_ms=start, ends_at_ms=end,
                created_by=principal.actor, comment=body.comment)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error["loc"]
        where = {"matchers": "matchers", "starts_at_ms": "starts_at"}.get(
            str(loc[0]) if loc else "", end_field)
        raise invalid("body", where, error["msg"]) from None
    info = SilenceInfo(silence_id, [m.model_dump() for m in body.matchers], start, end,
                       principal.actor, body.comment, now)
    q.insert_silence(conn, info)
    alerting_sql.add_audit(conn, [AuditEntry(principal.actor, "silence_created", None,
                                             silence_id, {"matchers": info.matchers,
                                                          "starts_at_ms": start,
                                                          "ends_at_ms": end,
                                                          "comment": body.comment})])
    return SilencePublic.of(info, now)


@router.delete("/silences/{silence_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "unknown silence"}})
def expire_silence(principal: WriteKey, conn: DbConn, silence_id: SilenceIdPath) -> Response:
    """Expire the silence now (it stays listed, as ``expired``)."""
    now = now_ms()
    expired = q.expire_silence(conn, silence_id, now)
    if expired is None:
        raise NotFoundError(f"silence {silence_id!r} not found")
    alerting_sql.add_audit(conn, [AuditEntry(principal.actor, "silence_expired", None,
                                             silence_id, {"ends_at_ms": expired.ends_at_ms})])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
