"""Request and response bodies. Times are RFC 3339 strings in UTC (``format_ms``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.alerting.rules import AlertingConfig, Rule
from monitor.alerting.silences import Matcher
from monitor.config import MODEL_ID_PATTERN, ModelConfig
from monitor.db.alerting_queries import (
    AuditInfo,
    ChannelInfo,
    DeliveryInfo,
    SilenceInfo,
    StoredAlert,
    StoredTrigger,
)
from monitor.db.repository import (
    DeadLetterInfo,
    ModelInfo,
    ReferenceInfo,
    StoredMetric,
    WindowSummary,
)
from monitor.timeutil import format_ms
from monitor.triggers.policy import TriggerPolicy


class ModelCreate(ModelConfig):
    """Body of ``POST /models`` and ``PUT /models/{model_id}``: the model configuration
    document of CONTRACT section 2, validated by the same rules as ``driftline models apply``."""


class ReferencePublic(BaseModel):
    model_id: str
    version: int
    n_rows: int
    created_at: str
    source: str

    @classmethod
    def of(cls, info: ReferenceInfo) -> ReferencePublic:
        return cls(model_id=info.model_id, version=info.version, n_rows=info.n_rows,
                   created_at=format_ms(info.created_at_ms), source=info.source)


class ModelPublic(BaseModel):
    model_id: str
    config: ModelConfig
    config_version: int
    created_at: str
    updated_at: str
    reference: ReferencePublic | None = Field(description="the active reference, if any")
    drift_policy: str = Field(description="the data-drift false-alarm budget in plain words")

    @classmethod
    def of(cls, info: ModelInfo, reference: ReferenceInfo | None) -> ModelPublic:
        return cls(model_id=info.config.model_id, config=info.config,
                   drift_policy=info.config.drift.policy(),
                   config_version=info.config_version,
                   created_at=format_ms(info.created_at_ms),
                   updated_at=format_ms(info.updated_at_ms),
                   reference=None if reference is None else ReferencePublic.of(reference))


class ModelsPublic(BaseModel):
    items: list[ModelPublic]
    count: int


class MetricRecordPublic(BaseModel):
    """A metric record (CONTRACT section 3) plus its window's revision and computation time."""

    model_id: str
    window_start: str
    window_end: str
    family: str
    metric: str
    feature: str | None
    slice: str | None
    value: float | None
    threshold: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    status: str
    revision: int
    computed_at: str

    @classmethod
    def of(cls, stored: StoredMetric) -> MetricRecordPublic:
        return cls(**stored.record.to_public(), computed_at=format_ms(stored.computed_at_ms))


class MetricsPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    items: list[MetricRecordPublic]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; "
                                                "null on the last page")
    from_: str = Field(alias="from", description="the range's inclusive start (window_start)")
    to: str = Field(description="the range's exclusive end (window_start)")


class WindowPublic(BaseModel):
    model_id: str
    window_start: str
    window_end: str
    status: str
    revision: int
    needs_revision: bool
    reference_version: int | None
    closed_at: str | None
    finalized_at: str | None
    n_events: int | None = Field(description="accepted events; null until the window is "
                                             "first computed")

    @classmethod
    def of(cls, w: WindowSummary) -> WindowPublic:
        return cls(model_id=w.model_id, window_start=format_ms(w.window_start),
                   window_end=format_ms(w.window_end), status=w.status, revision=w.revision,
                   needs_revision=w.needs_revision, reference_version=w.reference_version,
                   closed_at=None if w.closed_at_ms is None else format_ms(w.closed_at_ms),
                   finalized_at=(None if w.finalized_at_ms is None
                                 else format_ms(w.finalized_at_ms)),
                   n_events=w.n_events)


class WindowsPage(BaseModel):
    items: list[WindowPublic]
    next_cursor: str | None


class DeadLetterPublic(BaseModel):
    id: int
    received_at: str
    stream: str
    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    payload_sha256: str
    payload_size: int
    model_id: str | None
    window_start: str | None

    @classmethod
    def of(cls, d: DeadLetterInfo) -> DeadLetterPublic:
        return cls(id=d.id, received_at=format_ms(d.received_at_ms), stream=d.stream,
                   topic=d.topic, partition=d.partition, offset=d.offset, reason=d.reason,
                   detail=d.detail, payload_sha256=d.payload_sha256,
                   payload_size=d.payload_size, model_id=d.model_id,
                   window_start=None if d.window_start is None else format_ms(d.window_start))


