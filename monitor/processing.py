"""The processing core shared by the worker and backtest: batches in, window state and records out.

Determinism is the design rule: every decision about an event (duplicate, too late, which window)
depends only on the event's own partition (its offset order and that partition's event-time
clock), never on how far other partitions have got. So the final records of a window do not
depend on how partitions are spread over workers: one worker or several give the same numbers.

- A partition's clock is the largest event time it has accepted; a model's watermark in that
  partition is the clock minus the model's allowed out-of-orderness.
- An event whose window ended more than the allowed lateness before its partition's watermark is
  too late: counted in the late-event store, not applied.
- A window closes (records are written) when every partition's watermark has passed its end; a
  window that receives late data after closing is revised; once the allowed lateness has passed
  everywhere it is final and its partition states are merged into one.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial

from monitor.alert_eval import alerting_step
from monitor.concept_eval import active_detectors, errors, feed
from monitor.config import ModelConfig
from monitor.events import EventLimits, InvalidEvent, Prediction, decode_feedback, decode_prediction
from monitor.kpi_eval import kpi_change
from monitor.performance_eval import RECOMPUTED_ON_LABEL, compute_label_records, concept_records
from monitor.records import MetricRecord, compute_window_records
from monitor.reference import ReferenceProfile
from monitor.slicing import slice_values
from monitor.store import (
    DeadLetter,
    FeedbackRecord,
    LateEvent,
    Outcome,
    PredictionRecord,
    Store,
    WindowInfo,
)
from monitor.timeutil import now_ms, window_start
from monitor.window_state import WindowState
from monitor.worst_slices import SEQUENTIAL_KEY, sequential_update

log = logging.getLogger(__name__)
KPI_KEY = "__kpis__"
STALL_WINDOWS = 3

PREDICTIONS = "predictions"
FEEDBACK = "feedback"
MAX_DEAD_LETTER_PAYLOAD = 65_536


@dataclass(frozen=True)
class Message:
    """One record from Kafka (or one line of a backtest file)."""

    stream: str
    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass
class ModelRuntime:
    """A model's configuration with its active reference profile and older ones in use."""

    config: ModelConfig
    profile: ReferenceProfile
    older_profiles: dict[int, ReferenceProfile] = field(default_factory=dict)
    config_version: int = 0
    window_ms: int = field(init=False)
    out_of_orderness_ms: int = field(init=False)
    allowed_lateness_ms: int = field(init=False)

    def __post_init__(self) -> None:
        self.window_ms = self.config.window_ms
        self.out_of_orderness_ms = self.config.lateness.out_of_orderness_ms
        self.allowed_lateness_ms = self.config.lateness.allowed_lateness_ms

    def profile_for(self, version: int, load: Callable[[int], ReferenceProfile | None]
                    ) -> ReferenceProfile:
        if version == self.profile.version:
            return self.profile
        if version not in self.older_profiles:
            found = load(version) if version else ReferenceProfile.empty(self.config)
            self.older_profiles[version] = found or ReferenceProfile.empty(self.config)
        return self.older_profiles[version]


class Registry:
    """Models known to the processor. Subclasses load them from a database or from files."""

    def get(self, model_id: str) -> ModelRuntime | None:
        raise NotImplementedError

    def all(self) -> list[ModelRuntime]:
        raise NotImplementedError

    def load_profile(self, model_id: str, version: int) -> ReferenceProfile | None:
        raise NotImplementedError


@dataclass
class BatchStats:
    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    dead_letters: int = 0
    feedback: int = 0
    dead_letter_reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: BatchStats) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.late += other.late
        self.dead_letters += other.dead_letters
        self.feedback += other.feedback
        for k, v in other.dead_letter_reasons.items():
            self.dead_letter_reasons[k] += v


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a batch (or a whole backtest).

    Applying a batch allocates a few objects per feature per event and makes no reference
    cycles (reference counting frees them), yet the allocations trigger collections that walk
    every live object, the worker's or backtest's long-lived ones included: about a third of
    the time of a batch. The collector is switched back on afterwards (if it was on), so any
    cycles made elsewhere are still collected, between batches.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass
