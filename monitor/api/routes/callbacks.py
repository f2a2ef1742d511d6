"""The training stack reporting back: ``POST /api/v1/callbacks/training`` (RELIABILITY
promise 7, incoming).

No API key: the request is authenticated by its Standard Webhooks signature
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) with one of
``DRIFTLINE_CALLBACK_SECRETS``, verified in constant time with a 5-minute timestamp tolerance
(:func:`monitor.delivery.signing.verify`). 503 while no secret is configured, 401 for a missing,
invalid or stale signature, before the body is looked at.

A ``webhook-id`` seen before is a replay: 200 ``{"replayed": true}`` and nothing changes (ids
are remembered for a day, far longer than a signature stays fresh). Otherwise the id is
recorded and the trigger moves to the reported status in the same transaction (404 unknown
trigger, 409 from a final status or one that was never dispatched). ``succeeded`` with
``reference`` rows re-baselines the model: the rows become its next reference version, its
concept-drift detectors and alert series restart against it, and its open alerts resolve.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from monitor.alert_store import AuditEntry
from monitor.api.deps import DbConn, SettingsDep
from monitor.api.errors import ApiError, ConflictError, NotFoundError, invalid
from monitor.api.schemas import CallbackResult, ReferencePublic, TrainingCallback, TriggerPublic
from monitor.db import alerting_queries as q
from monitor.db import alerting_sql, repository
from monitor.delivery import signing
from monitor.delivery.errors import SecretFormatError, SignatureError
from monitor.reference import ReferenceError, columns_from_events
from monitor.timeutil import now_ms

router = APIRouter(tags=["callbacks"])

ACTOR = "training-callback"
RECEIPT_TTL_MS = 86_400_000
TOLERANCE_S = 300
FINAL = frozenset({"succeeded", "failed", "rejected"})
REPORTABLE = ("pending", "acknowledged", "dispatched", "running")


class SignatureRejected(ApiError):
    """401: the callback's signature is missing, invalid or too old."""

    status_code = 401


class CallbacksDisabled(ApiError):
    """503: no callback secret is configured (or one is malformed)."""

    status_code = 503


_SCHEMA = TrainingCallback.model_json_schema(ref_template="#/components/schemas/{model}")
_HEADERS = [{"name": name, "in": "header", "required": True, "schema": {"type": "string"},
             "description": desc} for name, desc in (
    ("webhook-id", "the message id; a repeated id is a no-op"),
    ("webhook-timestamp", "unix seconds, within 5 minutes of now"),
    ("webhook-signature", "v1,<base64 HMAC-SHA256 over id.timestamp.body>"))]


@router.post("/callbacks/training", response_model=CallbackResult,
             openapi_extra={"parameters": _HEADERS, "requestBody": {
                 "required": True, "content": {"application/json": {"schema": _SCHEMA}}}},
             responses={401: {"description": "missing, invalid or stale signature"},
                        404: {"description": "unknown trigger"},
                        409: {"description": "the trigger cannot take this status"},
                        503: {"description": "no callback secret configured"}})
async def training_callback(request: Request, settings: SettingsDep,
                            conn: DbConn) -> CallbackResult:
    """Apply a signed status report of a retraining run (see the module docstring)."""
    secrets = settings.callback_secret_list
    if not secrets:
        raise CallbacksDisabled("training callbacks are off: set DRIFTLINE_CALLBACK_SECRETS")
    body = await request.body()
    try:
        signing.verify(secrets, request.headers, body, now=int(time.time()),
                       tolerance_s=TOLERANCE_S)
    except SecretFormatError:
        raise CallbacksDisabled("DRIFTLINE_CALLBACK_SECRETS holds a malformed secret") from None
    except SignatureError as exc:
        raise SignatureRejected(f"invalid callback signature: {exc.reason}") from None
    report = _parse(body)
    msg_id = request.headers[signing.HEADER_ID].strip()
    return await run_in_threadpool(_apply, conn, msg_id, report)


def _parse(body: bytes) -> TrainingCallback:
    """The validated body; 422 naming the field (the signature already vouched for it)."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                       "msg": f"invalid JSON: {exc}", "input": None}]) from None
    try:
        report = TrainingCallback.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([
            {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"],
             "input": e.get("input")} for e in exc.errors()]) from None
    if report.reference is not None and report.status != "succeeded":
        raise invalid("body", "reference", "reference rows come with status succeeded only")
    return report


def _apply(conn: Connection, message_id: str, report: TrainingCallback) -> CallbackResult:
    now = now_ms()
    q.prune_callback_receipts(conn, now - RECEIPT_TTL_MS)
    if not q.record_callback(conn, message_id, now):
        return CallbackResult(replayed=True)
    tid = report.trigger_id
    found = q.get_trigger(conn, tid)
    if found is None:
        raise NotFoundError(f"trigger {tid!r} not found")
    model_id, current = found.entry.model_id, found.entry.status
    audit = {"webhook_id": message_id, "from": current, "to": report.status,
             "model_version": report.model_version, "detail": report.detail}
    if current in FINAL and current == report.status and report.reference is None:
        # The same final report again under a new id (a sender that lost our answer).
        alerting_sql.add_audit(conn, [AuditEntry(ACTOR, "trigger_callback_unchanged",
                                                 model_id, tid, audit)])
        return CallbackResult(replayed=False, trigger=TriggerPublic.of(found))
    if current not in REPORTABLE:
        raise ConflictError(f"trigger {tid!r} is {current}; it cannot become {report.status}")
    if not q.transition_trigger(conn, tid, (current,), report.status, now,
                                model_version=report.model_version, detail=report.detail):
        raise ConflictError(f"trigger {tid!r} changed concurrently; retry")
    alerting_sql.add_audit(conn, [AuditEntry(ACTOR, "trigger_callback", model_id, tid, audit)])
    reference = None
    if report.reference is not None:
        reference = _rebaseline(conn, model_id, tid, report, now)
    updated = q.get_trigger(conn, tid)
    assert updated is not None  # updated just above, in this transaction
    return CallbackResult(replayed=False, trigger=TriggerPublic.of(updated),
                          reference=reference)


def _rebaseline(conn: Connection, model_id: str, tid: str, report: TrainingCallback,
                now: int) -> ReferencePublic:
    """The reported rows become the model's next reference; its detectors restart."""
    assert report.reference is not None
    config = repository.get_model(conn, model_id)
    if config is None:
        raise NotFoundError(f"model {model_id!r} of trigger {tid!r} not found")
    try:
        cols = columns_from_events(config, report.reference)
    except ReferenceError as exc:
        raise invalid("body", "reference", str(exc)) from None
    source = f"callback:{tid}" + (f":{report.model_version}" if report.model_version else "")
    info = repository.set_reference(conn, config, cols, source)
    resolved = q.reset_model_states(conn, model_id, now)
    alerting_sql.add_audit(conn, [AuditEntry(
        ACTOR, "reference_rebaselined", model_id, tid,
        {"version": info.version, "n_rows": info.n_rows, "alerts_resolved": resolved,
         "model_version": report.model_version})])
    return ReferencePublic.of(info)
