"""Windows of a model: ``GET /api/v1/models/{model_id}/windows``, newest first.

``status`` filters (``open``, ``closed``, ``final``); ``limit`` 1..``api_max_page_size``
(default 100); ``next_cursor`` goes back as ``cursor``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from monitor.api.deps import DbConn, ModelIdPath, ReadKey, SettingsDep
from monitor.api.errors import NotFoundError
from monitor.api.params import NO_CONTROL, decode_cursor, encode_cursor, page_limit
from monitor.api.schemas import WindowPublic, WindowsPage
from monitor.db import repository

router = APIRouter(tags=["windows"])


@router.get("/models/{model_id}/windows", response_model=WindowsPage,
            responses={404: {"description": "unknown model"}})
def get_windows(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: ModelIdPath,
    status: Annotated[str | None, Query(max_length=16, pattern=NO_CONTROL)] = None,
    limit: Annotated[int | None, Query(description="1..api_max_page_size; default 100")] = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> WindowsPage:
    size = page_limit(settings, limit)
    before = decode_cursor(cursor, 1)
    if repository.get_model_info(conn, model_id) is None:
        raise NotFoundError(f"model {model_id!r} not found")
    rows = repository.list_windows(conn, model_id, size + 1, status=status,
                                   before=None if before is None else before[0])
    page = rows[:size]
    next_cursor = encode_cursor(page[-1].window_start) if len(rows) > size else None
    return WindowsPage(items=[WindowPublic.of(w) for w in page], next_cursor=next_cursor)
