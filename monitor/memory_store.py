"""An in-process :class:`~monitor.store.Store` for backtest: same core, no database round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from monitor.alert_store import (
    ACTIVE_TRIGGER_STATES,
    COUNTED_TRIGGER_STATES,
    AlertEntry,
    AuditEntry,
    OutboxEntry,
    TriggerCounts,
    TriggerEntry,
)
from monitor.records import INSUFFICIENT, OK, WARNING, IngestionCounts, MetricRecord
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


class MemoryStore:
    def __init__(self) -> None:
        self.claimed: set[tuple[str, str, str]] = set()
        self.clocks: dict[tuple[str, int], int | None] = {}
        self.windows: dict[tuple[str, int], WindowInfo] = {}
        self.partition_blobs: dict[tuple[str, int], dict[int, bytes]] = {}
        self.merged: dict[tuple[str, int], bytes] = {}
        self.records: dict[tuple[str, int], list[MetricRecord]] = {}
        self.predictions: dict[tuple[str, str], PredictionRecord] = {}
        self.joined: dict[tuple[str, str], JoinedOutcome] = {}
        self.pending: dict[tuple[str, str], list[FeedbackRecord]] = {}
        self.by_window: dict[tuple[str, int], list[str]] = {}
        self.concept: dict[str, tuple[int, dict[str, Any]]] = {}
        self.dead_letters: list[DeadLetter] = []
        self.late_events: list[LateEvent] = []
        self.progress: dict[tuple[str, int], dict[str, int]] = {}
        self.alert_states: dict[str, dict[str, Any]] = {}
        self.alerts: dict[str, AlertEntry] = {}
        self.triggers: dict[str, TriggerEntry] = {}
        self.outbox: list[OutboxEntry] = []
        self.audit: list[AuditEntry] = []
        self.killed = False

    @contextmanager
    def transaction(self) -> Iterator[MemoryStore]:
        yield self

    def partition_max_event(self, topic: str, partition: int) -> int | None:
        return self.clocks.get((topic, partition))

    def claim_events(self, stream: str,
                     items: list[tuple[str, str, int]]) -> set[tuple[str, str]]:
        new = set()
        claimed = self.claimed
        for model_id, event_id, _ in items:
            key = (stream, model_id, event_id)
            if key not in claimed:
                claimed.add(key)
                new.add((model_id, event_id))
        return new

    def touch_window(self, model_id: str, window_start: int, window_end: int,
                     reference_version: int) -> WindowInfo:
        key = (model_id, window_start)
        info = self.windows.get(key)
        if info is None:
            info = WindowInfo(model_id, window_start, window_end, reference_version, "open", 0,
                              False)
        elif info.status == "closed":
            info = replace(info, needs_revision=True)
        self.windows[key] = info
        return info

    def load_partition_state(self, model_id: str, window_start: int,
                             partition: int) -> bytes | None:
        return self.partition_blobs.get((model_id, window_start), {}).get(partition)

    def save_partition_state(self, model_id: str, window_start: int, partition: int,
                             state: bytes) -> None:
        self.partition_blobs.setdefault((model_id, window_start), {})[partition] = state

    def insert_predictions(self, rows: list[PredictionRecord]) -> None:
        add = self.predictions.setdefault
        index = self.by_window
        for r in rows:
            if add((r.model_id, r.prediction_id), r) is r:
                index.setdefault((r.model_id, r.window_start), []).append(r.prediction_id)

    def insert_feedback(self, rows: list[FeedbackRecord]) -> None:
        for r in rows:
            self.pending.setdefault((r.model_id, r.prediction_id), []).append(r)

    def join_feedback(self, model_id: str, prediction_ids: list[str]) -> int:
        joined = 0
        if not self.pending:  # nothing waits for a prediction (e.g. a replay without feedback)
            return joined
        for pid in prediction_ids:
            key = (model_id, pid)
            if key not in self.predictions or key not in self.pending:
                continue
            outcome = self.joined.setdefault(key, JoinedOutcome())
            for fb in sorted(self.pending.pop(key), key=lambda f: (f.ts_ms, f.event_id)):
                outcome.fold(fb)
                joined += 1
            self._relabel(model_id, self.predictions[key].window_start)
        return joined

    def _relabel(self, model_id: str, window_start: int) -> None:
        info = self.windows.get((model_id, window_start))
        if info is not None and info.status in ("closed", "final"):
            self.windows[(model_id, window_start)] = replace(info, needs_revision=True)

    def expire_orphans(self, model_id: str, before_ms: int) -> list[DeadLetter]:
        dead: list[DeadLetter] = []
        for key in [k for k in self.pending if k[0] == model_id]:
            if key in self.predictions:
                continue
            keep = []
            for fb in self.pending[key]:
                if fb.ts_ms < before_ms:
                    dead.append(orphan_dead_letter(fb))
                else:
                    keep.append(fb)
            if keep:
                self.pending[key] = keep
            else:
                del self.pending[key]
        self.dead_letters.extend(dead)
        return dead

    def window_outcomes(self, model_id: str, window_start: int) -> list[Outcome]:
        out = []
        for pid in self.by_window.get((model_id, window_start), []):
            p = self.predictions[(model_id, pid)]
            j = self.joined.get((model_id, pid))
            out.append(Outcome(p.ts_ms, p.prediction, p.score, j.label if j else None,
                               j.label_ts_ms if j else None, p.slices,
                               dict(j.outcomes) if j else {}))
        return sorted(out, key=lambda o: o.ts_ms)

    def load_concept_state(self, model_id: str) -> tuple[int, dict[str, Any]] | None:
        return self.concept.get(model_id)

    def save_concept_state(self, model_id: str, window_start: int,
                           state: dict[str, Any]) -> None:
        self.concept[model_id] = (window_start, state)

    def window_records(self, model_id: str, window_start: int) -> list[MetricRecord]:
        return list(self.records.get((model_id, window_start), []))

    def add_dead_letters(self, rows: list[DeadLetter]) -> None:
        self.dead_letters.extend(rows)

    def add_late_events(self, rows: list[LateEvent]) -> None:
        self.late_events.extend(rows)

    def bump_ingestion_record(self, model_id: str, window_start: int, metric: str,
                              count: int) -> None:
        recs = self.records.get((model_id, window_start))
        if recs:
            self.records[(model_id, window_start)] = [
                replace(x, value=(x.value or 0) + count,
                        status=WARNING if metric == "late_events" else x.status)
                if (x.family, x.metric) == ("ingestion", metric) else x for x in recs]

    def save_partition_progress(self, topic: str, partition: int, max_event_ms: int | None,
                                counters: dict[str, int]) -> None:
        if max_event_ms is not None:
            self.clocks[(topic, partition)] = max_event_ms
        totals = self.progress.setdefault((topic, partition), {})
        for k, v in counters.items():
            totals[k] = totals.get(k, 0) + v

    def global_event_time(self) -> int | None:
        values = list(self.clocks.values())
        if not values or any(v is None for v in values):
            return None
        return min(v for v in values if v is not None)

    def latest_window_end(self, model_id: str) -> int | None:
        return max((w.window_end for w in self.windows.values() if w.model_id == model_id),
                   default=None)

    def windows_due(self, model_id: str, close_before: int,
                    finalize_before: int) -> list[WindowInfo]:
        return sorted(
            (w for w in self.windows.values() if w.model_id == model_id and (
                (w.status == "open" and w.window_end <= close_before)
                or (w.status == "closed" and (w.needs_revision
                                              or w.window_end <= finalize_before))
                or (w.status == "final" and w.needs_revision))),
            key=lambda w: w.window_start)

    def claim_window(self, info: WindowInfo) -> WindowInfo | None:
        current = self.windows.get((info.model_id, info.window_start))
        return current if current == info else None

    def partition_states(self, model_id: str, window_start: int) -> list[bytes]:
        key = (model_id, window_start)
        if key in self.merged:
            return [self.merged[key]]
        blobs = self.partition_blobs.get(key, {})
        return [blobs[p] for p in sorted(blobs)]

    def ingestion_counts(self, model_id: str, window_start: int) -> IngestionCounts:
        return IngestionCounts(
            dead_letters=sum(1 for d in self.dead_letters
                             if d.model_id == model_id and d.window_start == window_start),
            late_events=sum(1 for e in self.late_events
                            if e.model_id == model_id and e.window_start == window_start))

    def replace_records(self, model_id: str, window_start: int,
                        records: list[MetricRecord]) -> None:
        self.records[(model_id, window_start)] = list(records)

    def finish_window(self, info: WindowInfo, status: str, merged_state: bytes,
                      revision: int) -> None:
        key = (info.model_id, info.window_start)
        self.windows[key] = replace(info, status=status, needs_revision=False, revision=revision)
        if status == "final":
            self.merged[key] = merged_state
            self.partition_blobs.pop(key, None)

    def all_records(self) -> list[MetricRecord]:
        return [r for key in sorted(self.records) for r in self.records[key]]

    # ---------------------------------------------------------------- alerting
    def load_alert_state(self, model_id: str) -> dict[str, Any] | None:
        return self.alert_states.get(model_id)

    def save_alert_state(self, model_id: str, state: dict[str, Any]) -> None:
        self.alert_states[model_id] = state

    def save_alerts(self, alerts: list[AlertEntry]) -> None:
        for a in alerts:
            self.alerts[a.alert_id] = a

    def trigger_counts(self, model_id: str, since_ms: int) -> TriggerCounts:
        mine = [t for t in self.triggers.values() if t.model_id == model_id]
        counted = [t for t in mine if t.status in COUNTED_TRIGGER_STATES]
        return TriggerCounts(
            sum(t.status in ACTIVE_TRIGGER_STATES for t in mine),
            sum((t.event_time_ms or t.created_at_ms) >= since_ms for t in counted),
            max((t.event_time_ms or t.created_at_ms for t in counted), default=None))

    def add_trigger(self, trigger: TriggerEntry, outbox: OutboxEntry | None,
                    audit: AuditEntry) -> bool:
        if trigger.trigger_id in self.triggers:
            return False
        self.triggers[trigger.trigger_id] = trigger
        if outbox is not None:
            self.outbox.append(outbox)
        self.audit.append(audit)
        return True

    def add_audit(self, entries: list[AuditEntry]) -> None:
        self.audit.extend(entries)

    def kill_switch(self) -> bool:
        return self.killed


__all__ = ["INSUFFICIENT", "OK", "MemoryStore"]