class _PredictionBatch:
    """The prediction messages of one partition within one poll batch, as they are sorted out."""

    topic: str
    partition: int
    dead: list[DeadLetter] = field(default_factory=list)
    #: (offset, event, model, window start) of each valid event, in offset order
    valid: list[tuple[int, Prediction, ModelRuntime, int]] = field(default_factory=list)
    dups: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    by_window: dict[tuple[str, int], list[tuple[int, Prediction]]] = field(
        default_factory=lambda: defaultdict(list))
    late: list[LateEvent] = field(default_factory=list)
    accepted: list[Prediction] = field(default_factory=list)
    records: list[PredictionRecord] = field(default_factory=list)  # one per accepted event
    clock: int | None = None


@dataclass(frozen=True)
class WindowChange:
    model_id: str
    window_start: int
    action: str
    records: list[MetricRecord]


class Processor:
    """Applies batches of messages to a :class:`Store`; closes, revises and finalizes windows."""

    def __init__(self, registry: Registry, limits: EventLimits | None = None,
                 relabel_interval_s: float = 0.0) -> None:
        self.registry = registry
        self.limits = limits or EventLimits()
        self._limits = self.limits
        # Final windows that gained labels are recomputed at most this often (they stay marked
        # until then, so nothing is lost): labels trickling in for days would otherwise
        # recompute the same windows at every batch.
        self.relabel_interval_s = relabel_interval_s
        self._last_relabel = -math.inf
        self._stall_checked: dict[str, int] = {}  # model -> the window boundary last checked

    # ----------------------------------------------------------------- ingestion
    def apply_batch(self, store: Store, messages: Iterable[Message]) -> BatchStats:
        """Apply messages (in offset order per partition) inside the caller's transaction."""
        self._limits = replace(self.limits, now_ms=self.limits.now_ms or now_ms())
        groups: dict[tuple[str, str, int], list[Message]] = defaultdict(list)
        for m in messages:
            groups[(m.stream, m.topic, m.partition)].append(m)
        stats = BatchStats()
        with collector_paused():
            for (stream, topic, partition), msgs in groups.items():
                self._partition(store, stream, topic, partition, [m.offset for m in msgs],
                                [m.value for m in msgs], stats)
        return stats

    def apply_partition(self, store: Store, stream: str, topic: str, partition: int,
                        offsets: list[int], values: list[bytes]) -> BatchStats:
        """:meth:`apply_batch` for the messages of one partition given as parallel lists (in
        offset order), without a :class:`Message` per event: how backtest feeds its files."""
        self._limits = replace(self.limits, now_ms=self.limits.now_ms or now_ms())
        stats = BatchStats()
        if values:
            with collector_paused():
                self._partition(store, stream, topic, partition, offsets, values, stats)
        return stats

    def _partition(self, store: Store, stream: str, topic: str, partition: int,
                   offsets: list[int], values: list[bytes], stats: BatchStats) -> None:
        if stream == PREDICTIONS:
            self._predictions(store, topic, partition, offsets, values, stats)
        else:
            self._feedback(store, stream, topic, partition, offsets, values, stats)

    def _dead(self, m: Message, exc: InvalidEvent, rt: ModelRuntime | None) -> DeadLetter:
        ws = window_start(exc.ts_ms, rt.window_ms) if rt and exc.ts_ms is not None else None
        return DeadLetter(m.stream, m.topic, m.partition, m.offset, exc.reason,
                          exc.detail[:500], m.value[:MAX_DEAD_LETTER_PAYLOAD],
                          exc.model_id if rt else None, ws)

    def _predictions(self, store: Store, topic: str, partition: int, offsets: list[int],
                     values: list[bytes], stats: BatchStats) -> None:
        batch = _PredictionBatch(topic, partition)
        self._decode_predictions(batch, offsets, values)
        self._sequence(store, batch)
        self._apply_windows(store, batch)
        if batch.accepted:
            store.insert_predictions(batch.records)
            by_model: dict[str, list[str]] = defaultdict(list)
            for p in batch.accepted:
                by_model[p.model_id].append(p.prediction_id)
            for model_id, ids in by_model.items():
                store.join_feedback(model_id, ids)
        if batch.late:
            store.add_late_events(batch.late)
            late_by_window: dict[tuple[str, int], int] = defaultdict(int)
            for e in batch.late:
                late_by_window[(e.model_id, e.window_start)] += 1
            for (model_id, ws), k in sorted(late_by_window.items()):
                store.bump_ingestion_record(model_id, ws, "late_events", k)
        if batch.dead:
            store.add_dead_letters(batch.dead)
        n_dups = sum(batch.dups.values())
        store.save_partition_progress(topic, partition, batch.clock, {
            "accepted": len(batch.accepted), "duplicates": n_dups, "late": len(batch.late),
            "dead_letters": len(batch.dead)})
        stats.accepted += len(batch.accepted)
        stats.duplicates += n_dups
        stats.late += len(batch.late)
        stats.dead_letters += len(batch.dead)
        for d in batch.dead:
            stats.dead_letter_reasons[d.reason] += 1

    def _decode_predictions(self, batch: _PredictionBatch, offsets: list[int],
                            values: list[bytes]) -> None:
        """Validate; dead-letter what is invalid; drop duplicates within the batch."""
        # The per-event hot path: locals instead of attribute lookups, each model looked up in
        # the registry once per batch, and a Message built only for a dead letter.
        seen: set[tuple[str, str]] = set()
        limits, lookup = self._limits, self.registry.get
        runtimes: dict[str, ModelRuntime | None] = {}
        valid, dups = batch.valid, batch.dups
        for offset, value in zip(offsets, values, strict=True):
            try:
                p = decode_prediction(value, limits)
            except InvalidEvent as exc:
                m = Message(PREDICTIONS, batch.topic, batch.partition, offset, value)
                batch.dead.append(self._dead(m, exc, lookup(exc.model_id or "")))
                continue
            model_id = p.model_id
            if model_id not in runtimes:
                runtimes[model_id] = lookup(model_id)
            rt = runtimes[model_id]
            if rt is None:
                m = Message(PREDICTIONS, batch.topic, batch.partition, offset, value)
                batch.dead.append(self._dead(m, InvalidEvent("unknown_model", model_id), None))
                continue
            ws = p.ts_ms - p.ts_ms % rt.window_ms  # window_start()
            event_key = (model_id, p.event_id)
            if event_key in seen:
                dups[(model_id, ws)] += 1
                continue
            seen.add(event_key)
            valid.append((offset, p, rt, ws))

    def _sequence(self, store: Store, batch: _PredictionBatch) -> None:
        """In offset order: drop events seen before, set aside the too-late, advance the clock."""
        claimed = store.claim_events(
            PREDICTIONS, [(p.model_id, p.event_id, ws) for _, p, _, ws in batch.valid])
        clock = store.partition_max_event(batch.topic, batch.partition)
        by_window = batch.by_window
        for offset, p, rt, ws in batch.valid:
            if (p.model_id, p.event_id) not in claimed:
                batch.dups[(p.model_id, ws)] += 1
                continue
            if clock is not None and (ws + rt.window_ms + rt.allowed_lateness_ms
                                      <= clock - rt.out_of_orderness_ms):
                batch.late.append(LateEvent(p.model_id, ws, p.event_id, p.ts_ms, batch.topic,
                                            batch.partition, offset))
                continue
            by_window[(p.model_id, ws)].append((offset, p))
            if clock is None or p.ts_ms > clock:
                clock = p.ts_ms
        batch.clock = clock

    def _apply_windows(self, store: Store, batch: _PredictionBatch) -> None:
        """Fold each window's events into this partition's state of that window."""
        for key in sorted(set(batch.by_window) | set(batch.dups)):
            model_id, ws = key
            entries = batch.by_window.get(key, [])
            rt = self._rt(model_id)
            info = store.touch_window(model_id, ws, ws + rt.window_ms, rt.profile.version)
            if info.status == "final":
                batch.late.extend(LateEvent(model_id, ws, p.event_id, p.ts_ms, batch.topic,
                                            batch.partition, offset) for offset, p in entries)
                if batch.dups.get(key):
                    store.bump_ingestion_record(model_id, ws, "duplicates", batch.dups[key])
                continue
            profile = rt.profile_for(info.reference_version,
                                     partial(self.registry.load_profile, model_id))
            blob = store.load_partition_state(model_id, ws, batch.partition)
            state = (WindowState.from_json(blob, rt.config, profile) if blob
                     else WindowState(rt.config, profile))
            events = [p for _, p in entries]
            state.update(events)
            state.duplicates += batch.dups.get(key, 0)
            store.save_partition_state(model_id, ws, batch.partition, state.to_json())
            batch.accepted.extend(events)
            sliced = bool(rt.config.slices)
            batch.records.extend([
                PredictionRecord(model_id, p.prediction_id, p.event_id, p.ts_ms, ws,
                                 p.model_version, p.prediction, p.score,
                                 slice_values(rt.config, profile, p.features, p.tags)
                                 if sliced else {}) for p in events])

    def _rt(self, model_id: str) -> ModelRuntime:
        rt = self.registry.get(model_id)
        assert rt is not None
        return rt

    def _feedback(self, store: Store, stream: str, topic: str, partition: int,
                  offsets: list[int], values: list[bytes], stats: BatchStats) -> None:
        dead: list[DeadLetter] = []
        rows: dict[tuple[str, str], FeedbackRecord] = {}
        dups = 0
        for offset, value in zip(offsets, values, strict=True):
            try:
                fb = decode_feedback(value, self._limits)
            except InvalidEvent as exc:
                dead.append(self._dead(Message(stream, topic, partition, offset, value), exc,
                                       None))
                continue
            if self.registry.get(fb.model_id) is None:
                dead.append(self._dead(Message(stream, topic, partition, offset, value),
                                       InvalidEvent("unknown_model", fb.model_id), None))
                continue
            key = (fb.model_id, fb.event_id)
            if key in rows:
                dups += 1
                continue
            rows[key] = FeedbackRecord(fb.model_id, fb.event_id, fb.prediction_id, fb.ts_ms,
                                       fb.label, fb.has_label, fb.events, topic, partition,
                                       offset)
        claimed = store.claim_events(
            FEEDBACK, [(r.model_id, r.event_id, r.ts_ms) for r in rows.values()])
        new = [r for k, r in rows.items() if k in claimed]
        dups += len(rows) - len(new)
        if new:
            store.insert_feedback(new)
            by_model: dict[str, list[str]] = defaultdict(list)
            for r in new:
                by_model[r.model_id].append(r.prediction_id)
            for model_id, ids in by_model.items():
                store.join_feedback(model_id, sorted(set(ids)))
        if dead:
            store.add_dead_letters(dead)
        store.save_partition_progress(topic, partition, None, {
            "accepted": len(new), "duplicates": dups, "late": 0, "dead_letters": len(dead)})
        stats.feedback += len(new)
        stats.duplicates += dups
        stats.dead_letters += len(dead)
        for d in dead:
            stats.dead_letter_reasons[d.reason] += 1

    # ---------------------------------------------------------------- windows
    def maintain(self, transaction: Callable[[], AbstractContextManager[Store]],
                 flush: bool = False) -> list[WindowChange]:
        """Close, revise and finalize every window that is due, each in its own transaction.

        ``flush`` (backtest at end of input) treats event time as having reached infinity.
        """
        with transaction() as store:
            event_time = store.global_event_time()
        if event_time is None and not flush:
            return []
        changes: list[WindowChange] = []
        relabel = flush or time.monotonic() - self._last_relabel >= self.relabel_interval_s
        if relabel:
            self._last_relabel = time.monotonic()
        for rt in self.registry.all():
            if flush:
                close_before = finalize_before = 2**62
            else:
                assert event_time is not None
                close_before = event_time - rt.out_of_orderness_ms
                finalize_before = close_before - rt.allowed_lateness_ms
            with transaction() as store:
                orphan_before = (2**62 if flush
                                 else close_before - rt.config.lateness.feedback_lateness_ms)
                store.expire_orphans(rt.config.model_id, orphan_before)
                due = store.windows_due(rt.config.model_id, close_before, finalize_before)
                if not flush:
                    self._stall(store, rt.config, close_before)
            for info in due:
                if info.status == "final" and not relabel:
                    continue
                change = self._settle(transaction, rt, info, finalize_before)
                if change is not None:
                    changes.append(change)
        return changes

    def _stall(self, store: Store, config: ModelConfig, close_before: int) -> None:
        """An ingestion stall: event time moved on (other models' events) past whole windows of
        this model that got no event at all. Each such window (the last ``STALL_WINDOWS``) gets
        an ``ingestion.stall`` alert record; the next window with events records ``ok``."""
        w = config.window_ms
        boundary = close_before - close_before % w
        if self._stall_checked.get(config.model_id) == boundary:
            return  # no window boundary passed since the last check
        self._stall_checked[config.model_id] = boundary
        last_end = store.latest_window_end(config.model_id)
        if last_end is None:
            return
        missing = list(range(last_end, close_before - w + 1, w))[-STALL_WINDOWS:]
        for start in missing:
            if store.window_records(config.model_id, start):
                continue
            records = [MetricRecord(config.model_id, start, start + w, "ingestion", "stall",
                                    None, None, 0.0, None, None, None, None, 0, "alert")]
            store.replace_records(config.model_id, start, records)
            alerting_step(store, config, records)

    @staticmethod
    def _concept(store: Store, config: ModelConfig, profile: ReferenceProfile,
                 window_start: int, outcomes: list[Outcome] | None,
                 revision: int) -> list[MetricRecord]:
        """Feed a window that just became final to the model's concept-drift detectors and
        KPI change tests (``outcomes`` are loaded here when the caller had no need for them)."""
        if not active_detectors(config) and not config.kpis and not config.slices:
            return []
        loaded = store.load_concept_state(config.model_id)
        if loaded is not None and loaded[0] >= window_start:
            return []  # fed already (windows become final in order)
        if outcomes is None:
            outcomes = store.window_outcomes(config.model_id, window_start)
        saved = loaded[1] if loaded else {}
        state, results = feed(config, saved, errors(config, outcomes))
        kpis, kpi_recs = kpi_change(config, profile, saved.get(KPI_KEY), window_start, outcomes,
                                    revision)
        slices, slice_recs = sequential_update(config, saved.get(SEQUENTIAL_KEY), window_start,
                                               outcomes, revision)
        store.save_concept_state(config.model_id, window_start,
                                 {**state, KPI_KEY: kpis, SEQUENTIAL_KEY: slices})
        return concept_records(config, window_start, results, revision) + kpi_recs + slice_recs

    def _settle(self, transaction: Callable[[], AbstractContextManager[Store]],
                rt: ModelRuntime, info: WindowInfo, finalize_before: int) -> WindowChange | None:
        final = info.status == "final" or info.window_end <= finalize_before
        action = ("close" if info.status == "open" else
                  "relabel" if info.status == "final" else
                  "revise" if info.needs_revision else "finalize")
        with transaction() as store:
            claimed = store.claim_window(info)
            if claimed is None:
                return None
            profile = rt.profile_for(claimed.reference_version,
                                     partial(self.registry.load_profile, rt.config.model_id))
            merged = WindowState(rt.config, profile)
            for blob in store.partition_states(claimed.model_id, claimed.window_start):
                merged.merge(WindowState.from_json(blob, rt.config, profile))
            records: list[MetricRecord] = []
            revision = {"close": 0, "finalize": claimed.revision}.get(action,
                                                                    claimed.revision + 1)
            key = (claimed.model_id, claimed.window_start)
            outcomes: list[Outcome] | None = None
            if action in ("close", "revise"):
                records = compute_window_records(rt.config, profile, claimed.window_start,
                                                 merged, store.ingestion_counts(*key), revision)
            elif action == "relabel":  # a final window's state is frozen: only labels changed
                records = [r for r in store.window_records(*key)
                           if r.family not in RECOMPUTED_ON_LABEL]
            if action != "finalize":
                outcomes = store.window_outcomes(*key)
                records += compute_label_records(rt.config, profile, claimed.window_start,
                                                 outcomes, revision)
            if final and claimed.status != "final":
                fed = self._concept(store, rt.config, profile, claimed.window_start,
                                    outcomes, revision)
                if fed and action == "finalize":  # the other records stay as they are
                    records = store.window_records(*key)
                records += fed
            if records or action != "finalize":
                store.replace_records(*key, records)
                alerting_step(store, rt.config, records)
            store.finish_window(claimed, "final" if final else "closed", merged.to_json(),
                                revision)
        log.debug("window %s", action, extra={"model_id": rt.config.model_id,
                                              "window_start": info.window_start})
        return WindowChange(rt.config.model_id, info.window_start, action, records)
