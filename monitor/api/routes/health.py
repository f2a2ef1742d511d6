"""Operations, at the root and without a key: ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from monitor.api.deps import DbConn, DbEngine, SettingsDep
from monitor.api.prometheus import render
from monitor.db.migrate import current_revision, head_revision

router = APIRouter(tags=["operations"])


@cache
def _head() -> str | None:
    return head_revision()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (liveness); never touches the database."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database unreachable or not migrated"}})
def readyz(engine: DbEngine) -> JSONResponse:
    """Ready when the database answers and its schema is at the migrations' head."""
    expected = _head()
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        reason = f"database unreachable: {type(exc).__name__}"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    if current != expected:
        reason = (f"database schema at revision {current}, expected {expected}; "
                  "run `driftline db upgrade`")
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok", "revision": current})


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                             "description": "Prometheus text exposition"}})
def metrics(conn: DbConn, settings: SettingsDep) -> Response:
    """Prometheus metrics, read from the database (see ``monitor.api.prometheus``)."""
    return Response(render(conn, settings.consumer_group), media_type=CONTENT_TYPE_LATEST)
