"""What the API and the CLI read and write: models, references, metric records, windows and
dead letters.

Plain functions over a SQLAlchemy :class:`~sqlalchemy.Connection`; the caller owns the
transaction (``with engine.begin() as conn: upsert_model(conn, cfg)``). No web framework here:
the CLI calls the same functions as the HTTP routes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from detectors._base import IncompatibleState
from detectors.sample import RowSample
from monitor.config import ConfigError, ModelConfig, parse_config
from monitor.db.schema import (
    CONCEPT_STATES,
    MODELS,
    RECORDS,
    REFERENCES,
    WINDOWS,
)
from monitor.db.schema import (
    DEAD_LETTERS as DEAD,
)
from monitor.db.schema import (
    PARTITION_STATES as PSTATE,
)
from monitor.records import MetricRecord
from monitor.reference import ReferenceColumns, build_profile
from monitor.report import ReportError
from monitor.timeutil import now_ms
from monitor.window_state import STATE_VERSION as WINDOW_STATE_VERSION

SOURCE_MAX = 512


@dataclass(frozen=True)
class ModelInfo:
    config: ModelConfig
    config_version: int
    created_at_ms: int
    updated_at_ms: int


@dataclass(frozen=True)
class ReferenceInfo:
    model_id: str
    version: int
    n_rows: int
    created_at_ms: int
    source: str = ""


@dataclass(frozen=True)
class StoredMetric:
    """A metric record as stored: its row id (for keyset pagination) and when it was computed."""

    id: int
    record: MetricRecord
    computed_at_ms: int


@dataclass(frozen=True)
class WindowSummary:
    model_id: str
    window_start: int
    window_end: int
    status: str
    revision: int
    needs_revision: bool
    reference_version: int | None
    closed_at_ms: int | None
    finalized_at_ms: int | None
    n_events: int | None  # from the window's ``ingestion/events`` record; None until computed


@dataclass(frozen=True)
class ReferenceSample:
    info: ReferenceInfo
    sample: RowSample | None  # None for a reference stored before row samples existed


@dataclass(frozen=True)
class WindowSample:
    """A window's bounded row sample: the merged state stored when the window became final
    (``merged``), else merged now from its partitions' states (open and closed windows)."""

    model_id: str
    window_start: int
    window_end: int
    status: str
    reference_version: int
    merged: bool
    n_parts: int
    n_events: int
    sample: RowSample | None


@dataclass(frozen=True)
class DeadLetterInfo:
    id: int
    received_at_ms: int
    stream: str
    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    payload_sha256: str
    payload_size: int
    model_id: str | None
    window_start: int | None


