"""reporting views for Grafana and the SELECT-only role that reads them (PostgreSQL only)

The views live in schema ``reporting``; role ``driftline_reporting`` may read them and nothing
else, in read-only transactions with a statement timeout. Views run with their owner's rights,
so the role needs no grant on the tables. Times become ``timestamptz`` (Grafana's time columns);
payloads and secrets (event bodies, webhook payloads, channel secrets) are left out.
``driftline db upgrade`` gives the role a login password when ``DRIFTLINE_REPORTING_PASSWORD``
is set. SQLite has no roles or schemas, so there this migration does nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ROLE = "driftline_reporting"


def _ts(column: str) -> str:
    return f"to_timestamp({column} / 1000.0)"


VIEWS = {
    "models": f"""
        SELECT model_id, config_version, config::jsonb ->> 'task' AS task,
               config::jsonb ->> 'window' AS window_size,
               {_ts('created_at_ms')} AS created_at, {_ts('updated_at_ms')} AS updated_at
        FROM models""",
    "windows": f"""
        SELECT model_id, {_ts('window_start')} AS time, {_ts('window_end')} AS window_end,
               window_start AS window_start_ms, status, revision, reference_version,
               {_ts('closed_at_ms')} AS closed_at, {_ts('finalized_at_ms')} AS finalized_at
        FROM windows""",
    "metric_records": f"""
        SELECT model_id, {_ts('window_start')} AS time, {_ts('window_end')} AS window_end,
               window_start AS window_start_ms, family, metric, feature, slice, value,
               threshold, p_value, ci_low, ci_high, n, status,
               CASE status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1 WHEN 'alert' THEN 2 END
                   AS status_level,
               revision, {_ts('computed_at_ms')} AS computed_at
        FROM metric_records""",
    "alerts": f"""
        SELECT alert_id, model_id, rule, severity, state, {_ts('starts_at_ms')} AS time,
               {_ts('ends_at_ms')} AS time_end, value,
               labels::jsonb ->> 'family' AS family, labels::jsonb ->> 'metric' AS metric,
               labels::jsonb ->> 'feature' AS feature, labels::jsonb ->> 'slice' AS slice,
               annotations::jsonb ->> 'summary' AS summary, acknowledged_by,
               {_ts('acknowledged_at_ms')} AS acknowledged_at
        FROM alerts""",
    "triggers": f"""
        SELECT trigger_id, model_id, {_ts('COALESCE(event_time_ms, created_at_ms)')} AS time,
               {_ts('created_at_ms')} AS created_at, status, reason, manual, requested_by,
               external_id, model_version, {_ts('updated_at_ms')} AS updated_at
        FROM triggers""",
    "consumer_partitions": f"""
        SELECT consumer_group, topic, kafka_partition AS partition, next_offset, highwater,
               CASE WHEN highwater IS NOT NULL THEN GREATEST(highwater - next_offset, 0) END
                   AS lag,
               {_ts('max_event_ms')} AS latest_event_time, {_ts('watermark_ms')} AS watermark,
               accepted, duplicates, late, dead_letters, {_ts('updated_at_ms')} AS updated_at
        FROM consumer_offsets""",
    "dead_letters": f"""
        SELECT id, {_ts('received_at_ms')} AS time, stream, topic, kafka_partition AS partition,
               kafka_offset AS "offset", reason, detail, model_id,
               {_ts('window_start')} AS window_start
        FROM dead_letters""",
    "late_events": f"""
        SELECT id, {_ts('received_at_ms')} AS time, model_id,
               {_ts('window_start')} AS window_start, {_ts('ts_ms')} AS event_time, topic,
               kafka_partition AS partition
        FROM late_events""",
    "outbox": f"""
        SELECT id, kind, channel_id, trigger_id, model_id, status, attempts,
               {_ts('created_at_ms')} AS time, {_ts('next_attempt_at_ms')} AS next_attempt_at,
               {_ts('sent_at_ms')} AS sent_at, last_status_code, last_error
        FROM outbox""",
}

CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        CREATE ROLE {ROLE} NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object THEN NULL;  -- created meanwhile by a migration of another database
    WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'migration 0004 needs the role {ROLE}: run the migration as a user '
            'with CREATEROLE, or have an administrator run CREATE ROLE {ROLE} NOLOGIN first';
END
$$"""

DROP_ROLE = f"""
DO $$
BEGIN
    DROP ROLE IF EXISTS {ROLE};
EXCEPTION WHEN dependent_objects_still_exist THEN NULL;  -- still granted in another database
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SCHEMA IF NOT EXISTS reporting")
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW reporting.{name} AS {body}")
    op.execute(CREATE_ROLE)
    op.execute(f"GRANT USAGE ON SCHEMA reporting TO {ROLE}")
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO {ROLE}")
    op.execute(f"ALTER ROLE {ROLE} SET statement_timeout = '10s'")
    op.execute(f"ALTER ROLE {ROLE} SET default_transaction_read_only = on")
    op.execute(f"ALTER ROLE {ROLE} SET search_path = reporting")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA reporting FROM {ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA reporting FROM {ROLE}")
    op.execute("DROP SCHEMA reporting CASCADE")
    op.execute(DROP_ROLE)
