"""Every panel, variable and annotation query of every dashboard, run as Grafana would run it
against real PostgreSQL (as the reporting role) after a backtest of the showcase stream (data
drift, a failing slice, a KPI drop, dead letters, late events, an undelivered trigger): each
returns the columns Grafana expects, is not empty, and matches the API's numbers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from dashboards.definitions import all_dashboards
from dashboards.grafana import Target
from dashboards.macros import all_values, run
from dashboards.queries import RecordQuery
from dashboards.showcase import HOUR_MS, MODEL_ID, START_MS, WINDOWS, write_showcase
from monitor.api.app import create_app
from monitor.backtest import BACKTEST_GROUP, run_backtest
from monitor.config import load_config_file
from monitor.db.engine import make_engine
from monitor.db.migrate import upgrade
from monitor.db.reporting import ROLE, configure_role
from monitor.keys import create_key
from monitor.settings import Settings

pytestmark = pytest.mark.postgres

T0 = datetime.fromtimestamp(START_MS / 1000, UTC) - timedelta(hours=1)
PASSWORD = "grafana-reads-only"


class Showcase:
    def __init__(self, engine: Engine, reader: Engine, client: TestClient, key: str) -> None:
        self.engine, self.reader, self.client = engine, reader, client
        self.headers = {"Authorization": f"Bearer {key}"}
        self.t1 = datetime.now(UTC) + timedelta(hours=1)
        self.variables: dict[str, list[str]] = {"model": [MODEL_ID]}

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        return run(self.reader, sql, T0, self.t1, self.variables)

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.get(f"/api/v1/models/{MODEL_ID}/metrics", limit=1000,
                            **{"from": _iso(T0), "to": _iso(self.t1)},
                            **({"cursor": cursor} if cursor else {}))
            out.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return out


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _api_stamp(s: str) -> str:
    return _stamp(datetime.fromisoformat(s.replace("Z", "+00:00")))


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> Iterator[Showcase]:
    from tests.pg import drop_database, fresh_database

    url = fresh_database(pg_server)
    upgrade(url)
    engine = make_engine(url)
    files = write_showcase(tmp_path_factory.mktemp("showcase"))
    run_backtest(load_config_file(files.config), files.reference, files.predictions,
                 files.feedback, engine=engine)
    configure_role(engine, PASSWORD, 10_000)
    reader = create_engine(make_url(url).set(username=ROLE, password=PASSWORD))
    with engine.begin() as conn:
        key = create_key(conn, ["read"], name="dashboards-test")
    settings = Settings(database_url=url, consumer_group=BACKTEST_GROUP,
                        api_max_range_days=3660)
    with TestClient(create_app(settings)) as client:
        s = Showcase(engine, reader, client, key)
        s.variables = all_values(reader, [v for d in all_dashboards() for v in d.variables],
                                 T0, s.t1, s.variables)
        yield s
    reader.dispose()
    engine.dispose()
    drop_database(url)


def _targets() -> list[tuple[str, str, Target]]:
    return [(d.uid, p.title, t) for d in all_dashboards() for p in d.panels for t in p.targets]


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _normal(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_stamp(v) if isinstance(v, datetime) else
                 (round(float(v), 9) if isinstance(v, float | int) and not isinstance(v, bool)
                  else v) for v in row)


def test_the_variables_list_what_the_api_knows(showcase: Showcase) -> None:
    models = [m["model_id"] for m in showcase.get("/api/v1/models")["items"]]
    assert showcase.variables["model"] == models == [MODEL_ID]
    records = showcase.records()
    assert showcase.variables["feature"] == sorted(
        {r["feature"] for r in records if r["family"] == "data_drift" and r["feature"]}) == [
        "amount", "country", "device", "tenure"]
    assert showcase.variables["slice"] == sorted(
        {r["slice"] for r in records if r["family"] == "slice_performance"
         and r["metric"] == "count"})
    assert len(showcase.variables["slice"]) == 8  # 5 countries and 3 devices
    assert showcase.variables["kpi"] == ["ctr"]


@pytest.mark.parametrize(("uid", "title", "target"),
                         [t for t in _targets() if isinstance(t[2].source, RecordQuery)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_record_panels_match_the_api(showcase: Showcase, uid: str, title: str,
                                     target: Target) -> None:
    query = target.source
    assert isinstance(query, RecordQuery)
    columns, rows = showcase.query(target.sql)
    if query.table:
        assert columns == [c.split(" AS ")[-1] for c in query.table]
    else:  # Grafana's long time-series format: a time column, a series name, a number
        assert columns == ["time", "metric", "value"]
        assert all(isinstance(r[0], datetime) and isinstance(r[1], str) for r in rows)
    assert rows, f"{uid} / {title}: no rows"
    expected = query.rows(showcase.records(), showcase.variables)
    got = sorted(_normal(r) for r in rows)
    want = sorted(_normal(tuple(_api_stamp(v) if i == 0 and not query.table else v
                                for i, v in enumerate(r))) for r in expected)
    assert len(got) == len(want), f"{uid} / {title}"
    for g, w in zip(got, want, strict=True):
        assert all(_close(a, b) for a, b in zip(g, w, strict=True)), (title, g, w)


def test_the_showcase_incidents_are_on_the_panels(showcase: Showcase) -> None:
    """The panels show what the stream holds: drift from window 6, Korea failing from
    window 5, the iOS click-through rate falling from window 7."""
    targets = {title: t for _, title, t in _targets()}
    _, share = showcase.query(targets["Share of drifted features"].sql)
    drifted = [r[0] for r in share if r[1] == "drift_share" and r[2] >= 0.5]
    assert min(drifted) == datetime.fromtimestamp((START_MS + 6 * HOUR_MS) / 1000, UTC)
    _, heat = showcase.query(targets["Error rate by slice and window"].sql)
    kr = {r[0]: r[2] for r in heat if r[1] == "country=KR"}
    before = [v for t, v in kr.items() if t.timestamp() * 1000 < START_MS + 5 * HOUR_MS]
    after = [v for t, v in kr.items() if t.timestamp() * 1000 >= START_MS + 5 * HOUR_MS]
    assert len(before) + len(after) == WINDOWS
    assert max(before) < 0.2
    assert min(after) > 0.3
    _, by_slice = showcase.query(targets["KPI by slice"].sql)
    ios = sorted((r[0], r[2]) for r in by_slice if r[1] == "device=ios")
    assert all(v > 0.07 for _, v in ios[:7])
    assert all(v < 0.06 for _, v in ios[7:])
    _, worst = showcase.query(targets["Segments missing the KPI most (latest window)"].sql)
    assert (worst[0][:2], worst[0][-1]) == (("worst.ctr", "device=ios"), "alert")


def _custom(title: str) -> Target:
    return next(t for _, p, t in _targets() if p == title)


def test_alert_and_trigger_tables_match_the_api(showcase: Showcase) -> None:
    alerts = showcase.get("/api/v1/alerts", model_id=MODEL_ID, limit=200)["items"]
    columns, rows = showcase.query(_custom("Alerts").sql)
    assert columns[:5] == ["started", "ended", "rule", "severity", "state"]
    assert rows
    assert len(rows) == len(alerts)
    assert sorted(_normal((r[0], r[2], r[4], r[7] or "", r[8] or "")) for r in rows) == sorted(
        (_api_stamp(a["starts_at"]), a["rule"], a["state"], a["labels"].get("feature", ""),
         a["labels"].get("slice", "")) for a in alerts)
    assert {r[2] for r in rows} >= {"data_drift_sustained", "performance_drop", "kpi_drop"}
    triggers = showcase.get("/api/v1/triggers", model_id=MODEL_ID)["items"]
    columns, rows = showcase.query(_custom("Retraining triggers").sql)
    assert columns == ["time", "trigger_id", "status", "reason", "manual"]
    assert rows
    assert sorted((_stamp(r[0]), r[1], r[2]) for r in rows) == sorted(
        (_api_stamp(t["event_time"] or t["created_at"]), t["trigger_id"], t["status"])
        for t in triggers)


def test_annotations_match_the_api(showcase: Showcase) -> None:
    overview = all_dashboards()[0]
    alerts = showcase.get("/api/v1/alerts", model_id=MODEL_ID, limit=200)["items"]
    triggers = showcase.get("/api/v1/triggers", model_id=MODEL_ID)["items"]
    by_name = {a.name: a for a in overview.annotations}
    columns, rows = showcase.query(by_name["Alerts"].sql)
    assert columns == ["time", "timeend", "text", "tags"]
    assert sorted((_stamp(r[0]), r[2].split(":")[0]) for r in rows) == sorted(
        (_api_stamp(a["starts_at"]), a["rule"]) for a in alerts)
    columns, rows = showcase.query(by_name["Retraining triggers"].sql)
    assert columns == ["time", "text", "tags"]
    assert rows
    assert len(rows) == len(triggers)


def test_operations_panels_match_the_api(showcase: Showcase) -> None:
    prom = showcase.client.get("/metrics").text
    _, lag_rows = showcase.query(_custom("Consumer lag").sql)
    lags = [float(line.rsplit(" ", 1)[1]) for line in prom.splitlines()
            if line.startswith("driftline_consumer_lag{")]
    assert lag_rows == [(sum(lags),)] if lags else lag_rows == [(0,)]

    columns, rows = showcase.query(_custom("Lag by partition").sql)
    assert columns[:4] == ["consumer_group", "topic", "partition", "lag"]
    accepted = {(r[1], str(r[2])): r[7] for r in rows}
    for line in prom.splitlines():
        if line.startswith("driftline_events_total{") and 'outcome="accepted"' in line:
            labels = dict(p.split("=") for p in line[line.index("{") + 1:line.index("}")]
                          .replace('"', "").split(","))
            assert accepted[(labels["topic"], labels["partition"])] == float(
                line.rsplit(" ", 1)[1])
    assert sum(accepted.values()) > 12 * 1000

    page = showcase.get("/api/v1/dead-letters", limit=100)
    columns, rows = showcase.query(_custom("Dead letters by reason").sql)
    assert columns == ["reason", "stream", "events", "last_seen"]
    assert {r[0]: r[2] for r in rows} == page["summary"] == {"bad_json": 2, "missing_field": 2}

    deliveries = showcase.get("/api/v1/deliveries", limit=100)["items"]
    pending = [d for d in deliveries if d["status"] == "pending"]
    assert pending
    assert showcase.query(_custom("Outbox backlog").sql)[1] == [(len(pending),)]
    oldest = min(datetime.fromisoformat(d["created_at"].replace("Z", "+00:00"))
                 for d in pending)
    (age,), = showcase.query(_custom("Oldest undelivered").sql)[1]
    assert abs(float(age) - (datetime.now(UTC) - oldest).total_seconds()) < 120
    columns, rows = showcase.query(_custom("Undelivered messages").sql)
    assert columns[:3] == ["time", "kind", "channel_id"]
    assert sorted((r[1], r[3]) for r in rows) == sorted(
        (d["kind"], d["trigger_id"]) for d in deliveries if d["status"] != "sent")


def test_every_query_is_checked_and_none_is_empty(showcase: Showcase) -> None:
    custom = [title for _, title, t in _targets() if not isinstance(t.source, RecordQuery)]
    assert sorted(custom) == sorted([
        "Alerts", "Retraining triggers", "Consumer lag", "Outbox backlog",
        "Oldest undelivered", "Lag by partition", "Dead letters by reason",
        "Undelivered messages"])
    for uid, title, target in _targets():
        assert showcase.query(target.sql)[1], f"{uid} / {title} is empty"


def test_the_reporting_role_reads_views_only_and_cannot_write(showcase: Showcase) -> None:
    with showcase.reader.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "10s"
        assert conn.execute(text("SHOW default_transaction_read_only")).scalar() == "on"
    for statement in ("SELECT count(*) FROM public.metric_records",
                      "SELECT count(*) FROM public.dead_letters",
                      "DELETE FROM reporting.metric_records",
                      "CREATE TABLE reporting.x (a int)"):
        with showcase.reader.connect() as conn, pytest.raises(Exception) as info:
            conn.execute(text(statement))
        assert type(info.value.orig).__name__ in (  # type: ignore[attr-defined]
            "InsufficientPrivilege", "ReadOnlySqlTransaction"), statement
    configure_role(showcase.engine, PASSWORD, 200)  # applies to new sessions
    try:
        showcase.reader.dispose()
        with showcase.reader.connect() as conn, pytest.raises(Exception) as info:
            conn.execute(text("SELECT pg_sleep(2)"))
        assert type(info.value.orig).__name__ == "QueryCanceled"  # type: ignore[attr-defined]
    finally:
        configure_role(showcase.engine, PASSWORD, 10_000)
        showcase.reader.dispose()
