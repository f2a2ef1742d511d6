"""The database schema (SQLAlchemy 2 declarative); Alembic's ``env.py`` reads this metadata.

Times are integer epoch milliseconds (``*_ms`` or ``window_start``/``window_end``) so that
SQLite and PostgreSQL store and compare them identically.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ModelRow(Base):
    """A registered model and its validated configuration (JSON)."""

    __tablename__ = "models"
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    config: Mapped[str] = mapped_column(Text)
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class ReferenceRow(Base):
    """A frozen reference profile; the highest version of a model is the active one."""

    __tablename__ = "references"
    __table_args__ = (UniqueConstraint("model_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("models.model_id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    n_rows: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(512), default="")
    profile: Mapped[str] = mapped_column(Text)


class WindowRow(Base):
    """One tumbling event-time window of one model: open, closed (records written) or final."""

    __tablename__ = "windows"
    __table_args__ = (Index(None, "status", "window_end"),)
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    window_end: Mapped[int] = mapped_column(BigInteger)
    reference_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    needs_revision: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    touches: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finalized_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    merged_state: Mapped[str | None] = mapped_column(Text, nullable=True)


class WindowPartitionStateRow(Base):
    """The mergeable state one predictions-topic partition contributed to a window."""

    __tablename__ = "window_partition_state"
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kafka_partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class MetricRecordRow(Base):
    """CONTRACT section 3: every computed number (the table Grafana reads)."""

    __tablename__ = "metric_records"
    __table_args__ = (
        Index(None, "model_id", "family", "window_start"),
        Index(None, "model_id", "window_start"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(String(128))
    window_start: Mapped[int] = mapped_column(BigInteger)
    window_end: Mapped[int] = mapped_column(BigInteger)
    family: Mapped[str] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(64))
    feature: Mapped[str | None] = mapped_column(String(256), nullable=True)
    slice: Mapped[str | None] = mapped_column(String(512), nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(24))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    computed_at_ms: Mapped[int] = mapped_column(BigInteger)


class ConsumerOffsetRow(Base):
    """The truth about consumption: next offset per partition, advanced by compare-and-set,
    plus the partition's event-time progress (watermark) and counters."""

    __tablename__ = "consumer_offsets"
    consumer_group: Mapped[str] = mapped_column(String(255), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    kafka_partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    highwater: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_event_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    watermark_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    caught_up_since_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    late: Mapped[int] = mapped_column(BigInteger, default=0)
    dead_letters: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class DeadLetterRow(Base):
    """An event that could not be processed, with its reason; its offset advanced anyway."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index(None, "reason"), Index(None, "model_id", "window_start"),
                      UniqueConstraint("stream", "topic", "kafka_partition", "kafka_offset"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)
    stream: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(255))
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(512), default="")
    payload_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    model_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    window_start: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class LateEventRow(Base):
    """A valid event that arrived after its window's allowed lateness: counted, not applied."""

    __tablename__ = "late_events"
    __table_args__ = (Index(None, "model_id", "window_start"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)
    model_id: Mapped[str] = mapped_column(String(128))
    window_start: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(256))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    topic: Mapped[str] = mapped_column(String(255))
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)


class ProcessedEventRow(Base):
    """Event ids already applied (dedup): a replayed or duplicated event is ignored."""

    __tablename__ = "processed_events"
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    stream: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger)


class PredictionRow(Base):
    """The join store: one row per prediction, with its joined feedback (label, outcomes)."""

    __tablename__ = "predictions"
    __table_args__ = (Index(None, "model_id", "window_start"),)
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    prediction_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(256))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    window_start: Mapped[int] = mapped_column(BigInteger)
    model_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    prediction: Mapped[str] = mapped_column(Text)
    score: Mapped[str | None] = mapped_column(Text, nullable=True)
    slices: Mapped[str | None] = mapped_column(Text, nullable=True)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    label_ts_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    outcomes: Mapped[str | None] = mapped_column(Text, nullable=True)
    feedback_count: Mapped[int] = mapped_column(Integer, default=0)


