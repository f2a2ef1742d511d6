"""Drive the processing core against the memory store or a migrated SQLite/PostgreSQL store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, select

from monitor.config import ModelConfig
from monitor.db.schema import PredictionRow
from monitor.db.sql_store import SqlStore
from monitor.events import EventLimits
from monitor.memory_store import MemoryStore
from monitor.processing import BatchStats, Message, ModelRuntime, Processor
from monitor.records import MetricRecord
from monitor.reference import ReferenceProfile
from monitor.registry import StaticRegistry

PREDICTIONS_TOPIC = "driftline.predictions"


class Harness:
    def __init__(self, cfg: ModelConfig, profile: ReferenceProfile, engine: Engine | None,
                 partitions: int = 1, now_ms: int | None = None) -> None:
        self.processor = Processor(StaticRegistry([ModelRuntime(cfg, profile)]),
                                   EventLimits(now_ms=now_ms))
        self.engine = engine
        self.memory = MemoryStore() if engine is None else None
        if engine is not None:
            with self.transaction() as store:
                assert isinstance(store, SqlStore)
                store.ensure_partitions(PREDICTIONS_TOPIC, list(range(partitions)))
                store.ensure_partitions("driftline.feedback", list(range(partitions)))

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        if self.memory is not None:
            yield self.memory
            return
        assert self.engine is not None
        with self.engine.begin() as conn:
            yield SqlStore(conn, "driftline", PREDICTIONS_TOPIC)

    def apply(self, messages: list[Message]) -> BatchStats:
        with self.transaction() as store:
            return self.processor.apply_batch(store, messages)

    def maintain(self, flush: bool = False) -> list[Any]:
        return self.processor.maintain(self.transaction, flush=flush)

    def records(self) -> list[MetricRecord]:
        if self.memory is not None:
            return self.memory.all_records()
        assert self.engine is not None
        from monitor.db.schema import MetricRecordRow

        with self.engine.connect() as conn:
            t = MetricRecordRow.__table__
            rows = conn.execute(select(t).order_by(t.c.window_start, t.c.id)).mappings().all()
            fields = MetricRecord.__dataclass_fields__
            return [MetricRecord(**{k: r[k] for k in fields}) for r in rows]

    def value(self, window_start: int, family: str, metric: str,
              feature: str | None = None) -> MetricRecord:
        found = [r for r in self.records() if (r.window_start, r.family, r.metric, r.feature)
                 == (window_start, family, metric, feature)]
        assert len(found) == 1, found
        return found[0]

    def joined(self, prediction_id: str) -> tuple[Any, dict[str, float] | None, int]:
        if self.memory is not None:
            o = self.memory.joined.get(("m", prediction_id))
            return (o.label, o.outcomes, o.feedback_count) if o else (None, None, 0)
        assert self.engine is not None
        with self.engine.connect() as conn:
            t = PredictionRow.__table__
            row = conn.execute(select(t).where(t.c.prediction_id == prediction_id)).mappings().one()
            return (orjson.loads(row["label"]) if row["label"] else None,
                    orjson.loads(row["outcomes"]) if row["outcomes"] else None,
                    row["feedback_count"])
