"""Metric records (CONTRACT section 3) and the per-window computation that produces them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from detectors.drift.psi import psi_test
from detectors.histograms import CategoryCounts, NumericHistogram
from detectors.profile import CategoricalProfile, NumericProfile, Profile
from monitor.config import ModelConfig
from monitor.reference import ReferenceProfile
from monitor.timeutil import format_ms
from monitor.window_state import State, WindowState

OK, WARNING, ALERT, INSUFFICIENT = "ok", "warning", "alert", "insufficient_data"


@dataclass(frozen=True)
class MetricRecord:
    model_id: str
    window_start: int
    window_end: int
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
    revision: int = 0

    def to_public(self) -> dict[str, Any]:
        """The contract's JSON shape (times as RFC 3339)."""
        out = asdict(self)
        out["window_start"] = format_ms(self.window_start)
        out["window_end"] = format_ms(self.window_end)
        return out

    def key(self) -> tuple[Any, ...]:
        return (self.model_id, self.window_start, self.family, self.metric,
                self.feature or "", self.slice or "")


@dataclass(frozen=True)
class IngestionCounts:
    dead_letters: int = 0
    late_events: int = 0


def _drift_status(value: float, warning: float, alert: float) -> str:
    return ALERT if value >= alert else WARNING if value >= warning else OK


class _Builder:
    def __init__(self, config: ModelConfig, start: int, end: int, revision: int) -> None:
        self.config = config
        self.start, self.end, self.revision = start, end, revision
        self.records: list[MetricRecord] = []

    def add(self, family: str, metric: str, feature: str | None, value: float | None,
            threshold: float | None, n: int, status: str) -> MetricRecord:
        rec = MetricRecord(self.config.model_id, self.start, self.end, family, metric, feature,
                           None, value, threshold, None, None, None, n, status, self.revision)
        self.records.append(rec)
        return rec


def _counts(state: State) -> list[int]:
    return [int(x) for x in state.counts]


def _psi_record(b: _Builder, family: str, feature: str, profile: Profile | None,
                state: State | None, no_reference: bool) -> MetricRecord:
    drift = b.config.drift
    n = state.n if state is not None else 0
    if no_reference or profile is None or state is None or sum(profile.reference_counts_) == 0:
        return b.add(family, "psi", feature, None, drift.alert, n, INSUFFICIENT)
    if n == 0:
        return b.add(family, "psi", feature, None, drift.alert, 0, INSUFFICIENT)
    result = psi_test(profile.reference_counts_, _counts(state), threshold=drift.alert)
    status = (INSUFFICIENT if n < drift.min_samples
              else _drift_status(result.statistic, drift.warning, drift.alert))
    return b.add(family, "psi", feature, round(result.statistic, 12), drift.alert, n, status)


def _quality(b: _Builder, feature: str, profile: Profile, state: State) -> None:
    q = b.config.quality
    seen = state.n + state.missing + state.invalid

    def share(metric: str, count: int, denominator: int, baseline: float) -> None:
        if denominator == 0:
            b.add("data_quality", metric, feature, None, None, 0, INSUFFICIENT)
            return
        value = count / denominator
        excess = value - baseline
        status = (ALERT if excess >= q.alert_increase and excess > 0
                  else WARNING if excess >= q.warning_increase and excess > 0 else OK)
        b.add("data_quality", metric, feature, round(value, 12),
              round(baseline + q.alert_increase, 12), denominator, status)

    share("missing_share", state.missing, seen, profile.missing_share_)
    share("type_violation_share", state.invalid, seen, 0.0)
    if isinstance(state, CategoryCounts) and isinstance(profile, CategoricalProfile):
        ref_total = sum(profile.reference_counts_)
        ref_other = profile.reference_counts_[-1] / ref_total if ref_total else 0.0
        share("unseen_category_share", state.unseen, state.n, ref_other)
    elif (isinstance(state, NumericHistogram) and isinstance(profile, NumericProfile)
          and profile.n_ > 0):
        share("out_of_range_share", state.below + state.above, state.n, 0.0)


def compute_window_records(
    config: ModelConfig,
    profile: ReferenceProfile,
    window_start: int,
    state: WindowState,
    ingestion: IngestionCounts,
    revision: int = 0,
) -> list[MetricRecord]:
    """Every record of one closed window, from its merged state."""
    b = _Builder(config, window_start, window_start + config.window_ms, revision)
    no_reference = profile.version == 0
    statuses = []
    for spec in config.features:
        rec = _psi_record(b, "data_drift", spec.name, profile.features.get(spec.name),
                          state.features.get(spec.name), no_reference)
        statuses.append(rec.status)
    evaluated = [s for s in statuses if s != INSUFFICIENT]
    if evaluated:
        share = sum(s == ALERT for s in evaluated) / len(evaluated)
        limit = config.drift.drift_share_alert
        status = ALERT if share >= limit else WARNING if share > 0 else OK
        b.add("data_drift", "drift_share", None, round(share, 12), limit, state.n, status)
    else:
        b.add("data_drift", "drift_share", None, None, config.drift.drift_share_alert,
              state.n, INSUFFICIENT)
    if config.task != "regression":
        _psi_record(b, "prediction_drift", "score", profile.score, state.score, no_reference)
    _psi_record(b, "prediction_drift", "prediction", profile.prediction, state.prediction,
                no_reference)
    for spec in config.features:
        p, s = profile.features.get(spec.name), state.features.get(spec.name)
        if p is not None and s is not None:
            _quality(b, spec.name, p, s)
    total = state.n + ingestion.dead_letters
    dl_status = WARNING if total and ingestion.dead_letters / total > 0.01 else OK
    b.add("ingestion", "events", None, float(state.n), None, state.n, OK)
    b.add("ingestion", "duplicates", None, float(state.duplicates), None, state.n, OK)
    b.add("ingestion", "dead_letters", None, float(ingestion.dead_letters), 0.01, total, dl_status)
    b.add("ingestion", "late_events", None, float(ingestion.late_events), None, state.n,
          WARNING if ingestion.late_events else OK)
    return b.records
