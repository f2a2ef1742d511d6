"""From metric records to alerts and retraining triggers, inside the window's transaction.

Whenever a window's records are written (close, revision, finalisation, new labels), the
model's rules (:mod:`monitor.alerting`, ``alerting:`` in the configuration, sensible defaults
otherwise) see them. The engine's state is saved per model with the records, so a replay or a
crash gives the same alerts. A series whose record is missing from a window in which its family
was computed (a slice that left the top-k) counts as clear for that window.

Retraining triggers follow the model's ``retraining:`` policy (:mod:`monitor.triggers.policy`):
an alert of a rule it names, firing for ``persistence`` windows, creates one trigger per alert
episode with a deterministic id (a replay finds the id taken and adds nothing), its evidence,
an outbox row for the dispatch adapter (none for ``pull``) and an audit entry, all in the same
transaction. Cooldown and the daily budget count in event time, so backtest and service agree.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from monitor.alert_store import AlertEntry, AuditEntry, OutboxEntry, TriggerEntry
from monitor.alerting import ActiveAlert, SeriesState, active_alert, evaluate
from monitor.alerting.rules import Rule
from monitor.config import ModelConfig
from monitor.metric_record import MetricRecord
from monitor.store import Store
from monitor.timeutil import now_ms
from monitor.triggers.dispatch import TriggerRequest
from monitor.triggers.policy import decide, trigger_id

STATE_VERSION = 1
DAY_MS = 86_400_000
MAX_EVIDENCE = 50
SYSTEM = "driftline"


def to_entry(view: ActiveAlert, value: float | None) -> AlertEntry:
    assert view.alert_id is not None
    return AlertEntry(view.alert_id, view.model_id, view.fingerprint, view.rule,
                      view.severity, view.state, view.starts_at_ms, view.ends_at_ms, value,
                      dict(view.labels), dict(view.annotations))


def _absent(states: dict[str, SeriesState], rules: dict[str, Rule],
            records: list[MetricRecord]) -> list[MetricRecord]:
    """``ok`` stand-ins for active series with no record in a window that computed their
    family, so that they can clear."""
    by_window: dict[int, set[str]] = defaultdict(set)
    present: set[tuple[int, str, str, str, str]] = set()
    ends: dict[int, int] = {}
    for r in records:
        by_window[r.window_start].add(r.family)
        present.add((r.window_start, r.family, r.metric, r.feature or "", r.slice or ""))
        ends[r.window_start] = r.window_end
    out = []
    for s in states.values():
        if s.state == "inactive" or s.labels.get("rule") not in rules:
            continue
        lab = s.labels
        for ws, families in by_window.items():
            key = (ws, lab["family"], lab["metric"], lab["feature"], lab["slice"])
            if lab["family"] in families and key not in present:
                out.append(MetricRecord(lab["model_id"], ws, ends[ws], lab["family"],
                                        lab["metric"], lab["feature"] or None,
                                        lab["slice"] or None, None, None, None, None, None, 0,
                                        "ok"))
    return out


def evidence(series: SeriesState, records: list[MetricRecord]) -> dict[str, Any]:
    """What a trigger carries: the alert, its windows, and the window's alerting records."""
    alerting = [r for r in records if r.status == "alert"]
    return {
        "alert": {"alert_id": series.alert_id, "fingerprint": series.fingerprint,
                  "labels": dict(series.labels), "value": series.value,
                  "fired_at_window": series.fired_at},
        "windows": sorted({ws for ws, verdict, _ in series.history if verdict}),
        "drifted_features": sorted({r.feature for r in alerting
                                    if r.family == "data_drift" and r.feature}),
        "slices": sorted({r.slice for r in alerting if r.slice})[:MAX_EVIDENCE],
        "metrics": [{"family": r.family, "metric": r.metric, "feature": r.feature,
                     "slice": r.slice, "value": r.value, "threshold": r.threshold,
                     "p_value": r.p_value, "n": r.n, "window_start": r.window_start}
                    for r in alerting[:MAX_EVIDENCE]],
    }


def _firing_windows(series: SeriesState) -> int:
    assert series.fired_at is not None
    return sum(1 for ws, verdict, _ in series.history if verdict and ws >= series.fired_at)


def _maybe_trigger(store: Store, config: ModelConfig, series: SeriesState,
                   records: list[MetricRecord], event_time_ms: int,
                   decided: dict[str, str]) -> None:
    policy = config.retraining
    if series.state != "firing" or series.labels.get("rule") not in policy.on:
        return
    assert series.alert_id is not None
    assert series.fired_at is not None
    if decided.get(series.alert_id) not in (None, "waiting"):
        return
    counts = store.trigger_counts(config.model_id, event_time_ms - DAY_MS)
    d = decide(policy, now_ms=event_time_ms, kill_switch=store.kill_switch(),
               running=counts.running, created_last_24h=counts.created_since,
               last_created_ms=counts.last_created_ms, firing_windows=_firing_windows(series))
    if not d.allowed:
        waiting = d.reason.startswith("persistence")
        if not waiting:
            store.add_audit([AuditEntry(SYSTEM, "trigger_suppressed", config.model_id,
                                        series.alert_id, {"reason": d.reason})])
        decided[series.alert_id] = "waiting" if waiting else "suppressed"
        return
    tid = trigger_id(config.model_id, series.fingerprint, series.fired_at)
    created = now_ms()
    entry = TriggerEntry(tid, config.model_id, created, d.status,
                         f"{series.labels['rule']}: {d.reason}",
                         evidence(series, records), event_time_ms)
    outbox = None
    if d.status == "pending" and policy.dispatch.type != "pull":
        outbox = OutboxEntry(tid, "trigger", TriggerRequest(
            tid, config.model_id, entry.reason, entry.evidence, created).payload(),
            trigger_id=tid, model_id=config.model_id)
    store.add_trigger(entry, outbox, AuditEntry(SYSTEM, "trigger_created", config.model_id, tid,
                                                {"status": d.status, "reason": d.reason,
                                                 "alert_id": series.alert_id}))
    decided[series.alert_id] = "created"


def alerting_step(store: Store, config: ModelConfig,
                  records: list[MetricRecord]) -> list[AlertEntry]:
    """Run the model's rules over records just written; save alerts, state and triggers.

    Returns the alerts whose state or value changed (what a caller may log or count).
    """
    if not records:
        return []
    rules = {r.name: r for r in config.alerting.effective_rules()}
    saved = store.load_alert_state(config.model_id) or {}
    states = {fp: SeriesState.from_json(v) for fp, v in (saved.get("series") or {}).items()}
    records = records + _absent(states, rules, records)
    new_states, transitions = evaluate(rules.values(), states, records)
    changed: list[AlertEntry] = []
    for fp in dict.fromkeys(t.fingerprint for t in transitions):
        s = new_states[fp]
        view = active_alert(rules[s.labels["rule"]], s)
        if view is not None and view.alert_id is not None:
            changed.append(to_entry(view, s.value))
    store.save_alerts(changed)
    decided: dict[str, str] = dict(saved.get("decided") or {})
    event_time = max(r.window_end for r in records)
    for s in new_states.values():
        _maybe_trigger(store, config, s, records, event_time, decided)
    live = {a for a in (s.alert_id for s in new_states.values() if s.state == "firing") if a}
    decided = {k: v for k, v in decided.items() if k in live or v == "created"}
    store.save_alert_state(config.model_id, {
        "state_version": STATE_VERSION,
        "series": {fp: s.to_json() for fp, s in sorted(new_states.items())},
        "decided": dict(sorted(decided.items())[-1000:])})
    return changed
