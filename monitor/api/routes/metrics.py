"""Metric records: ``GET /api/v1/models/{model_id}/metrics``.

Filters: ``family``, ``metric``, ``feature``, ``slice``, ``status`` (exact matches) and the
range ``from`` (inclusive) .. ``to`` (exclusive) on ``window_start``, each RFC 3339 with a zone
or epoch milliseconds. Defaults: ``to`` = now, ``from`` = ``to`` - 7 days; a range wider than
``api_max_range_days`` is refused (422 naming ``from``). Records come ordered by
``window_start``; ``limit`` (1..``api_max_page_size``, default 100) per page; pass
``next_cursor`` back as ``cursor`` for the next page (null on the last one).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from monitor.api.deps import DbConn, ModelIdPath, ReadKey, SettingsDep
from monitor.api.errors import NotFoundError
from monitor.api.params import NO_CONTROL, decode_cursor, encode_cursor, page_limit, time_range
from monitor.api.schemas import MetricRecordPublic, MetricsPage
from monitor.db import repository
from monitor.timeutil import format_ms

router = APIRouter(tags=["metrics"])

Status = Literal["ok", "warning", "alert", "insufficient_data"]


@router.get("/models/{model_id}/metrics", response_model=MetricsPage,
            responses={404: {"description": "unknown model"}})
def get_metrics(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: ModelIdPath,
    family: Annotated[str | None, Query(max_length=32, pattern=NO_CONTROL)] = None,
    metric: Annotated[str | None, Query(max_length=64, pattern=NO_CONTROL)] = None,
    feature: Annotated[str | None, Query(max_length=256, pattern=NO_CONTROL)] = None,
    slice: Annotated[str | None, Query(max_length=512, pattern=NO_CONTROL)] = None,
    status: Status | None = None,
    start: Annotated[str | None, Query(alias="from", max_length=64,
                                       description="RFC 3339 or epoch ms (inclusive)")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=64,
                                     description="RFC 3339 or epoch ms (exclusive)")] = None,
    limit: Annotated[int | None, Query(description="1..api_max_page_size; default 100")] = None,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> MetricsPage:
    size = page_limit(settings, limit)
    start_ms, end_ms = time_range(settings, start, end)
    after = decode_cursor(cursor, 2)
    if repository.get_model_info(conn, model_id) is None:
        raise NotFoundError(f"model {model_id!r} not found")
    rows = repository.query_metrics(
        conn, model_id, family=family, metric=metric, feature=feature, slice=slice,
        status=status, start_ms=start_ms, end_ms=end_ms, limit=size + 1,
        after=None if after is None else (after[0], after[1]))
    page = rows[:size]
    next_cursor = (encode_cursor(page[-1].record.window_start, page[-1].id)
                   if len(rows) > size else None)
    return MetricsPage(items=[MetricRecordPublic.of(r) for r in page], next_cursor=next_cursor,
                       from_=format_ms(start_ms), to=format_ms(end_ms))
