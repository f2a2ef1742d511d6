"""``driftline worker``: Kafka consumers that apply each poll batch in one database transaction.

Per batch: compare-and-set every partition's stored ``next_offset`` (a consumer that lost its
partitions cannot commit a second copy), update window state, dead letters and late events, and
commit. The database is the truth; Kafka offsets are committed afterwards for lag dashboards only.
On assignment the consumer seeks to the stored offsets. A database outage pauses the partitions,
keeps polling (so the group does not rebalance) and retries with backoff.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from monitor.db.engine import make_engine
from monitor.db.sql_store import UNSET_OFFSET, SqlStore
from monitor.events import EventLimits
from monitor.processing import FEEDBACK, PREDICTIONS, BatchStats, Message, Processor
from monitor.registry import DbRegistry
from monitor.settings import Settings

log = logging.getLogger("driftline.worker")

CONSUMER_DEFAULTS: dict[str, Any] = {
    "enable_auto_commit": False,
    "max_poll_interval_ms": 10_000,
    "session_timeout_ms": 6_000,
    "heartbeat_interval_ms": 2_000,
    "fetch_max_bytes": 16 * 1024 * 1024,
    "max_partition_fetch_bytes": 4 * 1024 * 1024,
}


class Fenced(RuntimeError):
    """The stored offset moved under us: another consumer owns (or owned) the partition."""


@dataclass
class WorkerStats:
    batches: int = 0
    totals: BatchStats = field(default_factory=BatchStats)
    windows_closed: int = 0
    fenced: int = 0
    db_retries: int = 0
    started: float = field(default_factory=time.monotonic)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: Any) -> None:
        for tp in revoked:
            self.worker.expected.pop(tp, None)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.worker.on_assigned(list(assigned))


class Worker:
    """One consumer in the group. ``run`` blocks until ``stop()`` (or SIGTERM via ``main``)."""

    def __init__(self, settings: Settings, engine: Engine | None = None,
                 consumer_overrides: dict[str, Any] | None = None,
                 on_batch: Callable[[WorkerStats], None] | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.registry = DbRegistry(self.engine)
        self.processor = Processor(self.registry, EventLimits(
            max_bytes=settings.max_event_bytes, max_clock_skew_ms=settings.max_clock_skew_s * 1000,
            max_age_ms=settings.max_event_age_s * 1000),
            relabel_interval_s=settings.relabel_interval_s)
        self.streams = {settings.predictions_topic: PREDICTIONS, settings.feedback_topic: FEEDBACK}
        self.expected: dict[TopicPartition, int] = {}
        self.stats = WorkerStats()
        self.on_batch = on_batch
        self._stop = threading.Event()
        self._consumer_overrides = consumer_overrides or {}
        self.consumer: KafkaConsumer | None = None

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def transaction(self) -> Iterator[SqlStore]:
        with self.engine.begin() as conn:
            yield SqlStore(conn, self.settings.consumer_group, self.settings.predictions_topic,
                           int(self.settings.idle_partition_timeout_s * 1000))

    def stop(self) -> None:
        self._stop.set()

    def _make_consumer(self) -> KafkaConsumer:
        options = dict(CONSUMER_DEFAULTS)
        options.update(self._consumer_overrides)
        return KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.settings.consumer_group,
            auto_offset_reset=self.settings.auto_offset_reset,
            max_poll_records=self.settings.poll_max_records,
            client_id=f"driftline-worker-{threading.get_ident()}",
            **options)

    def on_assigned(self, assigned: list[TopicPartition]) -> None:
        """Seek every newly assigned partition to the offset stored in the database."""
        consumer = self.consumer
        assert consumer is not None
        topics = {tp.topic for tp in assigned} | {self.settings.predictions_topic}
        with self.transaction() as store:
            for topic in topics:
                parts = consumer.partitions_for_topic(topic) or {
                    tp.partition for tp in assigned if tp.topic == topic}
                store.ensure_partitions(topic, sorted(parts))
            stored = {topic: store.stored_offsets(topic) for topic in topics}
        for tp in assigned:
            offset = stored[tp.topic].get(tp.partition, UNSET_OFFSET)
            self.expected[tp] = offset
            if offset >= 0:
                consumer.seek(tp, offset)
            elif self.settings.auto_offset_reset == "latest":
                consumer.seek_to_end(tp)
            else:
                consumer.seek_to_beginning(tp)
        log.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in assigned))

    def _resync(self) -> None:
        """After a fenced commit or a failed transaction: go back to the stored offsets."""
        assigned = list(self.expected)
        if assigned:
            self.on_assigned(assigned)

    # ------------------------------------------------------------------ the loop
    def apply(self, records: dict[TopicPartition, list[Any]]) -> BatchStats:
        messages: list[Message] = []
        moves: list[tuple[TopicPartition, int, int]] = []
        for tp, batch in records.items():
            if not batch or tp not in self.expected:
                continue
            stream = self.streams.get(tp.topic, PREDICTIONS)
            messages.extend(Message(stream, tp.topic, tp.partition, r.offset, r.value or b"")
                            for r in batch)
            moves.append((tp, self.expected[tp], batch[-1].offset + 1))
        if not moves:
            return BatchStats()
        with self.transaction() as store:
            for tp, expected, new in moves:
                if not store.advance_offset(tp.topic, tp.partition, expected, new):
                    raise Fenced(f"{tp.topic}[{tp.partition}] is no longer at {expected}")
            stats = self.processor.apply_batch(store, messages)
        for tp, _, new in moves:
            self.expected[tp] = new
        return stats

    def heartbeat(self) -> None:
        consumer = self.consumer
        assert consumer is not None
        with self.transaction() as store:
            for tp, expected in self.expected.items():
                highwater = consumer.highwater(tp)
                caught_up = highwater is not None and expected >= 0 and expected >= highwater
                store.heartbeat(tp.topic, tp.partition, highwater, caught_up)

    def _wait_for_database(self) -> None:
        """Pause consumption (the group keeps us) until the database answers again."""
        consumer = self.consumer
        assert consumer is not None
        consumer.pause(*self.expected)
        delay = 0.5
        while not self._stop.is_set():
            self.stats.db_retries += 1
            consumer.poll(timeout_ms=100)
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
                break
            except (OperationalError, DBAPIError) as exc:
                log.warning("database unavailable (%s); retrying in %.1fs", exc.__class__.__name__,
                            delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
        consumer.resume(*self.expected)
        self._resync()

    def run(self, max_seconds: float | None = None) -> WorkerStats:
        self.registry.refresh(force=True)
        _warm_up_torch(self.registry)
        self.consumer = consumer = self._make_consumer()
        consumer.subscribe([self.settings.predictions_topic, self.settings.feedback_topic],
                           listener=_Listener(self))
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        last_beat = 0.0
        try:
            while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
                records = consumer.poll(timeout_ms=self.settings.poll_timeout_ms,
                                        max_records=self.settings.poll_max_records)
                self.registry.refresh()
                try:
                    if records:
                        stats = self.apply(records)
                        self.stats.batches += 1
                        self.stats.totals.add(stats)
                    if time.monotonic() - last_beat >= 1.0 or records:
                        self.heartbeat()
                        changes = self.processor.maintain(self.transaction)
                        self.stats.windows_closed += sum(c.action == "close" for c in changes)
                        last_beat = time.monotonic()
                except Fenced as exc:
                    self.stats.fenced += 1
                    log.warning("fenced: %s; resyncing from the database", exc)
                    self._resync()
                except (OperationalError, DBAPIError) as exc:
                    if not _transient(exc):
                        raise
                    log.warning("database error: %s", exc.__class__.__name__)
                    self._wait_for_database()
                if records and self.on_batch is not None:
                    self.on_batch(self.stats)
        finally:
            consumer.close(autocommit=False)
        return self.stats


def _transient(exc: DBAPIError) -> bool:
    """Connection loss and lock timeouts are transient; constraint or SQL errors are bugs."""
    if isinstance(exc, OperationalError):
        return True
    return bool(getattr(exc, "connection_invalidated", False))


def main(settings: Settings, relay: bool = True) -> int:
    worker = Worker(settings)
    from monitor.relay import RelayThread

    relay_thread = RelayThread(worker.engine, settings) if relay else None
    if relay_thread is not None:
        relay_thread.start()

    def _terminate(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing the current batch and stopping", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        stats = worker.run()
    finally:
        if relay_thread is not None:
            relay_thread.stop()
            relay_thread.join(timeout=15)
    t = stats.totals
    log.info("stopped: %d batches, %d applied, %d duplicates, %d late, %d dead letters, "
             "%d windows closed", stats.batches, t.accepted, t.duplicates, t.late,
             t.dead_letters, stats.windows_closed)
    return 0


def _warm_up_torch(registry: Any) -> None:
    """Import torch in the background when a model tests multivariate drift.

    The import takes seconds; done lazily at the first window close it would stall the poll loop.
    """
    import importlib.util

    wanted = any(rt.config.drift.multivariate.enabled for rt in registry.all())
    if wanted and "torch" not in sys.modules and importlib.util.find_spec("torch") is not None:
        threading.Thread(target=importlib.import_module, args=("torch",), daemon=True,
                         name="torch-import").start()
