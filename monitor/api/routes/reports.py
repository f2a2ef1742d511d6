"""Evidently's data-drift report of one window: ``GET /api/v1/models/{model_id}/report``.

Built from bounded stored samples only (see :mod:`monitor.report`): the window's row sample,
taken from the merged state stored when the window became final, or merged at request time from
its partitions' states while it is open or closed; and the row sample of the reference version
the window was computed against (the active reference when the window predates every
reference). Rendering is CPU-bound: the route is a plain ``def``, so FastAPI runs it in its
thread pool, and the read transaction ends before rendering starts.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from monitor.api.deps import DbConn, ModelIdPath, ReadKey
from monitor.api.errors import ConflictError, NotFoundError
from monitor.api.params import parse_time
from monitor.db import repository
from monitor.db.repository import ReferenceSample, WindowSample
from monitor.report import render_drift_report
from monitor.timeutil import format_ms

router = APIRouter(tags=["reports"])

DESCRIPTION = """Evidently's HTML data-drift report (``DataDriftPreset``) of one window against
the model's reference: the version the window was computed against (the active one when the
window predates every reference). ``window_start``: RFC 3339 with a zone or epoch milliseconds.
Errors: 404 for an unknown model or no window with events at ``window_start``; 409 when the
model has no reference; 422 naming ``window_start`` when it cannot be read.

Limits: the report compares bounded uniform samples, at most ``drift.sample_size`` events of the
window (default 1,000) and ``drift.reference_sample_size`` reference rows (default 5,000), so
for larger windows Evidently's numbers are estimates. Evidently chooses its own test per column;
its verdicts can differ from the metric records, which the configured detectors compute over
every event. Embedding features appear as their L2 norm; the score and the prediction as
``score`` and ``prediction``. A window that is still open (or closed but not final) is read by
merging its partitions' states now, so its report can change as events arrive; the header says
which. Cost: with 25 columns, 1,000 window rows and 5,000 reference rows (the default sample
sizes) a report takes about 2 s of CPU and is about 5 MB of HTML (most of it Evidently's
bundled JavaScript); the time grows by about 0.1 s per column. The first report after a start
also pays for importing Evidently (several seconds).
"""


_RENDERS = threading.BoundedSemaphore(2)


@router.get("/models/{model_id}/report", response_class=HTMLResponse, description=DESCRIPTION,
            responses={200: {"content": {"text/html": {}}, "description": "the report"},
                       404: {"description": "unknown model, or no window with events at "
                                            "window_start"},
                       409: {"description": "the model has no reference (or its reference "
                                            "has no stored sample)"}})
def get_report(
    *,
    _: ReadKey,
    conn: DbConn,
    model_id: ModelIdPath,
    window_start: Annotated[str, Query(max_length=64, description="the window's start: RFC "
                                       "3339 with a zone or epoch milliseconds")],
) -> HTMLResponse:
    start_ms = parse_time("window_start", window_start)
    info = repository.get_model_info(conn, model_id)
    if info is None:
        raise NotFoundError(f"model {model_id!r} not found")
    active = repository.get_reference_info(conn, model_id)
    if active is None:
        raise ConflictError(f"model {model_id!r} has no reference; upload one with "
                            f"PUT /api/v1/models/{model_id}/reference")
    window = repository.get_window_sample(conn, model_id, start_ms)
    if window is None or window.n_events == 0 or window.sample is None or not len(window.sample):
        raise NotFoundError(
            f"model {model_id!r} has no window with accepted events at window_start "
            f"{format_ms(start_ms)}; GET /api/v1/models/{model_id}/windows lists them")
    reference = (repository.get_reference_sample(conn, model_id, window.reference_version or None)
                 or repository.get_reference_sample(conn, model_id))
    if reference is None or reference.sample is None or not len(reference.sample):
        version = active.version if reference is None else reference.info.version
        raise ConflictError(f"reference version {version} of model {model_id!r} has no stored "
                            "row sample; upload the reference again")
    conn.commit()  # end the read transaction before rendering (on SQLite it holds the lock)
    title = (f"Data drift of {model_id}: window {format_ms(window.window_start)} to "
             f"{format_ms(window.window_end)}")
    with _RENDERS:  # at most two Evidently renders at once: each takes seconds and ~300 MB
        page = render_drift_report(info.config, reference.sample, window.sample, title=title,
                                   notes=_notes(window, reference))
    filename = f"{model_id}-drift-{window.window_start}.html"
    return HTMLResponse(page, headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _notes(window: WindowSample, reference: ReferenceSample) -> list[str]:
    if window.merged:
        source = "the merged state stored when the window became final"
    else:
        change = ("it is open, so this report changes as events arrive" if window.status == "open"
                  else "it is closed but not final, so late events can still change it")
        source = f"merged now from {window.n_parts} partition state(s); {change}"
    ref = reference.info
    which = ("the version this window was computed against"
             if ref.version == window.reference_version
             else "the active version; the window predates it")
    return [f"Window: {window.status}, {window.n_events} accepted events; sample from {source}.",
            f"Reference: version {ref.version} ({which}), {ref.n_rows} rows, "
            f"uploaded {format_ms(ref.created_at_ms)}."]
