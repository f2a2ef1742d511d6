"""The database-backed :class:`~monitor.store.Store` (SQLite or PostgreSQL), bound to one
connection inside one transaction. Also the consumer-offset operations of the worker."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Text,
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from monitor.alert_store import AlertEntry, AuditEntry, OutboxEntry, TriggerCounts, TriggerEntry
from monitor.db import alerting_sql
from monitor.db.schema import (
    CONCEPT_STATES as CONCEPT,
)
from monitor.db.schema import (
    DEAD_LETTERS as DEAD,
)
from monitor.db.schema import (
    FEEDBACK,
    OFFSETS,
    PREDICTIONS,
    PROCESSED,
    RECORDS,
    WINDOWS,
)
from monitor.db.schema import (
    LATE_EVENTS as LATE,
)
from monitor.db.schema import (
    PARTITION_STATES as PSTATE,
)
from monitor.records import WARNING, IngestionCounts, MetricRecord
from monitor.store import (
    DeadLetter,
    FeedbackRecord,
    JoinedOutcome,
    LateEvent,
    Outcome,
    PredictionRecord,
    WindowInfo,
    orphan_dead_letter,
)
from monitor.timeutil import now_ms

IN_CHUNK = 500
UNSET_OFFSET = -1


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


# The per-event inserts, written for the driver (pyformat for psycopg, qmark for sqlite3).
CLAIM_CHUNK = 5000
SQLITE_CHUNK = 2000  # 4 parameters a row, well under SQLite's 32766
_PG_CLAIM = (
    f"INSERT INTO {PROCESSED.name} (model_id, stream, event_id, window_start) "
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[]) "
    "ON CONFLICT DO NOTHING RETURNING model_id, event_id")
_PREDICTION_COLUMNS = ("model_id, prediction_id, event_id, ts_ms, window_start, model_version, "
                       "prediction, score, slices, label, label_ts_ms, outcomes, feedback_count")
_PG_PREDICTIONS = (
    f"INSERT INTO {PREDICTIONS.name} ({_PREDICTION_COLUMNS}) "
    "SELECT m, p, e, t, w, v, pr, s, sl, NULL, NULL, NULL, 0 FROM unnest(%s::text[], %s::text[], "
    "%s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
    "WITH ORDINALITY AS u(m, p, e, t, w, v, pr, s, sl, i) ORDER BY i ON CONFLICT DO NOTHING")
_PG_OUTCOMES = (
    f"UPDATE {PREDICTIONS.name} AS p SET label = u.l, label_ts_ms = u.t, outcomes = u.o, "
    "feedback_count = u.c FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[], "
    "%s::int[]) AS u(pid, l, t, o, c) WHERE p.model_id = %s AND p.prediction_id = u.pid")
_SQLITE_OUTCOMES = (
    f"UPDATE {PREDICTIONS.name} SET label = ?2, label_ts_ms = ?3, outcomes = ?4, "
    "feedback_count = ?5 WHERE model_id = ?6 AND prediction_id = ?1")
_SQLITE_PREDICTIONS = (
    f"INSERT INTO {PREDICTIONS.name} ({_PREDICTION_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, 0) ON CONFLICT DO NOTHING")


@lru_cache(maxsize=8)
def _sqlite_claim(n_rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?)"] * n_rows)
    return (f"INSERT INTO {PROCESSED.name} (model_id, stream, event_id, window_start) "
            f"VALUES {values} ON CONFLICT DO NOTHING RETURNING model_id, event_id")


class SqlStore:
    """Store operations on ``conn``; the caller owns the transaction."""

    def __init__(self, conn: Connection, consumer_group: str = "driftline",
                 predictions_topic: str = "driftline.predictions",
                 idle_timeout_ms: int = 30_000) -> None:
        self.conn = conn
        self.group = consumer_group
        self.predictions_topic = predictions_topic
        self.idle_timeout_ms = idle_timeout_ms
        self._postgres = conn.dialect.name == "postgresql"
        self._insert = postgresql.insert if self._postgres else sqlite.insert

    # ------------------------------------------------------------ offsets (worker only)
    def _offset_where(self, topic: str, partition: int) -> Any:
        return and_(OFFSETS.c.consumer_group == self.group, OFFSETS.c.topic == topic,
                    OFFSETS.c.kafka_partition == partition)

    def ensure_partitions(self, topic: str, partitions: Sequence[int]) -> None:
        now = now_ms()
        rows = [{"consumer_group": self.group, "topic": topic, "kafka_partition": p,
                 "next_offset": UNSET_OFFSET, "accepted": 0, "duplicates": 0, "late": 0,
                 "dead_letters": 0, "updated_at_ms": now} for p in partitions]
        if rows:
            self.conn.execute(self._insert(OFFSETS).on_conflict_do_nothing(), rows)

    def stored_offsets(self, topic: str) -> dict[int, int]:
        rows = self.conn.execute(
            select(OFFSETS.c.kafka_partition, OFFSETS.c.next_offset).where(
                OFFSETS.c.consumer_group == self.group, OFFSETS.c.topic == topic))
        return {int(p): int(o) for p, o in rows}

    def advance_offset(self, topic: str, partition: int, expected: int, new: int) -> bool:
        """Compare-and-set: only the consumer that read ``expected`` may move it to ``new``."""
        result = self.conn.execute(
            update(OFFSETS).where(self._offset_where(topic, partition),
                                  OFFSETS.c.next_offset == expected)
            .values(next_offset=new, updated_at_ms=now_ms()))
        return result.rowcount == 1

    def heartbeat(self, topic: str, partition: int, highwater: int | None,
                  caught_up: bool) -> None:
        now = now_ms()
        since = func.coalesce(OFFSETS.c.caught_up_since_ms, now) if caught_up else None
        self.conn.execute(update(OFFSETS).where(self._offset_where(topic, partition))
                          .values(highwater=highwater, caught_up_since_ms=since))

    # ------------------------------------------------------------ ingestion
    def partition_max_event(self, topic: str, partition: int) -> int | None:
        value = self.conn.execute(select(OFFSETS.c.max_event_ms).where(
            self._offset_where(topic, partition))).scalar()
        return None if value is None else int(value)

    def claim_events(self, stream: str,
                     items: list[tuple[str, str, int]]) -> set[tuple[str, str]]:
        # Per batch this inserts a row per event: statements go to the driver directly
        # (PostgreSQL: one INSERT over arrays; SQLite: multi-row VALUES) instead of SQLAlchemy
        # building and parsing a statement with parameters for every row.
        claimed: set[tuple[str, str]] = set()
        if self._postgres:
            for chunk in _chunks(items, CLAIM_CHUNK):
                rows = self.conn.exec_driver_sql(_PG_CLAIM, (
                    [m for m, _, _ in chunk], [stream] * len(chunk), [e for _, e, _ in chunk],
                    [w for _, _, w in chunk])).all()
                claimed.update((m, e) for m, e in rows)
            return claimed
        for chunk in _chunks(items, SQLITE_CHUNK):
            params = [v for m, e, w in chunk for v in (m, stream, e, w)]
            rows = self.conn.exec_driver_sql(_sqlite_claim(len(chunk)), tuple(params)).all()
            claimed.update((m, e) for m, e in rows)
        return claimed

    def touch_window(self, model_id: str, window_start: int, window_end: int,
                     reference_version: int) -> WindowInfo:
        self.conn.execute(self._insert(WINDOWS).values(
            model_id=model_id, window_start=window_start, window_end=window_end,
            reference_version=reference_version, status="open", needs_revision=False,
            revision=0, touches=0).on_conflict_do_nothing())
        row = self.conn.execute(
            update(WINDOWS).where(WINDOWS.c.model_id == model_id,
                                  WINDOWS.c.window_start == window_start)
            .values(touches=WINDOWS.c.touches + 1,
                    needs_revision=or_(WINDOWS.c.needs_revision, WINDOWS.c.status == "closed"))
            .returning(*self._window_cols())).one()
        return self._info(row)

    def load_partition_state(self, model_id: str, window_start: int,
                             partition: int) -> bytes | None:
        value = self.conn.execute(select(PSTATE.c.state).where(
            PSTATE.c.model_id == model_id, PSTATE.c.window_start == window_start,
            PSTATE.c.kafka_partition == partition)).scalar()
        return None if value is None else value.encode()

    def save_partition_state(self, model_id: str, window_start: int, partition: int,
                             state: bytes) -> None:
        stmt = self._insert(PSTATE).values(model_id=model_id, window_start=window_start,
                                           kafka_partition=partition, state=state.decode(),
                                           updated_at_ms=now_ms())
        self.conn.execute(stmt.on_conflict_do_update(
            index_elements=[PSTATE.c.model_id, PSTATE.c.window_start, PSTATE.c.kafka_partition],
            set_={"state": stmt.excluded.state, "updated_at_ms": stmt.excluded.updated_at_ms}))

    def insert_predictions(self, rows: list[PredictionRecord]) -> None:
        if not rows:
            return
        values = [(r.model_id, r.prediction_id, r.event_id, r.ts_ms, r.window_start,
                   r.model_version, _json(r.prediction), _json(r.score),
                   _json(r.slices) if r.slices else None) for r in rows]
        if self._postgres:  # one statement over arrays, inserted in the order given
            for chunk in _chunks(values, CLAIM_CHUNK):
                columns = tuple(list(c) for c in zip(*chunk, strict=True))
                self.conn.exec_driver_sql(_PG_PREDICTIONS, columns)
        else:
            self.conn.exec_driver_sql(_SQLITE_PREDICTIONS, values)

    def insert_feedback(self, rows: list[FeedbackRecord]) -> None:
        now = now_ms()
        self.conn.execute(self._insert(FEEDBACK).on_conflict_do_nothing(), [
            {"model_id": r.model_id, "event_id": r.event_id, "prediction_id": r.prediction_id,
             "ts_ms": r.ts_ms, "label": _json(r.label), "has_label": r.has_label,
             "events": _json(r.events), "joined": False, "received_at_ms": now,
             "topic": r.topic, "kafka_partition": r.partition, "kafka_offset": r.offset}
            for r in rows])

    def _among(self, column: Any, ids: Sequence[str]) -> Any:
        """``column IN ids``; on PostgreSQL as ``IN (SELECT unnest(array))``.

        A literal ``IN`` list becomes ``= ANY(...)``, which the planner applies as a filter after
        an index scan on ``model_id`` alone while the table has no statistics yet (a new
        deployment before autovacuum's first ANALYZE): quadratic. The semi-join over ``unnest``
        is a hash join then and an index probe per id once statistics exist.
        """
        if self._postgres:
            return column.in_(select(func.unnest(literal(list(ids), postgresql.ARRAY(Text)))))
        return column.in_(ids)

    def join_feedback(self, model_id: str, prediction_ids: list[str]) -> int:
        pending_any = self.conn.execute(select(FEEDBACK.c.event_id).where(
            FEEDBACK.c.model_id == model_id, FEEDBACK.c.joined.is_(False)).limit(1)).first()
        if pending_any is None:
            return 0
        joined = 0
        for chunk in _chunks(sorted(set(prediction_ids))):
            pending = self.conn.execute(select(FEEDBACK).where(
                FEEDBACK.c.model_id == model_id, FEEDBACK.c.joined.is_(False),
                self._among(FEEDBACK.c.prediction_id, chunk))
                .order_by(FEEDBACK.c.ts_ms, FEEDBACK.c.event_id)).mappings().all()
            if not pending:
                continue
            ids = sorted({fb["prediction_id"] for fb in pending})
            preds = {r["prediction_id"]: r for r in self.conn.execute(select(PREDICTIONS).where(
                PREDICTIONS.c.model_id == model_id,
                self._among(PREDICTIONS.c.prediction_id, ids))).mappings()}
            done: list[str] = []
            outcomes: dict[str, JoinedOutcome] = {}
            for fb in pending:
                row = preds.get(fb["prediction_id"])
                if row is None:
                    continue
                outcome = outcomes.get(fb["prediction_id"])
                if outcome is None:
                    outcome = JoinedOutcome(
                        label=orjson.loads(row["label"]) if row["label"] else None,
                        label_ts_ms=row["label_ts_ms"],
                        outcomes=orjson.loads(row["outcomes"]) if row["outcomes"] else {},
                        feedback_count=row["feedback_count"])
                    outcomes[fb["prediction_id"]] = outcome
                outcome.fold(FeedbackRecord(
                    model_id, fb["event_id"], fb["prediction_id"], fb["ts_ms"],
                    orjson.loads(fb["label"]) if fb["label"] else None, fb["has_label"],
                    orjson.loads(fb["events"]) if fb["events"] else {}))
                done.append(fb["event_id"])
            self._store_outcomes(model_id, outcomes)
            self._relabel(model_id, sorted({int(preds[pid]["window_start"]) for pid in outcomes}))
            for ev_chunk in _chunks(done):
                self.conn.execute(update(FEEDBACK).where(
                    FEEDBACK.c.model_id == model_id, self._among(FEEDBACK.c.event_id, ev_chunk))
                    .values(joined=True))
            joined += len(done)
        return joined

    def _store_outcomes(self, model_id: str, outcomes: dict[str, JoinedOutcome]) -> None:
        """Write the folded feedback onto its predictions in one statement, not one per row."""
        if not outcomes:
            return
        rows = [(pid, _json(o.label), o.label_ts_ms, _json(o.outcomes), o.feedback_count)
                for pid, o in outcomes.items()]
        if self._postgres:
            columns = tuple(list(c) for c in zip(*rows, strict=True))
            self.conn.exec_driver_sql(_PG_OUTCOMES, (*columns, model_id))
        else:
            self.conn.exec_driver_sql(_SQLITE_OUTCOMES, [(*r, model_id) for r in rows])

    def _relabel(self, model_id: str, window_starts: list[int]) -> None:
        c = WINDOWS.c
        for chunk in _chunks(window_starts):
            self.conn.execute(update(WINDOWS).where(
                c.model_id == model_id, c.window_start.in_(chunk),
                c.status.in_(("closed", "final"))).values(needs_revision=True))

    def expire_orphans(self, model_id: str, before_ms: int) -> list[DeadLetter]:
        f, p = FEEDBACK.c, PREDICTIONS.c
        has_prediction = exists().where(p.model_id == f.model_id,
                                        p.prediction_id == f.prediction_id)
        rows = self.conn.execute(select(FEEDBACK).where(
            f.model_id == model_id, f.joined.is_(False), f.ts_ms < before_ms, ~has_prediction)
            .order_by(f.ts_ms, f.event_id)).mappings().all()
        if not rows:
            return []
        dead = [orphan_dead_letter(FeedbackRecord(
            model_id, r["event_id"], r["prediction_id"], r["ts_ms"],
            orjson.loads(r["label"]) if r["label"] else None, r["has_label"],
            orjson.loads(r["events"]) if r["events"] else {}, r["topic"] or "",
            -1 if r["kafka_partition"] is None else r["kafka_partition"],
            -1 if r["kafka_offset"] is None else r["kafka_offset"])) for r in rows]
        for chunk in _chunks([r["event_id"] for r in rows]):
            self.conn.execute(delete(FEEDBACK).where(f.model_id == model_id,
                                                     self._among(f.event_id, chunk)))
        self.add_dead_letters(dead)
        return dead

    def window_outcomes(self, model_id: str, window_start: int) -> list[Outcome]:
        p = PREDICTIONS.c
        rows = self.conn.execute(select(p.ts_ms, p.prediction, p.score, p.label, p.label_ts_ms,
                                        p.slices, p.outcomes)
                                 .where(p.model_id == model_id, p.window_start == window_start)
                                 .order_by(p.ts_ms, p.prediction_id)).all()
        return [Outcome(int(r[0]), orjson.loads(r[1]), orjson.loads(r[2]) if r[2] else None,
                        orjson.loads(r[3]) if r[3] else None,
                        None if r[4] is None else int(r[4]),
                        orjson.loads(r[5]) if r[5] else {},
                        orjson.loads(r[6]) if r[6] else {}) for r in rows]

    def load_concept_state(self, model_id: str) -> tuple[int, dict[str, Any]] | None:
        row = self.conn.execute(select(CONCEPT.c.last_window_start, CONCEPT.c.state).where(
            CONCEPT.c.model_id == model_id)).first()
        return None if row is None else (int(row[0]), orjson.loads(row[1]))

    def save_concept_state(self, model_id: str, window_start: int,
                           state: dict[str, Any]) -> None:
        values = {"last_window_start": window_start, "state": orjson.dumps(state).decode()}
        stmt = self._insert(CONCEPT).values(model_id=model_id, **values)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["model_id"], set_=values))

    def window_records(self, model_id: str, window_start: int) -> list[MetricRecord]:
        c = RECORDS.c
        rows = self.conn.execute(select(
            c.model_id, c.window_start, c.window_end, c.family, c.metric, c.feature, c.slice,
            c.value, c.threshold, c.p_value, c.ci_low, c.ci_high, c.n, c.status, c.revision)
            .where(c.model_id == model_id, c.window_start == window_start)
            .order_by(c.id)).all()
        return [MetricRecord(*tuple(r)) for r in rows]

    def add_dead_letters(self, rows: list[DeadLetter]) -> None:
        now = now_ms()
        self.conn.execute(self._insert(DEAD).on_conflict_do_nothing(), [
            {"received_at_ms": now, "stream": d.stream, "topic": d.topic,
             "kafka_partition": d.partition, "kafka_offset": d.offset, "reason": d.reason,
             "detail": d.detail, "payload_sha256": hashlib.sha256(d.payload).hexdigest(),
             "payload": d.payload, "model_id": d.model_id, "window_start": d.window_start}
            for d in rows])

    def add_late_events(self, rows: list[LateEvent]) -> None:
        now = now_ms()
        self.conn.execute(LATE.insert(), [
            {"received_at_ms": now, "model_id": r.model_id, "window_start": r.window_start,
             "event_id": r.event_id, "ts_ms": r.ts_ms, "topic": r.topic,
             "kafka_partition": r.partition, "kafka_offset": r.offset} for r in rows])

    def bump_ingestion_record(self, model_id: str, window_start: int, metric: str,
                              count: int) -> None:
        """Count events that reach a window after its records were written."""
        status = WARNING if metric == "late_events" else RECORDS.c.status
        self.conn.execute(update(RECORDS).where(
            RECORDS.c.model_id == model_id, RECORDS.c.window_start == window_start,
            RECORDS.c.family == "ingestion", RECORDS.c.metric == metric)
            .values(value=RECORDS.c.value + count, status=status, computed_at_ms=now_ms()))

    def save_partition_progress(self, topic: str, partition: int, max_event_ms: int | None,
                                counters: dict[str, int]) -> None:
        values: dict[str, Any] = {k: getattr(OFFSETS.c, k) + v for k, v in counters.items()}
        if max_event_ms is not None:
            values["max_event_ms"] = max_event_ms
        values["updated_at_ms"] = now_ms()
        self.conn.execute(update(OFFSETS).where(self._offset_where(topic, partition))
                          .values(**values))

    # ------------------------------------------------------------ windows
    @staticmethod
    def _window_cols() -> list[Any]:
        c = WINDOWS.c
        return [c.model_id, c.window_start, c.window_end, c.reference_version, c.status,
                c.revision, c.needs_revision]

    @staticmethod
    def _info(row: Any) -> WindowInfo:
        return WindowInfo(row[0], int(row[1]), int(row[2]), int(row[3] or 0), row[4],
                          int(row[5]), bool(row[6]))

    def global_event_time(self) -> int | None:
        rows = self.conn.execute(select(OFFSETS.c.max_event_ms, OFFSETS.c.caught_up_since_ms)
                                 .where(OFFSETS.c.consumer_group == self.group,
                                        OFFSETS.c.topic == self.predictions_topic)).all()
        now = now_ms()
        considered = [m for m, since in rows
                      if since is None or now - int(since) < self.idle_timeout_ms]
        if not considered or any(m is None for m in considered):
            return None
        return min(int(m) for m in considered)

    def latest_window_end(self, model_id: str) -> int | None:
        end = self.conn.execute(select(func.max(WINDOWS.c.window_end))
                                .where(WINDOWS.c.model_id == model_id)).scalar_one_or_none()
        return None if end is None else int(end)

    def windows_due(self, model_id: str, close_before: int,
                    finalize_before: int) -> list[WindowInfo]:
        c = WINDOWS.c
        rows = self.conn.execute(select(*self._window_cols()).where(
            c.model_id == model_id,
            or_(and_(c.status == "open", c.window_end <= close_before),
                and_(c.status == "closed",
                     or_(c.needs_revision.is_(True), c.window_end <= finalize_before)),
                and_(c.status == "final", c.needs_revision.is_(True))))
            .order_by(c.window_start)).all()
        return [self._info(r) for r in rows]

    def claim_window(self, info: WindowInfo) -> WindowInfo | None:
        c = WINDOWS.c
        row = self.conn.execute(update(WINDOWS).where(
            c.model_id == info.model_id, c.window_start == info.window_start,
            c.status == info.status, c.revision == info.revision,
            c.needs_revision.is_(info.needs_revision))
            .values(touches=c.touches + 1).returning(*self._window_cols())).first()
        return None if row is None else self._info(row)

    def partition_states(self, model_id: str, window_start: int) -> list[bytes]:
        merged = self.conn.execute(select(WINDOWS.c.merged_state).where(
            WINDOWS.c.model_id == model_id, WINDOWS.c.window_start == window_start)).scalar()
        if merged:
            return [merged.encode()]
        rows = self.conn.execute(select(PSTATE.c.state).where(
            PSTATE.c.model_id == model_id, PSTATE.c.window_start == window_start)
            .order_by(PSTATE.c.kafka_partition)).scalars()
        return [r.encode() for r in rows]

    def ingestion_counts(self, model_id: str, window_start: int) -> IngestionCounts:
        dead = self.conn.execute(select(func.count()).select_from(DEAD).where(
            DEAD.c.model_id == model_id, DEAD.c.window_start == window_start)).scalar_one()
        late = self.conn.execute(select(func.count()).select_from(LATE).where(
            LATE.c.model_id == model_id, LATE.c.window_start == window_start)).scalar_one()
        return IngestionCounts(dead_letters=int(dead), late_events=int(late))

    def replace_records(self, model_id: str, window_start: int,
                        records: list[MetricRecord]) -> None:
        self.conn.execute(delete(RECORDS).where(RECORDS.c.model_id == model_id,
                                                RECORDS.c.window_start == window_start))
        now = now_ms()
        if records:
            self.conn.execute(RECORDS.insert(), [
                {"model_id": r.model_id, "window_start": r.window_start,
                 "window_end": r.window_end, "family": r.family, "metric": r.metric,
                 "feature": r.feature, "slice": r.slice, "value": r.value,
                 "threshold": r.threshold, "p_value": r.p_value, "ci_low": r.ci_low,
                 "ci_high": r.ci_high, "n": r.n, "status": r.status, "revision": r.revision,
                 "computed_at_ms": now} for r in records])

    def finish_window(self, info: WindowInfo, status: str, merged_state: bytes,
                      revision: int) -> None:
        c = WINDOWS.c
        now = now_ms()
        values: dict[str, Any] = {"status": status, "needs_revision": False,
                                  "revision": revision,
                                  "closed_at_ms": func.coalesce(c.closed_at_ms, now)}
        if status == "final":
            values["finalized_at_ms"] = now
            values["merged_state"] = merged_state.decode()
        self.conn.execute(update(WINDOWS).where(
            c.model_id == info.model_id, c.window_start == info.window_start).values(**values))
        if status == "final":
            self.conn.execute(delete(PSTATE).where(PSTATE.c.model_id == info.model_id,
                                                   PSTATE.c.window_start == info.window_start))

    # ---------------------------------------------------------------- alerting
    def load_alert_state(self, model_id: str) -> dict[str, Any] | None:
        return alerting_sql.load_alert_state(self.conn, model_id)

    def save_alert_state(self, model_id: str, state: dict[str, Any]) -> None:
        alerting_sql.save_alert_state(self.conn, model_id, state)

    def save_alerts(self, alerts: list[AlertEntry]) -> None:
        alerting_sql.save_alerts(self.conn, alerts)

    def trigger_counts(self, model_id: str, since_ms: int) -> TriggerCounts:
        return alerting_sql.trigger_counts(self.conn, model_id, since_ms)

    def add_trigger(self, trigger: TriggerEntry, outbox: OutboxEntry | None,
                    audit: AuditEntry) -> bool:
        return alerting_sql.add_trigger(self.conn, trigger, outbox, audit)

    def add_audit(self, entries: list[AuditEntry]) -> None:
        alerting_sql.add_audit(self.conn, entries)

    def kill_switch(self) -> bool:
        return alerting_sql.kill_switch(self.conn)
