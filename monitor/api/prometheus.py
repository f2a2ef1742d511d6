"""Driftline's operational metrics, all declared here, read from the database on each scrape.

The database is the truth shared by every worker process, so ``GET /metrics`` builds a fresh
:class:`~prometheus_client.CollectorRegistry` per request with one collector that reads it;
any API replica serves the same numbers, and a restarted worker loses nothing.

- ``driftline_events_total{topic,partition,outcome}`` (counter): the ``consumer_offsets``
  counters; outcome ``accepted``, ``duplicates``, ``late`` or ``dead_letters``.
- ``driftline_consumer_lag{topic,partition}`` (gauge): ``highwater - next_offset``, where both
  are known.
- ``driftline_partition_event_time_seconds{topic,partition}`` (gauge): the latest event time
  seen on the partition.
- ``driftline_dead_letters_total{reason}`` (counter): rows of ``dead_letters``.
- ``driftline_windows{model_id,status}`` (gauge): rows of ``windows``.
- ``driftline_window_closes_total{model_id}`` (counter): windows with ``closed_at_ms`` set.
- ``driftline_late_events_total{model_id}`` (counter): rows of ``late_events``.

Consumer metrics cover the service's own consumer group (``DRIFTLINE_CONSUMER_GROUP``).
Events per second: ``sum by (topic) (rate(driftline_events_total[1m]))``; accepted only:
``rate(driftline_events_total{outcome="accepted"}[1m])``. Counters computed from row counts drop
when rows are deleted (a model deleted); Prometheus treats that as a counter reset.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection, func, select

from monitor.db.schema import (
    DEAD_LETTERS as DEAD,
)
from monitor.db.schema import (
    LATE_EVENTS as LATE,
)
from monitor.db.schema import (
    OFFSETS,
    WINDOWS,
)

OUTCOMES = ("accepted", "duplicates", "late", "dead_letters")


class DatabaseCollector:
    """A prometheus_client collector over one database connection."""

    def __init__(self, conn: Connection, consumer_group: str) -> None:
        self.conn = conn
        self.consumer_group = consumer_group

    def collect(self) -> Iterator[Metric]:
        yield from self._consumer()
        yield from self._dead_letters()
        yield from self._windows()
        late = CounterMetricFamily("driftline_late_events",
                                   "Events that arrived after their window's allowed lateness.",
                                   labels=["model_id"])
        for model_id, n in self.conn.execute(select(LATE.c.model_id, func.count())
                                             .group_by(LATE.c.model_id)
                                             .order_by(LATE.c.model_id)):
            late.add_metric([model_id], float(n))
        yield late

    def _consumer(self) -> Iterator[Metric]:
        events = CounterMetricFamily("driftline_events", "Events consumed, by outcome.",
                                     labels=["topic", "partition", "outcome"])
        lag = GaugeMetricFamily("driftline_consumer_lag",
                                "Messages behind the partition's high-water mark.",
                                labels=["topic", "partition"])
        event_time = GaugeMetricFamily("driftline_partition_event_time_seconds",
                                       "Latest event time seen on the partition (Unix seconds).",
                                       labels=["topic", "partition"])
        c = OFFSETS.c
        rows = self.conn.execute(
            select(c.topic, c.kafka_partition, c.next_offset, c.highwater, c.max_event_ms,
                   *(getattr(c, o) for o in OUTCOMES))
            .where(c.consumer_group == self.consumer_group)
            .order_by(c.topic, c.kafka_partition))
        for row in rows:
            labels = [row.topic, str(row.kafka_partition)]
            for outcome in OUTCOMES:
                events.add_metric([*labels, outcome], float(getattr(row, outcome) or 0))
            if row.highwater is not None and row.next_offset is not None and row.next_offset >= 0:
                lag.add_metric(labels, float(max(row.highwater - row.next_offset, 0)))
            if row.max_event_ms is not None:
                event_time.add_metric(labels, row.max_event_ms / 1000)
        yield from (events, lag, event_time)

    def _dead_letters(self) -> Iterator[Metric]:
        dead = CounterMetricFamily("driftline_dead_letters", "Dead-lettered events, by reason.",
                                   labels=["reason"])
        for reason, n in self.conn.execute(select(DEAD.c.reason, func.count())
                                           .group_by(DEAD.c.reason).order_by(DEAD.c.reason)):
            dead.add_metric([reason], float(n))
        yield dead

    def _windows(self) -> Iterator[Metric]:
        windows = GaugeMetricFamily("driftline_windows", "Windows by status.",
                                    labels=["model_id", "status"])
        c = WINDOWS.c
        for model_id, status, n in self.conn.execute(
                select(c.model_id, c.status, func.count()).group_by(c.model_id, c.status)
                .order_by(c.model_id, c.status)):
            windows.add_metric([model_id, status], float(n))
        closes = CounterMetricFamily("driftline_window_closes",
                                     "Windows closed (their records written at least once).",
                                     labels=["model_id"])
        for model_id, n in self.conn.execute(
                select(c.model_id, func.count()).where(c.closed_at_ms.is_not(None))
                .group_by(c.model_id).order_by(c.model_id)):
            closes.add_metric([model_id], float(n))
        yield from (windows, closes)


def render(conn: Connection, consumer_group: str) -> bytes:
    """The Prometheus text exposition of the database's current state."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(conn, consumer_group))
    return generate_latest(registry)
