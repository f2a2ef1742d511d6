"""The Alembic history produces exactly the ORM schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from monitor.db.migrate import current_revision, head_revision
from monitor.db.schema import Base

REQUIRED = {"models", "references", "windows", "window_partition_state", "metric_records",
            "consumer_offsets", "dead_letters", "late_events", "processed_events",
            "predictions", "feedback", "api_keys"}


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_sqlite_schema_equals_models(sqlite_engine: Engine) -> None:
    assert _diff(sqlite_engine) == []
    assert set(inspect(sqlite_engine).get_table_names()) >= REQUIRED
    assert current_revision(sqlite_engine) == head_revision()


def test_postgres_schema_equals_models(pg_engine: Engine) -> None:
    assert _diff(pg_engine) == []
    assert set(inspect(pg_engine).get_table_names()) >= REQUIRED
    assert current_revision(pg_engine) == head_revision()
