"""``driftline backtest``: the worker's exact computation over files.

Input lines become messages of one partition, in file order, and go through the same
:class:`~monitor.processing.Processor` as the worker; at the end of the input every window is
closed and finalized. The store is in memory, or, with ``engine`` (``driftline backtest
--into-database``), the service's database, one transaction per batch as the worker does: the
model, its reference and every result land where the API and the Grafana dashboards read them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import orjson
from sqlalchemy import Engine, select

from monitor.alert_store import AlertEntry, TriggerEntry
from monitor.config import ModelConfig
from monitor.events import EventLimits
from monitor.memory_store import MemoryStore
from monitor.processing import (
    FEEDBACK,
    PREDICTIONS,
    BatchStats,
    ModelRuntime,
    Processor,
    collector_paused,
)
from monitor.records import MetricRecord
from monitor.reference import ReferenceProfile, build_profile, read_reference_file
from monitor.registry import StaticRegistry
from monitor.store import DeadLetter, Store

#: The consumer group a backtest's file "partitions" are tracked under in a database.
BACKTEST_GROUP = "driftline-backtest"

BATCH = 5000
READ_BYTES = 1 << 22


@dataclass(frozen=True)
class BacktestResult:
    records: list[MetricRecord]
    stats: BatchStats
    seconds: float
    alerts: list[AlertEntry] = field(default_factory=list)
    triggers: list[TriggerEntry] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def file_batches(path: Path, size: int) -> Iterator[tuple[list[int], list[bytes]]]:
    """The non-blank lines of a JSONL file, with their 0-based line numbers as offsets, as
    ``(offsets, lines)`` lists of up to ``size``, read in large blocks."""
    offsets: list[int] = []
    lines: list[bytes] = []
    offset = 0
    rest = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(READ_BYTES)
            pieces = (rest + block).split(b"\n")
            # Without a trailing newline the last piece is an incomplete line (or, at the end
            # of the file, the last line); a trailing newline leaves an empty piece.
            rest = pieces.pop() if block else b""
            for piece in pieces:
                line = piece.rstrip(b"\r\n")
                if line.strip():
                    offsets.append(offset)
                    lines.append(line)
                    if len(lines) >= size:
                        yield offsets, lines
                        offsets, lines = [], []
                offset += 1
            if not block:
                break
    if lines:
        yield offsets, lines


def run_backtest(config: ModelConfig, reference: ReferenceProfile | Path | None,
                 predictions: Path, feedback: Path | None = None,
                 limits: EventLimits | None = None, batch_size: int = BATCH,
                 progress: TextIO | None = None, engine: Engine | None = None) -> BacktestResult:
    """Replay the files; with ``engine`` (a migrated database) the model and its reference are
    registered there and every result is written there, as the worker would."""
    if engine is not None:
        profile = _register(engine, config, reference)
    elif isinstance(reference, Path):
        profile = build_profile(config, read_reference_file(config, reference), version=1)
    else:
        profile = reference or ReferenceProfile.empty(config)
    # History is replayed long after it happened: no maximum event age unless the caller sets one.
    limits = limits or EventLimits(max_age_ms=0)
    processor = Processor(StaticRegistry([ModelRuntime(config, profile)]), limits)
    streams = [(predictions, PREDICTIONS)] + ([(feedback, FEEDBACK)] if feedback else [])
    memory = MemoryStore() if engine is None else None
    transaction = memory.transaction if memory is not None else _sql_transactions(
        engine, f"file:{predictions.name}", [f"file:{path.name}" for path, _ in streams])
    stats = BatchStats()
    started = time.perf_counter()
    seen = 0
    # The collector stays off for the whole replay, not only per batch: the in-memory store
    # holds every event id and prediction, and each full collection would walk them all.
    with collector_paused():
        for path, stream in streams:
            topic = f"file:{path.name}"
            # Each file is one partition; batches as apply_batch would get them, minus the
            # Message objects.
            for offsets, lines in file_batches(path, batch_size):
                with transaction() as store:
                    stats.add(processor.apply_partition(store, stream, topic, 0, offsets, lines))
                processor.maintain(transaction)
                if len(lines) < batch_size:  # the end of this file
                    continue
                seen += len(lines)
                if progress is not None and seen % (batch_size * 40) == 0:
                    rate = seen / (time.perf_counter() - started)
                    print(f"  {seen:,} events ({rate:,.0f}/s)", file=progress, flush=True)
        processor.maintain(transaction, flush=True)
    seconds = time.perf_counter() - started
    if memory is not None:
        return BacktestResult(memory.all_records(), stats, seconds,
                              list(memory.alerts.values()), list(memory.triggers.values()),
                              list(memory.dead_letters))
    assert engine is not None
    return _read_back(engine, config.model_id, stats, seconds)


def _register(engine: Engine, config: ModelConfig,
              reference: ReferenceProfile | Path | None) -> ReferenceProfile:
    from monitor.db import repository

    with engine.begin() as conn:
        repository.upsert_model(conn, config)
        if isinstance(reference, Path):
            cols = read_reference_file(config, reference)
            info = repository.set_reference(conn, config, cols, source=str(reference))
            return build_profile(config, cols, version=info.version)
    return reference or ReferenceProfile.empty(config)


def _sql_transactions(engine: Engine | None, predictions_topic: str,
                      topics: list[str]) -> Callable[[], AbstractContextManager[Store]]:
    from monitor.db.sql_store import SqlStore

    assert engine is not None

    @contextmanager
    def transaction() -> Iterator[Store]:
        with engine.begin() as conn:
            yield SqlStore(conn, BACKTEST_GROUP, predictions_topic)

    with engine.begin() as conn:
        store = SqlStore(conn, BACKTEST_GROUP, predictions_topic)
        for topic in topics:
            store.ensure_partitions(topic, [0])
    return transaction


def _read_back(engine: Engine, model_id: str, stats: BatchStats,
               seconds: float) -> BacktestResult:
    from monitor.db import alerting_sql
    from monitor.db.repository import record_from_row
    from monitor.db.schema import ALERTS, DEAD_LETTERS, RECORDS, TRIGGERS

    r, d = RECORDS.c, DEAD_LETTERS.c
    with engine.connect() as conn:
        records = [record_from_row(x) for x in conn.execute(
            select(RECORDS).where(r.model_id == model_id).order_by(r.window_start, r.id))]
        alerts = [alerting_sql.alert_from_row(x) for x in conn.execute(
            select(ALERTS).where(ALERTS.c.model_id == model_id))]
        triggers = [alerting_sql.trigger_from_row(x) for x in conn.execute(
            select(TRIGGERS).where(TRIGGERS.c.model_id == model_id))]
        dead = [DeadLetter(x.stream, x.topic, int(x.kafka_partition), int(x.kafka_offset),
                           x.reason, x.detail, bytes(x.payload), x.model_id,
                           None if x.window_start is None else int(x.window_start))
                for x in conn.execute(select(DEAD_LETTERS).where(d.topic.like("file:%"))
                                      .order_by(d.id))]
    return BacktestResult(records, stats, seconds, alerts, triggers, dead)


def write_outputs(result: BacktestResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "metrics.jsonl").open("wb") as fh:
        for r in result.records:
            fh.write(orjson.dumps(r.to_public()) + b"\n")
    # the same rule engine as the service; times are event times (window starts and ends)
    with (out_dir / "alerts.jsonl").open("wb") as fh:
        for a in sorted(result.alerts, key=lambda a: (a.starts_at_ms, a.alert_id)):
            fh.write(orjson.dumps(a.to_public()) + b"\n")
    with (out_dir / "triggers.jsonl").open("wb") as fh:
        for t in sorted(result.triggers,
                        key=lambda t: (t.event_time_ms or 0, t.trigger_id)):
            row = t.to_public()
            row["created_at"] = row["event_time"] or row["created_at"]
            fh.write(orjson.dumps(row) + b"\n")
    with (out_dir / "dead_letters.jsonl").open("wb") as fh:
        for d in result.dead_letters:
            fh.write(orjson.dumps({"stream": d.stream, "line": d.offset + 1,
                                   "reason": d.reason, "detail": d.detail}) + b"\n")


def summarize(result: BacktestResult, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    s = result.stats
    n = s.accepted + s.duplicates + s.late + s.dead_letters
    rate = n / result.seconds if result.seconds else 0.0
    windows = len({(r.model_id, r.window_start) for r in result.records})
    drifted = sorted({r.feature or "" for r in result.records
                      if r.family == "data_drift" and r.status == "alert" and r.feature})
    print(f"{n:,} prediction events in {result.seconds:.2f}s ({rate:,.0f}/s): "
          f"{s.accepted:,} applied, {s.duplicates:,} duplicates, {s.late:,} too late, "
          f"{s.dead_letters:,} dead letters; {s.feedback:,} feedback events", file=out)
    print(f"{windows} windows, {len(result.records):,} metric records; "
          f"features with drift alerts: {', '.join(drifted) or 'none'}", file=out)
