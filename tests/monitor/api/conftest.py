"""API fixtures: a migrated database (SQLite, PostgreSQL), an app over it, one key per scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor.api.app import create_app
from monitor.db.engine import make_engine
from monitor.db.migrate import upgrade
from monitor.keys import create_key, revoke_key
from monitor.settings import Settings

BODY_LIMIT = 16_384
UPLOAD_LIMIT = 262_144
MAX_PAGE = 50
MAX_RANGE_DAYS = 30

MODEL: dict[str, Any] = {
    "model_id": "m",
    "task": "binary_classification",
    "window": "1h",
    "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}],
    "slices": ["c"],
}


def model_body(model_id: str = "m", **changes: Any) -> dict[str, Any]:
    return {**MODEL, "model_id": model_id, **changes}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A database migrated to head: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_migrated_url"))
    url: str = request.getfixturevalue("sqlite_url")
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """The tests' own engine on the API's database (to set up rows and check what is stored)."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def api_settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, api_max_body_bytes=BODY_LIMIT,
                    api_max_upload_bytes=UPLOAD_LIMIT, api_max_page_size=MAX_PAGE,
                    api_max_range_days=MAX_RANGE_DAYS)


@pytest.fixture
def client(api_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """A client of an app that builds its own engine from the settings."""
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture
def keys(engine: Engine) -> dict[str, str]:
    """Plaintext keys: one per scope, plus a revoked admin key."""
    with engine.begin() as conn:
        out = {scope: create_key(conn, [scope], name=scope)
               for scope in ("read", "write", "trigger", "admin")}
        out["revoked"] = create_key(conn, ["admin"], name="revoked")
        revoke_key(conn, out["revoked"].split("_")[1])
    return out


@pytest.fixture
def writer(keys: dict[str, str]) -> dict[str, str]:
    return bearer(keys["write"])


@pytest.fixture
def reader(keys: dict[str, str]) -> dict[str, str]:
    return bearer(keys["read"])
