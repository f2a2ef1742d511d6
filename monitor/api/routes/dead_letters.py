"""Dead letters: ``GET /api/v1/dead-letters?model_id=&reason=``, newest first.

The page carries the counts by reason (for ``model_id`` when given) and the letters themselves
without their payload (its SHA-256 and size only).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from monitor.api.deps import DbConn, ReadKey, SettingsDep
from monitor.api.params import NO_CONTROL, decode_cursor, encode_cursor, page_limit
from monitor.api.schemas import DeadLetterPublic, DeadLettersPage
from monitor.db import repository

router = APIRouter(tags=["dead letters"])


@router.get("/dead-letters", response_model=DeadLettersPage)
def get_dead_letters(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: Annotated[str | None, Query(max_length=128, pattern=NO_CONTROL)] = None,
    reason: Annotated[str | None, Query(max_length=64, pattern=NO_CONTROL)] = None,
    limit: Annotated[int | None, Query(description="1..api_max_page_size; default 100")] = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> DeadLettersPage:
    size = page_limit(settings, limit)
    before = decode_cursor(cursor, 1)
    rows = repository.list_dead_letters(conn, size + 1, reason, model_id=model_id,
                                        before_id=None if before is None else before[0])
    page = rows[:size]
    return DeadLettersPage(
        summary=repository.dead_letter_summary(conn, model_id),
        items=[DeadLetterPublic.of(d) for d in page],
        next_cursor=encode_cursor(page[-1].id) if len(rows) > size else None)
