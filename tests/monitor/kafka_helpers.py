"""Helpers for tests against the real Kafka-compatible broker and real databases."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer
from sqlalchemy import Engine, func, select

from monitor.config import ModelConfig
from monitor.db import repository
from monitor.db.schema import ConsumerOffsetRow, WindowRow
from monitor.reference import columns_from_events
from monitor.settings import Settings
from monitor.worker import Worker

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Topics:
    predictions: str
    feedback: str
    group: str


def new_topics(broker: Any, partitions: int) -> Topics:
    tag = uuid.uuid4().hex[:8]
    topics = Topics(f"preds-{tag}", f"fb-{tag}", f"group-{tag}")
    broker.create_topics([topics.predictions, topics.feedback], partitions=partitions)
    return topics


def settings_for(url: str, broker: Any, topics: Topics) -> Settings:
    return Settings(database_url=url, kafka_bootstrap_servers=broker.bootstrap_servers,
                    predictions_topic=topics.predictions, feedback_topic=topics.feedback,
                    consumer_group=topics.group, idle_partition_timeout_s=3600,
                    poll_timeout_ms=200, poll_max_records=2000, log_level="WARNING")


def register(engine: Engine, cfg: ModelConfig, reference_rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        repository.upsert_model(conn, cfg)
        repository.set_reference(conn, cfg, columns_from_events(cfg, reference_rows), "test")


def produce(bootstrap: str, topic: str, values: Iterable[tuple[bytes | None, bytes]],
            partition: int | None = None) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=10, batch_size=262_144,
                             acks="all")
    n = 0
    for key, value in values:
        producer.send(topic, key=key, value=value, partition=partition)
        n += 1
    producer.flush()
    producer.close()
    return n


def keyed(events: Iterable[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    return [(str(e["prediction_id"]).encode(), orjson.dumps(e)) for e in events]


class WorkerThread:
    """An in-process worker; ``stop()`` ends its loop after the current batch."""

    def __init__(self, settings: Settings) -> None:
        self.worker = Worker(settings)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test
            self.error = exc

    def start(self) -> WorkerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        if self.error:
            raise self.error


def worker_process(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update({
        "DRIFTLINE_DATABASE_URL": settings.database_url,
        "DRIFTLINE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "DRIFTLINE_PREDICTIONS_TOPIC": settings.predictions_topic,
        "DRIFTLINE_FEEDBACK_TOPIC": settings.feedback_topic,
        "DRIFTLINE_CONSUMER_GROUP": settings.consumer_group,
        "DRIFTLINE_IDLE_PARTITION_TIMEOUT_S": "3600",
        "DRIFTLINE_POLL_TIMEOUT_MS": "200",
        "DRIFTLINE_POLL_MAX_RECORDS": str(random.choice([300, 1000, 2000])),
        "DRIFTLINE_LOG_LEVEL": "WARNING",
    })
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "worker"], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def consumed(engine: Engine, topics: Topics, expected: dict[str, int]) -> bool:
    """True when the stored next offsets add up to what was produced per topic."""
    with engine.connect() as conn:
        rows = conn.execute(select(ConsumerOffsetRow.topic, func.sum(
            ConsumerOffsetRow.next_offset)).where(
            ConsumerOffsetRow.consumer_group == topics.group,
            ConsumerOffsetRow.next_offset >= 0).group_by(ConsumerOffsetRow.topic)).all()
    done = {t: int(n) for t, n in rows}
    return all(done.get(t, 0) >= n for t, n in expected.items())


def final_windows(engine: Engine, model_id: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(WindowRow).where(
            WindowRow.model_id == model_id, WindowRow.status == "final")).scalar_one())
