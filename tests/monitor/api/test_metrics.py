"""Metric records, windows and dead letters over HTTP: filters, ranges, exact pagination."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from monitor.db.schema import DeadLetterRow, MetricRecordRow, WindowRow
from monitor.timeutil import format_ms, now_ms, parse_timestamp
from tests.monitor.api.conftest import MAX_PAGE, model_body

HOUR = 3_600_000
T0 = parse_timestamp("2026-11-21T00:00:00Z")
URL = "/api/v1/models/m/metrics"
RANGE = {"from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z"}
STATUSES = ("ok", "warning", "alert")


def _record(model_id: str, ws: int, family: str, metric: str, feature: str | None, *,
            status: str, value: float, slice_: str | None = None) -> dict[str, Any]:
    return {"model_id": model_id, "window_start": ws, "window_end": ws + HOUR, "family": family,
            "metric": metric, "feature": feature, "slice": slice_, "value": value,
            "threshold": 0.25, "p_value": None, "ci_low": None, "ci_high": None, "n": 100,
            "status": status, "revision": 1 if ws == T0 else 0, "computed_at_ms": ws + HOUR}


@pytest.fixture
def records(client: TestClient, writer: dict[str, str], engine: Engine) -> None:
    """Model m: 10 hourly windows from T0 x 4 records (inserted newest window first, so row ids
    run against window order); model other: 1 record; plus one record outside the range."""
    for model_id in ("m", "other"):
        client.post("/api/v1/models", json=model_body(model_id), headers=writer)
    rows = []
    for w in reversed(range(10)):
        ws = T0 + w * HOUR
        rows += [
            _record("m", ws, "data_drift", "psi", "x", status=STATUSES[w % 3], value=w / 10),
            _record("m", ws, "data_drift", "psi", "c", status="ok", value=0.01),
            _record("m", ws, "data_drift", "drift_share", None, status="ok", value=0.0),
            _record("m", ws, "ingestion", "events", None, status="ok", value=100.0 + w)]
    old = T0 - 40 * 86_400_000
    rows += [_record("m", T0, "data_drift", "psi", "x", status="ok", value=0.0, slice_="c=a"),
             _record("m", old, "data_drift", "psi", "x", status="alert", value=1.0),
             _record("other", T0, "data_drift", "psi", "x", status="alert", value=1.0)]
    with engine.begin() as conn:
        conn.execute(insert(MetricRecordRow), rows)
        conn.execute(insert(WindowRow), [
            {"model_id": "m", "window_start": T0 + w * HOUR, "window_end": T0 + (w + 1) * HOUR,
             "reference_version": 1, "status": "final" if w < 8 else "open",
             "needs_revision": w == 7, "revision": 1 if w == 0 else 0, "touches": 5,
             "closed_at_ms": T0 + (w + 2) * HOUR if w < 8 else None, "finalized_at_ms": None}
            for w in range(10)] + [
            {"model_id": "m", "window_start": T0 + 10 * HOUR, "window_end": T0 + 11 * HOUR,
             "reference_version": 1, "status": "open", "needs_revision": False, "revision": 0,
             "touches": 1, "closed_at_ms": None, "finalized_at_ms": None}])


def _get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(URL, params={**RANGE, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.usefixtures("records")
def test_filters_give_exact_counts(client: TestClient, reader: dict[str, str]) -> None:
    assert len(_get(client, reader, limit=50)["items"]) == 41
    assert len(_get(client, reader, limit=50, family="data_drift")["items"]) == 31
    assert len(_get(client, reader, family="ingestion")["items"]) == 10
    alerts = _get(client, reader, feature="x", status="alert")["items"]
    assert [a["window_start"] for a in alerts] == [format_ms(T0 + w * HOUR) for w in (2, 5, 8)]
    assert len(_get(client, reader, metric="psi", feature="x")["items"]) == 11
    assert [r["slice"] for r in _get(client, reader, slice="c=a")["items"]] == ["c=a"]
    ranged = _get(client, reader, family="ingestion", **{"from": "2026-11-21T03:00:00Z",
                                                          "to": str(T0 + 6 * HOUR)})
    assert [r["value"] for r in ranged["items"]] == [103.0, 104.0, 105.0]
    assert (ranged["from"], ranged["to"]) == ("2026-11-21T03:00:00Z", "2026-11-21T06:00:00Z")


@pytest.mark.usefixtures("records")
def test_record_shape(client: TestClient, reader: dict[str, str]) -> None:
    first = _get(client, reader, family="ingestion", limit=1)["items"][0]
    assert first == {
        "model_id": "m", "window_start": "2026-11-21T00:00:00Z",
        "window_end": "2026-11-21T01:00:00Z", "family": "ingestion", "metric": "events",
        "feature": None, "slice": None, "value": 100.0, "threshold": 0.25, "p_value": None,
        "ci_low": None, "ci_high": None, "n": 100, "status": "ok", "revision": 1,
        "computed_at": "2026-11-21T01:00:00Z"}


@pytest.mark.usefixtures("records")
def test_pagination_is_exact(client: TestClient, reader: dict[str, str]) -> None:
    everything = _get(client, reader, limit=50)["items"]
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor is not None:
            params["cursor"] = cursor
        page = _get(client, reader, **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [7, 7, 7, 7, 7, 6]
    assert [r for p in pages for r in p] == everything
    starts = [r["window_start"] for r in everything]
    assert starts == sorted(starts)
    exact = _get(client, reader, family="ingestion", limit=10)
    assert exact["next_cursor"] is None


@pytest.mark.usefixtures("records")
def test_bounds_are_enforced(client: TestClient, reader: dict[str, str]) -> None:
    def error_loc(**params: Any) -> list[Any]:
        response = client.get(URL, params=params, headers=reader)
        assert response.status_code == 422, response.text
        return [e["loc"] for e in response.json()["detail"]]

    assert error_loc(limit=MAX_PAGE + 1, **RANGE) == [["query", "limit"]]
    assert error_loc(limit=0, **RANGE) == [["query", "limit"]]
    assert error_loc(**{"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}) == [
        ["query", "from"]]
    assert error_loc(**{"from": "2020-01-01T00:00:00Z"}) == [["query", "from"]]
    assert error_loc(**{"from": RANGE["to"], "to": RANGE["from"]}) == [["query", "from"]]
    assert error_loc(**{"from": "yesterday", "to": RANGE["to"]}) == [["query", "from"]]
    assert error_loc(**{"to": "2026-11-21T00:00:00"}) == [["query", "to"]]
    assert error_loc(cursor="not-a-cursor", **RANGE) == [["query", "cursor"]]
    assert error_loc(**{"from": "9" * 25, "to": RANGE["to"]}) == [["query", "from"]]
    assert error_loc(**{"from": "-5", "to": RANGE["to"]}) == [["query", "from"]]
    huge_cursor = base64.urlsafe_b64encode(f"{10**30}:1".encode()).decode()
    assert error_loc(cursor=huge_cursor, **RANGE) == [["query", "cursor"]]
    assert error_loc(family="data\x00drift", **RANGE) == [["query", "family"]]
    assert error_loc(status="bad", **RANGE) == [["query", "status"]]
    assert _get(client, reader, limit=MAX_PAGE)["next_cursor"] is None


def test_default_range_is_the_last_seven_days(client: TestClient, writer: dict[str, str],
                                              reader: dict[str, str],
                                              engine: Engine) -> None:
    client.post("/api/v1/models", json=model_body(), headers=writer)
    now = now_ms()
    with engine.begin() as conn:
        conn.execute(insert(MetricRecordRow), [
            _record("m", ws, "ingestion", "events", None, status="ok", value=value)
            for ws, value in ((now - HOUR, 1.0), (now - 6 * 86_400_000, 2.0),
                              (now - 8 * 86_400_000, 3.0))])
    response = client.get(URL, headers=reader)
    assert response.status_code == 200
    assert [r["value"] for r in response.json()["items"]] == [2.0, 1.0]


def test_unknown_model_is_404(client: TestClient, reader: dict[str, str]) -> None:
    assert client.get("/api/v1/models/nope/metrics", headers=reader).status_code == 404
    assert client.get("/api/v1/models/nope/windows", headers=reader).status_code == 404


@pytest.mark.usefixtures("records")
def test_windows_newest_first(client: TestClient, reader: dict[str, str]) -> None:
    url = "/api/v1/models/m/windows"
    page = client.get(url, params={"limit": 4}, headers=reader).json()
    assert [w["window_start"] for w in page["items"]] == [
        format_ms(T0 + w * HOUR) for w in (10, 9, 8, 7)]
    assert page["items"][0]["n_events"] is None
    assert page["items"][1]["n_events"] == 100
    assert page["items"][3]["needs_revision"] is True
    assert page["items"][3]["closed_at"] == format_ms(T0 + 9 * HOUR)
    seen = [w["window_start"] for w in page["items"]]
    while page["next_cursor"] is not None:
        page = client.get(url, params={"limit": 4, "cursor": page["next_cursor"]},
                          headers=reader).json()
        seen += [w["window_start"] for w in page["items"]]
    assert seen == [format_ms(T0 + w * HOUR) for w in range(10, -1, -1)]
    final = client.get(url, params={"status": "final"}, headers=reader).json()["items"]
    assert len(final) == 8
    assert client.get(url, params={"limit": MAX_PAGE + 1}, headers=reader).status_code == 422


def test_dead_letters(client: TestClient, reader: dict[str, str],
                      engine: Engine) -> None:
    reasons = ["bad_json", "bad_json", "missing_id", "bad_json", "unknown_model"]
    with engine.begin() as conn:
        conn.execute(insert(DeadLetterRow), [
            {"received_at_ms": T0 + i, "stream": "predictions", "topic": "driftline.predictions",
             "kafka_partition": 0, "kafka_offset": i, "reason": reason, "detail": "",
             "payload_sha256": "0" * 64, "payload": b"x" * (i + 1),
             "model_id": "m" if i < 3 else None, "window_start": T0 if i < 3 else None}
            for i, reason in enumerate(reasons)])
    url = "/api/v1/dead-letters"
    everything = client.get(url, headers=reader).json()
    assert everything["summary"] == {"bad_json": 3, "missing_id": 1, "unknown_model": 1}
    assert [d["offset"] for d in everything["items"]] == [4, 3, 2, 1, 0]
    assert everything["items"][0]["payload_size"] == 5
    assert "payload" not in everything["items"][0]
    bad_json = client.get(url, params={"reason": "bad_json", "limit": 2}, headers=reader).json()
    assert [d["offset"] for d in bad_json["items"]] == [3, 1]
    rest = client.get(url, params={"reason": "bad_json", "cursor": bad_json["next_cursor"]},
                      headers=reader).json()
    assert ([d["offset"] for d in rest["items"]], rest["next_cursor"]) == ([0], None)
    of_m = client.get(url, params={"model_id": "m"}, headers=reader).json()
    assert of_m["summary"] == {"bad_json": 2, "missing_id": 1}
    assert [d["offset"] for d in of_m["items"]] == [2, 1, 0]
