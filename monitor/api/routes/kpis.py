"""Business KPIs per window: ``GET /api/v1/models/{model_id}/kpis``.

Reads the ``kpi`` records: metric ``<kpi>`` (slice null: the KPI over the window; else per
slice) and ``<kpi>.change`` (the always-valid change test against the reference baseline,
written when the window becomes final). Every KPI of the model's configuration is listed, in
its order, with its windows newest first (an empty list when it has no record in the range);
``baseline`` is the reference's value, the ``threshold`` of its newest overall record.

Filters: ``name`` (a KPI of the model, else 422 naming ``name``), ``include_slices`` (default
true), the range ``from`` (inclusive) .. ``to`` (exclusive) on ``window_start`` as in
``/metrics``, and ``limit_windows`` (1..100, default 20) newest windows holding records of the
KPIs asked for. At most ``api_max_page_size`` x 50 rows are read: older windows beyond that are
left out and ``truncated`` says so.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query

from monitor.api.deps import DbConn, ModelIdPath, ReadKey, SettingsDep
from monitor.api.errors import NotFoundError, invalid
from monitor.api.params import NO_CONTROL, time_range
from monitor.api.routes.slices import DEFAULT_WINDOWS, LimitWindows, by_window, row_cap
from monitor.api.schemas import KpiChange, KpiSeries, KpiSliceValue, KpisReport, KpiWindow
from monitor.db import repository
from monitor.records import MetricRecord
from monitor.timeutil import format_ms

router = APIRouter(tags=["kpis"])

FAMILY = "kpi"
CHANGE = ".change"


def _window(name: str, records: list[MetricRecord]) -> KpiWindow:
    """KPI ``name`` in one window, from that window's records of it (at least one)."""
    overall = next((r for r in records if r.metric == name and r.slice is None), None)
    change = next((r for r in records if r.metric == name + CHANGE and r.slice is None), None)
    slices = sorted((r for r in records if r.metric == name and r.slice is not None),
                    key=lambda r: r.slice or "")
    first = records[0]
    return KpiWindow(
        window_start=format_ms(first.window_start), window_end=format_ms(first.window_end),
        value=None if overall is None else overall.value,
        ci_low=None if overall is None else overall.ci_low,
        ci_high=None if overall is None else overall.ci_high,
        n=None if overall is None else overall.n,
        status=None if overall is None else overall.status,
        change=None if change is None else KpiChange(p_value=change.p_value,
                                                     status=change.status),
        slices=[KpiSliceValue(slice=r.slice or "", value=r.value, ci_low=r.ci_low,
                              ci_high=r.ci_high, n=r.n, status=r.status) for r in slices])


def _kpi_of(metric: str, names: set[str]) -> str:
    """The KPI a record's metric belongs to: ``ctr`` for ``ctr`` and ``ctr.change`` (a KPI
    itself named ``ctr.change`` keeps its values)."""
    return metric if metric in names else metric.removesuffix(CHANGE)


@router.get("/models/{model_id}/kpis", response_model=KpisReport,
            responses={404: {"description": "unknown model"}})
def get_kpis(
    *,
    _: ReadKey,
    conn: DbConn,
    settings: SettingsDep,
    model_id: ModelIdPath,
    name: Annotated[str | None, Query(max_length=128, pattern=NO_CONTROL,
                                      description="one KPI of the model")] = None,
    include_slices: bool = True,
    start: Annotated[str | None, Query(alias="from", max_length=64,
                                       description="RFC 3339 or epoch ms (inclusive)")] = None,
    end: Annotated[str | None, Query(alias="to", max_length=64,
                                     description="RFC 3339 or epoch ms (exclusive)")] = None,
    limit_windows: LimitWindows = DEFAULT_WINDOWS,
) -> KpisReport:
    start_ms, end_ms = time_range(settings, start, end)
    info = repository.get_model_info(conn, model_id)
    if info is None:
        raise NotFoundError(f"model {model_id!r} not found")
    names = [k.name for k in info.config.kpis]
    if name is not None:
        if name not in names:
            raise invalid("query", "name", f"{name!r} is not a KPI of model {model_id!r}", name)
        names = [name]
    found = repository.WindowRecords([], False)
    if names:
        found = repository.latest_window_records(
            conn, model_id, FAMILY, metrics=[m for n in names for m in (n, n + CHANGE)],
            overall_only=not include_slices, start_ms=start_ms, end_ms=end_ms,
            max_windows=limit_windows, max_rows=row_cap(settings))
    windows: dict[str, list[KpiWindow]] = defaultdict(list)
    baselines: dict[str, float | None] = {}
    known = set(names)
    for group in by_window(found.records):
        of_kpi: dict[str, list[MetricRecord]] = defaultdict(list)
        for stored in group:
            of_kpi[_kpi_of(stored.record.metric, known)].append(stored.record)
        for kpi, records in of_kpi.items():
            windows[kpi].append(_window(kpi, records))
            overall = next((r for r in records if r.metric == kpi and r.slice is None), None)
            if overall is not None and kpi not in baselines:  # the newest window comes first
                baselines[kpi] = overall.threshold
    return KpisReport(
        model_id=model_id, from_=format_ms(start_ms), to=format_ms(end_ms),
        kpis=[KpiSeries(name=kpi, baseline=baselines.get(kpi), windows=windows.get(kpi, []))
              for kpi in names],
        truncated=found.truncated)