class DeadLettersPage(BaseModel):
    summary: dict[str, int] = Field(description="counts by reason, over the same filter "
                                                "(model_id) without pagination")
    items: list[DeadLetterPublic]
    next_cursor: str | None


class SliceWindow(BaseModel):
    """One window's worst slices (``worst.<target>``) and per-slice sequential evidence
    (``sequential.<target>``): alerts first, then by ascending p-value."""

    window_start: str
    window_end: str
    worst: list[MetricRecordPublic] = Field(description="this window's worst slices against "
                                                        "the rest of the window")
    sequential: list[MetricRecordPublic] = Field(description="evidence accumulated across "
                                                             "windows up to this one")


class SlicesReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    model_id: str
    from_: str = Field(alias="from", description="the range's inclusive start (window_start)")
    to: str = Field(description="the range's exclusive end (window_start)")
    windows: list[SliceWindow] = Field(description="newest first")
    truncated: bool = Field(description="true when the row cap (api_max_page_size x 50) left "
                                        "out older windows of the range (narrow ?to= to read "
                                        "them) or cut the newest window")


class KpiChange(BaseModel):
    """The always-valid change test of a KPI (record ``<kpi>.change``) as of a window."""

    p_value: float | None
    status: str


class KpiSliceValue(BaseModel):
    slice: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    status: str


class KpiWindow(BaseModel):
    """A KPI in one window: overall value (null fields when the window has no overall
    record), its change test (null before the window is final) and its value per slice."""

    window_start: str
    window_end: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    status: str | None
    change: KpiChange | None
    slices: list[KpiSliceValue] = Field(description="by slice key")


class KpiSeries(BaseModel):
    name: str
    baseline: float | None = Field(description="the reference's value (threshold of the "
                                               "newest overall record); null without one")
    windows: list[KpiWindow] = Field(description="newest first; empty without records")


class KpisReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    model_id: str
    from_: str = Field(alias="from", description="the range's inclusive start (window_start)")
    to: str = Field(description="the range's exclusive end (window_start)")
    kpis: list[KpiSeries] = Field(description="in the model configuration's order")
    truncated: bool = Field(description="true when the row cap (api_max_page_size x 50) left "
                                        "out older windows of the range (narrow ?to= to read "
                                        "them) or cut the newest window")


# ---------------------------------------------------------------- alerting and triggers
NO_NUL = r"^[^\x00]*$"
"""Free text: anything but NUL (PostgreSQL's text types refuse it)."""
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
MAX_EVIDENCE_BYTES = 16_384


def _ms(value: int | None) -> str | None:
    return None if value is None else format_ms(value)


class _Body(BaseModel):
    """A request body: unknown fields are refused (422 naming them)."""

    model_config = ConfigDict(extra="forbid")


class AlertPublic(BaseModel):
    """An alert record (CONTRACT section 3) with ``value`` and who acknowledged it."""

    alert_id: str
    model_id: str
    fingerprint: str
    rule: str
    severity: str
    state: str
    starts_at: str
    ends_at: str | None
    value: float | None
    labels: dict[str, str]
    annotations: dict[str, str]
    acknowledged_by: str | None = Field(description="the API key that acknowledged it")
    acknowledged_at: str | None

    @classmethod
    def of(cls, stored: StoredAlert) -> AlertPublic:
        return cls(**stored.entry.to_public(), acknowledged_by=stored.acknowledged_by,
                   acknowledged_at=_ms(stored.acknowledged_at_ms))


class AlertsPage(BaseModel):
    items: list[AlertPublic] = Field(description="newest first (by starts_at)")
    next_cursor: str | None


class CommentBody(_Body):
    """Body of the acknowledge, approve and reject actions (optional)."""

    comment: str | None = Field(default=None, max_length=1024, pattern=NO_NUL)


class SilenceCreate(_Body):
    """Body of ``POST /silences``: matchers (every one must match), a start (default now) and
    exactly one of ``ends_at`` or ``duration``."""

    matchers: list[Matcher] = Field(min_length=1, max_length=64)
    starts_at: str | None = Field(default=None, max_length=64,
                                  description="RFC 3339 with a zone; default now")
    ends_at: str | None = Field(default=None, max_length=64, description="RFC 3339 with a zone")
    duration: str | None = Field(default=None, max_length=32, description="e.g. 30m, 2h, 1d")
    comment: str = Field(min_length=1, max_length=1024, pattern=NO_NUL)


