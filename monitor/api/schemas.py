"""Request and response bodies. Times are RFC 3339 strings in UTC (``format_ms``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from monitor.config import ModelConfig
from monitor.db.repository import (
    DeadLetterInfo,
    ModelInfo,
    ReferenceInfo,
    StoredMetric,
    WindowSummary,
)
from monitor.timeutil import format_ms


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
