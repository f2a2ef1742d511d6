"""Worst slices per window: ``GET /api/v1/models/{model_id}/slices``.

Reads the ``slice_performance`` records ``worst.<target>`` (a window's worst slices against the
rest of the window, Benjamini-Hochberg ``alert``) and ``sequential.<target>`` (evidence per
slice accumulated across windows, always-valid p-value), where a target is ``error_rate`` or a
KPI's name, and groups them by window, newest first. In each window both lists put ``alert``
first, then ascending p-value (null last).

Filters: ``target``, ``status`` (exact matches on the records; a window without a matching
record is left out), the range ``from`` (inclusive) .. ``to`` (exclusive) on ``window_start``
as in ``/metrics``, and ``limit_windows`` (1..100, default 20) newest windows. At most
``api_max_page_size`` x 50 rows are read: older windows beyond that are left out and
``truncated`` says so.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from monitor.api.deps import DbConn, ModelIdPath, ReadKey, SettingsDep
from monitor.api.errors import NotFoundError
from monitor.api.params import time_range
from monitor.api.schemas import MetricRecordPublic, SlicesReport, SliceWindow
from monitor.config import NAME_PATTERN
from monitor.db import repository
from monitor.db.repository import StoredMetric
from monitor.records import ALERT
from monitor.settings import Settings
from monitor.timeutil import format_ms

router = APIRouter(tags=["slices"])

Status = Literal["ok", "warning", "alert", "insufficient_data"]
FAMILY = "slice_performance"
WORST, SEQUENTIAL = "worst.", "sequential."
ROWS_PER_PAGE_SIZE = 50
DEFAULT_WINDOWS, MAX_WINDOWS = 20, 100

LimitWindows = Annotated[int, Query(ge=1, le=MAX_WINDOWS,
                                    description=f"newest windows, 1..{MAX_WINDOWS}")]


def row_cap(settings: Settings) -> int:
    """The most records one grouped-by-window answer reads: ``api_max_page_size`` x 50."""
    return settings.api_max_page_size * ROWS_PER_PAGE_SIZE


def by_evidence(stored: StoredMetric) -> tuple[bool, bool, float, str, str, int]:
    """Sort key: ``alert`` first, then ascending p-value (null last); ties by metric, slice."""
    r = stored.record
    return (r.status != ALERT, r.p_value is None, r.p_value or 0.0, r.metric, r.slice or "",
            stored.id)


def by_window(records: list[StoredMetric]) -> list[list[StoredMetric]]:
    """Records (already ordered newest window first) split into one list per window."""
    groups: list[list[StoredMetric]] = []
    for stored in records:
        if groups and groups[-1][0].record.window_start == stored.record.window_start:
            groups[-1].append(stored)
        else:
            groups.append([stored])
    return groups


@router.get("/models/{model_id}/slices", response_model=SlicesReport,
            responses={404: {"description": "unknown model"}})
def get_slices(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: ModelIdPath,
    target: Annotated[str | None, Query(max_length=128, pattern=NAME_PATTERN,
                                        description="error_rate or a KPI's name")] = None,
    status: Status | None = None,
    start: Annotated[str | None, Query(alias="from", max_length=64,
                                       description="RFC 3339 or epoch ms (inclusive)")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=64,
                                     description="RFC 3339 or epoch ms (exclusive)")] = None,
    limit_windows: LimitWindows = DEFAULT_WINDOWS,
) -> SlicesReport:
    start_ms, end_ms = time_range(settings, start, end)
    if repository.get_model_info(conn, model_id) is None:
        raise NotFoundError(f"model {model_id!r} not found")
    found = repository.latest_window_records(
        conn, model_id, FAMILY,
        metrics=() if target is None else (WORST + target, SEQUENTIAL + target),
        metric_prefixes=(WORST, SEQUENTIAL) if target is None else (),
        status=status, start_ms=start_ms, end_ms=end_ms, max_windows=limit_windows,
        max_rows=row_cap(settings))
    windows = []
    for group in by_window(found.records):
        first = group[0].record
        worst = sorted((s for s in group if s.record.metric.startswith(WORST)), key=by_evidence)
        sequential = sorted((s for s in group if s.record.metric.startswith(SEQUENTIAL)),
                            key=by_evidence)
        windows.append(SliceWindow(
            window_start=format_ms(first.window_start), window_end=format_ms(first.window_end),
            worst=[MetricRecordPublic.of(s) for s in worst],
            sequential=[MetricRecordPublic.of(s) for s in sequential]))
    return SlicesReport(model_id=model_id, from_=format_ms(start_ms), to=format_ms(end_ms),
                        windows=windows, truncated=found.truncated)
