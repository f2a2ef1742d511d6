"""Worker throughput, broker to committed windows, on SQLite and PostgreSQL.

The parent starts the embedded broker, creates the topics and produces the stream once, before
any worker runs. Each run gets a fresh database (migrated, model and reference registered) and a
fresh consumer group, and runs one :class:`~monitor.worker.Worker` -- the class behind
``driftline worker`` with its default settings -- in a child process of its own. The child
stops the worker when the batches it committed add up to the stream, then checks that the
offsets stored in ``consumer_offsets`` cover every message.

Throughput is counted from the first committed batch to the last (the consumer-group join before
the first batch, ~3 s against the embedded broker, is reported apart). Window close is timed in
the same run: the cost of each close (merge of partition states, statistics, records, commit)
and its latency, from the commit of the batch after which the window was due to its records.
"""

from __future__ import annotations

import cProfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks import common, profiling

PARTITIONS = 3
WINDOW = "15m"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# ------------------------------------------------------------------ the stream (parent)
def stream_spec(n_events: int) -> Any:
    """Simulated predictions ending an hour ago (the worker checks times against its clock)."""
    from monitor.timeutil import now_ms

    duration_ms = int(common.spec(n_events).duration_ms)
    return common.spec(n_events, start_ms=now_ms() - duration_ms - 3_600_000)


def produce(bootstrap: str, topic: str, spec: Any) -> dict[str, float]:
    """Send the spec's predictions (key = prediction id) with the simulator's tuned producer
    settings; the time includes generating the events."""
    import orjson
    from kafka import KafkaProducer

    from monitor.simulate import PRODUCER_DEFAULTS, predictions

    producer = KafkaProducer(bootstrap_servers=bootstrap, **PRODUCER_DEFAULTS)
    n = size = 0
    with common.timed() as t:
        for p in predictions(spec):
            value = orjson.dumps(p)
            producer.send(topic, key=p["prediction_id"].encode(), value=value)
            n, size = n + 1, size + len(value)
        producer.flush()
    producer.close()
    return {"messages": n, "seconds": t.seconds, "mean_bytes": size / max(n, 1)}


