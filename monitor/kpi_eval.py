"""``kpi`` records: business KPIs per window, overall and per slice, and their change test.

A KPI (CONTRACT ``kpis:``) is ``numerator`` over ``denominator`` summed over the window's
predictions' feedback events: over ``predictions`` it is a rate or a mean per prediction (CTR,
revenue per prediction), over another event a ratio (conversions per click)
(:mod:`detectors.kpi.estimate`: Wilson intervals for 0/1 rates, delta-method intervals
otherwise). A KPI whose events never arrived in the window is ``insufficient_data`` with a null
value, never a zero. ``threshold`` is the labelled reference's value, when its rows carry
``events``.

Change detection: when a window becomes final, its KPI state feeds an always-valid mixture SPRT
against the reference baseline (:mod:`detectors.kpi.sequential`, one-sided for a drop by
default, a margin of three reference standard errors), saved per model with the concept-drift
state. The record ``<kpi>.change`` carries the always-valid p-value: the chance that a KPI that
never changed would ever alarm is at most 5%, however long the model is watched.
"""

from __future__ import annotations

from typing import Any

from monitor.config import KpiSpec, ModelConfig
from monitor.records import ALERT, INSUFFICIENT, OK, MetricRecord
from monitor.records import round_value as _r
from monitor.reference import ReferenceProfile
from monitor.store import Outcome

ALPHA = 0.05


def _state(spec: KpiSpec) -> Any:
    from detectors.kpi import KpiState

    return KpiState(spec.name, spec.numerator, spec.denominator)


def window_state(spec: KpiSpec, outcomes: list[Outcome]) -> Any:
    state = _state(spec)
    state.update([o.events for o in outcomes])
    return state


def reference_kpis(config: ModelConfig, events: list[Any]) -> dict[str, Any]:
    """Each KPI's state over the reference rows that carry ``events``."""
    rows = [e if isinstance(e, dict) else {} for e in events]
    if not config.kpis or not any(rows):
        return {}
    from detectors._base import DetectorError

    out = {}
    for spec in config.kpis:
        state = _state(spec)
        try:
            state.update(rows)
        except DetectorError:
            continue
        if state.value().value is not None:  # a KPI whose events the reference lacks: no baseline
            out[spec.name] = state.to_state()
    return out


def _record(config: ModelConfig, start: int, revision: int, metric: str, slice_key: str | None,
            value: Any, threshold: float | None) -> MetricRecord:
    ok = value.value is not None and value.support_ok
    return MetricRecord(config.model_id, start, start + config.window_ms, "kpi", metric, None,
                        slice_key, _r(value.value), _r(threshold), None, _r(value.ci_low),
                        _r(value.ci_high), value.n, OK if ok else INSUFFICIENT, revision)


def kpi_records(config: ModelConfig, profile: ReferenceProfile, window_start: int,
                outcomes: list[Outcome], groups: dict[str, list[Outcome]],
                revision: int) -> list[MetricRecord]:
    """Overall and per-slice KPI values of one window."""
    from detectors._base import DetectorError
    from detectors.kpi import KpiState

    out = []
    references = profile.labels.get("kpis") or {}
    for spec in config.kpis:
        ref = references.get(spec.name)
        baseline = KpiState.from_state(ref).value().value if ref else None
        try:
            out.append(_record(config, window_start, revision, spec.name, None,
                               window_state(spec, outcomes).value(), baseline))
            for key, outs in groups.items():
                out.append(_record(config, window_start, revision, spec.name, key,
                                   window_state(spec, outs).value(), baseline))
        except DetectorError:
            continue
    return out


def kpi_change(config: ModelConfig, profile: ReferenceProfile, saved: dict[str, Any] | None,
               window_start: int, outcomes: list[Outcome], revision: int
               ) -> tuple[dict[str, Any], list[MetricRecord]]:
    """Feed a final window to each KPI's always-valid test; new state and ``.change`` records."""
    from detectors.kpi import KpiState, MixtureSPRT

    references = profile.labels.get("kpis") or {}
    state: dict[str, Any] = {}
    records = []
    for spec in config.kpis:
        ref = references.get(spec.name)
        if not ref:
            continue
        if saved and spec.name in saved:
            test = MixtureSPRT.from_state(saved[spec.name])
        else:
            test = MixtureSPRT.from_reference(KpiState.from_state(ref), alpha=ALPHA)
        window = window_state(spec, outcomes)
        if window.moments() is not None:
            test.update_state(window)
        state[spec.name] = test.to_state()
        status = ALERT if test.alarm else OK if window.moments() is not None else INSUFFICIENT
        records.append(MetricRecord(
            config.model_id, window_start, window_start + config.window_ms, "kpi",
            f"{spec.name}.change", None, None, _r(test.p_value), ALPHA, _r(test.p_value),
            None, None, window.n, status, revision))
    return state, records
