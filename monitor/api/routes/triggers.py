"""Retraining triggers (RELIABILITY promise 9): ``GET /api/v1/triggers``,
``GET /api/v1/triggers/{trigger_id}``, ``POST /api/v1/models/{model_id}/triggers`` (manual),
``POST /api/v1/triggers/{trigger_id}/ack|approve|reject`` and the kill switch,
``GET|PUT /api/v1/triggers/kill-switch``.

A manual trigger goes through the model's ``retraining`` policy like an automatic one (the kill
switch, ``enabled``, ``max_running`` and ``daily_budget``; not persistence or cooldown, and not
approval: a person asked for it), counted in the same transaction that writes it, under a lock
of the model's row. Its id is deterministic in the ``request_id``, so a retried request answers
the trigger it created (200) instead of creating another (201). Status changes are
compare-and-set: of two concurrent approvals one wins, the other gets 409.

Statuses: ``awaiting_approval`` -> ``pending`` (approve) or ``rejected`` (reject);
``pending`` -> ``dispatched`` (the relay) or ``acknowledged`` (a polling stack took it); then
``running``, ``succeeded`` or ``failed`` (the training callback).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from monitor.alert_store import AuditEntry, OutboxEntry, TriggerEntry
from monitor.api.deps import (
    AdminKey,
    DbConn,
    ModelIdPath,
    Principal,
    ReadKey,
    SettingsDep,
    TriggerKey,
)
from monitor.api.errors import ConflictError, NotFoundError
from monitor.api.params import NO_CONTROL, page_limit
from monitor.api.routes._paging import decode_keyset, encode_keyset
from monitor.api.schemas import (
    CommentBody,
    KillSwitchPublic,
    KillSwitchSet,
    TriggerCreate,
    TriggerPublic,
    TriggersPage,
)
from monitor.config import ModelConfig
from monitor.db import alerting_queries as q
from monitor.db import alerting_sql, repository
from monitor.db.alerting_queries import StoredTrigger
from monitor.settings import Settings
from monitor.timeutil import format_ms, now_ms
from monitor.triggers.dispatch import TriggerRequest
from monitor.triggers.policy import decide, trigger_id

router = APIRouter(tags=["triggers"])

DAY_MS = 86_400_000
TriggerIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
                                    description="the trigger's id")]
OptionalComment = Annotated[CommentBody | None, Body()]
Status = Literal["pending", "awaiting_approval", "acknowledged", "dispatched", "running",
                 "succeeded", "failed", "rejected"]


@router.get("/triggers", response_model=TriggersPage)
def list_triggers(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: Annotated[str | None, Query(max_length=128, pattern=NO_CONTROL)] = None,
    status: Status | None = None,
    limit: Annotated[int | None, Query(description="1..api_max_page_size; default 100")] = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
) -> TriggersPage:
    """Triggers, newest first; a training stack that polls asks for ``status=pending``."""
    size = page_limit(settings, limit)
    after = decode_keyset(cursor)
    rows = q.list_triggers(conn, model_id=model_id, status=status, limit=size + 1, after=after)
    page = rows[:size]
    return TriggersPage(items=[TriggerPublic.of(t) for t in page],
                        next_cursor=(encode_keyset(page[-1].entry.created_at_ms,
                                                   page[-1].entry.trigger_id)
                                     if len(rows) > size else None))


def _kill_switch(conn: Connection, settings: Settings) -> KillSwitchPublic:
    source = q.kill_switch_source(conn, settings.retraining_kill_switch)
    updated = q.kill_switch_updated_by(conn)
    return KillSwitchPublic(on=source is not None, source=source,
                            updated_by=None if updated is None else updated[0],
                            updated_at=None if updated is None else format_ms(updated[1]))


# Declared before /triggers/{trigger_id}, which would otherwise take "kill-switch" as an id.
@router.get("/triggers/kill-switch", response_model=KillSwitchPublic)
def get_kill_switch(_: ReadKey, conn: DbConn, settings: SettingsDep) -> KillSwitchPublic:
    """Whether retraining triggers are switched off, and by what."""
    return _kill_switch(conn, settings)


@router.put("/triggers/kill-switch", response_model=KillSwitchPublic)
def put_kill_switch(principal: AdminKey, conn: DbConn, settings: SettingsDep,
                    body: KillSwitchSet) -> KillSwitchPublic:
    """Switch retraining triggers off (``on: true``) or back on. The environment setting
    ``DRIFTLINE_RETRAINING_KILL_SWITCH`` wins: while it is set, the answer stays ``on``."""
    alerting_sql.set_kill_switch(conn, body.on, principal.actor)
    return _kill_switch(conn, settings)


def _stored(conn: Connection, tid: str) -> StoredTrigger:
    found = q.get_trigger(conn, tid)
    if found is None:
        raise NotFoundError(f"trigger {tid!r} not found")
    return found


@router.get("/triggers/{trigger_id}", response_model=TriggerPublic,
            responses={404: {"description": "unknown trigger"}})
def get_trigger(_: ReadKey, conn: DbConn, trigger_id: TriggerIdPath) -> TriggerPublic:
    return TriggerPublic.of(_stored(conn, trigger_id))


def _outbox(config: ModelConfig, entry: TriggerEntry) -> OutboxEntry | None:
    """The dispatch to queue for a pending trigger; None when the stack polls (``pull``)."""
    if config.retraining.dispatch.type == "pull":
        return None
    return OutboxEntry(entry.trigger_id, "trigger", TriggerRequest(
        entry.trigger_id, entry.model_id, entry.reason, entry.evidence,
        entry.created_at_ms).payload(), trigger_id=entry.trigger_id, model_id=entry.model_id)


@router.post("/models/{model_id}/triggers", status_code=status.HTTP_201_CREATED,
             response_model=TriggerPublic,
             responses={200: {"description": "this request_id already made this trigger",
                              "model": TriggerPublic},
                        404: {"description": "unknown model"},
                        409: {"description": "suppressed by the policy or the kill switch"}})
def create_trigger(principal: TriggerKey, conn: DbConn, settings: SettingsDep,
                   model_id: ModelIdPath, body: TriggerCreate,
                   response: Response) -> TriggerPublic | JSONResponse:
    """Ask for retraining now. 201 with the trigger; 200 when ``request_id`` already made one;
    409 with the policy's reason when the policy or the kill switch suppresses it."""
    if not q.lock_model(conn, model_id):
        raise NotFoundError(f"model {model_id!r} not found")
    config = repository.get_model(conn, model_id)
    assert config is not None  # locked just above
    now = now_ms()
    # With a request_id the id must not depend on the clock: a retry finds the same trigger.
    key = body.request_id or uuid.uuid4().hex
    tid = trigger_id(model_id, "manual:" + key, 0 if body.request_id else now)
    existing = q.get_trigger(conn, tid)
    if existing is not None:
        response.status_code = status.HTTP_200_OK
        return TriggerPublic.of(existing)
    counts = alerting_sql.trigger_counts(conn, model_id, now - DAY_MS)
    switched_off = settings.retraining_kill_switch or alerting_sql.kill_switch(conn)
    decision = decide(config.retraining, now_ms=now, kill_switch=switched_off,
                      running=counts.running, created_last_24h=counts.created_since,
                      last_created_ms=counts.last_created_ms, firing_windows=0, manual=True)
    if not decision.allowed:
        alerting_sql.add_audit(conn, [AuditEntry(
            principal.actor, "trigger_suppressed", model_id, tid,
            {"reason": decision.reason, "manual": True, "request_id": body.request_id})])
        # An answer, not an exception: the audit entry above must commit.
        return JSONResponse({"detail": decision.reason}, status_code=status.HTTP_409_CONFLICT)
    entry = TriggerEntry(tid, model_id, now, decision.status, body.reason,
                         body.evidence or {}, now, True, principal.actor)
    audit = AuditEntry(principal.actor, "trigger_created", model_id, tid,
                       {"status": decision.status, "reason": decision.reason, "manual": True,
                        "request_id": body.request_id})
    if not alerting_sql.add_trigger(conn, entry, _outbox(config, entry)
                                    if decision.status == "pending" else None, audit):
        raise ConflictError("a concurrent request created this trigger; retry")
    return TriggerPublic.of(_stored(conn, tid))


