"""Reference uploads: JSONL, JSON, CSV and Parquet bodies; versions; limits; errors."""

from __future__ import annotations

import io
import random
from typing import Any

import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from monitor.db.schema import ReferenceRow
from monitor.reference import ReferenceProfile
from tests.monitor.api.conftest import UPLOAD_LIMIT, model_body

URL = "/api/v1/models/m/reference"


def _rows(n: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"prediction_id": f"p{i}", "features": {"x": rng.gauss(0, 1), "c": rng.choice("abc")},
             "prediction": i % 2, "score": rng.random()} for i in range(n)]


def _frame(n: int) -> pd.DataFrame:
    rows = _rows(n)
    return pd.DataFrame({"feature.x": [r["features"]["x"] for r in rows],
                         "c": [r["features"]["c"] for r in rows],
                         "prediction": [r["prediction"] for r in rows],
                         "score": [r["score"] for r in rows]})


def _jsonl(n: int) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in _rows(n)) + b"\n"


def _parquet(n: int) -> bytes:
    buffer = io.BytesIO()
    _frame(n).to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.fixture
def model(client: TestClient, writer: dict[str, str]) -> str:
    assert client.post("/api/v1/models", json=model_body(), headers=writer).status_code == 201
    return "m"


def _versions(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(
            select(ReferenceRow.version, ReferenceRow.n_rows).order_by(ReferenceRow.version))]


@pytest.mark.usefixtures("model")
def test_each_format_becomes_the_next_version(client: TestClient, writer: dict[str, str],
                                              reader: dict[str, str],
                                              engine: Engine) -> None:
    uploads = [
        (_jsonl(37), "application/x-ndjson", 37),
        (_frame(41).to_csv(index=False).encode(), "text/csv", 41),
        (_parquet(43), "application/vnd.apache.parquet", 43),
        (orjson.dumps(_rows(5)), "application/json; charset=utf-8", 5),
    ]
    for version, (body, media, n_rows) in enumerate(uploads, start=1):
        response = client.put(URL, content=body, headers={**writer, "Content-Type": media})
        assert response.status_code == 201, response.text
        public = response.json()
        assert (public["model_id"], public["version"], public["n_rows"]) == ("m", version, n_rows)
    assert _versions(engine) == [(1, 37), (2, 41), (3, 43), (4, 5)]

    model = client.get("/api/v1/models/m", headers=reader).json()
    assert (model["reference"]["version"], model["reference"]["n_rows"]) == (4, 5)
    assert client.get(URL, headers=reader).json()["version"] == 4
    with engine.connect() as conn:
        stored = conn.execute(select(ReferenceRow.profile)
                              .where(ReferenceRow.version == 3)).scalar_one()
    profile = ReferenceProfile.from_json(orjson.loads(stored))
    assert (profile.version, profile.n_rows) == (3, 43)
    assert sum(profile.features["c"].reference_counts_) == 43


@pytest.mark.usefixtures("model")
def test_format_query_overrides_content_type(client: TestClient,
                                             writer: dict[str, str]) -> None:
    response = client.put(URL + "?format=parquet", content=_parquet(12),
                          headers={**writer, "Content-Type": "application/octet-stream"})
    assert response.status_code == 201
    assert response.json()["n_rows"] == 12


@pytest.mark.usefixtures("model")
def test_unknown_media_type_bad_data_and_bad_format(client: TestClient,
                                                    writer: dict[str, str],
                                                    engine: Engine) -> None:
    octets = client.put(URL, content=_jsonl(3),
                        headers={**writer, "Content-Type": "application/octet-stream"})
    assert octets.status_code == 415
    broken = client.put(URL, content=b'{"features": {"x": 1}\n{nope',
                        headers={**writer, "Content-Type": "application/x-ndjson"})
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["loc"] == ["body"]
    unrelated = client.put(URL, content=b'{"features": {"other": 1}}\n',
                           headers={**writer, "Content-Type": "application/x-ndjson"})
    assert unrelated.status_code == 422
    assert "no configured feature" in unrelated.json()["detail"][0]["msg"]
    bad_format = client.put(URL + "?format=xlsx", content=_jsonl(3), headers=writer)
    assert bad_format.status_code == 422
    assert bad_format.json()["detail"][0]["loc"] == ["query", "format"]
    assert _versions(engine) == []


def test_unknown_model(client: TestClient, writer: dict[str, str]) -> None:
    response = client.put("/api/v1/models/nope/reference", content=_jsonl(3),
                          headers={**writer, "Content-Type": "application/x-ndjson"})
    assert response.status_code == 404


@pytest.mark.usefixtures("model")
def test_upload_limit_is_its_own(client: TestClient, writer: dict[str, str],
                                 engine: Engine) -> None:
    body = _jsonl(400)
    assert 16_384 < len(body) < UPLOAD_LIMIT  # above the body limit, below the upload limit
    headers = {**writer, "Content-Type": "application/x-ndjson"}
    assert client.put(URL, content=body, headers=headers).status_code == 201
    huge = body * (UPLOAD_LIMIT // len(body) + 1)
    assert client.put(URL, content=huge, headers=headers).status_code == 413
    streamed = client.put(URL, content=iter([huge[i:i + 65536]
                                             for i in range(0, len(huge), 65536)]),
                          headers=headers)
    assert streamed.status_code == 413
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ReferenceRow)).scalar_one() == 1
