"""Evidently's drift report of a window over HTTP: events through the processor, then the page."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor.db.sql_store import SqlStore
from monitor.events import EventLimits
from monitor.processing import Processor
from monitor.registry import DbRegistry
from monitor.timeutil import format_ms, parse_timestamp
from tests.factories import message
from tests.monitor.api.conftest import model_body

HOUR = 3_600_000
T0 = parse_timestamp("2026-11-21T00:00:00Z")
URL = "/api/v1/models/m/report"
COLUMNS = ("x", "y", "c", "emb", "score", "prediction")
FEATURES = [{"name": "x", "type": "numeric"}, {"name": "y", "type": "numeric"},
            {"name": "c", "type": "categorical"}, {"name": "emb", "type": "embedding"}]
# One row of Evidently's drift table, as its page embeds it.
ROW = re.compile(r'"column_name": "([^"]+)", "column_type": "[^"]+", "stattest_name": "[^"]+", '
                 r'"reference_distribution": \{[^{}]*\}, "current_distribution": \{[^{}]*\}, '
                 r'"data_drift": "(Detected|Not Detected)"')


def _row(rng: random.Random, i: int, ts_ms: int, shift: float = 0.0) -> dict[str, Any]:
    return {"model_id": "m", "prediction_id": f"p{i}", "timestamp": format_ms(ts_ms),
            "features": {"x": rng.gauss(shift, 1), "y": rng.gauss(0, 1), "c": rng.choice("abc"),
                         "emb": [rng.gauss(0, 1) for _ in range(3)]},
            "prediction": int(rng.random() < 0.5), "score": rng.random()}


def _verdicts(page: str) -> dict[str, str]:
    return dict(ROW.findall(page))


@pytest.fixture
def model(client: TestClient, writer: dict[str, str]) -> None:
    body = model_body(features=FEATURES, slices=[],
                      drift={"sample_size": 200, "reference_sample_size": 400})
    assert client.post("/api/v1/models", json=body, headers=writer).status_code == 201


def _upload_reference(client: TestClient, writer: dict[str, str]) -> None:
    rng = random.Random(1)
    rows = b"\n".join(orjson.dumps(_row(rng, -i, T0 - HOUR)) for i in range(1, 401))
    response = client.put("/api/v1/models/m/reference", content=rows,
                          headers={**writer, "Content-Type": "application/x-ndjson"})
    assert response.status_code == 201, response.text


class Ingest:
    """The worker's path without Kafka: the processor over the API's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        registry = DbRegistry(engine)
        registry.refresh(force=True)
        self.processor = Processor(registry, EventLimits(now_ms=T0 + 4 * HOUR))
        self.offsets = [0, 0]
        with engine.begin() as conn:
            SqlStore(conn).ensure_partitions("driftline.predictions", [0, 1])

    @contextmanager
    def transaction(self) -> Iterator[SqlStore]:
        with self.engine.begin() as conn:
            yield SqlStore(conn)

    def send(self, events: list[dict[str, Any]]) -> None:
        messages = []
        for i, ev in enumerate(events):
            partition = i % 2
            messages.append(message(ev, self.offsets[partition], partition))
            self.offsets[partition] += 1
        with self.transaction() as store:
            self.processor.apply_batch(store, messages)


@pytest.mark.usefixtures("model")
def test_report_of_open_then_final_window(client: TestClient, writer: dict[str, str],
                                          reader: dict[str, str], engine: Engine) -> None:
    _upload_reference(client, writer)
    ingest = Ingest(engine)
    rng = random.Random(2)
    window = [_row(rng, i, T0 + i * 10_000, shift=3.0) for i in range(300)]
    duplicate = {**window[0], "timestamp": format_ms(T0 + HOUR + 60_000)}  # only event of W1
    ingest.send([*window, duplicate])

    response = client.get(URL, params={"window_start": "2026-11-21T00:00:00Z"}, headers=reader)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-disposition"] == f'inline; filename="m-drift-{T0}.html"'
    page = response.text
    assert "Data drift of m: window 2026-11-21T00:00:00Z to 2026-11-21T01:00:00Z" in page
    assert "Window: open, 300 accepted events; sample from merged now from 2 partition" in page
    assert "Window sample: 200 of 300 rows" in page
    assert "Reference: version 1 (the version this window was computed against), 400 rows" in page
    assert "Reference sample: 400 of 400 rows" in page
    assert "Evidently finds drift in 1 of 6 columns: x." in page
    assert "Embeddings as their L2 norm: emb." in page
    assert _verdicts(page) == {name: "Detected" if name == "x" else "Not Detected"
                               for name in COLUMNS}

    only_duplicates = client.get(URL, params={"window_start": str(T0 + HOUR)}, headers=reader)
    assert only_duplicates.status_code == 404
    assert "window_start 2026-11-21T01:00:00Z" in only_duplicates.json()["detail"]

    later = random.Random(3)
    ingest.send([_row(later, 1000 + i, T0 + 3 * HOUR + 600_000) for i in range(2)])
    ingest.processor.maintain(ingest.transaction)
    windows = client.get("/api/v1/models/m/windows", headers=reader).json()["items"]
    assert {w["window_start"]: w["status"] for w in windows}[format_ms(T0)] == "final"

    final = client.get(URL, params={"window_start": str(T0)}, headers=reader)
    assert final.status_code == 200, final.text
    assert ("Window: final, 300 accepted events; sample from the merged state stored when the "
            "window became final.") in final.text
    assert _verdicts(final.text) == _verdicts(page)
    assert client.get(URL, params={"window_start": str(T0)}).status_code == 401


def test_errors_name_their_cause(client: TestClient, writer: dict[str, str],
                                 reader: dict[str, str]) -> None:
    def get(url: str = URL, **params: Any) -> tuple[int, Any]:
        response = client.get(url, params=params, headers=reader)
        return response.status_code, response.json()["detail"]

    where = {"window_start": "2026-11-21T00:00:00Z"}
    assert get("/api/v1/models/nope/report", **where) == (404, "model 'nope' not found")
    assert client.post("/api/v1/models", json=model_body(), headers=writer).status_code == 201
    status, detail = get(**where)
    assert status == 409
    assert detail.startswith("model 'm' has no reference")
    for bad in ("yesterday", "-5", "9" * 25, "2026-11-21T00:00:00"):
        status, detail = get(window_start=bad)
        assert status == 422, bad
        assert [e["loc"] for e in detail] == [["query", "window_start"]]
    status, detail = get()
    assert (status, [e["loc"] for e in detail]) == (422, [["query", "window_start"]])

    reference = orjson.dumps({"features": {"x": 1.0, "c": "a"}, "score": 0.5, "prediction": 1})
    assert client.put("/api/v1/models/m/reference", content=reference, headers={
        **writer, "Content-Type": "application/x-ndjson"}).status_code == 201
    status, detail = get(**where)
    assert status == 404
    assert "no window with accepted events at window_start 2026-11-21T00:00:00Z" in detail
