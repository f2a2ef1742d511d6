"""``driftline backtest``: the worker's exact computation over files.

Input lines become messages of one partition, in file order, and go through the same
:class:`~monitor.processing.Processor` as the worker (with an in-memory store); at the end of the
input every window is closed and finalized.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import orjson

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

BATCH = 5000
READ_BYTES = 1 << 22


@dataclass(frozen=True)
class BacktestResult:
    records: list[MetricRecord]
    stats: BatchStats
    store: MemoryStore
    seconds: float


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
                 progress: TextIO | None = None) -> BacktestResult:
    if isinstance(reference, Path):
        reference = build_profile(config, read_reference_file(config, reference), version=1)
    profile = reference or ReferenceProfile.empty(config)
    # History is replayed long after it happened: no maximum event age unless the caller sets one.
    limits = limits or EventLimits(max_age_ms=0)
    processor = Processor(StaticRegistry([ModelRuntime(config, profile)]), limits)
    store = MemoryStore()
    stats = BatchStats()
    started = time.perf_counter()
    streams = [(predictions, PREDICTIONS)] + ([(feedback, FEEDBACK)] if feedback else [])
    seen = 0
    # The collector stays off for the whole replay, not only per batch: the in-memory store
    # holds every event id and prediction, and each full collection would walk them all.
    with collector_paused():
        for path, stream in streams:
            topic = f"file:{path.name}"
            # Each file is one partition; batches as apply_batch would get them, minus the
            # Message objects.
            for offsets, lines in file_batches(path, batch_size):
                stats.add(processor.apply_partition(store, stream, topic, 0, offsets, lines))
                processor.maintain(store.transaction)
                if len(lines) < batch_size:  # the end of this file
                    continue
                seen += len(lines)
                if progress is not None and seen % (batch_size * 40) == 0:
                    rate = seen / (time.perf_counter() - started)
                    print(f"  {seen:,} events ({rate:,.0f}/s)", file=progress, flush=True)
        processor.maintain(store.transaction, flush=True)
    return BacktestResult(store.all_records(), stats, store, time.perf_counter() - started)


def write_outputs(result: BacktestResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "metrics.jsonl").open("wb") as fh:
        for r in result.records:
            fh.write(orjson.dumps(r.to_public()) + b"\n")
    # the same rule engine as the service; times are event times (window starts and ends)
    with (out_dir / "alerts.jsonl").open("wb") as fh:
        for a in sorted(result.store.alerts.values(), key=lambda a: (a.starts_at_ms, a.alert_id)):
            fh.write(orjson.dumps(a.to_public()) + b"\n")
    with (out_dir / "triggers.jsonl").open("wb") as fh:
        for t in sorted(result.store.triggers.values(),
                        key=lambda t: (t.event_time_ms or 0, t.trigger_id)):
            row = t.to_public()
            row["created_at"] = row["event_time"] or row["created_at"]
            fh.write(orjson.dumps(row) + b"\n")
    with (out_dir / "dead_letters.jsonl").open("wb") as fh:
        for d in result.store.dead_letters:
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
