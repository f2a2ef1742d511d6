"""Metric records (CONTRACT section 3) and the per-window computation that produces them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from detectors.histograms import CategoryCounts, NumericHistogram
from detectors.profile import CategoricalProfile, NumericProfile, Profile
from monitor.config import ModelConfig
from monitor.drift_eval import ALERT, INSUFFICIENT, OK, WARNING, Subject, Verdict, evaluate
from monitor.metric_record import MetricRecord
from monitor.multivariate_eval import evaluate_multivariate
from monitor.reference import ReferenceProfile
from monitor.sampling import PREDICTION_COLUMN, SCORE_COLUMN
from monitor.window_state import State, WindowState

__all__ = ["ALERT", "INSUFFICIENT", "OK", "WARNING", "IngestionCounts", "MetricRecord",
           "compute_window_records"]


@dataclass(frozen=True)
class IngestionCounts:
    dead_letters: int = 0
    late_events: int = 0


class _Builder:
    def __init__(self, config: ModelConfig, start: int, end: int, revision: int) -> None:
        self.config = config
        self.start, self.end, self.revision = start, end, revision
        self.records: list[MetricRecord] = []

    def add(self, family: str, metric: str, feature: str | None, value: float | None,
            threshold: float | None, n: int, status: str,
            p_value: float | None = None) -> MetricRecord:
        r = round_value
        rec = MetricRecord(self.config.model_id, self.start, self.end, family, metric, feature,
                           None, r(value), r(threshold), r(p_value), None, None,
                           n, status, self.revision)
        self.records.append(rec)
        return rec


def round_value(value: float | None) -> float | None:
    """Twelve decimals; an infinite statistic (chi-square on an unseen category) becomes null."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 12)


def _drift(b: _Builder, family: str, profile: ReferenceProfile, state: WindowState,
           subjects: list[Subject]) -> list[Verdict]:
    if profile.version == 0:
        verdicts = [Verdict(s.name, "none", None, None, None, s.state.n if s.state else 0,
                            INSUFFICIENT) for s in subjects]
    else:
        cache = profile.cache.setdefault(family, {})
        verdicts = evaluate(b.config.drift, subjects, profile.sample, state.sample, cache)
    for v in verdicts:
        b.add(family, v.method, v.feature, v.value, v.threshold, v.n, v.status, v.p_value)
    return verdicts


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
        b.add("data_quality", metric, feature, value, baseline + q.alert_increase, denominator,
              status)

    share("missing_share", state.missing, seen, profile.missing_share_)
    share("type_violation_share", state.invalid, seen, 0.0)
    if isinstance(state, CategoryCounts) and isinstance(profile, CategoricalProfile):
        ref_total = sum(profile.reference_counts_)
        ref_other = profile.reference_counts_[-1] / ref_total if ref_total else 0.0
        share("unseen_category_share", state.unseen, state.n, ref_other)
    elif (isinstance(state, NumericHistogram) and isinstance(profile, NumericProfile)
          and profile.n_ > 0):
        share("out_of_range_share", state.below + state.above, state.n, 0.0)
    # Schema change: a feature the reference had is absent (or null) in every event of the window.
    gone = seen > 0 and state.missing == seen and profile.missing_share_ < 1.0
    b.add("data_quality", "schema_change", feature, 1.0 if gone else 0.0, None, seen,
          ALERT if gone else OK)


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
    features = [Subject(f.name, f.name, profile.features.get(f.name), state.features.get(f.name))
                for f in config.features]
    statuses = [v.status for v in _drift(b, "data_drift", profile, state, features)]
    evaluated = [s for s in statuses if s != INSUFFICIENT]
    if evaluated:
        share = sum(s == ALERT for s in evaluated) / len(evaluated)
        limit = config.drift.drift_share_alert
        status = ALERT if share >= limit else WARNING if share > 0 else OK
        b.add("data_drift", "drift_share", None, share, limit, state.n, status)
    else:
        b.add("data_drift", "drift_share", None, None, config.drift.drift_share_alert,
              state.n, INSUFFICIENT)
    outputs = [Subject("prediction", PREDICTION_COLUMN, profile.prediction, state.prediction)]
    if config.task != "regression":
        outputs.insert(0, Subject("score", SCORE_COLUMN, profile.score, state.score))
    _drift(b, "prediction_drift", profile, state, outputs)
    if profile.version != 0:
        for v in evaluate_multivariate(config, profile.sample, state.sample):
            b.add("multivariate_drift", v.method, v.feature, v.value, v.threshold, v.n, v.status,
                  v.p_value)
    for spec in config.features:
        p, s = profile.features.get(spec.name), state.features.get(spec.name)
        if p is not None and s is not None:
            _quality(b, spec.name, p, s)
    for name, count in sorted(state.unexpected.items()):
        # Schema change: events carry a feature the configuration does not know.
        b.add("data_quality", "schema_change", name, count / max(state.n, 1), None, state.n,
              WARNING)
    total = state.n + ingestion.dead_letters
    dl_status = WARNING if total and ingestion.dead_letters / total > 0.01 else OK
    b.add("ingestion", "events", None, float(state.n), None, state.n, OK)
    b.add("ingestion", "stall", None, float(state.n), None, state.n, OK)  # events came
    b.add("ingestion", "duplicates", None, float(state.duplicates), None, state.n, OK)
    b.add("ingestion", "dead_letters", None, float(ingestion.dead_letters), 0.01, total, dl_status)
    b.add("ingestion", "late_events", None, float(ingestion.late_events), None, state.n,
          WARNING if ingestion.late_events else OK)
    return b.records
