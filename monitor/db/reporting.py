"""The reporting role Grafana logs in as: its password and statement timeout.

Migration 0004 creates the views in schema ``reporting`` and the role ``driftline_reporting``
(no login, SELECT on those views only, read-only transactions). ``driftline db upgrade`` calls
:func:`configure_role` afterwards so that the role's password and timeout follow the settings
``DRIFTLINE_REPORTING_PASSWORD`` and ``DRIFTLINE_REPORTING_STATEMENT_TIMEOUT_MS``; the password is
never printed.

>>> quote_literal("it's")
"'it''s'"
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

ROLE = "driftline_reporting"
SCHEMA = "reporting"


def quote_literal(value: str) -> str:
    """A SQL string literal (``ALTER ROLE`` takes no bind parameters)."""
    if "\x00" in value:
        raise ValueError("a NUL character cannot be part of a password")
    return "'" + value.replace("'", "''") + "'"


def _execute_raw(conn: Connection, statement: str) -> None:
    # Straight to the driver with no parameters, so that a "%" or ":" in the password is text.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def configure_role(engine: Engine, password: str, statement_timeout_ms: int) -> list[str]:
    """Give the reporting role a login with ``password`` (none when empty) and set its statement
    timeout; returns what was done, for the command's output. An empty password leaves the
    login as it is. PostgreSQL only."""
    if engine.dialect.name != "postgresql":
        return []
    if statement_timeout_ms <= 0:
        raise ValueError("DRIFTLINE_REPORTING_STATEMENT_TIMEOUT_MS must be positive")
    done = []
    with engine.begin() as conn:
        _execute_raw(conn, f"ALTER ROLE {ROLE} SET statement_timeout = {int(statement_timeout_ms)}")
        done.append(f"{ROLE}: statement_timeout {int(statement_timeout_ms)} ms")
        if password:
            _execute_raw(conn, f"ALTER ROLE {ROLE} WITH LOGIN PASSWORD {quote_literal(password)}")
            done.append(f"{ROLE}: login enabled, password set")
        else:
            done.append(f"{ROLE}: login unchanged (DRIFTLINE_REPORTING_PASSWORD is not set)")
    return done
