"""/healthz, /readyz and /metrics (Prometheus, read from the database)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, insert

from monitor.api.app import create_app
from monitor.db.migrate import head_revision, upgrade
from monitor.db.schema import ConsumerOffsetRow, DeadLetterRow, LateEventRow, WindowRow
from monitor.settings import Settings

PRED = "driftline.predictions"
FEED = "driftline.feedback"


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_follows_the_migrations(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    with TestClient(create_app(Settings(database_url=url))) as client:
        before = client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["status"] == "unavailable"
        assert before.json()["reason"].startswith(
            f"database schema at revision None, expected {head_revision()}")
        assert client.get("/healthz").status_code == 200
        upgrade(url)
        after = client.get("/readyz")
        assert after.status_code == 200
        assert after.json() == {"status": "ok", "revision": head_revision()}


def test_unmigrated_database_answers_503_not_500(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/metrics")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"


def _offset(group: str, topic: str, partition: int, next_offset: int, *,
            highwater: int | None, max_event_ms: int | None,
            counts: tuple[int, int, int, int]) -> dict[str, object]:
    accepted, duplicates, late, dead = counts
    return {"consumer_group": group, "topic": topic, "kafka_partition": partition,
            "next_offset": next_offset, "highwater": highwater, "max_event_ms": max_event_ms,
            "watermark_ms": None, "caught_up_since_ms": None, "accepted": accepted,
            "duplicates": duplicates, "late": late, "dead_letters": dead, "updated_at_ms": 0}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_exposition_reads_the_database(client: TestClient,
                                               engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(ConsumerOffsetRow), [
            _offset("driftline", PRED, 0, 120, highwater=150, max_event_ms=1_795_255_200_500,
                    counts=(100, 7, 3, 2)),
            _offset("driftline", PRED, 1, -1, highwater=40, max_event_ms=None,
                    counts=(0, 0, 0, 0)),
            _offset("driftline", FEED, 0, 10, highwater=None, max_event_ms=1_795_255_201_000,
                    counts=(9, 0, 0, 1)),
            _offset("other-group", PRED, 0, 5, highwater=999, max_event_ms=1,
                    counts=(1, 1, 1, 1)),
        ])
        conn.execute(insert(DeadLetterRow), [
            {"received_at_ms": 0, "stream": "predictions", "topic": PRED, "kafka_partition": 0,
             "kafka_offset": i, "reason": reason, "detail": "", "payload_sha256": "0" * 64,
             "payload": b"{", "model_id": None, "window_start": None}
            for i, reason in enumerate(["bad_json", "bad_json", "missing_id"])])
        conn.execute(insert(WindowRow), [
            {"model_id": m, "window_start": ws, "window_end": ws + 1, "status": status,
             "needs_revision": False, "revision": 0, "touches": 1, "closed_at_ms": closed}
            for m, ws, status, closed in [("a", 0, "final", 5), ("a", 1, "closed", 6),
                                          ("a", 2, "open", None), ("a", 3, "open", None),
                                          ("b", 0, "closed", 7)]])
        conn.execute(insert(LateEventRow), [
            {"received_at_ms": 0, "model_id": "a", "window_start": 0, "event_id": f"e{i}",
             "ts_ms": 0, "topic": PRED, "kafka_partition": 0, "kafka_offset": 200 + i}
            for i in range(4)])
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = _samples(response.text)

    def events(topic: str, partition: str, outcome: str) -> float:
        key = (("outcome", outcome), ("partition", partition), ("topic", topic))
        return got[("driftline_events_total", key)]

    assert [events(PRED, "0", o) for o in ("accepted", "duplicates", "late", "dead_letters")
            ] == [100.0, 7.0, 3.0, 2.0]
    assert events(FEED, "0", "accepted") == 9.0
    assert events(PRED, "1", "accepted") == 0.0
    assert sum(v for (name, _), v in got.items() if name == "driftline_events_total") == 122.0
    lags = {k: v for k, v in got.items() if k[0] == "driftline_consumer_lag"}
    assert lags == {("driftline_consumer_lag", (("partition", "0"), ("topic", PRED))): 30.0}
    times = {dict(k[1])["topic"]: v for k, v in got.items()
             if k[0] == "driftline_partition_event_time_seconds"}
    assert times == {PRED: 1_795_255_200.5, FEED: 1_795_255_201.0}
    assert {dict(k[1])["reason"]: v for k, v in got.items()
            if k[0] == "driftline_dead_letters_total"} == {"bad_json": 2.0, "missing_id": 1.0}
    assert {tuple(dict(k[1]).values()): v for k, v in got.items()
            if k[0] == "driftline_windows"} == {("a", "closed"): 1.0, ("a", "final"): 1.0,
                                                ("a", "open"): 2.0, ("b", "closed"): 1.0}
    assert {dict(k[1])["model_id"]: v for k, v in got.items()
            if k[0] == "driftline_window_closes_total"} == {"a": 2.0, "b": 1.0}
    assert {dict(k[1])["model_id"]: v for k, v in got.items()
            if k[0] == "driftline_late_events_total"} == {"a": 4.0}
    assert "# TYPE driftline_events_total counter" in response.text
    assert "# TYPE driftline_consumer_lag gauge" in response.text


def test_metrics_of_an_empty_database(client: TestClient) -> None:
    text = client.get("/metrics").text
    for name in ("driftline_events_total", "driftline_consumer_lag",
                 "driftline_partition_event_time_seconds", "driftline_dead_letters_total",
                 "driftline_windows", "driftline_window_closes_total",
                 "driftline_late_events_total"):
        assert f"# HELP {name} " in text
    assert _samples(text) == {}
