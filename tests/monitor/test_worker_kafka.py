"""The worker against the real broker (tansu) and real databases (SQLite and PostgreSQL).

Every scenario checks stored results against the ground truth computed from the input.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select, update

from monitor.backtest import run_backtest
from monitor.db.schema import (
    ConsumerOffsetRow,
    DeadLetterRow,
    LateEventRow,
    ProcessedEventRow,
    WindowRow,
)
from monitor.embedded_broker import EmbeddedBroker
from monitor.records import MetricRecord
from monitor.reference import build_profile, columns_from_events
from monitor.timeutil import now_ms, parse_timestamp
from tests.factories import HOUR, config, event
from tests.monitor.kafka_helpers import (
    WorkerThread,
    consumed,
    final_windows,
    keyed,
    new_topics,
    produce,
    register,
    settings_for,
    wait_until,
    worker_process,
)

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(tmp_path_factory.mktemp("broker")) as b:
        yield b


def _stream(n: int, start: int, span_ms: int, seed: int, drift_after: float = 0.5
            ) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        shift = 1.0 if i >= n * drift_after else 0.0
        out.append(event(i, start + i * span_ms // n, rng.gauss(shift, 1), rng.choice("abc")))
    return out


def _reference_rows(seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [event(-i, 0, rng.gauss(0, 1), rng.choice("abc")) for i in range(1, 3001)]


def _setup(engine: Engine) -> tuple[Any, Any]:
    cfg = config()
    register(engine, cfg, _reference_rows())
    sentinel = config(model_id="sentinel")
    register(engine, sentinel, _reference_rows())
    return cfg, sentinel


def _sentinels(bootstrap: str, topic: str, partitions: int) -> None:
    ts = now_ms() - 60_000
    for p in range(partitions):
        ev = event(10_000_000 + p, ts, model_id="sentinel")
        produce(bootstrap, topic, [(None, orjson.dumps(ev))], partition=p)


def _load_records(engine: Engine, model_id: str) -> list[MetricRecord]:
    from monitor.db.schema import MetricRecordRow

    t = MetricRecordRow.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.model_id == model_id)).mappings().all()
    fields = MetricRecord.__dataclass_fields__
    return [MetricRecord(**{k: r[k] for k in fields}) for r in rows]


def _comparable(records: list[MetricRecord]) -> list[tuple[Any, ...]]:
    """Records both runs must share. Left out: duplicates (the worker sees Kafka's), and stall
    alerts of windows after the data, which the sentinels' event time (now) creates in the
    worker only: by then the model's events had stopped for days."""
    return sorted((r.window_start, r.family, r.metric, r.feature, r.value, r.n, r.status)
                  for r in records if (r.family, r.metric) != ("ingestion", "duplicates")
                  and not (r.metric == "stall" and r.status == "alert"))


def _window_counts(records: list[MetricRecord]) -> dict[int, float]:
    return {r.window_start: r.value or 0.0 for r in records
            if (r.family, r.metric) == ("ingestion", "events")}


def _status(engine: Engine, window_start: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(WindowRow.status).where(
            WindowRow.model_id == "m", WindowRow.window_start == window_start)).scalar()


def _start() -> int:
    now = now_ms()
    return now - now % HOUR - 30 * HOUR


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_two_workers_equal_backtest(db: str, broker: EmbeddedBroker, tmp_path: Path,
                                    request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue("sqlite_engine" if db == "sqlite" else "pg_engine")
    url = str(engine.url.render_as_string(hide_password=False))
    cfg, _ = _setup(engine)
    topics = new_topics(broker, partitions=4)
    events = _stream(8000, _start(), 24 * HOUR, seed=5)
    produce(broker.bootstrap_servers, topics.predictions, keyed(events))
    _sentinels(broker.bootstrap_servers, topics.predictions, 4)
    settings = settings_for(url, broker, topics)
    workers = [WorkerThread(settings).start(), WorkerThread(settings).start()]
    try:
        wait_until(lambda: final_windows(engine, "m") == 24, 120, "24 final windows")
    finally:
        for w in workers:
            w.stop()
    assert sum(w.worker.stats.totals.accepted for w in workers) == 8000 + 4
    path = tmp_path / "preds.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events))
    profile = build_profile(cfg, columns_from_events(cfg, _reference_rows()), version=1)
    expected = run_backtest(cfg, profile, path).records
    assert _comparable(_load_records(engine, "m")) == _comparable(expected)
    drifted = {r.feature for r in expected if r.family == "data_drift" and r.status == "alert"
               and r.feature}
    assert drifted == {"x"}


def _kill_loop(settings: Any, engine: Engine, topics: Any, total: int, log: Path,
               kills: int) -> int:
    rng = random.Random(99)
    killed = 0
    proc = worker_process(settings, log)
    try:
        while killed < kills:
            time.sleep(rng.uniform(2.5, 5.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            killed += 1
            proc = worker_process(settings, log)
        def done() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            return consumed(engine, topics, {topics.predictions: total})

        wait_until(done, 180, "every offset consumed")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except Exception:  # noqa: BLE001
            proc.kill()
    return killed


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_sigkill_during_50k_events_loses_and_doubles_nothing(
        db: str, broker: EmbeddedBroker, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue("sqlite_engine" if db == "sqlite" else "pg_engine")
    url = str(engine.url.render_as_string(hide_password=False))
    _setup(engine)
    topics = new_topics(broker, partitions=3)
    events = _stream(50_000, _start(), 24 * HOUR, seed=8)
    produce(broker.bootstrap_servers, topics.predictions, keyed(events))
    _sentinels(broker.bootstrap_servers, topics.predictions, 3)
    settings = settings_for(url, broker, topics)
    killed = _kill_loop(settings, engine, topics, 50_003, tmp_path / "worker.log", kills=3)
    assert killed == 3
    wait_until(lambda: final_windows(engine, "m") == 24, 60, "24 final windows")
    truth = Counter(e["timestamp"] for e in events)
    per_window: Counter[int] = Counter()
    for ts, k in truth.items():
        t = parse_timestamp(ts)
        per_window[t - t % HOUR] += k
    assert _window_counts(_load_records(engine, "m")) == {k: float(v) for k, v in
                                                         per_window.items()}
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(ProcessedEventRow).where(
            ProcessedEventRow.model_id == "m")).scalar_one()
    assert n == 50_000


def test_poison_late_duplicates_and_replay(broker: EmbeddedBroker, pg_engine: Engine) -> None:
    engine = pg_engine
    url = str(engine.url.render_as_string(hide_password=False))
    _setup(engine)
    topics = new_topics(broker, partitions=1)
    start = _start()
    good = _stream(400, start, 4 * HOUR, seed=3, drift_after=2.0)
    poison = {37: (b"{oops", "bad_json"),
              120: (orjson.dumps({**good[0], "prediction_id": "z", "score": "high"}),
                    "wrong_type"),
              121: (orjson.dumps({**good[0], "model_id": "ghost"}), "unknown_model"),
              300: (b'{"model_id": "m", "prediction_id": "q", "timestamp": 1, "features": {},'
                    b' "prediction": 1}', "timestamp_too_old")}
    values: list[tuple[bytes | None, bytes]] = []
    it = iter(keyed(good))
    while len(values) < len(good) + len(poison):
        values.append((None, poison[len(values)][0]) if len(values) in poison else next(it))
    # a late event within the lateness (revises window 3) and a too-late one (window 0)
    late_ok = event(5000, start + 3 * HOUR + 30 * 60_000, 0.0)
    too_late = event(5001, start + 10 * 60_000, 0.0)
    after = [event(6000 + i, start + 4 * HOUR + i * 60_000, 0.0) for i in range(12)]
    values += keyed(after[:8])
    produce(broker.bootstrap_servers, topics.predictions, values, partition=0)
    settings = settings_for(url, broker, topics)
    w = WorkerThread(settings).start()
    try:
        wait_until(lambda: _status(engine, start + 3 * HOUR) == "closed", 60, "window 3 closed")
        second = keyed([late_ok]) + keyed(after[8:]) + keyed([too_late]) + keyed(good[:50])
        produce(broker.bootstrap_servers, topics.predictions, second, partition=0)
        _sentinels(broker.bootstrap_servers, topics.predictions, 1)
        total = len(values) + len(second) + 1
        wait_until(lambda: consumed(engine, topics, {topics.predictions: total}), 60, "consumed")
        wait_until(lambda: final_windows(engine, "m") >= 5, 60, "final windows")
    finally:
        w.stop()
    with engine.connect() as conn:
        dead = conn.execute(select(DeadLetterRow.kafka_offset, DeadLetterRow.reason)
                            .order_by(DeadLetterRow.kafka_offset)).all()
        late = conn.execute(select(LateEventRow.event_id)).scalars().all()
    assert [(int(o), r) for o, r in dead] == [(k, v[1]) for k, v in sorted(poison.items())]
    assert late == ["p5001"]
    records = _load_records(engine, "m")
    counts = _window_counts(records)
    assert counts[start] == 100
    assert counts[start + 3 * HOUR] == 101
    assert counts[start + 4 * HOUR] == 12
    revised = {r.revision for r in records if r.window_start == start + 3 * HOUR}
    assert revised == {1}
    late_rec = [r for r in records if r.window_start == start
                and (r.family, r.metric) == ("ingestion", "late_events")]
    assert late_rec[0].value == 1
    dups = [r for r in records if r.window_start == start
            and (r.family, r.metric) == ("ingestion", "duplicates")]
    assert dups[0].value == 50
    before = _comparable(records)
    # full replay from the earliest offset: results identical, nothing counted twice
    with engine.begin() as conn:
        conn.execute(update(ConsumerOffsetRow).where(
            ConsumerOffsetRow.consumer_group == topics.group).values(next_offset=0))
    w = WorkerThread(settings).start()
    try:
        wait_until(lambda: consumed(engine, topics, {topics.predictions: total}), 60, "replayed")
        time.sleep(1.5)
    finally:
        w.stop()
    assert w.worker.stats.totals.accepted == 0
    assert _comparable(_load_records(engine, "m")) == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DeadLetterRow)).scalar_one() == 4


def test_sigterm_stops_the_worker_cleanly(broker: EmbeddedBroker, sqlite_engine: Engine,
                                          tmp_path: Path) -> None:
    url = str(sqlite_engine.url)
    _setup(sqlite_engine)
    topics = new_topics(broker, partitions=2)
    events = _stream(3000, _start(), 2 * HOUR, seed=2)
    produce(broker.bootstrap_servers, topics.predictions, keyed(events))
    settings = settings_for(url, broker, topics)
    log = tmp_path / "worker.log"
    proc = worker_process(settings, log)
    try:
        wait_until(lambda: consumed(sqlite_engine, topics, {topics.predictions: 3000}), 60,
                   "consumed")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite_engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(ProcessedEventRow)).scalar_one()
    assert n == 3000


def test_database_outage_pauses_and_loses_nothing(broker: EmbeddedBroker, pg_engine: Engine,
                                                  pg_server: str) -> None:
    from sqlalchemy import create_engine, text

    url = str(pg_engine.url.render_as_string(hide_password=False))
    dbname = pg_engine.url.database
    _setup(pg_engine)
    topics = new_topics(broker, partitions=2)
    first = _stream(4000, _start(), 12 * HOUR, seed=21)
    produce(broker.bootstrap_servers, topics.predictions, keyed(first[:2000]))
    settings = settings_for(url, broker, topics)
    w = WorkerThread(settings).start()
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    try:
        wait_until(lambda: consumed(pg_engine, topics, {topics.predictions: 2000}), 60,
                   "first half")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": dbname})
        produce(broker.bootstrap_servers, topics.predictions, keyed(first[2000:]))
        time.sleep(4)
        assert w.worker.stats.db_retries > 0
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true'))
        wait_until(lambda: consumed(pg_engine, topics, {topics.predictions: 4000}), 60,
                   "second half after the outage")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        w.stop()
    with pg_engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(ProcessedEventRow).where(
            ProcessedEventRow.model_id == "m")).scalar_one()
    assert n == 4000
    assert w.worker.stats.totals.accepted == 4000
