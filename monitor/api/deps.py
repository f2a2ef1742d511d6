"""The API's dependencies, as ``Annotated`` aliases the routes declare.

``DbConn`` is one connection per request (shared by the key check and the route, so a request
never holds two): the route's work commits when the route returns, before the response is sent,
and rolls back if it raises. Authentication reads the key in its own short transaction and
commits it at once, so that no database lock (on SQLite, every transaction takes the write lock)
is held while a large request body streams in.

Keys are presented as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from monitor.api.errors import AuthenticationError, PermissionDeniedError
from monitor.config import MODEL_ID_PATTERN
from monitor.db.engine import make_engine
from monitor.keys import verify_key
from monitor.settings import Settings


class EngineHolder:
    """The app's engine, created on first use from the settings (never at import time)."""

    def __init__(self, database_url: str, engine: Engine | None = None) -> None:
        self.database_url = database_url
        self._engine = engine
        self._owned = engine is None
        self._lock = threading.Lock()

    def get(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.database_url)
            return self._engine

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None and self._owned:
                self._engine.dispose()
                self._engine = None


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    holder: EngineHolder = request.app.state.engine_holder
    return holder.get()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DbEngine = Annotated[Engine, Depends(get_engine)]


def get_conn(engine: DbEngine) -> Iterator[Connection]:
    with engine.connect() as conn:
        yield conn
        conn.commit()


DbConn = Annotated[Connection, Depends(get_conn, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer dl_<id>_<secret>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="dl_<id>_<secret>")


@dataclass(frozen=True)
class Principal:
    """Who called: the effective scopes of the presented key, and its id (the public part of
    ``dl_<key_id>_<secret>``; ``driftline keys list`` names it)."""

    scopes: frozenset[str]
    key_id: str = ""

    @property
    def actor(self) -> str:
        """How the audit trail names the caller: ``key:<key_id>``."""
        return f"key:{self.key_id}" if self.key_id else "api"


def require(scope: str) -> Callable[..., Principal]:
    """A dependency that lets a request through only with a valid key granting ``scope``."""

    def dependency(
        conn: DbConn,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        presented = bearer.credentials if bearer is not None else api_key
        if not presented:
            raise AuthenticationError("missing API key (Authorization: Bearer, or X-API-Key)")
        scopes = verify_key(conn, presented)
        conn.commit()
        if scopes is None:
            raise AuthenticationError("invalid or revoked API key")
        if scope not in scopes:
            raise PermissionDeniedError(f"this API key lacks the {scope!r} scope")
        return Principal(frozenset(scopes), presented.split("_", 2)[1])

    dependency.__name__ = f"require_{scope}"
    return dependency


ReadKey = Annotated[Principal, Depends(require("read"))]
WriteKey = Annotated[Principal, Depends(require("write"))]
TriggerKey = Annotated[Principal, Depends(require("trigger"))]
AdminKey = Annotated[Principal, Depends(require("admin"))]

ModelIdPath = Annotated[str, Path(pattern=MODEL_ID_PATTERN, max_length=128,
                                  description="the model's id")]