# ------------------------------------------------------------------ databases (parent)
def new_database(kind: str, work_dir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{work_dir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    from sqlalchemy import create_engine, text

    name = f"driftline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_SERVER.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    assert name.startswith("driftline_bench_"), name  # never anything we did not create
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def postgres_available() -> str | None:
    """None when the benchmark server answers, else why not."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = create_engine(PG_SERVER)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except SQLAlchemyError as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return None


# ------------------------------------------------------------------ one worker (child)
def _prepare(url: str, reference_rows: int) -> Any:
    from sqlalchemy import create_engine

    from monitor.config import parse_config
    from monitor.db import repository
    from monitor.db.migrate import upgrade
    from monitor.reference import columns_from_events
    from monitor.simulate import model_config
    from monitor.simulate import reference_rows as make_rows

    upgrade(url)
    s = common.spec(1)
    cfg = parse_config(model_config(s, window=WINDOW))
    engine = create_engine(url)
    with engine.begin() as conn:
        repository.upsert_model(conn, cfg)
        rows = make_rows(s, reference_rows, with_outcomes=False)
        repository.set_reference(conn, cfg, columns_from_events(cfg, rows), "benchmark")
    engine.dispose()
    return cfg


def _stored_offsets(url: str, group: str, topic: str) -> int:
    from sqlalchemy import create_engine, func, select

    from monitor.db.schema import ConsumerOffsetRow as Row

    engine = create_engine(url)
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(Row.next_offset)).where(
            Row.consumer_group == group, Row.topic == topic, Row.next_offset >= 0)).scalar()
    engine.dispose()
    return int(total or 0)


def run_worker(args: dict[str, Any]) -> dict[str, Any]:
    """One worker over the whole stream; with ``profile`` under cProfile (stage times)."""
    from monitor.settings import Settings
    from monitor.worker import Worker, WorkerStats

    url, n, group = args["url"], int(args["n_events"]), f"bench-{uuid.uuid4().hex[:8]}"
    _prepare(url, int(args["reference_rows"]))
    settings = Settings(database_url=url, kafka_bootstrap_servers=args["bootstrap"],
                        predictions_topic=args["topic"], feedback_topic=args["feedback_topic"],
                        consumer_group=group, log_level="WARNING")
    commits: list[tuple[float, int]] = []  # (time the batch was committed, events so far)
    closes: list[dict[str, float]] = []
    worker: Worker

    def on_batch(stats: WorkerStats) -> None:
        t = stats.totals
        if t.accepted + t.duplicates + t.late + t.dead_letters >= n:
            worker.stop()

    worker = Worker(settings, on_batch=on_batch)
    apply, settle = worker.apply, worker.processor._settle

    def timed_apply(records: Any) -> Any:
        if prof is not None and not commits:
            prof.enable()  # from the first batch on: the group join is not the worker's work
        stats = apply(records)
        done = (commits[-1][1] if commits else 0) + sum(len(b) for b in records.values())
        commits.append((time.perf_counter(), done))
        return stats

    def timed_settle(*a: Any, **k: Any) -> Any:
        started = time.perf_counter()
        change = settle(*a, **k)
        ended = time.perf_counter()
        if change is not None and change.action == "close":
            closes.append({"cost_s": ended - started,
                           "latency_s": ended - commits[-1][0] if commits else float("nan")})
        return change

    worker.apply = timed_apply  # type: ignore[method-assign]
    worker.processor._settle = timed_settle  # type: ignore[method-assign]
    prof = cProfile.Profile() if args.get("profile") else None
    started = time.perf_counter()
    stats = worker.run(max_seconds=float(args.get("max_seconds", 600)))
    if prof is not None:
        prof.disable()
    (t_first, n_first), (t_last, n_last) = commits[0], commits[-1]
    out: dict[str, Any] = {
        "n_events": n_last, "batches": stats.batches, "mean_batch": n_last / stats.batches,
        "join_s": t_first - started, "seconds": t_last - t_first,
        "events_per_s": (n_last - n_first) / (t_last - t_first) if t_last > t_first else 0.0,
        "events_per_s_from_start": n_last / (t_last - started),
        "accepted": stats.totals.accepted, "windows_closed": len(closes),
        "close_cost_s": common.median([c["cost_s"] for c in closes]),
        "close_latency_s": common.median([c["latency_s"] for c in closes]),
        "stored_offsets": _stored_offsets(url, group, args["topic"]),
    }
    if prof is not None:
        out["stages"] = profiling.stage_times(prof)
        out["top"] = profiling.top_functions(prof)
    return out


def consume_only(args: dict[str, Any]) -> dict[str, Any]:
    """The Kafka client alone: poll the stream with the worker's consumer settings, no work."""
    from kafka import KafkaConsumer

    from monitor.worker import CONSUMER_DEFAULTS

    n = int(args["n_events"])
    consumer = KafkaConsumer(args["topic"], bootstrap_servers=args["bootstrap"],
                             group_id=f"bench-{uuid.uuid4().hex[:8]}",
                             auto_offset_reset="earliest", max_poll_records=5000,
                             **CONSUMER_DEFAULTS)
    seen, first = 0, None
    deadline = time.monotonic() + 120
    while seen < n and time.monotonic() < deadline:
        got = sum(len(v) for v in consumer.poll(timeout_ms=500, max_records=5000).values())
        if got and first is None:
            first, first_n = time.perf_counter(), got
        seen += got
    elapsed = time.perf_counter() - first if first is not None else float("nan")
    consumer.close(autocommit=False)
    return {"n_events": seen, "events_per_s": (seen - first_n) / elapsed if first else 0.0}