def _transition(conn: Connection, principal: Principal, tid: str, from_state: str,
                to_state: str, action: str, comment: str | None) -> StoredTrigger:
    """Move the trigger from ``from_state`` to ``to_state`` (409 from any other), audited."""
    found = _stored(conn, tid)
    if not q.transition_trigger(conn, tid, (from_state,), to_state, now_ms()):
        raise ConflictError(f"trigger {tid!r} is {found.entry.status}, not {from_state}")
    alerting_sql.add_audit(conn, [AuditEntry(principal.actor, action, found.entry.model_id,
                                             tid, {"from": from_state, "to": to_state,
                                                   "comment": comment})])
    return _stored(conn, tid)


def _comment(body: CommentBody | None) -> str | None:
    return None if body is None else body.comment


@router.post("/triggers/{trigger_id}/ack", response_model=TriggerPublic,
             responses={404: {"description": "unknown trigger"},
                        409: {"description": "the trigger is not pending"}})
def ack_trigger(principal: TriggerKey, conn: DbConn, trigger_id: TriggerIdPath,
                body: OptionalComment = None) -> TriggerPublic:
    """A polling training stack took the trigger: ``pending`` -> ``acknowledged``."""
    return TriggerPublic.of(_transition(conn, principal, trigger_id, "pending", "acknowledged",
                                        "trigger_acknowledged", _comment(body)))