class SilencePublic(BaseModel):
    silence_id: str
    matchers: list[Matcher]
    starts_at: str
    ends_at: str
    status: Literal["pending", "active", "expired"]
    created_by: str
    comment: str
    created_at: str

    @classmethod
    def of(cls, info: SilenceInfo, now_ms: int) -> SilencePublic:
        return cls(silence_id=info.silence_id,
                   matchers=[Matcher.model_validate(m) for m in info.matchers],
                   starts_at=format_ms(info.starts_at_ms), ends_at=format_ms(info.ends_at_ms),
                   status=info.status(now_ms), created_by=info.created_by,
                   comment=info.comment, created_at=format_ms(info.created_at_ms))


class SilencesPage(BaseModel):
    items: list[SilencePublic] = Field(description="newest created first")
    next_cursor: str | None


ChannelType = Literal["webhook", "slack", "pagerduty"]
Severity = Literal["info", "warning", "critical"]


class ChannelCreate(_Body):
    """Body of ``POST /channels``. ``url`` is checked against internal addresses; PagerDuty
    channels need a ``routing_key`` (and default to the Events API v2 URL)."""

    channel_id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    type: ChannelType
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    routing_key: str | None = Field(default=None, min_length=1, max_length=256,
                                    pattern=r"^[!-~]+$")
    model_ids: list[Annotated[str, Field(pattern=MODEL_ID_PATTERN)]] = Field(
        default_factory=list, max_length=1000, description="empty: every model")
    min_severity: Severity = "info"
    enabled: bool = True


def shown_url(channel_type: str, url: str) -> str:
    """A channel's URL as the API shows it: a Slack webhook URL is a credential (its path is
    the token), so only its origin is shown; any other URL loses its query string.

    >>> shown_url("slack", "https://hooks.slack.com/services/T0/B0/xyz")
    'https://hooks.slack.com/***'
    >>> shown_url("webhook", "https://hooks.example/x?token=abc")
    'https://hooks.example/x?***'
    """
    parts = urlsplit(url)
    if channel_type == "slack":
        return f"{parts.scheme}://{parts.netloc}/***"
    return urlunsplit(parts._replace(query="***" if parts.query else "", fragment=""))


class ChannelPublic(BaseModel):
    """A channel, without its secrets (only how many are live) or routing key."""

    channel_id: str
    type: str
    url: str = Field(description="Slack URLs show only their origin; query strings are masked")
    model_ids: list[str]
    min_severity: str
    enabled: bool
    secret_count: int = Field(description="live signing secrets (webhooks)")
    has_routing_key: bool
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, info: ChannelInfo, now_ms: int) -> ChannelPublic:
        return cls(channel_id=info.channel_id, type=info.type,
                   url=shown_url(info.type, info.url), model_ids=info.model_ids,
                   min_severity=info.min_severity, enabled=info.enabled,
                   secret_count=sum(1 for s in info.secrets if s.live(now_ms)),
                   has_routing_key=info.routing_key is not None,
                   created_at=format_ms(info.created_at_ms),
                   updated_at=format_ms(info.updated_at_ms))


class ChannelCreated(ChannelPublic):
    secret: str | None = Field(description="the webhook signing secret, shown only here; null "
                                           "for Slack and PagerDuty")


class ChannelsList(BaseModel):
    items: list[ChannelPublic]
    count: int


class SecretRotated(BaseModel):
    channel_id: str
    secret: str = Field(description="the new signing secret, shown only here")
    secret_count: int
    previous_expire_at: str | None = Field(description="when the previous secrets stop "
                                                       "signing; null if there were none")


class DeliveryPublic(BaseModel):
    """An outbox row (a notification or a trigger dispatch), without its payload."""

    message_id: str
    kind: str
    channel_id: str | None
    trigger_id: str | None
    model_id: str | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str
    created_at: str
    sent_at: str | None

    @classmethod
    def of(cls, d: DeliveryInfo) -> DeliveryPublic:
        return cls(message_id=d.message_id, kind=d.kind, channel_id=d.channel_id,
                   trigger_id=d.trigger_id, model_id=d.model_id, status=d.status,
                   attempts=d.attempts, last_status_code=d.last_status_code,
                   last_error=d.last_error, next_attempt_at=format_ms(d.next_attempt_at_ms),
                   created_at=format_ms(d.created_at_ms), sent_at=_ms(d.sent_at_ms))


