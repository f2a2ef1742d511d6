"""What the processing core needs from storage, and the feedback fold both stores share.

Two implementations: :class:`monitor.db.sql_store.SqlStore` (one database transaction per call
site, used by the worker) and :class:`monitor.memory_store.MemoryStore` (used by backtest).
The processing core (:mod:`monitor.processing`) is written once against this protocol, so the
worker and backtest compute identical records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from monitor.alert_store import AlertEntry, AuditEntry, OutboxEntry, TriggerCounts, TriggerEntry
from monitor.records import IngestionCounts, MetricRecord
from monitor.timeutil import format_ms


@dataclass(frozen=True)
class DeadLetter:
    stream: str
    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    payload: bytes
    model_id: str | None = None
    window_start: int | None = None


@dataclass(frozen=True)
class LateEvent:
    model_id: str
    window_start: int
    event_id: str
    ts_ms: int
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class PredictionRecord:
    model_id: str
    prediction_id: str
    event_id: str
    ts_ms: int
    window_start: int
    model_version: str | None
    prediction: Any
    score: Any
    slices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedbackRecord:
    model_id: str
    event_id: str
    prediction_id: str
    ts_ms: int
    label: Any
    has_label: bool
    events: dict[str, float]
    topic: str = ""
    partition: int = -1
    offset: int = -1


def orphan_dead_letter(fb: FeedbackRecord) -> DeadLetter:
    """The dead letter of feedback whose prediction never came within the feedback TTL."""
    payload = orjson.dumps({"model_id": fb.model_id, "prediction_id": fb.prediction_id,
                            "event_id": fb.event_id, "timestamp": format_ms(fb.ts_ms),
                            **({"label": fb.label} if fb.has_label else {}),
                            "events": fb.events})
    return DeadLetter("feedback", fb.topic, fb.partition, fb.offset, "orphan_feedback",
                      f"no prediction {fb.prediction_id!r} within the feedback lateness",
                      payload, fb.model_id, None)


@dataclass(frozen=True)
class Outcome:
    """One prediction of a window with what its feedback added up to (``labelled`` or not)."""

    ts_ms: int
    prediction: Any
    score: Any
    label: Any
    label_ts_ms: int | None
    slices: dict[str, str] = field(default_factory=dict)
    events: dict[str, float] = field(default_factory=dict)

    @property
    def labelled(self) -> bool:
        return self.label_ts_ms is not None


@dataclass
class JoinedOutcome:
    """What a prediction's feedback adds up to: latest label by timestamp, summed events."""

    label: Any = None
    label_ts_ms: int | None = None
    outcomes: dict[str, float] = field(default_factory=dict)
    feedback_count: int = 0

    def fold(self, fb: FeedbackRecord) -> None:
        self.feedback_count += 1
        if fb.has_label and (self.label_ts_ms is None or fb.ts_ms >= self.label_ts_ms):
            self.label, self.label_ts_ms = fb.label, fb.ts_ms
        for name, value in fb.events.items():
            self.outcomes[name] = self.outcomes.get(name, 0.0) + value


@dataclass(frozen=True)
class WindowInfo:
    model_id: str
    window_start: int
    window_end: int
    reference_version: int
    status: str
    revision: int
    needs_revision: bool


class Store(Protocol):
    # ingestion, inside the batch's transaction
    def partition_max_event(self, topic: str, partition: int) -> int | None: ...
    def claim_events(self, stream: str,
                     items: list[tuple[str, str, int]]) -> set[tuple[str, str]]: ...
    def touch_window(self, model_id: str, window_start: int, window_end: int,
                     reference_version: int) -> WindowInfo: ...
    def load_partition_state(self, model_id: str, window_start: int,
                             partition: int) -> bytes | None: ...
    def save_partition_state(self, model_id: str, window_start: int, partition: int,
                             state: bytes) -> None: ...
    def insert_predictions(self, rows: list[PredictionRecord]) -> None: ...
    def insert_feedback(self, rows: list[FeedbackRecord]) -> None: ...
    def join_feedback(self, model_id: str, prediction_ids: list[str]) -> int:
        """Fold pending feedback into its predictions; windows already closed or final that
        gain a label are marked ``needs_revision``."""
        ...

    def expire_orphans(self, model_id: str, before_ms: int) -> list[DeadLetter]:
        """Dead-letter (reason ``orphan_feedback``) and drop pending feedback older than
        ``before_ms`` whose prediction never came."""
        ...

    def window_outcomes(self, model_id: str, window_start: int) -> list[Outcome]: ...
    def load_concept_state(self, model_id: str) -> tuple[int, dict[str, Any]] | None: ...
    def save_concept_state(self, model_id: str, window_start: int,
                           state: dict[str, Any]) -> None: ...
    def window_records(self, model_id: str, window_start: int) -> list[MetricRecord]: ...
    def add_dead_letters(self, rows: list[DeadLetter]) -> None: ...
    def add_late_events(self, rows: list[LateEvent]) -> None: ...
    def bump_ingestion_record(self, model_id: str, window_start: int, metric: str,
                              count: int) -> None: ...
    def save_partition_progress(self, topic: str, partition: int, max_event_ms: int | None,
                                counters: dict[str, int]) -> None: ...
    # window maintenance
    def global_event_time(self) -> int | None: ...
    def latest_window_end(self, model_id: str) -> int | None: ...
    def windows_due(self, model_id: str, close_before: int,
                    finalize_before: int) -> list[WindowInfo]: ...
    def claim_window(self, info: WindowInfo) -> WindowInfo | None: ...
    def partition_states(self, model_id: str, window_start: int) -> list[bytes]: ...
    def ingestion_counts(self, model_id: str, window_start: int) -> IngestionCounts: ...
    def replace_records(self, model_id: str, window_start: int,
                        records: list[MetricRecord]) -> None: ...
    def finish_window(self, info: WindowInfo, status: str, merged_state: bytes,
                      revision: int) -> None: ...
    # alerting, inside the window's transaction (monitor.alert_eval)
    def load_alert_state(self, model_id: str) -> dict[str, Any] | None: ...
    def save_alert_state(self, model_id: str, state: dict[str, Any]) -> None: ...
    def save_alerts(self, alerts: list[AlertEntry]) -> None:
        """Insert or update alerts by ``alert_id``."""
        ...

    def trigger_counts(self, model_id: str, since_ms: int) -> TriggerCounts: ...
    def add_trigger(self, trigger: TriggerEntry, outbox: OutboxEntry | None,
                    audit: AuditEntry) -> bool:
        """Insert a trigger (with its outbox row and audit entry) unless its id exists;
        False when it did (a replay)."""
        ...

    def add_audit(self, entries: list[AuditEntry]) -> None: ...
    def kill_switch(self) -> bool: ...