# ---------------------------------------------------------------- models
def _big_ints(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _big_ints(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _big_ints(v, f"{path}.{i}")]
    is_big = isinstance(value, int) and not -2**63 <= value < 2**63
    return [path] if is_big else []


def _config_text(config: ModelConfig) -> str:
    """The stored JSON text, checked to load back (as the workers will load it): ConfigError
    names a value JSON cannot carry (an infinite float, an integer beyond 64 bits)."""
    data = config.to_json()
    too_big = _big_ints(data, "")
    if too_big:
        raise ConfigError([(p, "integer out of the 64-bit range") for p in too_big])
    parse_config(data)
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def upsert_model(conn: Connection, config: ModelConfig) -> bool:
    """Register ``config`` or replace the stored one; True if the model was created.

    An update bumps ``config_version`` (workers reload on it); re-applying an identical
    configuration changes nothing.
    """
    text = _config_text(config)
    row = conn.execute(select(MODELS.c.config, MODELS.c.config_version)
                       .where(MODELS.c.model_id == config.model_id)).first()
    now = now_ms()
    if row is None:
        conn.execute(insert(MODELS).values(model_id=config.model_id, config=text,
                                           config_version=1, created_at_ms=now,
                                           updated_at_ms=now))
        return True
    if orjson.loads(row[0]) != orjson.loads(text):
        conn.execute(update(MODELS).where(MODELS.c.model_id == config.model_id).values(
            config=text, config_version=MODELS.c.config_version + 1, updated_at_ms=now))
    return False


def _info(row: Any) -> ModelInfo:
    return ModelInfo(parse_config(orjson.loads(row.config)), int(row.config_version),
                     int(row.created_at_ms), int(row.updated_at_ms))


def get_model_info(conn: Connection, model_id: str) -> ModelInfo | None:
    row = conn.execute(select(MODELS).where(MODELS.c.model_id == model_id)).first()
    return None if row is None else _info(row)


def list_model_infos(conn: Connection) -> list[ModelInfo]:
    return [_info(r) for r in conn.execute(select(MODELS).order_by(MODELS.c.model_id))]


def get_model(conn: Connection, model_id: str) -> ModelConfig | None:
    info = get_model_info(conn, model_id)
    return None if info is None else info.config


def list_models(conn: Connection) -> list[ModelConfig]:
    return [i.config for i in list_model_infos(conn)]


def delete_model(conn: Connection, model_id: str) -> bool:
    """Delete a model with its references, windows, partition states and metric records."""
    for table in (RECORDS, PSTATE, WINDOWS, REFERENCES, CONCEPT_STATES):
        conn.execute(delete(table).where(table.c.model_id == model_id))
    return conn.execute(delete(MODELS).where(MODELS.c.model_id == model_id)).rowcount > 0


# ---------------------------------------------------------------- references
def set_reference(conn: Connection, config: ModelConfig, cols: ReferenceColumns,
                  source: str) -> ReferenceInfo:
    """Freeze ``cols`` into the model's next reference version (the active one from now on)."""
    current = conn.execute(select(func.max(REFERENCES.c.version))
                           .where(REFERENCES.c.model_id == config.model_id)).scalar()
    version = int(current or 0) + 1
    profile = build_profile(config, cols, version)
    info = ReferenceInfo(config.model_id, version, cols.n_rows, now_ms(), source[:SOURCE_MAX])
    conn.execute(insert(REFERENCES).values(
        model_id=info.model_id, version=info.version, created_at_ms=info.created_at_ms,
        n_rows=info.n_rows, source=info.source,
        profile=orjson.dumps(profile.to_json(), option=orjson.OPT_SERIALIZE_NUMPY).decode()))
    return info


def get_reference_info(conn: Connection, model_id: str) -> ReferenceInfo | None:
    """The active (highest) reference version of a model, without its profile."""
    c = REFERENCES.c
    row = conn.execute(select(c.model_id, c.version, c.n_rows, c.created_at_ms, c.source)
                       .where(c.model_id == model_id).order_by(c.version.desc()).limit(1)).first()
    return None if row is None else ReferenceInfo(row[0], int(row[1]), int(row[2]),
                                                  int(row[3]), row[4] or "")


def get_reference_sample(conn: Connection, model_id: str,
                         version: int | None = None) -> ReferenceSample | None:
    """A reference version's stored row sample (the active version when ``version`` is None);
    None when the model has no such reference."""
    c = REFERENCES.c
    stmt = select(c.model_id, c.version, c.n_rows, c.created_at_ms, c.source, c.profile).where(
        c.model_id == model_id)
    stmt = (stmt.where(c.version == version) if version is not None
            else stmt.order_by(c.version.desc()).limit(1))
    row = conn.execute(stmt).first()
    if row is None:
        return None
    saved = orjson.loads(row.profile).get("sample")
    info = ReferenceInfo(row.model_id, int(row.version), int(row.n_rows), int(row.created_at_ms),
                         row.source or "")
    return ReferenceSample(info, RowSample.from_state(saved) if saved else None)


# ---------------------------------------------------------------- metric records
def record_from_row(r: Any) -> MetricRecord:
    """A ``metric_records`` row as a :class:`MetricRecord`."""
    return MetricRecord(r.model_id, int(r.window_start), int(r.window_end), r.family, r.metric,
                        r.feature, r.slice, r.value, r.threshold, r.p_value, r.ci_low,
                        r.ci_high, int(r.n), r.status, int(r.revision))


def query_metrics(conn: Connection, model_id: str, *, family: str | None = None,
                  metric: str | None = None, feature: str | None = None,
                  slice: str | None = None, status: str | None = None,
                  start_ms: int | None = None, end_ms: int | None = None, limit: int = 100,
                  after: tuple[int, int] | None = None) -> list[StoredMetric]:
    """Records with ``window_start`` in ``[start_ms, end_ms)``, ordered by (window_start, id).

    ``after`` is the (window_start, id) of the last record of the previous page: keyset
    pagination that stays exact while records of other windows are replaced.
    """
    c = RECORDS.c
    conds: list[Any] = [c.model_id == model_id]
    for column, value in ((c.family, family), (c.metric, metric), (c.feature, feature),
                          (c.slice, slice), (c.status, status)):
        if value is not None:
            conds.append(column == value)
    if start_ms is not None:
        conds.append(c.window_start >= start_ms)
    if end_ms is not None:
        conds.append(c.window_start < end_ms)
    if after is not None:
        conds.append(or_(c.window_start > after[0],
                         and_(c.window_start == after[0], c.id > after[1])))
    rows = conn.execute(select(RECORDS).where(*conds)
                        .order_by(c.window_start, c.id).limit(limit))
    return [StoredMetric(int(r.id), record_from_row(r), int(r.computed_at_ms)) for r in rows]


@dataclass(frozen=True)
class WindowRecords:
    """Records of the newest windows, newest window first (by ``id`` within a window).

    ``truncated`` is True when ``max_rows`` left out whole older windows, or cut the only
    window it returned.
    """

    records: list[StoredMetric]
    truncated: bool


def latest_window_records(conn: Connection, model_id: str, family: str, *,
                          metrics: Collection[str] = (), metric_prefixes: Collection[str] = (),
                          overall_only: bool = False, status: str | None = None,
                          start_ms: int, end_ms: int, max_windows: int,
                          max_rows: int) -> WindowRecords:
    """The ``family`` records of the newest ``max_windows`` windows (``window_start`` in
    ``[start_ms, end_ms)``) that hold any matching record, at most ``max_rows`` rows in all.

    A record matches when its metric is one of ``metrics`` or starts with one of
    ``metric_prefixes`` (case-sensitive on every database; no metric filter when both are
    empty), when its slice is null if ``overall_only``, and when its status is ``status`` if
    given. Windows are taken whole, newest first, while their rows fit in ``max_rows``; the
    newest window is returned even when it alone exceeds ``max_rows`` (cut to ``max_rows``).
    """
    c = RECORDS.c
    conds: list[Any] = [c.model_id == model_id, c.family == family,
                        c.window_start >= start_ms, c.window_start < end_ms]
    wanted: list[Any] = []
    if metrics:
        wanted.append(c.metric.in_(sorted(set(metrics))))
    # substr() rather than LIKE: exact and case-sensitive on SQLite as on PostgreSQL.
    wanted += [func.substr(c.metric, 1, len(p)) == p for p in sorted(set(metric_prefixes))]
    if wanted:
        conds.append(or_(*wanted))
    if overall_only:
        conds.append(c.slice.is_(None))
    if status is not None:
        conds.append(c.status == status)
    counts = conn.execute(select(c.window_start, func.count().label("rows")).where(*conds)
                          .group_by(c.window_start).order_by(c.window_start.desc())
                          .limit(max_windows)).all()
    starts: list[int] = []
    total = 0
    for window_start, n in counts:
        if starts and total + int(n) > max_rows:
            break
        starts.append(int(window_start))
        total += int(n)
    if not starts:
        return WindowRecords([], False)
    truncated = len(starts) < len(counts) or total > max_rows
    rows = conn.execute(select(RECORDS).where(*conds, c.window_start.in_(starts))
                        .order_by(c.window_start.desc(), c.id).limit(max_rows))
    return WindowRecords([StoredMetric(int(r.id), record_from_row(r), int(r.computed_at_ms))
                          for r in rows], truncated)


# ---------------------------------------------------------------- windows
def list_windows(conn: Connection, model_id: str, limit: int, *, status: str | None = None,
                 before: int | None = None) -> list[WindowSummary]:
    """Windows of a model, newest first; ``before`` is the last window_start already seen."""
    c, r = WINDOWS.c, RECORDS.c
    n_events = (select(r.n).where(r.model_id == c.model_id, r.window_start == c.window_start,
                                  r.family == "ingestion", r.metric == "events",
                                  r.slice.is_(None))
                .limit(1).correlate(WINDOWS).scalar_subquery())
    conds: list[Any] = [c.model_id == model_id]
    if status is not None:
        conds.append(c.status == status)
    if before is not None:
        conds.append(c.window_start < before)
    rows = conn.execute(select(c.model_id, c.window_start, c.window_end, c.status, c.revision,
                               c.needs_revision, c.reference_version, c.closed_at_ms,
                               c.finalized_at_ms, n_events.label("n_events"))
                        .where(*conds).order_by(c.window_start.desc()).limit(limit))
    return [WindowSummary(row.model_id, int(row.window_start), int(row.window_end), row.status,
                          int(row.revision), bool(row.needs_revision), row.reference_version,
                          row.closed_at_ms, row.finalized_at_ms,
                          None if row.n_events is None else int(row.n_events))
            for row in rows]


def _state_sample(raw: str) -> tuple[int, RowSample | None]:
    """The event count and row sample of a stored :class:`~monitor.window_state.WindowState`,
    read without rebuilding its histograms (which need the window's reference profile)."""
    data = orjson.loads(raw)
    if data.get("state_version") != WINDOW_STATE_VERSION:
        raise ValueError(f"unknown window state version {data.get('state_version')!r}")
    saved = data.get("sample")
    return int(data.get("n") or 0), RowSample.from_state(saved) if saved else None


def get_window_sample(conn: Connection, model_id: str,
                      window_start: int) -> WindowSample | None:
    """The window's row sample and event count; None when there is no such window.

    ReportError when its partitions' samples cannot merge (the sample size changed during the
    window).
    """
    c = WINDOWS.c
    row = conn.execute(select(c.window_end, c.status, c.reference_version, c.merged_state)
                       .where(c.model_id == model_id, c.window_start == window_start)).first()
    if row is None:
        return None
    states = [row.merged_state] if row.merged_state else list(conn.execute(
        select(PSTATE.c.state).where(PSTATE.c.model_id == model_id,
                                     PSTATE.c.window_start == window_start)
        .order_by(PSTATE.c.kafka_partition)).scalars())
    n_events, sample = 0, None
    for raw in states:
        n, part = _state_sample(raw)
        n_events += n
        if part is None:
            continue
        try:
            sample = part if sample is None else sample.merge(part)
        except IncompatibleState:
            raise ReportError("the window's partition samples cannot be merged (the model's "
                              "drift.sample_size changed during the window)") from None
    return WindowSample(model_id, window_start, int(row.window_end), row.status,
                        int(row.reference_version or 0), bool(row.merged_state), len(states),
                        n_events, sample)


# ---------------------------------------------------------------- dead letters
def dead_letter_summary(conn: Connection, model_id: str | None = None) -> dict[str, int]:
    """Dead-letter counts by reason (all models, or one)."""
    stmt = select(DEAD.c.reason, func.count()).group_by(DEAD.c.reason).order_by(DEAD.c.reason)
    if model_id is not None:
        stmt = stmt.where(DEAD.c.model_id == model_id)
    return {reason: int(n) for reason, n in conn.execute(stmt)}


def list_dead_letters(conn: Connection, limit: int, reason: str | None = None, *,
                      model_id: str | None = None,
                      before_id: int | None = None) -> list[DeadLetterInfo]:
    """Dead letters, newest first, without their payload (its SHA-256 and size only)."""
    c = DEAD.c
    conds: list[Any] = []
    if reason is not None:
        conds.append(c.reason == reason)
    if model_id is not None:
        conds.append(c.model_id == model_id)
    if before_id is not None:
        conds.append(c.id < before_id)
    rows = conn.execute(select(c.id, c.received_at_ms, c.stream, c.topic, c.kafka_partition,
                               c.kafka_offset, c.reason, c.detail, c.payload_sha256,
                               func.length(c.payload).label("size"), c.model_id,
                               c.window_start)
                        .where(*conds).order_by(c.id.desc()).limit(limit))
    return [DeadLetterInfo(int(r.id), int(r.received_at_ms), r.stream, r.topic,
                           int(r.kafka_partition), int(r.kafka_offset), r.reason, r.detail or "",
                           r.payload_sha256, int(r.size or 0), r.model_id, r.window_start)
            for r in rows]