@router.post("/triggers/{trigger_id}/approve", response_model=TriggerPublic,
             responses={404: {"description": "unknown trigger"},
                        409: {"description": "not awaiting approval, the kill switch is on, "
                                             "or max_running triggers are running"}})
def approve_trigger(principal: TriggerKey, conn: DbConn, settings: SettingsDep,
                    trigger_id: TriggerIdPath, body: OptionalComment = None) -> TriggerPublic:
    """``awaiting_approval`` -> ``pending``, queueing the dispatch when the policy pushes.
    Refused (409) while the kill switch is on or ``max_running`` triggers are running."""
    found = _stored(conn, trigger_id)
    model_id = found.entry.model_id
    config = repository.get_model(conn, model_id) if q.lock_model(conn, model_id) else None
    if config is None:
        raise NotFoundError(f"model {model_id!r} of trigger {trigger_id!r} not found")
    if settings.retraining_kill_switch or alerting_sql.kill_switch(conn):
        raise ConflictError("kill switch: retraining triggers are switched off")
    running = alerting_sql.trigger_counts(conn, model_id, now_ms()).running
    if found.entry.status == "awaiting_approval" and running >= config.retraining.max_running:
        raise ConflictError(f"max_running: {running} trigger(s) running, at most "
                            f"{config.retraining.max_running} at a time")
    approved = _transition(conn, principal, trigger_id, "awaiting_approval", "pending",
                           "trigger_approved", _comment(body))
    outbox = _outbox(config, approved.entry)
    if outbox is not None:
        alerting_sql.add_outbox(conn, [outbox])
    return TriggerPublic.of(approved)


@router.post("/triggers/{trigger_id}/reject", response_model=TriggerPublic,
             responses={404: {"description": "unknown trigger"},
                        409: {"description": "the trigger is not awaiting approval"}})
def reject_trigger(principal: TriggerKey, conn: DbConn, trigger_id: TriggerIdPath,
                   body: OptionalComment = None) -> TriggerPublic:
    """``awaiting_approval`` -> ``rejected`` (final)."""
    return TriggerPublic.of(_transition(conn, principal, trigger_id, "awaiting_approval",
                                        "rejected", "trigger_rejected", _comment(body)))