class DeliveriesPage(BaseModel):
    items: list[DeliveryPublic] = Field(description="newest first")
    next_cursor: str | None


class TriggerPublic(BaseModel):
    """A trigger record (CONTRACT section 3) with what dispatch and callbacks reported."""

    trigger_id: str
    model_id: str
    created_at: str
    status: str
    reason: str
    evidence: dict[str, Any]
    event_time: str | None
    manual: bool
    requested_by: str | None
    external_id: str | None = Field(description="the orchestrator's run id, once dispatched")
    model_version: str | None = Field(description="reported by the training callback")
    detail: str
    updated_at: str

    @classmethod
    def of(cls, t: StoredTrigger) -> TriggerPublic:
        return cls(**t.entry.to_public(), requested_by=t.entry.requested_by,
                   external_id=t.external_id, model_version=t.model_version, detail=t.detail,
                   updated_at=format_ms(t.updated_at_ms))


class TriggersPage(BaseModel):
    items: list[TriggerPublic] = Field(description="newest first")
    next_cursor: str | None


class TriggerCreate(_Body):
    """Body of ``POST /models/{model_id}/triggers``: a manual retraining trigger."""

    reason: str = Field(min_length=1, max_length=512, pattern=NO_NUL)
    evidence: dict[str, Any] | None = Field(
        default=None, description=f"any JSON object, at most {MAX_EVIDENCE_BYTES} bytes")
    request_id: str | None = Field(
        default=None, pattern=REQUEST_ID_PATTERN,
        description="idempotency key: the same request_id answers the same trigger")

    @field_validator("evidence")
    @classmethod
    def _small_json(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            size = len(orjson.dumps(value))
        except orjson.JSONEncodeError as exc:
            raise ValueError(f"evidence cannot be stored as JSON: {exc}") from None
        if size > MAX_EVIDENCE_BYTES:
            raise ValueError(f"evidence is {size} bytes as JSON; at most {MAX_EVIDENCE_BYTES}")
        return value


class KillSwitchPublic(BaseModel):
    on: bool
    source: Literal["setting", "database"] | None = Field(
        description="setting: DRIFTLINE_RETRAINING_KILL_SWITCH (the API cannot turn it off); "
                    "database: set with PUT; null: off")
    updated_by: str | None = Field(default=None, description="who last set the database flag")
    updated_at: str | None = None


class KillSwitchSet(_Body):
    on: bool


class AuditPublic(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    model_id: str | None
    subject: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, a: AuditInfo) -> AuditPublic:
        return cls(id=a.id, at=format_ms(a.at_ms), actor=a.actor, action=a.action,
                   model_id=a.model_id, subject=a.subject, detail=a.detail)


class AuditPage(BaseModel):
    items: list[AuditPublic] = Field(description="newest first")
    next_cursor: str | None


class RulesPublic(BaseModel):
    model_id: str
    config_version: int
    alerting: AlertingConfig
    effective_rules: list[Rule] = Field(description="the rules in force: the defaults and/or "
                                                    "the configured ones")
    retraining: TriggerPolicy


class RulesUpdate(_Body):
    """Body of ``PUT /models/{model_id}/rules``: the sections to replace (at least one)."""

    alerting: AlertingConfig | None = None
    retraining: TriggerPolicy | None = None


class TrainingCallback(_Body):
    """Body of ``POST /callbacks/training``, sent by the training stack (signed)."""

    trigger_id: str = Field(min_length=1, max_length=64)
    status: Literal["running", "succeeded", "failed"]
    model_version: str | None = Field(default=None, min_length=1, max_length=128,
                                      pattern=NO_NUL)
    detail: str | None = Field(default=None, max_length=1024, pattern=NO_NUL)
    reference: list[dict[str, Any]] | None = Field(
        default=None, min_length=1,
        description="rows shaped like prediction events: the new reference (succeeded only)")


class CallbackResult(BaseModel):
    replayed: bool = Field(description="true: this webhook-id was applied before; nothing "
                                       "changed")
    trigger: TriggerPublic | None = None
    reference: ReferencePublic | None = Field(default=None,
                                              description="the new reference version, when "
                                                          "the callback re-baselined the model")