class FeedbackRow(Base):
    """Every feedback event; ``joined`` once its prediction has been seen."""

    __tablename__ = "feedback"
    __table_args__ = (Index(None, "model_id", "prediction_id"), Index(None, "joined"))
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    prediction_id: Mapped[str] = mapped_column(String(256))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    has_label: Mapped[bool] = mapped_column(Boolean, default=False)
    events: Mapped[str | None] = mapped_column(Text, nullable=True)
    joined: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)
    topic: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kafka_partition: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kafka_offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ConceptStateRow(Base):
    """A model's concept-drift detectors, as saved after the last window fed to them."""

    __tablename__ = "concept_states"
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_window_start: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is stored; ``scopes`` is a comma-separated list."""

    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    key_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(128))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    revoked_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AlertStateRow(Base):
    """A model's rule-engine state: every alert series (``monitor.alerting``), as JSON."""

    __tablename__ = "alert_states"
    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class AlertRow(Base):
    """One alert episode (CONTRACT section 3): pending, firing, then resolved; times are the
    event times of its windows."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "model_id", "state"), Index(None, "fingerprint"))
    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    starts_at_ms: Mapped[int] = mapped_column(BigInteger)
    ends_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    labels: Mapped[str] = mapped_column(Text)
    annotations: Mapped[str] = mapped_column(Text)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    acknowledged_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class NotifyGroupRow(Base):
    """Notification timing of one alert group (a model): group wait, interval, repeat."""

    __tablename__ = "notify_groups"
    group_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class SilenceRow(Base):
    """Alerts whose labels match every matcher are not notified between start and end."""

    __tablename__ = "silences"
    silence_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    matchers: Mapped[str] = mapped_column(Text)
    starts_at_ms: Mapped[int] = mapped_column(BigInteger)
    ends_at_ms: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(128))
    comment: Mapped[str] = mapped_column(String(1024), default="")
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class ChannelRow(Base):
    """Where notifications go: a generic webhook, Slack, or PagerDuty."""

    __tablename__ = "channels"
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2048))
    secrets: Mapped[str] = mapped_column(Text, default="[]")
    routing_key: Mapped[str | None] = mapped_column(String(256), nullable=True)
    model_ids: Mapped[str] = mapped_column(Text, default="[]")
    min_severity: Mapped[str] = mapped_column(String(16), default="info")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class OutboxRow(Base):
    """A side effect to deliver, written in the transaction of the state change that caused
    it; the relay sends it, at least once, always with the same ``message_id``."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at_ms"), Index(None, "channel_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trigger_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at_ms: Mapped[int] = mapped_column(BigInteger)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    sent_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class TriggerRow(Base):
    """A retraining trigger (CONTRACT section 3); ``trigger_id`` is deterministic."""

    __tablename__ = "triggers"
    __table_args__ = (Index(None, "model_id", "status"), Index(None, "status"))
    trigger_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(128))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    event_time_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(1024))
    evidence: Mapped[str] = mapped_column(Text)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    detail: Mapped[str] = mapped_column(String(1024), default="")
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class AuditRow(Base):
    """Append-only trail of what happened to triggers, alerts, silences and channels."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "model_id", "at_ms"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(128), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")


class CallbackReceiptRow(Base):
    """Signed callbacks already applied (``webhook-id``): a replay is a no-op."""

    __tablename__ = "callback_receipts"
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)


class FlagRow(Base):
    """Service-wide switches (the retraining kill switch)."""

    __tablename__ = "flags"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(128), default="")


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# Core tables, for the hot paths and repository queries that bypass the ORM.
MODELS = _table(ModelRow)
REFERENCES = _table(ReferenceRow)
WINDOWS = _table(WindowRow)
PARTITION_STATES = _table(WindowPartitionStateRow)
RECORDS = _table(MetricRecordRow)
OFFSETS = _table(ConsumerOffsetRow)
DEAD_LETTERS = _table(DeadLetterRow)
LATE_EVENTS = _table(LateEventRow)
PROCESSED = _table(ProcessedEventRow)
PREDICTIONS = _table(PredictionRow)
FEEDBACK = _table(FeedbackRow)
API_KEYS = _table(ApiKeyRow)
CONCEPT_STATES = _table(ConceptStateRow)
ALERT_STATES = _table(AlertStateRow)
ALERTS = _table(AlertRow)
NOTIFY_GROUPS = _table(NotifyGroupRow)
SILENCES = _table(SilenceRow)
CHANNELS = _table(ChannelRow)
OUTBOX = _table(OutboxRow)
TRIGGERS = _table(TriggerRow)
AUDIT = _table(AuditRow)
CALLBACK_RECEIPTS = _table(CallbackReceiptRow)
FLAGS = _table(FlagRow)
