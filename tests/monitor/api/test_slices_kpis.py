"""Worst slices (``/slices``) and KPIs (``/kpis``) over HTTP: grouping by window, ordering,
filters, the row cap, 404 and 422 naming the parameter."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from monitor.api.app import create_app
from monitor.db.schema import MetricRecordRow
from monitor.settings import Settings
from monitor.timeutil import format_ms, parse_timestamp
from tests.monitor.api.conftest import model_body

HOUR = 3_600_000
T0 = parse_timestamp("2026-11-21T00:00:00Z")
RANGE = {"from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z"}
KPIS = [{"name": "ctr", "numerator": "click"}, {"name": "revenue", "numerator": "revenue"}]


def _row(ws: int, family: str, metric: str, slice_: str | None, *, value: float | None,
         status: str = "ok", threshold: float | None = None, p_value: float | None = None,
         ci: tuple[float, float] | None = None, n: int = 100, model_id: str = "m",
         ) -> dict[str, Any]:
    return {"model_id": model_id, "window_start": ws, "window_end": ws + HOUR, "family": family,
            "metric": metric, "feature": None, "slice": slice_, "value": value,
            "threshold": threshold, "p_value": p_value,
            "ci_low": None if ci is None else ci[0], "ci_high": None if ci is None else ci[1],
            "n": n, "status": status, "revision": 0, "computed_at_ms": ws + HOUR}


def _seed(engine: Engine, rows: list[dict[str, Any]]) -> None:
    rows = list(rows)
    random.Random(7).shuffle(rows)  # row ids must not decide the order of the answer
    with engine.begin() as conn:
        conn.execute(insert(MetricRecordRow), rows)


def _sp(ws: int, metric: str, slice_: str, p_value: float | None, status: str = "ok",
        value: float = 0.3, **kw: Any) -> dict[str, Any]:
    return _row(ws, "slice_performance", metric, slice_, value=value, status=status,
                threshold=0.1, p_value=p_value, **kw)


W0, W1, W2, W3 = (T0 + i * HOUR for i in range(4))


@pytest.fixture
def slice_records(client: TestClient, writer: dict[str, str], engine: Engine) -> None:
    """Model m: worst and sequential records in windows W0..W2, only a count in W3, plus
    records the route must not serve (other family, other model, other case, out of range)."""
    for model_id in ("m", "other"):
        assert client.post("/api/v1/models", json=model_body(model_id, kpis=KPIS),
                           headers=writer).status_code == 201
    _seed(engine, [
        _sp(W2, "worst.error_rate", "c=KR", 0.001, "alert", ci=(0.2, 0.4), n=250),
        _sp(W2, "worst.error_rate", "c=US", 0.2),
        _sp(W2, "worst.error_rate", "c=KR&x=[1,2)", 0.0001, "alert"),
        _sp(W2, "worst.ctr", "x=[0,1)", 0.03),
        _sp(W2, "worst.ctr", "c=JP", 0.01, "alert"),
        _sp(W2, "worst.ctr", "c=FR", None),
        _sp(W2, "sequential.error_rate", "c=KR", 0.004, "alert"),
        _sp(W2, "sequential.error_rate", "x=[1,2)", 0.5),
        _sp(W2, "sequential.ctr", "c=JP", 0.2),
        _sp(W2, "count", "c=KR", None, value=250.0),
        _sp(W2, "accuracy", "c=KR", None, value=0.7),
        _sp(W2, "Worst.error_rate", "c=KR", 0.0),  # prefixes are case-sensitive
        _sp(W2, "worstXerror_rate", "c=KR", 0.0),
        _row(W2, "data_drift", "worst.error_rate", "c=KR", value=1.0),
        _sp(W1, "sequential.error_rate", "c=KR", 0.03),
        _sp(W1, "count", "c=KR", None, value=200.0),
        _sp(W0, "worst.error_rate", "c=US", 0.4),
        _sp(W0, "worst.error_rate", "c=KR", 0.3),
        _sp(W3, "count", "c=KR", None, value=10.0),
        _sp(T0 - 40 * 86_400_000, "worst.error_rate", "c=KR", 0.001, "alert"),
        _sp(W2, "worst.error_rate", "c=KR", 0.001, "alert", model_id="other"),
    ])


def _get(client: TestClient, headers: dict[str, str], url: str, **params: Any) -> Any:
    response = client.get(url, params={**RANGE, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _error_locs(client: TestClient, headers: dict[str, str], url: str,
                **params: Any) -> list[Any]:
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


def _slices(window: dict[str, Any], kind: str) -> list[tuple[str, str, str]]:
    return [(r["metric"], r["slice"], r["status"]) for r in window[kind]]


SLICES = "/api/v1/models/m/slices"


@pytest.mark.usefixtures("slice_records")
def test_slices_grouped_by_window_newest_first(client: TestClient,
                                               reader: dict[str, str]) -> None:
    body = _get(client, reader, SLICES)
    assert (body["model_id"], body["from"], body["to"], body["truncated"]) == (
        "m", "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", False)
    assert [(w["window_start"], w["window_end"]) for w in body["windows"]] == [
        (format_ms(W2), format_ms(W3)), (format_ms(W1), format_ms(W2)),
        (format_ms(W0), format_ms(W1))]
    newest, middle, oldest = body["windows"]
    assert _slices(newest, "worst") == [
        ("worst.error_rate", "c=KR&x=[1,2)", "alert"), ("worst.error_rate", "c=KR", "alert"),
        ("worst.ctr", "c=JP", "alert"), ("worst.ctr", "x=[0,1)", "ok"),
        ("worst.error_rate", "c=US", "ok"), ("worst.ctr", "c=FR", "ok")]
    assert _slices(newest, "sequential") == [
        ("sequential.error_rate", "c=KR", "alert"), ("sequential.ctr", "c=JP", "ok"),
        ("sequential.error_rate", "x=[1,2)", "ok")]
    assert (middle["worst"], _slices(middle, "sequential")) == (
        [], [("sequential.error_rate", "c=KR", "ok")])
    assert (_slices(oldest, "worst"), oldest["sequential"]) == (
        [("worst.error_rate", "c=KR", "ok"), ("worst.error_rate", "c=US", "ok")], [])
    assert newest["worst"][1] == {
        "model_id": "m", "window_start": "2026-11-21T02:00:00Z",
        "window_end": "2026-11-21T03:00:00Z", "family": "slice_performance",
        "metric": "worst.error_rate", "feature": None, "slice": "c=KR", "value": 0.3,
        "threshold": 0.1, "p_value": 0.001, "ci_low": 0.2, "ci_high": 0.4, "n": 250,
        "status": "alert", "revision": 0, "computed_at": "2026-11-21T03:00:00Z"}


@pytest.mark.usefixtures("slice_records")
def test_slices_filters(client: TestClient, reader: dict[str, str]) -> None:
    ctr = _get(client, reader, SLICES, target="ctr")["windows"]
    assert [w["window_start"] for w in ctr] == [format_ms(W2)]
    assert _slices(ctr[0], "worst") == [
        ("worst.ctr", "c=JP", "alert"), ("worst.ctr", "x=[0,1)", "ok"),
        ("worst.ctr", "c=FR", "ok")]
    assert _slices(ctr[0], "sequential") == [("sequential.ctr", "c=JP", "ok")]
    assert _get(client, reader, SLICES, target="revenue")["windows"] == []

    alerts = _get(client, reader, SLICES, status="alert")["windows"]
    assert [w["window_start"] for w in alerts] == [format_ms(W2)]
    assert _slices(alerts[0], "worst") == [
        ("worst.error_rate", "c=KR&x=[1,2)", "alert"), ("worst.error_rate", "c=KR", "alert"),
        ("worst.ctr", "c=JP", "alert")]
    assert _slices(alerts[0], "sequential") == [("sequential.error_rate", "c=KR", "alert")]
    both = _get(client, reader, SLICES, target="error_rate", status="ok")["windows"]
    assert [(w["window_start"], len(w["worst"]), len(w["sequential"])) for w in both] == [
        (format_ms(W2), 1, 1), (format_ms(W1), 0, 1), (format_ms(W0), 2, 0)]

    two = _get(client, reader, SLICES, limit_windows=2)
    assert [w["window_start"] for w in two["windows"]] == [format_ms(W2), format_ms(W1)]
    assert two["truncated"] is False
    ranged = _get(client, reader, SLICES, **{"from": str(W0), "to": "2026-11-21T02:00:00Z"})
    assert [w["window_start"] for w in ranged["windows"]] == [format_ms(W1), format_ms(W0)]


@pytest.mark.usefixtures("slice_records")
def test_slices_bad_parameters_are_named(client: TestClient, reader: dict[str, str]) -> None:
    assert _error_locs(client, reader, SLICES, target="error rate", **RANGE) == [
        ["query", "target"]]
    assert _error_locs(client, reader, SLICES, target="x" * 129, **RANGE) == [
        ["query", "target"]]
    assert _error_locs(client, reader, SLICES, status="bad", **RANGE) == [["query", "status"]]
    for bad in (0, 101, "many"):
        assert _error_locs(client, reader, SLICES, limit_windows=bad, **RANGE) == [
            ["query", "limit_windows"]]
    assert _error_locs(client, reader, SLICES, **{"from": "yesterday"}) == [["query", "from"]]
    assert _error_locs(client, reader, SLICES, **{"from": "2020-01-01T00:00:00Z",
                                                  "to": RANGE["to"]}) == [["query", "from"]]
    assert _get(client, reader, SLICES, limit_windows=100)["windows"]


def test_unknown_model_is_404(client: TestClient, reader: dict[str, str]) -> None:
    for route in ("slices", "kpis"):
        response = client.get(f"/api/v1/models/nope/{route}", params=RANGE, headers=reader)
        assert response.status_code == 404, route
        assert "nope" in response.json()["detail"]


@pytest.fixture
def small_client(api_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """A client of an app that reads at most 1 x 50 rows per answer."""
    with TestClient(create_app(dataclasses.replace(api_settings, api_max_page_size=1))
                    ) as test_client:
        yield test_client


def test_row_cap_keeps_whole_windows(small_client: TestClient, writer: dict[str, str],
                                     reader: dict[str, str], engine: Engine) -> None:
    assert small_client.post("/api/v1/models", json=model_body(kpis=KPIS),
                             headers=writer).status_code == 201
    _seed(engine, [_sp(ws, "worst.error_rate", f"c={i}", i / 100)
                   for ws, count in ((W2, 30), (W1, 30), (W0, 10)) for i in range(count)]
          + [_row(W1, "kpi", "ctr", f"c={i}", value=0.1) for i in range(60)])
    body = _get(small_client, reader, SLICES)
    assert [(w["window_start"], len(w["worst"])) for w in body["windows"]] == [
        (format_ms(W2), 30)]
    assert body["truncated"] is True
    older = _get(small_client, reader, SLICES, to=str(W2))
    assert [(w["window_start"], len(w["worst"])) for w in older["windows"]] == [
        (format_ms(W1), 30), (format_ms(W0), 10)]
    assert older["truncated"] is False
    alone = _get(small_client, reader, "/api/v1/models/m/kpis", name="ctr")["kpis"][0]
    assert [len(w["slices"]) for w in alone["windows"]] == [50]
    assert _get(small_client, reader, "/api/v1/models/m/kpis")["truncated"] is True


KPI_URL = "/api/v1/models/m/kpis"


def _kpi(ws: int, metric: str, slice_: str | None, value: float | None, *,
         threshold: float | None = 0.05, status: str = "ok", n: int = 1000,
         model_id: str = "m") -> dict[str, Any]:
    ci = None if value is None else (round(value - 0.01, 4), round(value + 0.01, 4))
    return _row(ws, "kpi", metric, slice_, value=value, status=status, threshold=threshold,
                ci=ci, n=n, model_id=model_id)


def _change(ws: int, metric: str, p_value: float, status: str = "ok") -> dict[str, Any]:
    return _row(ws, "kpi", metric, None, value=p_value, status=status, threshold=0.05,
                p_value=p_value, n=1000)


@pytest.fixture
def kpi_records(client: TestClient, writer: dict[str, str], engine: Engine) -> None:
    """Model m (KPIs ctr, revenue): ctr in W0..W2 (slices in W1, W2; its change test in the
    final windows W0, W1), revenue never; plus records the route must not serve."""
    for model_id in ("m", "other"):
        assert client.post("/api/v1/models", json=model_body(model_id, kpis=KPIS),
                           headers=writer).status_code == 201
    _seed(engine, [
        _kpi(W2, "ctr", None, 0.04, threshold=0.06),
        _kpi(W2, "ctr", "c=b", 0.02, n=400),
        _kpi(W2, "ctr", "c=a", 0.05, n=600),
        _kpi(W1, "ctr", None, 0.05),
        _kpi(W1, "ctr", "c=a", None, status="insufficient_data", n=0),
        _change(W1, "ctr.change", 0.01, "alert"),
        _kpi(W0, "ctr", None, 0.051),
        _change(W0, "ctr.change", 0.4),
        _kpi(W2, "dropped_kpi", None, 0.5),  # no longer in the configuration
        _row(W2, "slice_performance", "ctr", "c=a", value=0.9),
        _kpi(W2, "ctr", None, 0.9, model_id="other"),
        _kpi(T0 - 40 * 86_400_000, "ctr", None, 0.9),
    ])


def _window(ws: int, value: float | None, n: int | None, *, status: str | None = "ok",
            change: dict[str, Any] | None = None,
            slices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ci = (None, None) if value is None else (round(value - 0.01, 4), round(value + 0.01, 4))
    return {"window_start": format_ms(ws), "window_end": format_ms(ws + HOUR), "value": value,
            "ci_low": ci[0], "ci_high": ci[1], "n": n, "status": status, "change": change,
            "slices": slices or []}


def _slice(key: str, value: float | None, n: int, status: str = "ok") -> dict[str, Any]:
    ci = (None, None) if value is None else (round(value - 0.01, 4), round(value + 0.01, 4))
    return {"slice": key, "value": value, "ci_low": ci[0], "ci_high": ci[1], "n": n,
            "status": status}


CTR_WINDOWS = [
    _window(W2, 0.04, 1000, slices=[_slice("c=a", 0.05, 600), _slice("c=b", 0.02, 400)]),
    _window(W1, 0.05, 1000, change={"p_value": 0.01, "status": "alert"},
            slices=[_slice("c=a", None, 0, "insufficient_data")]),
    _window(W0, 0.051, 1000, change={"p_value": 0.4, "status": "ok"}),
]


@pytest.mark.usefixtures("kpi_records")
def test_kpis_exact_answer(client: TestClient, reader: dict[str, str]) -> None:
    assert _get(client, reader, KPI_URL) == {
        "model_id": "m", "from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z",
        "truncated": False,
        "kpis": [{"name": "ctr", "baseline": 0.06, "windows": CTR_WINDOWS},
                 {"name": "revenue", "baseline": None, "windows": []}]}


@pytest.mark.usefixtures("kpi_records")
def test_kpis_filters(client: TestClient, reader: dict[str, str]) -> None:
    assert _get(client, reader, KPI_URL, name="revenue")["kpis"] == [
        {"name": "revenue", "baseline": None, "windows": []}]
    ctr = _get(client, reader, KPI_URL, name="ctr", include_slices="false")["kpis"]
    assert ctr == [{"name": "ctr", "baseline": 0.06,
                    "windows": [{**w, "slices": []} for w in CTR_WINDOWS]}]
    newest = _get(client, reader, KPI_URL, limit_windows=1)["kpis"]
    assert [(k["name"], k["windows"]) for k in newest] == [
        ("ctr", CTR_WINDOWS[:1]), ("revenue", [])]
    older = _get(client, reader, KPI_URL, to=str(W2))["kpis"][0]
    assert (older["baseline"], older["windows"]) == (0.05, CTR_WINDOWS[1:])
    assert _error_locs(client, reader, KPI_URL, name="dropped_kpi", **RANGE) == [
        ["query", "name"]]
    assert _error_locs(client, reader, KPI_URL, name="ctr\x00", **RANGE) == [["query", "name"]]
    assert _error_locs(client, reader, KPI_URL, include_slices="maybe", **RANGE) == [
        ["query", "include_slices"]]
    assert _error_locs(client, reader, KPI_URL, limit_windows=101, **RANGE) == [
        ["query", "limit_windows"]]
    assert _error_locs(client, reader, KPI_URL, to="soon") == [["query", "to"]]


def test_model_without_kpis(client: TestClient, writer: dict[str, str],
                            reader: dict[str, str], engine: Engine) -> None:
    assert client.post("/api/v1/models", json=model_body(), headers=writer).status_code == 201
    _seed(engine, [_kpi(W0, "ctr", None, 0.1)])
    assert _get(client, reader, KPI_URL) == {
        "model_id": "m", "from": RANGE["from"], "to": RANGE["to"], "kpis": [],
        "truncated": False}
    assert _get(client, reader, SLICES)["windows"] == []
